/**
 * Request bodies read straight from Node's IncomingMessage. @hono/node-server builds a Web
 * Request (an AbortController, a ReadableStream over Readable.toWeb) the first time a body is
 * asked for; reading the socket's buffers instead is what the profile of the hot path asked for
 * (issue 13). Decoded as Request.text() decodes: UTF-8, a leading byte order mark dropped, invalid
 * bytes replaced. Past maxBytes the reader stops (undefined); the rest is never read.
 */
import type { Readable } from 'node:stream';
import { Codes, GatewayError } from '../../errors/index.js';

export function readIncomingBody(incoming: Readable, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    if (incoming.readableEnded) return resolve('');
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onGone);
      incoming.off('close', onGone);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        done();
        incoming.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      done();
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      const text = buf.toString('utf8');
      resolve(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
    };
    const onGone = () => {
      done();
      reject(new GatewayError(Codes.RequestInvalid, 'The request body ended before its end (the client went away).'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onGone);
    incoming.on('close', onGone);
  });
}
