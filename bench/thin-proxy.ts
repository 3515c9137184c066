/**
 * The thinnest possible proxy (bench baseline): a hono route that only calls the driver and
 * returns the rows. No auth, no routing, no typed values, no bookmarks.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import neo4j from 'neo4j-driver';

const uri = process.env.BENCH_BOLT_URI!;
const driver = neo4j.driver(uri, neo4j.auth.basic('neo4j', process.env.BENCH_PASSWORD!), { disableLosslessIntegers: true });
const app = new Hono();
app.post('/db/:db/query/v2', async (c) => {
  const body = await c.req.json<{ statement: string; parameters?: Record<string, unknown>; accessMode?: string }>();
  // an auto-commit run, like the gateway's (executeQuery would add BEGIN/COMMIT round trips)
  const session = driver.session({ database: 'neo4j', defaultAccessMode: body.accessMode === 'READ' ? neo4j.session.READ : neo4j.session.WRITE });
  try {
    const res = await session.run(body.statement, body.parameters ?? {});
    return c.json({ data: { fields: res.records[0]?.keys ?? [], values: res.records.map((r) => r.values()) } }, 202);
  } finally {
    await session.close();
  }
});
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: Number(process.env.PORT ?? 0) }, (info) => {
  process.stdout.write(JSON.stringify({ port: info.port }) + '\n');
});
process.on('SIGTERM', () => {
  server.close();
  void driver.close().then(() => process.exit(0));
});
