/**
 * Collecting a statement's result from the driver under the request's bounds: each row priced
 * in typed-JSON bytes before it is converted (typedJsonSize), the result budget and the deadline
 * checked on every row, and a stopped result cancelled and left to settle without poisoning the
 * pooled connection.
 */
import neo4j, { isNode, isPath, isRelationship, type Session, type Record as NeoRecord, type Result, type ResultSummary, type Transaction } from 'neo4j-driver';
import { Codes, GatewayError, isNeo4jCode } from '../errors/index.js';
import { type ResultBudget, deadlineExceeded } from '../limits/result-budget.js';
import type { TypedValue } from '../values/typed.js';
import { mapDriverError } from './bolt-mapping.js';
import { fromDriver } from './bolt-values.js';

/** how long a cancelled result may take to settle before its session is closed anyway (ms) */
export const CANCEL_SETTLE_MS = 2000;

/**
 * Bytes the typed JSON encoding of a driver value takes (what bolt-values' fromDriver makes and
 * the Query API sends), estimated without converting it, so a huge value is refused before any
 * conversion work. It walks the value iteratively (no recursion on deep nesting) and stops as
 * soon as the estimate passes `limit` (the answer is then some number above `limit`); every
 * 8192 values it checks the clock and throws DeadlineExceeded past `deadline`. Strings count one
 * byte per UTF-16 unit (escapes and multi-byte characters are not priced); temporal values and
 * points count a fixed 56 bytes.
 */
export function typedJsonSize(value: unknown, limit: number, deadline?: number, now: () => number = Date.now): number {
  // frames of the lists and maps being walked: items (list) or keys of obj (map)
  const frames: { items: readonly unknown[] | undefined; obj: Record<string, unknown> | undefined; keys: readonly string[] | undefined; i: number }[] = [];
  let size = 0;
  let steps = 0;
  let next: unknown = value;
  for (;;) {
    // price `next`: scalars whole, containers their frame (their items follow)
    const v = next;
    if (v === null || v === undefined) size += 30;
    else {
      switch (typeof v) {
        case 'string':
          size += 30 + v.length;
          break;
        case 'boolean':
          size += 33 + (v ? 4 : 5);
          break;
        case 'number':
          size += 29 + String(v).length;
          break;
        case 'bigint':
          size += 31 + String(v).length;
          break;
        case 'object': {
          if (neo4j.isInt(v)) {
            const n = v as unknown as { high: number; low: number };
            size += 31 + (n.high === 0 && n.low >= 0 ? String(n.low).length : 20);
          } else if (Array.isArray(v)) {
            size += 28 + Math.max(0, v.length - 1);
            frames.push({ items: v, obj: undefined, keys: undefined, i: 0 });
          } else if (ArrayBuffer.isView(v)) {
            size += 30 + Math.ceil(v.byteLength / 3) * 4;
          } else if (isNode(v)) {
            size += 75 + v.elementId.length;
            for (const l of v.labels) size += l.length + 3;
            const keys = Object.keys(v.properties);
            size += 2 + keys.length;
            frames.push({ items: undefined, obj: v.properties as Record<string, unknown>, keys, i: 0 });
          } else if (isRelationship(v)) {
            size += 140 + v.elementId.length + v.startNodeElementId.length + v.endNodeElementId.length + v.type.length;
            const keys = Object.keys(v.properties);
            size += 2 + keys.length;
            frames.push({ items: undefined, obj: v.properties as Record<string, unknown>, keys, i: 0 });
          } else if (isPath(v)) {
            const items: unknown[] = [v.start];
            for (const seg of v.segments) items.push(seg.relationship, seg.end);
            size += 28 + items.length - 1;
            frames.push({ items, obj: undefined, keys: undefined, i: 0 });
          } else {
            const proto = Object.getPrototypeOf(v) as unknown;
            if (proto === Object.prototype || proto === null) {
              const keys = Object.keys(v);
              size += 29 + keys.length;
              frames.push({ items: undefined, obj: v as Record<string, unknown>, keys, i: 0 });
            } else {
              // temporal values, points, anything else the driver makes: a short string form
              size += 56;
            }
          }
          break;
        }
        default:
          size += 30;
      }
    }
    if (size > limit) return size;
    // the next value: the first unvisited item of the innermost open container
    let found = false;
    while (frames.length > 0) {
      const top = frames[frames.length - 1]!;
      if (top.items !== undefined) {
        if (top.i < top.items.length) {
          next = top.items[top.i++];
          found = true;
          break;
        }
      } else if (top.i < top.keys!.length) {
        const key = top.keys![top.i++]!;
        size += key.length + 3;
        next = top.obj![key];
        found = true;
        break;
      }
      frames.pop();
    }
    if (!found) return size;
    if ((++steps & 8191) === 0 && deadline !== undefined && now() > deadline) throw deadlineExceeded();
  }
}

/**
 * Stops a result early the way the driver's own async iterator does when a loop breaks: the
 * stream is cancelled and the driver sends DISCARD at the next batch boundary (at most one more
 * batch of records arrives; the statement stops on Neo4j, an auto-commit one commits). Not a
 * RESET: closing a session under a streaming result races the driver's next PULL/DISCARD, which
 * then fails on Neo4j and poisons the pooled connection for whichever session takes it next
 * (observed with neo4j-driver 6.3: "DiscardMessage cannot be handled by a session in the READY
 * state"). `_cancel` is the driver's (underscore) method for exactly this; absent, nothing happens
 * and the statement runs to its end or to Neo4j's transaction timeout.
 */
