/**
 * The retry policy as the shard executor applies it, on a fake clock whose sleep records its
 * waits, with a scripted router and transport: which failures move to another member, which are
 * retried, how often, how long it waits, and the deadline.
 */
import { describe, expect, it } from 'vitest';
import { Codes, GatewayError } from '../../src/errors/index.js';
import { ShardExecutor, type ExecutorRouting, type ShardExecutorOptions, type ShardRun } from '../../src/routing/executor.js';
import { DEFAULT_RETRY_POLICY, isRetriableTransient, retryPolicy } from '../../src/routing/retry-policy.js';
import type { Route, RouteRequest } from '../../src/routing/types.js';
import type { MemberRef, RowStream, RunRequest, RunResult } from '../../src/transport/types.js';

const T0 = 1_700_000_000_000;
const OK: RunResult = { fields: ['x'], values: [], bookmarks: [], counters: {}, notifications: [] };

/** Readers r1..r3 and writers w1, w2: the first one not excluded (all excluded: the first). */
class FakeRouting implements ExecutorRouting {
  log: string[] = [];
  routes: RouteRequest[] = [];
  route(req: RouteRequest): Promise<Route> {
    this.routes.push({ ...req, exclude: new Set(req.exclude) });
    const members = req.mode === 'WRITE' ? ['w1', 'w2'] : ['r1', 'r2', 'r3'];
    const address = members.find((m) => !req.exclude?.has(m)) ?? members[0]!;
    return Promise.resolve({ shard: req.shard, member: { cluster: 'c1', address }, role: req.mode, region: 'r', cache: 'memory' });
  }
  acquire(_cluster: string, address: string): () => void {
    this.log.push(`acquire ${address}`);
    return () => this.log.push(`release ${address}`);
  }
  markHealthy(_cluster: string, address: string): void {
    this.log.push(`healthy ${address}`);
  }
  markFailed(_cluster: string, address: string): void {
    this.log.push(`failed ${address}`);
  }
  invalidate(): Promise<void> {
    this.log.push('invalidate');
    return Promise.resolve();
  }
}

