import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Registry } from '../../src/telemetry/registry.js';
import { createLogger, type LogLevel } from '../../src/telemetry/log.js';
import { formatTraceparent, parseTraceparent, requestIdFrom, traceFrom } from '../../src/telemetry/trace.js';

describe('metrics registry', () => {
  it('renders each family as one block: HELP, TYPE, then all its samples', () => {
    const r = new Registry();
    const a = r.counter('a_total', 'A.');
    const members = [
      { m: 'x', v: 1 },
      { m: 'y', v: 0 },
    ];
    r.gauge('b', 'B.', function* () {
      for (const x of members) yield [{ member: x.m }, x.v];
    });
    r.gauge('c', 'C.', function* () {
      for (const x of members) yield [{ member: x.m }, 2 * x.v];
    });
    a.inc({ code: 'x' });
    a.inc({ code: 'x' }, 2);
    const lines = r.render().trimEnd().split('\n');
    expect(lines).toEqual([
      '# HELP a_total A.',
      '# TYPE a_total counter',
      'a_total{code="x"} 3',
      '# HELP b B.',
      '# TYPE b gauge',
      'b{member="x"} 1',
      'b{member="y"} 0',
      '# HELP c C.',
      '# TYPE c gauge',
      'c{member="x"} 2',
      'c{member="y"} 0',
    ]);
  });

  it('escapes label values and help text, and sorts labels', () => {
    const r = new Registry();
    r.counter('e_total', 'line one\nback\\slash').inc({ z: '1', a: 'q"uote\\back\nnl' });
    expect(r.render()).toBe('# HELP e_total line one\\nback\\\\slash\n# TYPE e_total counter\ne_total{a="q\\"uote\\\\back\\nnl",z="1"} 1\n');
  });

  it('histograms carry cumulative buckets, +Inf, sum and count', () => {
    const r = new Registry();
    const h = r.histogram('h', 'H.', [1, 5]);
    h.observe({ r: 'q' }, 0.5);
    h.observe({ r: 'q' }, 3);
    h.observe({ r: 'q' }, 9);
    expect(r.render()).toContain('h_bucket{le="1",r="q"} 1\nh_bucket{le="5",r="q"} 2\nh_bucket{le="+Inf",r="q"} 3\nh_sum{r="q"} 12.5\nh_count{r="q"} 3');
  });

  it('refuses a name registered twice', () => {
    const r = new Registry();
    r.counter('x_total', 'X.');
    expect(() => r.gauge('x_total', 'X.')).toThrow(/twice/);
  });
});

describe('logger', () => {
  const capture = (level: LogLevel, format: 'json' | 'pretty' = 'json') => {
    const lines: string[] = [];
    const log = createLogger({ level, format, write: (l) => lines.push(l), now: () => Date.UTC(2026, 10, 27, 3, 4, 5, 678) });
    return { log, lines };
  };

  it('writes one JSON object per event with time, level, message and fields', () => {
    const { log, lines } = capture('info');
    log.info('request', { requestId: 'r1', status: 202, big: 2n ** 70n });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      time: '2026-11-27T03:04:05.678Z',
      level: 'info',
      msg: 'request',
      requestId: 'r1',
      status: 202,
      big: '1180591620717411303424',
    });
  });

  it('leaves out events below its level', () => {
    const { log, lines } = capture('warn');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['w', 'e']);
  });

  it('writes an error with its stack and cause', () => {
    const { log, lines } = capture('info');
    const err = new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ECONNREFUSED' }) });
    log.error('unexpected error', { error: err });
    const e = (JSON.parse(lines[0]!) as { error: { message: string; stack: string; cause: { code: string } } }).error;
    expect(e.message).toBe('outer');
    expect(e.stack).toContain('telemetry.test.ts');
    expect(e.cause.code).toBe('ECONNREFUSED');
  });

  it('a field it cannot write does not lose the event', () => {
    const { log, lines } = capture('info');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    log.info('odd', { cyclic });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', msg: 'odd' });
  });

  it('pretty lines are short, one per event, with the stack after', () => {
    const { log, lines } = capture('info', 'pretty');
    log.info('request', { method: 'POST', route: '/db/:db/query/v2', status: 202, note: 'two words' });
    expect(lines[0]).toBe('03:04:05.678 INFO  request method=POST route=/db/:db/query/v2 status=202 note="two words"');
    log.error('boom', { error: new Error('x') });
    expect(lines[1]!.split('\n')[0]).toMatch(/^03:04:05\.678 ERROR boom error=/);
    expect(lines[1]).toContain('\n');
  });
});

describe('request identity', () => {
  it.each([
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true }],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: false }],
    [
      '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future',
      { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true },
    ],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', undefined],
    ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', undefined],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', undefined],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', undefined],
    ['00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', undefined],
    ['garbage', undefined],
    [undefined, undefined],
  ])('traceparent %s', (header, expected) => {
    expect(parseTraceparent(header)).toEqual(expected);
  });

  it('a trace context survives formatting and parsing', () => {
    const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`)).filter((s) => !/^0+$/.test(s));
    fc.assert(
      fc.property(hex(32), hex(16), fc.boolean(), (traceId, spanId, sampled) => {
        expect(parseTraceparent(formatTraceparent({ traceId, spanId, sampled }))).toEqual({ traceId, spanId, sampled });
      }),
    );
  });

  it('a missing or invalid traceparent starts a new trace', () => {
    const t = traceFrom('nonsense');
    expect(t.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(t.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(traceFrom(undefined).traceId).not.toBe(t.traceId);
  });

  it('keeps a sane client request id and replaces anything else', () => {
    expect(requestIdFrom('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    for (const bad of ['', 'has space', 'x'.repeat(129), 'new\nline', 'ünï', undefined]) {
      const id = requestIdFrom(bad);
      expect(id).not.toBe(bad);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