function cancelStream(result: Result): void {
  (result as unknown as { _cancel?: () => void })._cancel?.();
}

/** resolves with `p`, or with undefined after `ms` */
export function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<undefined>((r) => {
      timer = setTimeout(() => r(undefined), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** resolves once a cancelled result has settled on the connection, or after `ms` at most */
export async function settled(result: Result, ms: number): Promise<void> {
  await within(
    result.summary().then(
      () => undefined,
      () => undefined,
    ),
    ms,
  );
}

export interface Collection {
  done: Promise<{ fields: string[]; values: TypedValue[][]; summary: ResultSummary | undefined; error?: { code: string; message: string } }>;
  result: Result;
  /** true once a record has arrived (the stream is under way: cancelling stops it) */
  readonly streaming: boolean;
  /** true once the collection was stopped (budget, deadline or abort): the stream was cancelled */
  readonly stopped: boolean;
  /** fails the collection now with `err` and cancels the stream */
  abort(err: GatewayError): void;
}

/**
 * session.run / tx.run without the stack trace the driver captures for every Result (new Error()
 * and its formatted stack, kept to decorate a later error: about 6% of the Node gateway's CPU per
 * request in the profile of issue 13). The gateway maps Neo4j's errors to its own codes and never
 * shows the driver's stacks, so the trace is skipped: the limit is 0 only while the driver builds
 * the Result (synchronously), and restored at once.
 */
export function runUnstacked(
  session: Session | Transaction,
  statement: string,
  params: Record<string, unknown>,
  txConfig?: { timeout?: number; metadata?: Record<string, string> },
): Result {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return 'lastBookmarks' in session ? (session as Session).run(statement, params, txConfig) : (session as Transaction).run(statement, params);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Runs a statement and collects its rows as typed values. Callback subscription (not the async
 * iterator, which costs a promise per record).
 *
 * Bounds, checked on every row before it is converted: the request deadline (DeadlineExceeded)
 * and the result budget (ResultTooLarge; each row's size is estimated by typedJsonSize, which
 * stops as soon as the budget is passed, so a huge row is never converted). Either one fails the
 * collection at once and cancels the stream (cancelStream). Rows past `maxRows` are not kept; the
 * result is still consumed to its end, so an auto-commit write commits, and the caller gets
 * ResultTooLarge.
 */
export function collect(
  session: Session | Transaction,
  statement: string,
  params: Record<string, unknown>,
  maxRows: number,
  budget: ResultBudget,
  txConfig?: { timeout?: number; metadata?: Record<string, string> },
): Collection {
  const result = runUnstacked(session, statement, params, txConfig);
  let stopped = false;
  let streaming = false;
  let fail: (err: GatewayError) => void = () => undefined;
  const done: Collection['done'] = new Promise((resolve, reject) => {
    let fields: string[] | undefined;
    const values: TypedValue[][] = [];
    let overflow = false;
    fail = (err: GatewayError) => {
      if (stopped) return;
      stopped = true;
      reject(err);
      cancelStream(result);
    };
    result.subscribe({
      onKeys: (keys) => {
        fields = keys as string[];
      },
      onNext: (record: NeoRecord) => {
        streaming = true;
        if (stopped) return;
        if (values.length >= maxRows) {
          overflow = true;
          return;
        }
        try {
          if (budget.expired()) throw deadlineExceeded();
          // "[...]" around the row and "," between values, then each value, priced before it is converted
          let bytes = 1 + record.length;
          for (let i = 0; i < record.length && bytes <= budget.remaining; i++) {
            bytes += typedJsonSize(record.get(i), budget.remaining - bytes, budget.deadline, budget.now);
          }
          if (!budget.charge(bytes)) throw budget.tooLarge();
          const row: TypedValue[] = new Array(record.length);
          for (let i = 0; i < record.length; i++) row[i] = fromDriver(record.get(i));
          values.push(row);
        } catch (err) {
          fail(err instanceof GatewayError ? err : mapDriverError(err));
        }
      },
      onCompleted: (summary: ResultSummary) => {
        if (stopped) return;
        if (overflow) {
          reject(
            new GatewayError(
              Codes.ResultTooLarge,
              `The result has more than ${maxRows} rows, the most this gateway returns. Add a LIMIT or page with SKIP/LIMIT. (The statement did run: any writes it made were committed.)`,
            ),
          );
          return;
        }
        resolve({ fields: fields ?? [], values, summary });
      },
      onError: (err: Error) => {
        if (stopped) return;
        // before the keys arrived, the statement never started (syntax, semantics, access mode):
        // a plain error. After, it failed while streaming: the rows so far and the error, as
        // Neo4j's Query API answers.
        // the gateway's own refusals (a row past the wire cap) are the request's answer, never a partial result
        const code = (err as { code?: unknown })?.code;
        if (fields === undefined || !isNeo4jCode(code) || code.startsWith('Neo.ClientError.Gateway.')) {
          reject(mapDriverError(err));
          return;
        }
        const mapped = mapDriverError(err);
        resolve({ fields, values, summary: undefined, error: { code: mapped.code, message: mapped.message } });
      },
    });
  });
  return {
    done,
    result,
    get streaming() {
      return streaming;
    },
    get stopped() {
      return stopped;
    },
    abort: (err) => fail(err),
  };
}