/** answers per attempt, in order (the last one repeats): an error is thrown, a result returned */
function setup(answers: (Error | RunResult)[], options: ShardExecutorOptions = {}) {
  const clock = { t: T0 };
  const slept: number[] = [];
  const ran: string[] = [];
  const routing = new FakeRouting();
  const transport = {
    run(member: MemberRef, _req: RunRequest): Promise<RunResult> {
      const answer = answers[Math.min(ran.length, answers.length - 1)]!;
      ran.push(member.address);
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
  const sleep = (ms: number) => {
    slept.push(ms);
    clock.t += ms;
    return Promise.resolve();
  };
  const executor = new ShardExecutor(
    routing,
    transport,
    () => ({ cluster: 'c1', database: 'neo4j' }),
    () => clock.t,
    { sleep, ...options },
  );
  const run = (over: Partial<ShardRun> = {}) =>
    executor.run({
      shard: 's',
      statement: 'RETURN 1',
      parameters: {},
      accessMode: 'READ',
      bookmarks: [],
      region: 'r',
      pinned: false,
      maxRows: 10,
      deadline: T0 + 60_000,
      ...over,
    });
  return { clock, slept, ran, routing, run };
}

const unavailable = (notSent = false) => new GatewayError(Codes.DatabaseUnavailable, 'Connection lost.', { notSent });
const transient = (code = 'Neo.TransientError.Transaction.DeadlockDetected') => new GatewayError(code, 'Try again.');

describe('retry policy', () => {
  it("has today's limits as defaults, and takes overrides", () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({ maxFailoverAttempts: 8, maxTransientAttempts: 5, initialBackoffMs: 50, maxBackoffMs: 1000 });
    expect(retryPolicy({ maxBackoffMs: 10 })).toEqual({ ...DEFAULT_RETRY_POLICY, maxBackoffMs: 10 });
  });

  it("retries transient errors except those Neo4j's drivers do not, and the gateway's own deadline and region pin", () => {
    expect(isRetriableTransient('Neo.TransientError.Transaction.DeadlockDetected')).toBe(true);
    expect(isRetriableTransient(Codes.Terminated)).toBe(false);
    expect(isRetriableTransient(Codes.LockClientStopped)).toBe(false);
    expect(isRetriableTransient(Codes.DeadlineExceeded)).toBe(false);
    expect(isRetriableTransient(Codes.NoReaderInRegion)).toBe(false);
    expect(isRetriableTransient('Neo.ClientError.Statement.SyntaxError')).toBe(false);
  });
});

describe('shard executor', () => {
  it('a read that loses its member moves to another one, which is then used', async () => {
    const s = setup([unavailable(), OK]);
    const res = await s.run();
    expect(res.attempts).toBe(2);
    expect(res.route.member.address).toBe('r2');
    expect(s.ran).toEqual(['r1', 'r2']);
    expect(s.routing.log).toEqual(['acquire r1', 'failed r1', 'invalidate', 'release r1', 'acquire r2', 'healthy r2', 'release r2']);
    expect([...s.routing.routes[1]!.exclude!]).toEqual(['r1']);
    expect(s.slept).toEqual([50]);
  });

  it('a write is not retried when it may have run', async () => {
    const lost = unavailable(false);
    const s = setup([lost, OK]);
    await expect(s.run({ accessMode: 'WRITE' })).rejects.toBe(lost);
    expect(s.ran).toEqual(['w1']);
    const failed = new GatewayError('Neo.ClientError.Statement.ArithmeticError', '/ by zero');
    const t = setup([failed, OK]);
    await expect(t.run({ accessMode: 'WRITE' })).rejects.toBe(failed);
    expect(t.ran).toEqual(['w1']);
  });

  it('a write is retried when it was not sent, or refused by a member that is no longer the leader', async () => {
    const notSent = setup([unavailable(true), OK]);
    expect((await notSent.run({ accessMode: 'WRITE' })).route.member.address).toBe('w2');
    expect(notSent.slept).toEqual([50]);
    const leader = setup([new GatewayError(Codes.NotALeader, 'No write operations are allowed on this database.'), OK]);
    const res = await leader.run({ accessMode: 'WRITE' });
    expect(res.route.member.address).toBe('w2');
    expect(leader.routing.log).toContain('invalidate');
    expect(leader.slept).toEqual([]);
    // the same refusal for a read: the table is dropped, the error answered
    const read = setup([new GatewayError(Codes.NotALeader, 'No write operations are allowed on this database.'), OK]);
    await expect(read.run()).rejects.toMatchObject({ code: Codes.NotALeader });
    expect(read.ran).toEqual(['r1']);
  });

  it('a failure reported after streaming began counts as a failure', async () => {
    const s = setup([{ ...OK, error: { code: 'Neo.TransientError.Transaction.DeadlockDetected', message: 'deadlock' } }, OK]);
    expect((await s.run()).attempts).toBe(2);
  });

  it('retries a transient error up to maxTransientAttempts attempts in all', async () => {
    const err = transient();
    const s = setup([err]);
    await expect(s.run({ accessMode: 'WRITE' })).rejects.toBe(err);
    expect(s.ran).toHaveLength(DEFAULT_RETRY_POLICY.maxTransientAttempts);
    const t = setup([err], { policy: { maxTransientAttempts: 2 } });
    await expect(t.run()).rejects.toBe(err);
    expect(t.ran).toHaveLength(2);
    const terminated = setup([transient(Codes.Terminated), OK]);
    await expect(terminated.run()).rejects.toMatchObject({ code: Codes.Terminated });
    expect(terminated.ran).toHaveLength(1);
  });

  it('moves a read that failed on members up to maxFailoverAttempts attempts, waiting twice as long each time up to maxBackoffMs', async () => {
    const s = setup([unavailable()]);
    await expect(s.run()).rejects.toMatchObject({ code: Codes.DatabaseUnavailable });
    expect(s.ran).toHaveLength(8);
    // a wait between two attempts, none after the last one
    expect(s.slept).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
    const t = setup([unavailable()], { policy: { maxFailoverAttempts: 4, initialBackoffMs: 10, maxBackoffMs: 35 } });
    await expect(t.run()).rejects.toMatchObject({ code: Codes.DatabaseUnavailable });
    expect(t.slept).toEqual([10, 20, 35]);
    // transient retries share the back-off
    const u = setup([transient()], { policy: { initialBackoffMs: 1 } });
    await expect(u.run()).rejects.toMatchObject({ code: 'Neo.TransientError.Transaction.DeadlockDetected' });
    expect(u.slept).toEqual([1, 2, 4, 8]);
  });

  it('a write refused by former leaders is retried up to maxFailoverAttempts: the first retry at once, then with the back-off', async () => {
    const s = setup([new GatewayError(Codes.NotALeader, 'No longer the leader.')]);
    await expect(s.run({ accessMode: 'WRITE' })).rejects.toMatchObject({ code: Codes.NotALeader });
    expect(s.ran).toHaveLength(DEFAULT_RETRY_POLICY.maxFailoverAttempts);
    expect(s.slept).toEqual([50, 100, 200, 400, 800, 1000]);
    expect(s.routing.log.filter((l) => l === 'invalidate')).toHaveLength(8);
  });

  it('never waits past the deadline, and answers the last error once it has passed', async () => {
    const lost = unavailable();
    const s = setup([lost]);
    await expect(s.run({ deadline: T0 + 120 })).rejects.toBe(lost);
    expect(s.slept).toEqual([50, 70]);
    expect(s.ran).toHaveLength(2);
    // nothing runs after the deadline
    const late = setup([OK]);
    await expect(late.run({ deadline: T0 })).rejects.toMatchObject({ code: Codes.DeadlineExceeded, status: 504 });
    expect(late.ran).toEqual([]);
  });

  it("a read behind the client's bookmarks moves to the writer once", async () => {
    const s = setup([transient(Codes.BookmarkTimeout), OK]);
    const res = await s.run();
    expect(res.route).toMatchObject({ role: 'WRITE', member: { address: 'w1' } });
    expect(s.slept).toEqual([]);
  });
});

describe('shard executor, streamed statements (open)', () => {
  /**
   * a transport whose stream() fails with `failures` in order (an Error is thrown at open; a
   * {code, message} is a stream that ends with it before its first row), then opens a stream of `rows` rows
   */
  function streaming(failures: (Error | { code: string; message: string })[], rows: number) {
    const routing = new FakeRouting();
    const ran: string[] = [];
    const transport = {
      run: (): Promise<RunResult> => Promise.reject(new Error('not used')),
      stream(member: MemberRef): Promise<RowStream> {
        ran.push(member.address);
        const failure = failures[ran.length - 1];
        if (failure instanceof Error) return Promise.reject(failure);
        if (failure) {
          return Promise.resolve({
            fields: ['x'],
            next: () => Promise.resolve(undefined),
            end: () => ({ bookmarks: [], counters: {}, notifications: [], error: failure }),
            cancel: () => Promise.resolve(),
          });
        }
        let left = rows;
        return Promise.resolve({
          fields: ['x'],
          next: () => Promise.resolve(left-- > 0 ? [{ $type: 'Integer' as const, _value: String(left) }] : undefined),
          end: () => ({ bookmarks: ['b'], counters: {}, notifications: [] }),
          cancel: () => Promise.resolve(),
        });
      },
    };
    const executor = new ShardExecutor(
      routing,
      transport,
      () => ({ cluster: 'c1', database: 'neo4j' }),
      () => T0,
      { sleep: () => Promise.resolve() },
    );
    const open = () =>
      executor.open({
        shard: 's',
        statement: 'MATCH (n) RETURN n',
        parameters: {},
        accessMode: 'READ',
        bookmarks: [],
        region: 'r',
        pinned: false,
        deadline: T0 + 60_000,
      });
    return { routing, ran, open };
  }

  it('is retried like run until it opens, and keeps its member in flight until the stream ends', async () => {
    const s = streaming([unavailable(), transient()], 2);
    const opened = await s.open();
    expect(opened.attempts).toBe(3);
    expect(s.ran).toEqual(['r1', 'r2', 'r2']);
    // opened on r2: acquired, not yet released
    expect(s.routing.log.slice(-2)).toEqual(['acquire r2', 'healthy r2']);
    expect(await opened.stream.next()).toBeDefined();
    expect(await opened.stream.next()).toBeDefined();
    expect(s.routing.log.at(-1)).toBe('healthy r2');
    expect(await opened.stream.next()).toBeUndefined();
    expect(s.routing.log.at(-1)).toBe('release r2');
    // released once, however it ends
    await opened.stream.cancel();
    expect(s.routing.log.filter((l) => l === 'release r2')).toHaveLength(2);
  });

  it('a stream that ends before its first row with a retriable error is opened again; any other error is its answer', async () => {
    const retried = streaming([{ code: 'Neo.TransientError.Transaction.DeadlockDetected', message: 'Try again.' }], 1);
    const opened = await retried.open();
    expect(opened.attempts).toBe(2);
    expect(await opened.stream.next()).toEqual([{ $type: 'Integer', _value: '0' }]);
    const answered = streaming([{ code: 'Neo.ClientError.Statement.ArithmeticError', message: '/ by zero' }], 1);
    const failed = await answered.open();
    expect(failed.attempts).toBe(1);
    expect(await failed.stream.next()).toBeUndefined();
    expect(failed.stream.end().error?.code).toBe('Neo.ClientError.Statement.ArithmeticError');
  });

  it('a cancelled stream gives its member back', async () => {
    const s = streaming([], 5);
    const opened = await s.open();
    await opened.stream.next();
    await opened.stream.cancel();
    expect(s.routing.log).toEqual(['acquire r1', 'healthy r1', 'release r1']);
  });
});
