/**
 * The Grafana dashboard and the Prometheus alert rules of infra/observability read only metrics a
 * live gateway exposes (issue 11): a real gateway serves traffic that touches every family (reads,
 * writes, a fan-out, errors, limit, policy and federation refusals, an explicit transaction, a dead
 * member ejected and its read retried), then every metric name the dashboard and the rules use must
 * be declared in the /metrics scrape, histogram series through their `_bucket` / `_sum` / `_count`.
 *
 * Strict on purpose: no allow-list of names that are "coming"; a name the gateway does not expose
 * fails here until it does. The one name outside the scrape is `up`, which Prometheus itself writes
 * for every target it scrapes (an alert on a dead instance cannot come from that instance).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RunningGateway } from '../../src/adapters/node/server.js';
import { BoltRoutingPeer } from '../support/bolt-peer.js';
import { KEYS, query, sandboxTopology, sha256, startTestGateway } from '../support/fixture.js';
import { familyOf, metricsOfGrafanaQuery, metricsOfPromql, type MetricUse } from '../support/promql-names.js';
import { freePort } from '../support/redis.js';
import { parseYaml } from '../support/yaml-subset.js';

const RULES = new URL('../../infra/observability/rules.yml', import.meta.url);
const DASHBOARD = new URL('../../infra/observability/grafana/neo4j-edge-gateway.json', import.meta.url);

/** series Prometheus writes itself for each scrape target, never exposed by a target */
const PROMETHEUS_SERIES = new Set(['up']);
/** functions that read a counter's increase; anything else applied to a counter reads a meaningless absolute value */
const COUNTER_FUNCTIONS = new Set(['rate', 'irate', 'increase', 'resets']);

const LIMITED_KEY = 'test-limited-key-0123456789';
const addr = (name: 'us' | 'eu') => `127.0.0.1:${inject('sandbox').instances[name]!.bolt}`;

interface RuleFile {
  groups: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[];
}
interface Dashboard {
  panels: { title: string; type: string; targets?: { expr: string }[] }[];
  templating: { list: { name: string; type: string; query?: string | { query: string } }[] };
}

/** every metric use of the rules, by alert */
function ruleUses(): { where: string; use: MetricUse }[] {
  const rules = parseYaml(readFileSync(RULES, 'utf8')) as unknown as RuleFile;
  return rules.groups.flatMap((g) => g.rules.flatMap((r) => metricsOfPromql(r.expr).map((use) => ({ where: `rule ${r.alert ?? r.record}`, use }))));
}

/** every metric use of the dashboard's panels and template variables */
function dashboardUses(): { where: string; use: MetricUse }[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const panels = d.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricsOfPromql(t.expr).map((use) => ({ where: `panel "${p.title}"`, use }))));
  const variables = d.templating.list
    .filter((v) => v.type === 'query')
    .flatMap((v) => metricsOfGrafanaQuery(typeof v.query === 'string' ? v.query : v.query!.query).map((use) => ({ where: `variable $${v.name}`, use })));
  return [...panels, ...variables];
}

/** the families a scrape declares (# TYPE) and the sample names it carries */
function readScrape(text: string): { types: Map<string, string>; samples: Set<string> } {
  const types = new Map<string, string>();
  const samples = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (sample) samples.add(sample[1]!);
  }
  return { types, samples };
}

let gw: RunningGateway;
let peer: BoltRoutingPeer;
let scrape: { types: Map<string, string>; samples: Set<string> };
const statuses: Record<string, number> = {};

