/**
 * Request bodies (http/body.ts, adapters/node/request-body.ts): both readers give the text the
 * platform's own Response.text() gives for the same bytes, however they are chunked, and stop
 * (undefined) exactly when the body is longer than the limit.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readIncomingBody } from '../../src/adapters/node/request-body.js';
import { declaredTooLarge, readWebBody } from '../../src/http/body.js';
import { readBoundedText } from '../../src/limits/bounded-read.js';

/** bytes (sometimes with a byte order mark, sometimes invalid UTF-8) cut into chunks */
const chunkedBody = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => new TextEncoder().encode(s)),
      fc.uint8Array({ maxLength: 200 }),
    ),
    fc.array(fc.nat({ max: 200 }), { maxLength: 8 }),
  )
  .map(([bom, payload, cuts]) => {
    const bytes = bom ? new Uint8Array([0xef, 0xbb, 0xbf, ...payload]) : payload;
    const at = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const c of [...at, bytes.length]) {
      if (c > from) chunks.push(bytes.slice(from, c));
      from = Math.max(from, c);
    }
    return { bytes, chunks };
  });

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const c of chunks) controller.enqueue(c);
      controller.close();
    },
  });
}

function webRequest(chunks: Uint8Array[]): Request {
  const body = streamOf(chunks);
  return new Request('http://gateway/db/x/query/v2', { method: 'POST', body, duplex: 'half' } as RequestInit);
}

describe('request bodies', () => {
  it('both readers decode as Response.text() does, however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(chunkedBody, async ({ bytes, chunks }) => {
        const expected = await new Response(bytes).text();
        expect(await readWebBody(webRequest(chunks), 1 << 20)).toBe(expected);
        expect(await readIncomingBody(Readable.from(chunks.map((c) => Buffer.from(c))), 1 << 20)).toBe(expected);
      }),
    );
  });

  it('both readers stop exactly past the limit', async () => {
    await fc.assert(
      fc.asyncProperty(chunkedBody, fc.nat({ max: 250 }), async ({ bytes, chunks }, max) => {
        const web = await readWebBody(webRequest(chunks), max);
        const node = await readIncomingBody(Readable.from(chunks.map((c) => Buffer.from(c))), max);
        expect(web === undefined).toBe(bytes.length > max);
        expect(node === undefined).toBe(bytes.length > max);
      }),
    );
  });

  it('a message with a declared length (a Query API answer) reads the same, and is refused past the limit before it is read', async () => {
    await fc.assert(
      fc.asyncProperty(chunkedBody, fc.nat({ max: 250 }), async ({ bytes, chunks }, max) => {
        const declared = () => new Response(streamOf(chunks), { headers: { 'content-length': String(bytes.length) } });
        const text = await readBoundedText(declared(), max);
        expect(text === undefined).toBe(bytes.length > max);
        if (text !== undefined) expect(text).toBe(await new Response(bytes).text());
      }),
    );
    // a declared length past the limit is refused without reading a byte
    let pulled = false;
    const lying = new Response(
      new ReadableStream({
        pull: (c) => {
          pulled = true;
          c.close();
        },
      }),
      { headers: { 'content-length': '1000' } },
    );
    expect(await readBoundedText(lying, 999)).toBeUndefined();
    expect(pulled).toBe(false);
  });

  it('a client gone in the middle of its body is a request error, not a crash', async () => {
    const incoming = new Readable({ read() {} });
    const reading = readIncomingBody(incoming, 1000);
    incoming.push(Buffer.from('{"statement"'));
    incoming.destroy();
    await expect(reading).rejects.toMatchObject({ code: 'Neo.ClientError.Request.Invalid' });
  });

  it.each([
    [undefined, 10, false],
    ['10', 10, false],
    ['11', 10, true],
    ['not a number', 10, false],
  ])('a declared length of %s against a limit of %i is refused before reading: %s', (declared, max, refused) => {
    expect(declaredTooLarge(declared, max) !== undefined).toBe(refused);
  });
});
