/**
 * Request bodies as text, at most limits.maxBodyBytes of them. A runtime may hand the gateway a
 * reader of its own (GatewayDeps.readBody: Node reads its IncomingMessage without building a Web
 * stream per request); the default reads the Request's Web stream. Either way the body is decoded
 * as UTF-8 the way Request.text() decodes it (a leading byte order mark dropped, invalid bytes
 * replaced), and reading stops at the limit: the rest is never read.
 */
import { Codes, GatewayError } from '../errors/index.js';
import { declaredPast, readBoundedText } from '../limits/bounded-read.js';

/** the body's text; `undefined` when it is longer than maxBytes (reading stopped there) */
export type BodyReader = (request: Request, maxBytes: number) => Promise<string | undefined>;

/** the answer to a body longer than the limit; the connection closes, since the rest is unread */
export function payloadTooLarge(maxBytes: number): GatewayError {
  return new GatewayError(Codes.PayloadTooLarge, `Request body is larger than ${maxBytes} bytes.`, { headers: { connection: 'close' } });
}

/** the refusal of a body whose declared length (content-length) is past the limit, before any of it is read */
export function declaredTooLarge(contentLength: string | undefined, maxBytes: number): GatewayError | undefined {
  return declaredPast(contentLength, maxBytes) ? payloadTooLarge(maxBytes) : undefined;
}

/** the default reader: the Request's own body (limits/bounded-read.ts) */
export const readWebBody: BodyReader = (request, maxBytes) => readBoundedText(request, maxBytes);
