import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { buildNodeGateway, type NodeGateway, type NodeGatewayOptions } from './build.js';

export interface RunningGateway {
  gateway: NodeGateway;
  server: ServerType;
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts the gateway on host:port (port 0 = any free port). */
export async function startNodeGateway(opts: NodeGatewayOptions & { host?: string; port?: number }): Promise<RunningGateway> {
  const gateway = await buildNodeGateway(opts);
  try {
    await gateway.ready;
  } catch (err) {
    await gateway.close();
    throw err;
  }
  const host = opts.host ?? '127.0.0.1';
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: gateway.fetch, hostname: host, port: opts.port ?? 8787 }, () => resolve(s));
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    gateway,
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    async stop() {
      await new Promise<void>((r) => server.close(() => r()));
      (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      await gateway.close();
    },
  };
}
