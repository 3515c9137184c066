/**
 * A cap on the size of one Bolt message, where neo4j-driver reassembles the chunks of a message
 * before decoding it. A single result row can be enormous (`RETURN range(1, 10000000)`: ~50 MB
 * on the wire), and the driver decodes a many-chunk message in time quadratic in its size, on
 * the event loop, before any gateway code sees the row. Past the cap, the rest of the message
 * is discarded unread and the statement fails with ResultTooLarge: the driver takes the error as
 * fatal for that connection, so the pool drops it (and with it the rest of the stream).
 *
 * It patches the driver's Dechunker once per process (the driver offers no hook); the cap is the
 * largest any transport asked for, never below the result budget of any key, so it only refuses
 * messages no request could be allowed to receive. It must never change a message under the cap.
 */
import chunking from 'neo4j-driver-bolt-connection/lib/channel/chunking.js';
import { Codes } from '../errors/index.js';

interface BufLike {
  remaining(): number;
  readSlice(n: number): unknown;
}

interface DechunkerLike {
  _currentMessage: unknown[];
  _state: (buf: BufLike) => unknown;
  onmessage(message: unknown): void;
  IN_CHUNK(buf: BufLike): unknown;
  _onHeader(header: number): unknown;
  __n4gwBytes?: number;
}

let cap = 0;
let installed = false;

/** a message the unpacker cannot read: the driver reports this error for the statement and drops the connection */
function unreadable(limit: number): unknown {
  const error = Object.assign(
    new Error(`A result row is larger than ${limit} bytes, the most this gateway accepts in one message (limits.maxResultBytes). Return less per row.`),
    {
      code: Codes.ResultTooLarge,
    },
  );
  return new Proxy(
    {},
    {
      get: () => () => {
        throw error;
      },
    },
  );
}

/** everything after an oversized message, until the pool closes the connection */
function discard(this: DechunkerLike, buf: BufLike): unknown {
  buf.readSlice(buf.remaining());
  return discard;
}

/** Bolt messages larger than `bytes` are refused (the largest cap any caller asks for wins). */
export function limitBoltMessages(bytes: number): void {
  cap = Math.max(cap, bytes);
  if (installed) return;
  installed = true;
  const proto = (chunking as unknown as { Dechunker: { prototype: DechunkerLike } }).Dechunker.prototype;
  const inChunk = proto.IN_CHUNK;
  const onHeader = proto._onHeader;
  proto.IN_CHUNK = function (this: DechunkerLike, buf: BufLike) {
    const before = buf.remaining();
    const next = inChunk.call(this, buf);
    this.__n4gwBytes = (this.__n4gwBytes ?? 0) + (before - buf.remaining());
    if (this.__n4gwBytes > cap) {
      this._currentMessage = [];
      this.__n4gwBytes = 0;
      this.onmessage(unreadable(cap));
      return discard;
    }
    return next;
  };
  proto._onHeader = function (this: DechunkerLike, header: number) {
    // a message boundary: the next message starts counting afresh
    if (header === 0) this.__n4gwBytes = 0;
    return onHeader.call(this, header);
  };
}
