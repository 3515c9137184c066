/**
 * How the Bolt transport names the driver's errors (transport/bolt-mapping.ts): Neo4j's own codes
 * pass through; a connection that could not be made is a member failure the statement never
 * reached; a busy member (every Bolt thread taken) is a transient refusal worth retrying on the
 * same member, not a broken member to eject; anything else from the protocol is a 502.
 */
import { describe, expect, it } from 'vitest';
import { Codes } from '../../src/errors/index.js';
import { isRetriableTransient } from '../../src/routing/retry-policy.js';
import { mapDriverError } from '../../src/transport/bolt-mapping.js';

const NO_THREADS =
  'There are no available threads to serve this request at the moment. You can retry at a later time or consider increasing max thread pool size for bolt connector(s).';

const cases: { name: string; error: { code: string; message: string }; code: string; status: number; notSent: boolean; retried: boolean }[] = [
  {
    name: "Neo4j's own code",
    error: { code: 'Neo.TransientError.Request.NoThreadsAvailable', message: NO_THREADS },
    code: Codes.NoThreadsAvailable,
    status: 503,
    notSent: false,
    retried: true,
  },
  {
    name: 'a busy member reported as a protocol error',
    error: { code: 'ProtocolError', message: NO_THREADS },
    code: Codes.NoThreadsAvailable,
    status: 503,
    notSent: true,
    retried: true,
  },
  {
    name: 'any other protocol error',
    error: { code: 'ProtocolError', message: 'Unknown Bolt protocol version: 0' },
    code: Codes.DatabaseUnavailable,
    status: 502,
    notSent: false,
    retried: true,
  },
  {
    name: 'a refused connection',
    error: { code: 'ServiceUnavailable', message: 'Failed to connect to server. Caused by: connect ECONNREFUSED 127.0.0.1:1' },
    code: Codes.DatabaseUnavailable,
    status: 503,
    notSent: true,
    retried: true,
  },
  {
    name: 'a connection lost mid-statement',
    error: { code: 'ServiceUnavailable', message: 'Connection was closed by server' },
    code: Codes.DatabaseUnavailable,
    status: 503,
    notSent: false,
    retried: true,
  },
];

describe('mapDriverError', () => {
  it.each(cases)('$name', ({ error, code, status, notSent, retried }) => {
    const mapped = mapDriverError(Object.assign(new Error(error.message), { code: error.code }));
    expect(mapped.code).toBe(code);
    expect(mapped.status).toBe(status);
    expect(mapped.notSent).toBe(notSent);
    expect(isRetriableTransient(mapped.code)).toBe(retried);
  });
});
