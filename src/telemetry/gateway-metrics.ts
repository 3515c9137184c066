/**
 * The gateway's metrics: every family it exports, in one registry. Counters and histograms are
 * updated as requests run; the state gauges (members, readers, shared cache, transactions,
 * drained shards) are read at scrape time from the sources the composition root binds. The
 * dashboard and alert rules in infra/observability use these names (a test keeps them in step).
 */
import { type Collect, type Labels, Registry } from './registry.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const FANOUT_BUCKETS = [1, 2, 4, 8, 16, 32, 64];

/** what the state gauges read at scrape time */
export interface MetricSources {
  /** members of every routing table this instance holds */
  members(): Iterable<{ cluster: string; member: string; region: string; inFlight: number; healthy: boolean }>;
  /** healthy readers per cluster and region (0 for a region whose readers are all ejected) */
  readers(): Iterable<{ cluster: string; region: string; available: number }>;
  /** true/false for a configured shared cache; undefined without one */
  sharedCacheHealthy(): boolean | undefined;
  openTransactions(): number;
  /** routing-table discoveries this instance made */
  discoveries(): number;
  /** every shard with whether it is drained */
  shards(): Iterable<{ shard: string; drained: boolean }>;
}

export type LimitName =
  | 'concurrency'
  | 'rate'
  | 'transactions'
  | 'result_size'
  | 'statement_size'
  | 'statement_complexity'
  | 'body_size'
  | 'json_depth'
  | 'graphql'
  | 'key_verifications';

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly buildInfo = this.registry.gauge('gateway_build_info', 'The gateway version and runtime (always 1).');
  readonly requests = this.registry.counter('gateway_http_requests_total', 'HTTP requests by route, method and status.');
  readonly latency = this.registry.histogram('gateway_http_request_duration_seconds', 'HTTP request latency by route.', LATENCY_BUCKETS);
  readonly errors = this.registry.counter('gateway_errors_total', 'Error responses by code.');
  readonly shardRequests = this.registry.counter('gateway_shard_requests_total', 'Statements sent to shards, by shard, role, region and outcome.');
  readonly retries = this.registry.counter('gateway_retries_total', 'Statements run again on another attempt, by shard.');
  readonly fanout = this.registry.histogram('gateway_fanout_width', 'Shards touched by one composite request, by database.', FANOUT_BUCKETS);
  readonly tableLookups = this.registry.counter('gateway_routing_table_lookups_total', 'Routing-table lookups by source (memory, redis, discovery).');
  readonly tableRefreshes = this.registry.counter(
    'gateway_routing_table_refreshes_total',
    'Routing-table refreshes by cluster and outcome (discovered, shared, failed).',
  );
  readonly ejections = this.registry.counter('gateway_member_ejections_total', 'Times a member was ejected after a failure, by cluster and member.');
  readonly limitRefusals = this.registry.counter('gateway_limit_refusals_total', 'Requests refused by a limit, by limit.');
  readonly policyRefusals = this.registry.counter(
    'gateway_policy_refusals_total',
    'Statements refused because the key lacks a capability, by what the statement needs.',
  );
  readonly federationRefusals = this.registry.counter(
    'gateway_federation_refusals_total',
    'Composite statements refused because the gateway cannot answer them exactly.',
  );

  constructor(info: { version: string; runtime: string }) {
    this.buildInfo.set(info, 1);
  }

  /** the state gauges, read from `sources` at every scrape */
  bind(sources: MetricSources): void {
    const gauge = (name: string, help: string, collect: Collect) => this.registry.gauge(name, help, collect);
    gauge('gateway_member_in_flight', 'Statements running on a member.', function* () {
      for (const m of sources.members()) yield [{ cluster: m.cluster, member: m.member, region: m.region }, m.inFlight];
    });
    gauge('gateway_member_healthy', '1 when the member is not ejected.', function* () {
      for (const m of sources.members()) yield [{ cluster: m.cluster, member: m.member, region: m.region }, m.healthy ? 1 : 0];
    });
    gauge('gateway_readers_available', 'Healthy readers by cluster and region.', function* () {
      for (const r of sources.readers()) yield [{ cluster: r.cluster, region: r.region }, r.available];
    });
    gauge('gateway_shared_cache_healthy', '1 when the shared cache (Redis) answers; 0 when it does not (the gateway then works from memory).', function* () {
      const healthy = sources.sharedCacheHealthy();
      if (healthy !== undefined) yield [{} as Labels, healthy ? 1 : 0];
    });
    gauge('gateway_open_transactions', 'Explicit transactions open on this instance.', function* () {
      yield [{} as Labels, sources.openTransactions()];
    });
    gauge('gateway_shard_drained', '1 while a shard is drained for maintenance (its requests answer 503).', function* () {
      for (const s of sources.shards()) yield [{ shard: s.shard }, s.drained ? 1 : 0];
    });
    // counted by the routing layer, read at scrape time
    this.registry.counterFrom('gateway_discoveries_total', 'Routing-table discoveries made by this instance.', () => sources.discoveries());
  }
}
