/**
 * `npm start`: the whole product on one machine. Starts the Neo4j sandbox (two shards, two
 * regions, the ports of schema/topology.sample.json), starts the gateway on 127.0.0.1:8787
 * (PORT overrides), loads a small demo data set through the gateway itself, and prints the URL,
 * a demo API key and a curl example. Ctrl-C stops everything, the sandbox included.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startSandbox, DEFAULT_PASSWORD, type Sandbox } from '../infra/sandbox/run.mjs';
import { parseTopologyText } from '../src/config/load.js';
import { startNodeGateway, type RunningGateway } from '../src/adapters/node/server.js';

const DEMO_KEY = 'demo-key-do-not-use-in-production';
const SAMPLE = new URL('../schema/topology.sample.json', import.meta.url);

const DEMO_DATA: Record<string, { statement: string; parameters: Record<string, unknown> }> = {
  'users-us': {
    statement:
      'UNWIND $users AS u CREATE (:User {id: u.id, name: u.name, region: "us", joined: date(u.joined)}) WITH count(*) AS created ' +
      'MATCH (a:User {id: "us-1"}), (b:User {id: "us-2"}) CREATE (a)-[:FOLLOWS {since: 2021}]->(b) RETURN created',
    parameters: {
      users: [
        { id: 'us-1', name: 'Ada', joined: '2021-03-01' },
        { id: 'us-2', name: 'Grace', joined: '2022-07-15' },
        { id: 'us-3', name: 'Linus', joined: '2023-01-09' },
      ],
    },
  },
  'users-eu': {
    statement:
      'UNWIND $users AS u CREATE (:User {id: u.id, name: u.name, region: "eu", joined: date(u.joined)}) WITH count(*) AS created ' +
      'MATCH (a:User {id: "eu-1"}), (b:User {id: "eu-2"}) CREATE (a)-[:FOLLOWS {since: 2020}]->(b) RETURN created',
    parameters: {
      users: [
        { id: 'eu-1', name: 'Ines', joined: '2020-05-20' },
        { id: 'eu-2', name: 'Jonas', joined: '2021-11-02' },
      ],
    },
  },
};

async function main(): Promise<void> {
  const topology = parseTopologyText(readFileSync(SAMPLE, 'utf8'), 'schema/topology.sample.json');
  const port = Number(process.env.PORT ?? 8787);
  const log = (s: string) => process.stdout.write(`${s}\n`);

  log('starting the Neo4j sandbox (2 instances: us, eu) ...');
  const running: { sandbox?: Sandbox; gateway?: RunningGateway } = {};
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('\nstopping ...');
    await running.gateway?.stop().catch(() => undefined);
    await running.sandbox?.stop().catch(() => undefined);
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));

  const portOf = (cluster: string, kind: 'bolt' | 'http'): number => {
    const c = topology.clusters[cluster]!;
    const [address, member] = Object.entries(c.members)[0]!;
    return Number(kind === 'bolt' ? address.split(':')[1] : new URL(member.http!).port);
  };
  const sandbox = await startSandbox({
    password: DEFAULT_PASSWORD,
    instances: [
      { name: 'us', boltPort: portOf('c-us', 'bolt'), httpPort: portOf('c-us', 'http') },
      { name: 'eu', boltPort: portOf('c-eu', 'bolt'), httpPort: portOf('c-eu', 'http') },
    ],
  });
  running.sandbox = sandbox;
  log(`sandbox ready in ${(sandbox.startMs / 1000).toFixed(1)} s`);

  // short log lines for a terminal unless LOG_FORMAT says otherwise
  const env: Record<string, string | undefined> = {
    NEO4J_PASSWORD_C_US: DEFAULT_PASSWORD,
    NEO4J_PASSWORD_C_EU: DEFAULT_PASSWORD,
    LOG_FORMAT: 'pretty',
    ...process.env,
  };
  // the fleet secret (needed with Redis): a random one for this run when none is set
  const secretName = topology.secrets.fleetSecretEnv;
  const generatedSecret = !env[secretName];
  if (generatedSecret) env[secretName] = randomBytes(32).toString('base64url');
  const gateway = await startNodeGateway({
    topology,
    baseDir: new URL('../schema/', import.meta.url).pathname,
    env,
    ...(process.env.GATEWAY_REDIS_URL ? { redisUrl: process.env.GATEWAY_REDIS_URL } : {}),
    host: process.env.HOST ?? '127.0.0.1',
    port,
  });

  running.gateway = gateway;
  for (const [shard, body] of Object.entries(DEMO_DATA)) {
    const res = await fetch(`${gateway.url}/db/${shard}/query/v2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO_KEY}` },
      body: JSON.stringify(body),
    });
    if (res.status !== 202) throw new Error(`loading demo data into ${shard} failed: ${res.status} ${await res.text()}`);
  }

  log('');
  log(`neo4j-edge-gateway is listening on ${gateway.url}`);
  log(`demo API key: ${DEMO_KEY}   (read-only key: demo-reader-key-do-not-use-in-production)`);
  log('shards: users-us (region us-west), users-eu (region eu); composite: users');
  log('');
  log('try:');
  log(`  curl -s ${gateway.url}/db/users-us/query/v2 \\`);
  log(`    -H 'Authorization: Bearer ${DEMO_KEY}' -H 'Content-Type: application/json' \\`);
  log(`    -d '{"statement": "MATCH (u:User) RETURN u.name AS name ORDER BY name", "accessMode": "READ"}'`);
  log('');
  log(`  curl -s ${gateway.url}/graphql -H 'Authorization: Bearer ${DEMO_KEY}' -H 'Content-Type: application/json' \\`);
  log(`    -d '{"query": "{ userCount users { name region follows { name } } }"}'`);
  log('');
  log(`  curl -s ${gateway.url}/topology -H 'Authorization: Bearer ${DEMO_KEY}'`);
  log(`  GraphiQL: open ${gateway.url}/graphql in a browser`);
  log('');
  if (generatedSecret) {
    log(`${secretName} was not set: this run uses a random fleet secret. Instances that share Redis`);
    log(`need the same one: set ${secretName} (at least 32 characters, e.g. openssl rand -base64 48).`);
    log('');
  }
  log('Ctrl-C stops the gateway and the sandbox.');
}

main().catch((err: unknown) => {
  process.stderr.write(`npm start failed: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
