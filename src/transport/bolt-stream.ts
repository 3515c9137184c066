/**
 * A statement's rows handed over as they arrive (Transport.stream on Bolt), through the driver's
 * own async iterator: it pulls the next batch only while fewer than 70 % of a fetch size (1000
 * records) wait unread, so a slow reader holds a window of rows, never the result. The stream
 * opens once the first row (or the end) is there: anything failing before that is thrown and
 * may be retried; after it, an error ends the stream with the error (Neo4j's Query API answers
 * the rows so far, then `errors`). Past the deadline the stream ends with DeadlineExceeded: a
 * statement still computing is interrupted by closing the session, a streaming one is cancelled.
 */
import type { Result, Session } from 'neo4j-driver';
import { Codes, GatewayError, isNeo4jCode } from '../errors/index.js';
import { deadlineExceeded } from '../limits/result-budget.js';
import type { TypedValue } from '../values/typed.js';
import { CANCEL_SETTLE_MS, runUnstacked, within } from './bolt-collect.js';
import { countersOf, EMPTY_COUNTERS, mapDriverError, notificationsOf } from './bolt-mapping.js';
import { fromDriver } from './bolt-values.js';
import type { RowStream, RunEnd } from './types.js';

const failed = (err: GatewayError): RunEnd => ({ bookmarks: [], counters: EMPTY_COUNTERS, notifications: [], error: { code: err.code, message: err.message } });

export async function openStream(
  session: Session,
  statement: string,
  params: Record<string, unknown>,
  txConfig: { timeout?: number; metadata?: Record<string, string> } | undefined,
  deadline: number | undefined,
): Promise<RowStream> {
  const result: Result = runUnstacked(session, statement, params, txConfig);
  const rows = result[Symbol.asyncIterator]();
  let expired = false;
  let computing = true;
  let ended: RunEnd | undefined;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => (closed ??= session.close().catch(() => undefined));
  const timer =
    deadline === undefined
      ? undefined
      : setTimeout(
          () => {
            expired = true;
            // a statement still computing answers nothing, not even a cancel: only a RESET stops it
            if (computing) void close();
            else void rows.return?.().catch(() => undefined);
          },
          Math.max(0, deadline - Date.now()),
        );
  const finish = (end: RunEnd): void => {
    ended = end;
    clearTimeout(timer);
    void close();
  };

  try {
    await rows.peek();
  } catch (err) {
    computing = false;
    const fields = await result.keys().catch(() => undefined);
    const code = (err as { code?: unknown })?.code;
    // failed after Neo4j accepted the statement (keys known): a stream that ends with the error
    if (!expired && fields !== undefined && isNeo4jCode(code) && !code.startsWith('Neo.ClientError.Gateway.')) {
      finish(failed(mapDriverError(err)));
      return stream(fields as string[]);
    }
    clearTimeout(timer);
    void close();
    if (expired) throw new GatewayError(Codes.DeadlineExceeded, 'The request deadline passed before the statement started to answer.', { cause: err });
    throw mapDriverError(err);
  }
  computing = false;
  const fields = (await result.keys()) as string[];
  return stream(fields);

  function stream(fields: string[]): RowStream {
    return {
      fields,
      async next(): Promise<TypedValue[] | undefined> {
        if (ended) return undefined;
        try {
          const r = await rows.next();
          if (expired) {
            finish(failed(deadlineExceeded()));
            return undefined;
          }
          if (r.done) {
            finish({ bookmarks: session.lastBookmarks(), counters: countersOf(r.value), notifications: notificationsOf(r.value) });
            return undefined;
          }
          const record = r.value;
          const row: TypedValue[] = new Array(record.length);
          for (let i = 0; i < record.length; i++) row[i] = fromDriver(record.get(i));
          return row;
        } catch (err) {
          finish(failed(expired ? deadlineExceeded() : mapDriverError(err)));
          return undefined;
        }
      },
      end(): RunEnd {
        if (!ended) throw new GatewayError(Codes.Internal, 'A stream was asked how it ended before it did.');
        return ended;
      },
      async cancel(): Promise<void> {
        if (!ended) {
          // DISCARD at the next batch boundary: at most one more batch arrives, then the summary
          const last = await within(
            rows.return!().catch(() => undefined),
            CANCEL_SETTLE_MS,
          );
          const summary = last && !last.done ? undefined : last?.value;
          ended ??= {
            bookmarks: summary ? session.lastBookmarks() : [],
            counters: summary ? countersOf(summary) : EMPTY_COUNTERS,
            notifications: summary ? notificationsOf(summary) : [],
          };
          clearTimeout(timer);
        }
        await close();
      },
    };
  }
}
