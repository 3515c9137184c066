/**
 * The openCypher TCK as an outside judge of federation exactness (DESIGN §5).
 *
 * For every TCK scenario (every Examples row of an outline is one), its graph is built on ONE
 * shard of a two-shard composite (instances `us` and `eu`; the other shard stays empty) and on
 * the ground-truth instance `truth`; the scenario's query runs through the gateway on the
 * composite and directly on `truth` (Neo4j's own Query API, typed JSON); then the shards swap.
 * Each run is classified (test/tck/judge.ts):
 *   equal         both answered: same columns, same rows (multiset, or in order when the
 *                 scenario expects order), and, when the query wrote, the same counters and
 *                 the same graph afterwards (shards together vs truth), and the same answer to
 *                 the scenario's control query if it has one
 *   refused       the gateway answered 4xx Neo.ClientError.Gateway.* or Security.Forbidden
 *   bothFailed    Neo4j raised an error and so did the gateway
 *   gatewayFailed Neo4j answered, the gateway raised some other error
 *   different     both answered differently, or the gateway answered what Neo4j refused
 * The gateway promises exact answers or clear refusals, so `different` must be 0. There is no
 * allow-list: a difference is a bug in the gateway (or in this judge: see the report).
 *
 * Report: test/tck/report.json (git-ignored): counts, refusal codes, every different and
 * gatewayFailed run with both answers. TCK_ONLY=<regex> runs only the scenarios whose id
 * (`<feature file> <scenario> #<example>`) matches. The TCK itself comes from Maven Central
 * through infra/tck/fetch.mjs (cached in infra/tck/target/).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import type { TypedValue } from '../../src/values/typed.js';
import { ensureTck, TCK_VERSION } from '../../infra/tck/fetch.mjs';
import { sandboxTopology, sha256, startTestGateway } from '../support/fixture.js';
import { parseFeature, tableCells } from '../tck/gherkin.js';
import { QueryApiClient, TckHarness, type Instances, type RunRecord } from '../tck/harness.js';
import { classify, RUN_CLASSES, show, type Answer, type RunClass } from '../tck/judge.js';
import { parseTckValue } from '../tck/literals.js';
import { loadCases, toCase, type TckCase } from '../tck/scenario.js';

const REPORT = fileURLToPath(new URL('../tck/report.json', import.meta.url));
const KEY = 'tck-judge-key-0123456789';
const COMPOSITE = 'tck';
const SHARDS = ['tck-us', 'tck-eu'] as const;
/** the whole TCK, both placements: measured at a few minutes on 2 cores; generous for a slow CI box */
const TCK_TIMEOUT_MS = 25 * 60_000;

