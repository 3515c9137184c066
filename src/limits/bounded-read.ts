/**
 * A Web stream read to its end as UTF-8 text, at most `maxBytes` of it: past them the stream is
 * cancelled and the answer is `undefined` (the rest is never read). Decoded as Request.text() and
 * Response.text() decode: the WHATWG UTF-8 decoder, a leading byte order mark dropped, invalid
 * bytes replaced. Request bodies (http/body.ts) and members' Query API answers
 * (transport/query-api.ts) are read with it.
 */
const utf8 = new TextDecoder('utf-8');

export async function readBoundedText(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<string | undefined> {
  if (!body) return '';
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
