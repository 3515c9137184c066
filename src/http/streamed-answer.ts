/**
 * A composite answer sent as its rows arrive (FederatedExecutor.open), in the Query API's JSON
 * shape. The first `limits.streamAfterRows` rows are held: an answer that ends within them is
 * sent whole, exactly as if it had been buffered (its status, its refusals). Past them the
 * answer is committed (202, headers) and rows go out as the client reads them: the body is a
 * pull stream, so a slow client slows the shards (the driver stops pulling) instead of filling
 * memory. An error after that point (a shard failing, the deadline, a limit) ends the body with
 * `errors`, the rows sent so far standing, as Neo4j's Query API answers an error while streaming;
 * never a silent cut.
 */
import { Codes, GatewayError } from '../errors/index.js';
import type { FederatedStream, StreamEnd } from '../federation/execute.js';
import { encodeBookmarks, mergeBookmarks, type ShardBookmarks } from '../routing/bookmarks.js';
import { encodeQueryHead, encodeQueryRow, encodeQueryTail, TYPED_JSON } from './codec.js';
import type { GatewayContext } from './context.js';
import { routeHeaders } from './respond.js';

export interface StreamedAnswerOptions {
  /** rows held before the answer is committed (limits.streamAfterRows) */
  window: number;
  maxRows: number;
  /** bytes of the body's rows, as sent */
  maxResultBytes: number;
  includeCounters: boolean;
  typed: boolean;
  /** the client's bookmarks, per shard */
  sent: ShardBookmarks;
  /**
   * the request deadline (epoch ms): the shard statements end there; for a client that has
   * stopped reading, the answer is ended a moment later (the error queued behind what it has not read)
   */
  deadline: number;
}

/** how long after the deadline a client that has stopped reading keeps the answer open */
const STALLED_CLIENT_GRACE_MS = 1000;

/** text handed to the HTTP stream per pull (rows are joined up to about this size) */
const CHUNK_CHARS = 64 * 1024;

const tooManyRows = (maxRows: number) =>
  new GatewayError(Codes.ResultTooLarge, `The merged result has more than ${maxRows} rows, the most this gateway returns. Add a LIMIT.`);
const tooManyBytes = (maxBytes: number) =>
  new GatewayError(
    Codes.ResultTooLarge,
    `The merged result is larger than ${maxBytes} bytes, the most this gateway returns. Add a LIMIT or return fewer values.`,
  );

export async function streamedAnswer(c: GatewayContext, stream: FederatedStream, o: StreamedAnswerOptions): Promise<Response> {
  const missingHeader: Record<string, string> = stream.missing.length > 0 ? { 'x-gateway-missing-shards': stream.missing.map((m) => m.shard).join(', ') } : {};
  const headers = { 'content-type': o.typed ? TYPED_JSON : 'application/json', ...routeHeaders(stream.routes), ...missingHeader };
  const extra = stream.missing.length > 0 ? { gateway: { missingShards: stream.missing } } : undefined;
  const tail = (end: StreamEnd) =>
    encodeQueryTail({
      result: { counters: end.counters, notifications: end.notifications, ...(end.error ? { error: end.error } : {}) },
      bookmarks: encodeBookmarks(mergeBookmarks(o.sent, end.shardBookmarks)),
      includeCounters: o.includeCounters,
      typed: o.typed,
      ...(extra ? { extra } : {}),
    });

  // the window: held, and answered whole if the answer ends within it
  const held: string[] = [];
  let rows = 0;
  let bytes = 0;
  for (;;) {
    const row = await stream.next();
    if (row === undefined) {
      const end = stream.end();
      // as a buffered answer: a shard's error answers 202 with the error and no rows
      const body = encodeQueryHead(stream.fields) + (end.error ? '' : held.join(',')) + tail(end);
      return c.body(body, 202, headers);
    }
    const text = encodeQueryRow(row, o.typed);
    rows++;
    bytes += text.length + 1;
    const limit = rows > o.maxRows ? tooManyRows(o.maxRows) : bytes > o.maxResultBytes ? tooManyBytes(o.maxResultBytes) : undefined;
    if (limit) {
      await stream.cancel(limit);
      throw limit;
    }
    held.push(text);
    if (rows > o.window) break;
  }

  // committed: the rest as the client reads it
  let settle: (error: { code: string; message: string } | undefined) => void = () => undefined;
  c.get('request').finished = new Promise((resolve) => (settle = resolve));
  const encoder = new TextEncoder();
  let first = true;
  let done = false;
  /** the client went away: nothing more is written */
  let aborted = false;
  /** a pull is under way (the client is reading) */
  let pulling = false;
  let stalled: ReturnType<typeof setTimeout> | undefined;
  const body = new ReadableStream<Uint8Array>({
    start: (controller) => {
      // the shard statements stop at the deadline, and a client that reads gets the error at the
      // end of the body; one that has stopped reading would keep the answer open, and with it the
      // key's slot, for as long as it likes: its answer is ended here, the error queued behind
      // what it has not read (an idle connection is the HTTP server's timeouts to close)
      stalled = setTimeout(
        () => {
          if (done || aborted || pulling) return;
          done = true;
          const err = new GatewayError(Codes.DeadlineExceeded, 'The request deadline passed before the client read the answer.');
          void stream
            .cancel(err)
            .catch(() => undefined)
            .then(() => {
              controller.enqueue(
                encoder.encode(
                  (first ? encodeQueryHead(stream.fields) + held.join(',') : '') + tail({ ...stream.end(), error: { code: err.code, message: err.message } }),
                ),
              );
              controller.close();
              settle({ code: err.code, message: err.message });
            });
        },
        Math.max(0, o.deadline - Date.now()) + STALLED_CLIENT_GRACE_MS,
      );
    },
    pull: async (controller) => {
      if (done || aborted) return;
      pulling = true;
      let text = '';
      if (first) {
        text = encodeQueryHead(stream.fields) + held.join(',');
        held.length = 0;
        first = false;
      }
      let error: GatewayError | undefined;
      let ended = false;
      try {
        while (text.length < CHUNK_CHARS) {
          const row = await stream.next();
          if (row === undefined) {
            ended = true;
            break;
          }
          const t = encodeQueryRow(row, o.typed);
          rows++;
          bytes += t.length + 1;
          error = rows > o.maxRows ? tooManyRows(o.maxRows) : bytes > o.maxResultBytes ? tooManyBytes(o.maxResultBytes) : undefined;
          if (error) break;
          text += `,${t}`;
        }
      } catch (err) {
        // the merge refused a row (see FederatedStream.next): the shards are stopped already
        error = err instanceof GatewayError ? err : new GatewayError(Codes.Internal, 'The gateway failed to merge the shards answers.', { cause: err });
      }
      if (error) {
        await stream.cancel(error);
        ended = true;
      }
      if (ended) {
        const end = stream.end();
        text += tail(error ? { ...end, error: { code: error.code, message: error.message } } : end);
        done = true;
      }
      pulling = false;
      if (aborted) return;
      controller.enqueue(encoder.encode(text));
      if (done) {
        clearTimeout(stalled);
        controller.close();
        settle(error ? { code: error.code, message: error.message } : stream.end().error);
      }
    },
    cancel: async () => {
      // the client went away: stop every shard statement
      clearTimeout(stalled);
      if (done || aborted) return;
      aborted = true;
      await stream.cancel(new GatewayError(Codes.Terminated, 'The client closed the connection before the answer ended.'));
      settle({ code: Codes.Terminated, message: 'The client closed the connection before the answer ended.' });
    },
  });
  return c.body(body, 202, headers);
}
