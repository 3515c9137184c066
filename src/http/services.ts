/**
 * The composition root: builds the gateway's services once from what the runtime handed over
 * (GatewayDeps) and wires them together. Routes and middleware receive these objects; nothing
 * below http/ knows how they were made.
 */
import type { Topology } from '../config/schema.js';
import { GATEWAY_VERSION } from '../config/version.js';
import { StatementAnalyzer } from '../cypher/analyzer.js';
import { Codes, GatewayError } from '../errors/index.js';
import { FederatedExecutor } from '../federation/execute.js';
import { Admission, newLimitState } from '../limits/admission.js';
import { ShardExecutor } from '../routing/executor.js';
import { Router, type RoutingEvents } from '../routing/router.js';
import { GatewayMetrics } from '../telemetry/gateway-metrics.js';
import { errorFields, silentLogger, type Logger } from '../telemetry/log.js';
import { memberRegion } from '../topology/index.js';
import { ApiKeyAuth } from './auth.js';
import { readWebBody, type BodyReader } from './body.js';
import type { GatewayDeps } from './deps.js';
import { StatementGate, type Neo4jVerdict } from './statement-gate.js';
import type { TransactionBackend } from './transactions/backend.js';
import { LocalTransactions } from './transactions/local.js';
import { RemoteTransactions } from './transactions/remote.js';

export interface Services {
  deps: GatewayDeps;
  topology: Topology;
  now: () => number;
  instanceId: string;
  runtime: string;
  router: Router;
  executor: ShardExecutor;
  federated: FederatedExecutor;
  auth: ApiKeyAuth;
  analyzer: StatementAnalyzer;
  gate: StatementGate;
  admission: Admission;
  metrics: GatewayMetrics;
  logger: Logger;
  /** reads request bodies (the runtime's reader, else the Web stream's) */
  readBody: BodyReader;
  /** explicit transactions: held here (Bolt), by Neo4j (HTTP transports), or none */
  transactions: TransactionBackend | undefined;
}

/**
 * Neo4j's verdict on a statement the gateway could not parse: its own error, as a client error
 * (Neo4j answers some lexical errors, e.g. an unterminated comment, as a DatabaseError).
 */
function asSyntaxError(err: { code: string; message: string }): { code: string; message: string } {
  return err.code.startsWith('Neo.ClientError.') ? { code: err.code, message: err.message } : { code: Codes.SyntaxError, message: err.message };
}

/** routing events as log lines and metrics */
function routingEvents(topology: Topology, logger: Logger, metrics: GatewayMetrics): RoutingEvents {
  return {
    tableRefreshed: (e) => {
      metrics.tableRefreshes.inc({ cluster: e.cluster, outcome: e.source });
      logger.info('routing table refreshed', {
        cluster: e.cluster,
        database: e.database,
        source: e.source,
        writers: e.writers,
        readers: e.readers,
        ttlSeconds: e.ttlSeconds,
      });
      if (e.previousWriters !== undefined && e.previousWriters.join(',') !== e.writers.join(',')) {
        logger.warn('leader switch', { cluster: e.cluster, database: e.database, from: e.previousWriters, to: e.writers });
      }
    },
    refreshFailed: (e) => {
      metrics.tableRefreshes.inc({ cluster: e.cluster, outcome: 'failed' });
      logger.warn('routing table refresh failed', { cluster: e.cluster, database: e.database, error: { code: e.error.code, message: e.error.message } });
    },
    memberEjected: (e) => {
      metrics.ejections.inc({ cluster: e.cluster, member: e.address });
      logger.warn('member ejected', {
        cluster: e.cluster,
        member: e.address,
        region: memberRegion(topology, e.cluster, e.address),
        failures: e.failures,
        ejectedForMs: e.ejectedForMs,
      });
    },
    memberRestored: (e) => {
      logger.info('member restored', { cluster: e.cluster, member: e.address, region: memberRegion(topology, e.cluster, e.address) });
    },
  };
}

