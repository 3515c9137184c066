/**
 * A Web message's body (a Request or a Response) read to its end as UTF-8 text, at most
 * `maxBytes` of it. A declared length (content-length) past the limit is refused before anything
 * is read; one within it bounds the body already (the connection's framing cannot deliver more),
 * so it is read in one call; a body of unknown length is counted as it arrives and cancelled past
 * the limit (the rest is never read). Past the limit the answer is `undefined`. Decoded as
 * Request.text() and Response.text() decode: the WHATWG UTF-8 decoder, a leading byte order mark
 * dropped, invalid bytes replaced. Request bodies (http/body.ts) and members' Query API answers
 * (transport/query-api.ts) are read with it.
 */
const utf8 = new TextDecoder('utf-8');

/** whether a declared content-length is past `maxBytes` (absent or unreadable: not known to be) */
export function declaredPast(contentLength: string | null | undefined, maxBytes: number): boolean {
  if (contentLength === null || contentLength === undefined) return false;
  const n = Number(contentLength);
  return Number.isFinite(n) && n > maxBytes;
}

export async function readBoundedText(
  message: { headers: Headers; body: ReadableStream<Uint8Array> | null; text(): Promise<string> },
  maxBytes: number,
): Promise<string | undefined> {
  const body = message.body;
  if (!body) return '';
  const declared = message.headers.get('content-length');
  if (declaredPast(declared, maxBytes)) {
    await body.cancel().catch(() => undefined);
    return undefined;
  }
  if (declared !== null && Number.isFinite(Number(declared))) return message.text();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return utf8.decode(chunks[0]);
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return utf8.decode(all);
}