beforeAll(async () => {
  // a cluster played by a routing peer: its eu reader is a port nobody listens on, so a read pinned to eu
  // fails there, ejects that member and is retried on the live us member
  const dead = `127.0.0.1:${await freePort()}`;
  peer = new BoltRoutingPeer({ ttl: 300, writers: [addr('us')], readers: [dead, addr('us')] });
  await peer.start();
  const base = sandboxTopology();
  gw = await startTestGateway({
    topology: {
      ...base,
      clusters: {
        ...base.clusters,
        'c-peer': {
          routers: [`neo4j://${peer.address}`],
          auth: { user: 'neo4j', passwordEnv: 'NEO4J_PASSWORD_C_US' },
          members: { [addr('us')]: { region: 'us-west' }, [dead]: { region: 'eu' } },
        },
      },
      shards: { ...base.shards, orders: { cluster: 'c-peer', database: 'neo4j' } },
      apiKeys: [
        ...base.apiKeys!,
        { id: 'limited', sha256: sha256(LIMITED_KEY), databases: ['*'], modes: ['READ'], limits: { requestsPerSecond: 1, burst: 1 } },
      ],
      cache: { keyPrefix: `n4gw-observability-${process.pid}:` },
    },
  });

  const record = async (name: string, res: Promise<{ status: number }>) => {
    statuses[name] = (await res).status;
  };
  const read = (statement: string) => ({ statement, accessMode: 'READ' });
  await record('read', query(gw, 'users-us', read('RETURN 1 AS one')));
  await record('write', query(gw, 'users-eu', { statement: 'RETURN 1 AS one' }));
  await record('fan-out', query(gw, 'users', read('MATCH (u) RETURN count(u) AS c')));
  await record('no key', query(gw, 'users-us', read('RETURN 1'), { key: null }));
  await record('unknown database', query(gw, 'nope', read('RETURN 1')));
  await record('malformed body', query(gw, 'users-us', undefined, { raw: '{"statement": ' }));
  await record('policy: write', query(gw, 'users-us', read('CREATE (n:Nope) RETURN n'), { key: KEYS.reader }));
  await record('policy: show', query(gw, 'users-us', read('SHOW INDEXES')));
  await record('federation', query(gw, 'users', read('MATCH (a), (b) RETURN count(*) AS c')));
  await record('statement size', query(gw, 'users-us', read(`RETURN 1 // ${'x'.repeat(70_000)}`)));
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = [deep];
  await record('json depth', query(gw, 'users-us', { ...read('RETURN $p AS p'), parameters: { p: deep } }));
  for (let i = 0; i < 3; i++) await record(`rate ${i}`, query(gw, 'users-us', read('RETURN 1'), { key: LIMITED_KEY }));
  // an explicit transaction, left open while the scrape is taken, then rolled back
  const begin = await fetch(`${gw.url}/db/users-us/query/v2/tx`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEYS.admin}`, 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ statement: 'RETURN 1' }),
  });
  statuses['begin'] = begin.status;
  const txId = ((await begin.json()) as { transaction?: { id: string } }).transaction?.id;
  for (let i = 0; i < 3; i++) await record(`dead member ${i}`, query(gw, 'orders', read('RETURN 1'), { headers: { 'x-neo4j-region': 'eu' } }));
  await fetch(`${gw.url}/health`);
  await fetch(`${gw.url}/ready`);

  const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${KEYS.admin}` } });
  expect(res.status).toBe(200);
  scrape = readScrape(await res.text());
  if (txId) await fetch(`${gw.url}/db/users-us/query/v2/tx/${txId}`, { method: 'DELETE', headers: { authorization: `Bearer ${KEYS.admin}` } });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await peer?.stop();
});

/** uses whose metric the scrape does not declare, as "name (where, where)" */
function missing(uses: { where: string; use: MetricUse }[]): string[] {
  const byName = new Map<string, Set<string>>();
  for (const { where, use } of uses) {
    if (PROMETHEUS_SERIES.has(use.name) || familyOf(use.name, scrape.types) || scrape.samples.has(use.name)) continue;
    byName.set(use.name, (byName.get(use.name) ?? new Set()).add(where));
  }
  return [...byName].map(([name, where]) => `${name} (${[...where].join(', ')})`).sort();
}

/** counters read without rate/increase, and gauges read through them */
function misusedTypes(uses: { where: string; use: MetricUse }[]): string[] {
  const out = new Set<string>();
  for (const { where, use } of uses) {
    const family = familyOf(use.name, scrape.types);
    if (!family) continue;
    const counterLike = family.type === 'counter' || (family.type === 'histogram' && use.name !== family.family);
    const viaCounterFunction = use.within !== undefined && COUNTER_FUNCTIONS.has(use.within);
    if (counterLike && !viaCounterFunction) out.add(`${use.name} is a ${family.type} read without rate/increase in ${where}`);
    if (!counterLike && viaCounterFunction) out.add(`${use.name} is a ${family.type} read through ${use.within}() in ${where}`);
  }
  return [...out].sort();
}

describe('the traffic reached every path it was meant to', () => {
  it('answered as expected', () => {
    expect(statuses).toMatchObject({
      read: 202,
      write: 202,
      'fan-out': 202,
      'no key': 401,
      'unknown database': 404,
      'malformed body': 400,
      'policy: write': 403,
      'policy: show': 403,
      federation: 400,
      'statement size': 413,
      'json depth': 400,
      'rate 0': 202,
      begin: 202,
      'dead member 0': 202,
    });
    expect([statuses['rate 1'], statuses['rate 2']]).toContain(429);
  });
});

describe('every metric of the alert rules is in a live scrape', () => {
  it('names', () => {
    const uses = ruleUses();
    expect(uses.length).toBeGreaterThan(20);
    expect(missing(uses)).toEqual([]);
  });
  it('counters are read through rate/increase, gauges never', () => {
    expect(misusedTypes(ruleUses())).toEqual([]);
  });
});

describe('every metric of the Grafana dashboard is in a live scrape', () => {
  it('names', () => {
    const uses = dashboardUses();
    expect(uses.length).toBeGreaterThan(40);
    expect(missing(uses)).toEqual([]);
  });
  it('counters are read through rate/increase, gauges never', () => {
    expect(misusedTypes(dashboardUses())).toEqual([]);
  });
});
