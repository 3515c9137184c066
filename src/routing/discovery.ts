/**
 * Discovery (DESIGN §4): asks a cluster's routers, one after another, for the routing table of one
 * database, and maps their failures to what a client is told. Knows nothing of caching or time.
 */
import type { Topology } from '../config/schema.js';
import { Codes, GatewayError } from '../errors/index.js';
import { inSpan, SpanKind } from '../telemetry/trace.js';
import type { RoutingTableData, Transport } from '../transport/types.js';

const isAuthFailure = (err: unknown): boolean => err instanceof GatewayError && err.code.startsWith('Neo.ClientError.Security.');

export class Discovery {
  /** routing-table requests sent by this instance (one per router asked) */
  requests = 0;

  constructor(
    private readonly topology: Topology,
    private readonly transport: Pick<Transport, 'fetchRoutingTable'>,
  ) {}

  /**
   * The routing table of `database` on `cluster`: asks the routers of the table known so far
   * (`knownRouters`), then the cluster's seed routers, until one answers. An unknown database is
   * final; so is a failed authentication (every router would refuse the same credentials).
   */
  discover(cluster: string, database: string, knownRouters: readonly string[] = []): Promise<RoutingTableData> {
    return inSpan(`discovery ${cluster}`, SpanKind.CLIENT, { 'gateway.cluster': cluster, 'db.namespace': database }, () =>
      this.ask(cluster, database, knownRouters),
    );
  }

  private async ask(cluster: string, database: string, knownRouters: readonly string[]): Promise<RoutingTableData> {
    const c = this.topology.clusters[cluster];
    if (!c) throw new GatewayError(Codes.Internal, `Unknown cluster ${cluster}.`);
    const seeds = c.routers.map((u) => u.replace(/^[a-z0-9+]+:\/\//, '').replace(/\/$/, ''));
    const routers = [...new Set([...knownRouters, ...seeds])];
    let lastError: unknown;
    for (const router of routers) {
      try {
        this.requests++;
        return await this.transport.fetchRoutingTable(cluster, router, database, c.routingContext);
      } catch (err) {
        lastError = err;
        if (err instanceof GatewayError && err.code === Codes.DatabaseNotFound) throw err;
        if (isAuthFailure(err)) break;
      }
    }
    if (isAuthFailure(lastError)) {
      throw new GatewayError(Codes.DatabaseUnavailable, `The gateway could not authenticate to cluster '${cluster}'.`, { cause: lastError });
    }
    throw new GatewayError(Codes.DatabaseUnavailable, `No router of cluster '${cluster}' answered with a routing table for '${database}'.`, {
      retryable: true,
      cause: lastError,
    });
  }
}
