/** Builds a topology over the sandbox and starts a real gateway (Node adapter) on a free port. */
import { createHash } from 'node:crypto';
import { inject } from 'vitest';
import type { TopologyInput } from '../../src/config/schema.js';
import { parseTopology } from '../../src/config/load.js';
import { startNodeGateway, type RunningGateway } from '../../src/adapters/node/server.js';
import { FLEET_SECRET } from './wrangler.js';

export const KEYS = {
  admin: 'test-admin-key-0123456789',
  reader: 'test-reader-key-0123456789',
  usOnly: 'test-us-only-key-0123456789',
};

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** the fleet secret every test gateway (Node and Worker) shares: it signs transaction ids and seals what goes to Redis */
export { FLEET_SECRET };

export function sandboxTopology(overrides: Partial<TopologyInput> = {}): TopologyInput {
  const { instances } = inject('sandbox');
  const us = instances.us!;
  const eu = instances.eu!;
  return {
    regions: {
      'us-west': { lat: 37.4, lon: -122.1 },
      'us-east': { lat: 39.0, lon: -77.5 },
      eu: { lat: 50.1, lon: 8.7 },
    },
    defaultRegion: 'us-west',
    clusters: {
      'c-us': {
        routers: [`neo4j://127.0.0.1:${us.bolt}`],
        auth: { user: 'neo4j', passwordEnv: 'NEO4J_PASSWORD_C_US' },
        members: { [`127.0.0.1:${us.bolt}`]: { region: 'us-west', http: us.httpUri } },
      },
      'c-eu': {
        routers: [`neo4j://127.0.0.1:${eu.bolt}`],
        auth: { user: 'neo4j', passwordEnv: 'NEO4J_PASSWORD_C_EU' },
        members: { [`127.0.0.1:${eu.bolt}`]: { region: 'eu', http: eu.httpUri } },
      },
    },
    shards: {
      'users-us': { cluster: 'c-us', database: 'neo4j' },
      'users-eu': { cluster: 'c-eu', database: 'neo4j' },
    },
    composites: { users: { shards: ['users-us', 'users-eu'] } },
    apiKeys: [
      { id: 'admin', sha256: sha256(KEYS.admin), databases: ['*'], modes: ['READ', 'WRITE'] },
      { id: 'reader', sha256: sha256(KEYS.reader), databases: ['*'], modes: ['READ'] },
      { id: 'us-only', sha256: sha256(KEYS.usOnly), databases: ['users-us'], modes: ['READ', 'WRITE'] },
    ],
    ...overrides,
  };
}

export function sandboxEnv(): Record<string, string> {
  const { password } = inject('sandbox');
  // request lines stay out of the test output; errors (5xx, unexpected) still show
  return { NEO4J_PASSWORD_C_US: password, NEO4J_PASSWORD_C_EU: password, GATEWAY_SECRET: FLEET_SECRET, LOG_LEVEL: 'error' };
}

export async function startTestGateway(
  opts: { topology?: TopologyInput; env?: Record<string, string>; redis?: boolean; graphqlSchema?: string } = {},
): Promise<RunningGateway> {
  const topology = parseTopology(opts.topology ?? sandboxTopology());
  return startNodeGateway({
    topology,
    ...(opts.graphqlSchema !== undefined ? { graphqlSchema: opts.graphqlSchema } : {}),
    env: { ...sandboxEnv(), ...opts.env },
    ...(opts.redis === false ? {} : { redisUrl: inject('redisUrl') }),
    port: 0,
  });
}

export interface QueryResponse {
  status: number;
  headers: Headers;
  body: Record<string, unknown> & { errors?: { code: string; message: string }[]; data?: { fields: string[]; values: unknown[][] }; bookmarks?: string[] };
  text: string;
}

export async function query(
  gw: { url: string },
  db: string,
  body: unknown,
  opts: { key?: string | null; headers?: Record<string, string>; raw?: string } = {},
): Promise<QueryResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json', ...opts.headers };
  const key = opts.key === undefined ? KEYS.admin : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${gw.url}/db/${encodeURIComponent(db)}/query/v2`, { method: 'POST', headers, body: opts.raw ?? JSON.stringify(body) });
  const text = await res.text();
  let parsed: QueryResponse['body'] = {};
  try {
    parsed = JSON.parse(text) as QueryResponse['body'];
  } catch {
    // left empty: the test asserts on text
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** Runs a statement directly against a sandbox instance's own Query API (the reference). */
export async function direct(
  instance: 'us' | 'eu',
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const { instances, password } = inject('sandbox');
  const res = await fetch(`${instances[instance]!.httpUri}/db/neo4j/query/v2`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Basic ${btoa(`neo4j:${password}`)}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

/** Sends a control command to the sandbox launcher (stop/start/readOnly an instance). */
export async function sandboxCommand(cmd: Record<string, unknown>): Promise<{ ok: boolean; error?: string }> {
  const res = await fetch(inject('sandboxControl'), { method: 'POST', body: JSON.stringify(cmd) });
  const answer = (await res.json()) as { ok: boolean; error?: string };
  if (!answer.ok) throw new Error(`sandbox command ${JSON.stringify(cmd)} failed: ${answer.error}`);
  return answer;
}
