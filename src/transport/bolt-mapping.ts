/**
 * Translations between neo4j-driver and the transport's types: a request's parameters and
 * transaction config for the driver; the driver's errors, counters and notifications in the
 * gateway's terms (Neo4j's codes and messages kept; the Query API's field order).
 */
import type { ResultSummary } from 'neo4j-driver';
import { Codes, GatewayError, isNeo4jCode } from '../errors/index.js';
import type { TypedValue } from '../values/typed.js';
import { toDriver } from './bolt-values.js';
import type { Counters, Notification } from './types.js';

/** the driver's transaction config of a request: its timeout and metadata, when it has them */
export function txConfigOf(req: {
  timeoutMs?: number;
  metadata?: Record<string, string>;
}): { timeout?: number; metadata?: Record<string, string> } | undefined {
  if (!req.timeoutMs && !req.metadata) return undefined;
  return { ...(req.timeoutMs ? { timeout: req.timeoutMs } : {}), ...(req.metadata ? { metadata: req.metadata } : {}) };
}

/** the counters Neo4j's Query API reports, in its order */
export const COUNTER_KEYS = [
  'containsUpdates',
  'nodesCreated',
  'nodesDeleted',
  'propertiesSet',
  'relationshipsCreated',
  'relationshipsDeleted',
  'labelsAdded',
  'labelsRemoved',
  'indexesAdded',
  'indexesRemoved',
  'constraintsAdded',
  'constraintsRemoved',
  'containsSystemUpdates',
  'systemUpdates',
] as const;

export function countersOf(summary: ResultSummary): Counters {
  const c = summary.counters;
  const u = c.updates();
  return {
    containsUpdates: c.containsUpdates(),
    nodesCreated: u.nodesCreated,
    nodesDeleted: u.nodesDeleted,
    propertiesSet: u.propertiesSet,
    relationshipsCreated: u.relationshipsCreated,
    relationshipsDeleted: u.relationshipsDeleted,
    labelsAdded: u.labelsAdded,
    labelsRemoved: u.labelsRemoved,
    indexesAdded: u.indexesAdded,
    indexesRemoved: u.indexesRemoved,
    constraintsAdded: u.constraintsAdded,
    constraintsRemoved: u.constraintsRemoved,
    containsSystemUpdates: c.containsSystemUpdates(),
    systemUpdates: c.systemUpdates(),
  } satisfies Record<(typeof COUNTER_KEYS)[number], number | boolean>;
}

/** the counters of a result without a summary (it failed while streaming) */
export const EMPTY_COUNTERS: Counters = {};

export function notificationsOf(summary: ResultSummary): Notification[] {
  // field order as Neo4j's Query API writes them
  return summary.notifications.map((n) => ({
    code: n.code,
    description: n.description,
    severity: n.severityLevel,
    title: n.title,
    position: n.position && 'offset' in n.position ? { offset: n.position.offset ?? 0, line: n.position.line ?? 0, column: n.position.column ?? 0 } : null,
    category: n.category,
  }));
}

export function paramsToDriver(params: Record<string, TypedValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = toDriver(v);
  return out;
}

/** Maps a driver error to a GatewayError, keeping Neo4j's codes and messages. */
export function mapDriverError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { code?: unknown; message?: unknown; retriable?: unknown };
  const code = e?.code;
  const message = typeof e?.message === 'string' ? e.message : 'Unknown error';
  if (isNeo4jCode(code)) return new GatewayError(code, message, { cause: err });
  if (code === 'ServiceUnavailable' || code === 'SessionExpired') {
    // the driver reports a refused or timed-out connect the same way as a connection lost
    // mid-statement; only the former proves the statement never reached the server
    const notSent = /Failed to connect|ECONNREFUSED|connect ETIMEDOUT|Connection refused/i.test(message);
    return new GatewayError(Codes.DatabaseUnavailable, 'The database is unavailable: no connection to the cluster member could be made.', {
      cause: err,
      retryable: true,
      notSent,
    });
  }
  if (code === 'ProtocolError') {
    // a member whose Bolt threads are all busy refuses the connection's work before running
    // anything; the driver reports some of these refusals as a protocol error
    if (/no available threads/i.test(message)) return new GatewayError(Codes.NoThreadsAvailable, message, { cause: err, notSent: true });
    return new GatewayError(Codes.DatabaseUnavailable, 'The cluster member broke the Bolt protocol.', { cause: err, status: 502, retryable: false });
  }
  return new GatewayError(Codes.Internal, 'The gateway failed to run the statement.', { cause: err });
}
