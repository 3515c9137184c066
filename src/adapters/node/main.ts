/**
 * CLI entry: neo4j-edge-gateway --config topology.json
 * Env: GATEWAY_CONFIG (path or JSON), PORT (8787), HOST (127.0.0.1), GATEWAY_REGION,
 * GATEWAY_REDIS_URL, GATEWAY_HEAP_GROWING_PERCENT (heap-policy.ts), and the password variables
 * the topology names.
 */
import path from 'node:path';
import { ConfigError } from '../../config/load.js';
import { loadTopology, nodeLogger } from './build.js';
import { applyHeapPolicy } from './heap-policy.js';
import { startNodeGateway } from './server.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const heap = applyHeapPolicy(process.env);
  if ('problem' in heap) {
    process.stderr.write(`neo4j-edge-gateway: ${heap.problem}\n`);
    process.exit(2);
  }
  const source = arg('--config') ?? process.env.GATEWAY_CONFIG;
  if (!source) {
    process.stderr.write('neo4j-edge-gateway: no configuration; pass --config <file> or set GATEWAY_CONFIG\n');
    process.exit(2);
  }
  const topology = loadTopology(source);
  const isFile = !source.trimStart().startsWith('{');
  const logger = nodeLogger(topology, process.env);
  const running = await startNodeGateway({
    logger,
    topology,
    baseDir: isFile ? path.dirname(path.resolve(source)) : process.cwd(),
    env: process.env,
    ...(process.env.GATEWAY_REDIS_URL ? { redisUrl: process.env.GATEWAY_REDIS_URL } : {}),
    host: process.env.HOST ?? '127.0.0.1',
    port: Number(process.env.PORT ?? 8787),
  });
  logger.info('listening', { url: running.url, port: running.port, heapGrowingPercent: heap.percent });
  const stop = () => {
    logger.info('stopping');
    void running.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`neo4j-edge-gateway: ${(err as Error)?.message ?? String(err)}\n`);
  process.exit(1);
});