/** the state gauges of /metrics, read from the router, the shared cache and the transactions at each scrape */
function bindMetrics(metrics: GatewayMetrics, topology: Topology, router: Router, deps: GatewayDeps, openTransactions: () => number): void {
  /** every member of the routing tables held, once per cluster */
  const members = () => {
    const seen = new Map<string, { cluster: string; member: string; region: string; inFlight: number; healthy: boolean; reader: boolean }>();
    for (const { table } of router.snapshot()) {
      for (const address of [...table.writers, ...table.readers]) {
        const key = `${table.cluster}/${address}`;
        const reader = table.readers.includes(address);
        const known = seen.get(key);
        if (known) {
          known.reader ||= reader;
          continue;
        }
        const state = router.memberState(table.cluster, address);
        seen.set(key, {
          cluster: table.cluster,
          member: address,
          region: memberRegion(topology, table.cluster, address),
          inFlight: state.inFlight,
          healthy: state.healthy,
          reader,
        });
      }
    }
    return [...seen.values()];
  };
  metrics.bind({
    members,
    readers: () => {
      // per cluster and region with readers in a routing table: how many are healthy (0: all ejected)
      const counts = new Map<string, { cluster: string; region: string; available: number }>();
      for (const m of members()) {
        if (!m.reader) continue;
        const key = `${m.cluster}\u0000${m.region}`;
        const entry = counts.get(key) ?? { cluster: m.cluster, region: m.region, available: 0 };
        if (m.healthy) entry.available++;
        counts.set(key, entry);
      }
      return counts.values();
    },
    sharedCacheHealthy: () => deps.sharedCache?.healthy(),
    openTransactions,
    discoveries: () => router.discoveries,
    shards: () => Object.keys(topology.shards).map((shard) => ({ shard, drained: topology.routing.drainedShards.includes(shard) })),
  });
}

export function buildServices(deps: GatewayDeps): Services {
  const { topology, transport } = deps;
  const now = deps.now ?? Date.now;
  const instanceId = deps.instanceId ?? 'gw';
  const runtime = deps.runtime ?? 'unknown';
  const logger = deps.logger ?? silentLogger;
  const metrics = new GatewayMetrics({ version: GATEWAY_VERSION, runtime });
  const router = new Router(topology, transport, deps.sharedCache, {
    now,
    instanceId,
    events: routingEvents(topology, logger, metrics),
    ...(deps.waitUntil ? { waitUntil: deps.waitUntil } : {}),
  });
  router.start().catch((err: unknown) => logger.warn('routing invalidations not received', { error: errorFields(err) }));
  const executor = new ShardExecutor(
    router,
    transport,
    (shard) => {
      const s = topology.shards[shard];
      if (!s) throw new GatewayError(Codes.DatabaseNotFound, `Database does not exist. Database name: '${shard}'.`);
      return { cluster: s.cluster, database: s.database };
    },
    now,
    { policy: topology.routing.retry },
  );
  const analyzer = new StatementAnalyzer(
    {
      maxStatementBytes: topology.limits.maxStatementBytes,
      parseBudgetMs: topology.limits.parseBudgetMs,
      cacheEntries: topology.limits.analysisCacheEntries,
      cacheBytes: topology.limits.analysisCacheBytes,
    },
    now,
  );
  /** Neo4j's own EXPLAIN (runs nothing) words the errors of statements the gateway cannot parse */
  const verdict: Neo4jVerdict = async (shard, statement) => {
    try {
      const { result } = await executor.run({
        shard,
        statement: `EXPLAIN ${statement}`,
        parameters: {},
        accessMode: 'READ',
        bookmarks: [],
        region: topology.defaultRegion,
        pinned: false,
        maxRows: 1,
        deadline: now() + topology.limits.requestDeadlineMs,
      });
      return result.error && asSyntaxError(result.error);
    } catch (err) {
      if (err instanceof GatewayError && (err.code.startsWith('Neo.ClientError.') || err.code.startsWith('Neo.DatabaseError.'))) return asSyntaxError(err);
      throw err;
    }
  };
  const admission = new Admission({ state: newLimitState(instanceId), limits: topology.limits, store: deps.sharedCache, schedule: deps.waitUntil, now });
  let transactions: TransactionBackend | undefined;
  if (transport.begin) {
    transactions = new LocalTransactions(topology, transport.begin.bind(transport), now, instanceId);
  } else if (transport.remoteTransactions) {
    // the adapters refuse to start without the fleet secret where ids are signed; never a constant key
    if (!deps.txSecret) throw new GatewayError(Codes.Internal, 'Explicit transactions held by Neo4j need the fleet secret (GATEWAY_SECRET) to sign their ids.');
    transactions = new RemoteTransactions(topology, transport.remoteTransactions, deps.txSecret, now);
  }
  bindMetrics(metrics, topology, router, deps, () => transactions?.size ?? 0);
  return {
    deps,
    topology,
    now,
    instanceId,
    runtime,
    router,
    executor,
    federated: new FederatedExecutor(topology, executor, analyzer),
    auth: new ApiKeyAuth(topology, deps.sha256),
    analyzer,
    gate: new StatementGate(topology, analyzer, verdict),
    admission,
    metrics,
    logger,
    readBody: deps.readBody ?? readWebBody,
    transactions,
  };
}