describe('TCK reader and judge (no Neo4j)', () => {
  it('reads outlines, doc strings, tables and escapes', () => {
    const feature = [
      'Feature: F1 - demo',
      '  Background:',
      '    Given an empty graph',
      '  @tag',
      '  Scenario Outline: [1] outline',
      '    And having executed:',
      '      """',
      '      CREATE ({v: <v>})',
      '        // indented',
      '      """',
      '    And parameters are:',
      '      | p | <v> |',
      '    When executing query:',
      '      """',
      '      MATCH (n) RETURN n.v AS v',
      '      """',
      '    Then the result should be, in order (ignoring element order for lists):',
      '      | v   |',
      '      | <v> |',
      '',
      '    Examples:',
      '      | v     |',
      "      | 'a\\|b' |",
      '      | [1, 2] |',
    ].join('\n');
    const scs = parseFeature(feature, 'f.feature');
    expect(scs).toHaveLength(2);
    expect(scs[0]!.steps[1]!.docString).toBe("CREATE ({v: 'a|b'})\n  // indented");
    expect(scs[1]!.tags).toEqual(['@tag']);
    const c = toCase(scs[1]!, {});
    expect(c).toMatchObject({
      id: 'f.feature [1] outline #2',
      setup: ['CREATE ({v: [1, 2]})\n  // indented'],
      query: { statement: 'MATCH (n) RETURN n.v AS v', ordered: true, ignoreListOrder: true },
    });
    expect(show(c.parameters.p!)).toBe('[1, 2]');
    expect(tableCells('| a\\|b | \\\\ |')).toEqual(['a|b', '\\']);
  });

  it('parses TCK value literals into typed parameters', () => {
    expect(parseTckValue('1')).toEqual({ $type: 'Integer', _value: '1' });
    expect(parseTckValue('-1.5')).toEqual({ $type: 'Float', _value: '-1.5' });
    expect(parseTckValue('1e3')).toEqual({ $type: 'Float', _value: '1000.0' });
    expect(parseTckValue('9223372036854775807')).toEqual({ $type: 'Integer', _value: '9223372036854775807' });
    expect(parseTckValue("'it\\'s'")).toEqual({ $type: 'String', _value: "it's" });
    expect(parseTckValue('null')).toEqual({ $type: 'Null', _value: null });
    expect(parseTckValue(" [true, {k: 'v', `a b`: [] }] ")).toEqual({
      $type: 'List',
      _value: [
        { $type: 'Boolean', _value: true },
        { $type: 'Map', _value: { k: { $type: 'String', _value: 'v' }, 'a b': { $type: 'List', _value: [] } } },
      ],
    });
    expect(() => parseTckValue('(:A)')).toThrow();
    expect(() => parseTckValue('[1,')).toThrow();
  });

  it('compares nodes without element ids, Integer and Float apart, lists in order unless told', () => {
    const node = (id: string, labels: string[]) => ({
      $type: 'Node' as const,
      _value: { _element_id: id, _labels: labels, _properties: { x: { $type: 'Integer' as const, _value: '1' } } },
    });
    const ok = (values: TypedValue[][]): Answer => ({ ok: true, fields: ['a'], values });
    const list = (...xs: number[]) => ({ $type: 'List' as const, _value: xs.map((x) => ({ $type: 'Integer' as const, _value: String(x) })) });
    const shape = { ordered: false, ignoreListOrder: false };
    expect(classify(ok([[node('4:a:1', ['A', 'B'])]]), ok([[node('4:b:9', ['B', 'A'])]]), shape).class).toBe('equal');
    expect(classify(ok([[{ $type: 'Integer', _value: '1' }]]), ok([[{ $type: 'Float', _value: '1.0' }]]), shape).class).toBe('different');
    expect(classify(ok([[list(1, 2)]]), ok([[list(2, 1)]]), shape).class).toBe('different');
    expect(classify(ok([[list(1, 2)]]), ok([[list(2, 1)]]), { ordered: false, ignoreListOrder: true }).class).toBe('equal');
    expect(classify(ok([[list(1)], [list(2)]]), ok([[list(2)], [list(1)]]), { ordered: true, ignoreListOrder: false })).toMatchObject({
      class: 'different',
      reason: 'same rows in another order',
    });
    const refused: Answer = { ok: false, status: 400, code: 'Neo.ClientError.Gateway.FederationNotSupported', message: '' };
    const syntax: Answer = { ok: false, status: 400, code: 'Neo.ClientError.Statement.SyntaxError', message: '' };
    expect(classify(refused, ok([]), shape).class).toBe('refused');
    expect(classify(syntax, syntax, shape).class).toBe('bothFailed');
    expect(classify(syntax, ok([]), shape).class).toBe('gatewayFailed');
    expect(classify(ok([]), syntax, shape).class).toBe('different');
  });
});

describe('openCypher TCK: the gateway on a composite vs one Neo4j instance', () => {
  let gw: RunningGateway | undefined;
  let harness: TckHarness;
  let cases: TckCase[];

  beforeAll(async () => {
    const tck = await ensureTck();
    const only = process.env.TCK_ONLY ? new RegExp(process.env.TCK_ONLY) : undefined;
    cases = loadCases(tck.featuresDir, tck.graphsDir).filter((c) => !only || only.test(c.id));
    gw = await startTestGateway({
      topology: sandboxTopology({
        shards: { [SHARDS[0]]: { cluster: 'c-us', database: 'neo4j' }, [SHARDS[1]]: { cluster: 'c-eu', database: 'neo4j' } },
        composites: { [COMPOSITE]: { shards: [...SHARDS] } },
        // every streamable answer is streamed (committed after its first row), so the judge sees streamed answers
        limits: { streamAfterRows: 0 },
        apiKeys: [{ id: 'tck', sha256: sha256(KEY), databases: ['*'], modes: ['READ', 'WRITE'], allow: ['schema', 'show', 'loadCsv', 'procedures:*'] }],
      }),
    });
    const { instances, password } = inject('sandbox');
    const basic = `Basic ${btoa(`neo4j:${password}`)}`;
    const inst: Instances = {
      shards: [
        QueryApiClient.forDatabase(SHARDS[0], instances.us!.httpUri, 'neo4j', basic),
        QueryApiClient.forDatabase(SHARDS[1], instances.eu!.httpUri, 'neo4j', basic),
      ],
      truth: QueryApiClient.forDatabase('truth', instances.truth!.httpUri, 'neo4j', basic),
      gateway: QueryApiClient.forDatabase(`gateway:${COMPOSITE}`, gw.url, COMPOSITE, `Bearer ${KEY}`),
    };
    harness = new TckHarness(inst);
    await harness.resetAll();
  });

  afterAll(async () => {
    // other test files share the instances: leave them empty
    await harness?.resetAll();
    await gw?.stop();
  });

  it(
    'every scenario, its graph on either shard: the gateway never answers differently from Neo4j',
    async () => {
      const started = Date.now();
      const counts = Object.fromEntries(RUN_CLASSES.map((c) => [c, 0])) as Record<RunClass, number>;
      const refusals: Record<string, number> = {};
      const runs: RunRecord[] = [];
      const skipped = cases.filter((c) => c.skip).map((c) => ({ id: c.id, reason: c.skip! }));
      const runnable = cases.filter((c) => !c.skip);
      for (const [i, tc] of runnable.entries()) {
        for (const r of await harness.runCase(tc)) {
          runs.push(r);
          counts[r.class]++;
          if (r.class === 'refused') refusals[r.gatewayCode!] = (refusals[r.gatewayCode!] ?? 0) + 1;
        }
        if ((i + 1) % 500 === 0)
          process.stderr.write(`[tck] ${i + 1}/${runnable.length} scenarios, ${Math.round((Date.now() - started) / 1000)} s: ${JSON.stringify(counts)}\n`);
      }
      const durationMs = Date.now() - started;
      const report = {
        tck: TCK_VERSION,
        finishedAt: new Date().toISOString(),
        durationMs,
        filter: process.env.TCK_ONLY ?? null,
        scenarios: cases.length,
        skippedScenarios: skipped.length,
        runs: runs.length,
        counts,
        refusals,
        requests: harness.requests(),
        skipped,
        details: harness.details,
        /** every run: class, the shard holding the graph, scenario id, the gateway's error code, Neo4j's error code */
        all: runs.map((r) => [r.class, SHARDS[r.holder], r.id, r.gatewayCode ?? '', r.truthCode ?? ''].join('\t')),
      };
      writeFileSync(REPORT, `${JSON.stringify(report, null, 1)}\n`);
      process.stderr.write(
        `[tck] openCypher TCK ${TCK_VERSION}: ${cases.length} scenarios (${skipped.length} skipped), ${runs.length} runs in ${Math.round(durationMs / 1000)} s: ` +
          `${RUN_CLASSES.map((c) => `${c} ${counts[c]}`).join(', ')}; report: ${REPORT}\n`,
      );
      // the judge itself must have worked: Neo4j answered every run over HTTP
      const unjudged = runs.filter((r) => r.truthCode?.startsWith('Harness.'));
      expect(
        unjudged.map((r) => `${r.id}: ${r.truthCode}`),
        'the ground truth did not answer',
      ).toEqual([]);
      const different = harness.details.filter((d) => d.class === 'different');
      expect(
        counts.different,
        `${counts.different} runs answered differently from Neo4j, e.g.:\n${different
          .slice(0, 5)
          .map((d) => `${d.file} ${d.scenario} (graph on ${d.holderShard}): ${d.reason}\n${d.statement}`)
          .join('\n\n')}\n(all of them in ${REPORT})`,
      ).toBe(0);
      // a gateway that fails every request would have no `different` run: it must answer some scenarios
      expect(counts.equal, 'the gateway answered no scenario like Neo4j (see gatewayFailed in the report)').toBeGreaterThan(0);
    },
    TCK_TIMEOUT_MS,
  );
});
