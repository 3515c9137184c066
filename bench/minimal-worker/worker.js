// The thinnest Worker that answers a Query API request: one fetch to Neo4j's Query API, its body
// passed through. bench:worker runs it in the same wrangler dev as the gateway's Worker, so the
// gateway's own cost in workerd is the difference (wrangler dev's local proxy and the fetch
// from workerd are in both).
export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname === '/health') return new Response('ok');
    const res = await fetch(`${env.NEO4J_HTTP}/db/neo4j/query/v2`, {
      method: 'POST',
      body: await request.text(),
      headers: { 'content-type': 'application/json', authorization: `Basic ${btoa(`neo4j:${env.NEO4J_PASSWORD}`)}` },
    });
    return new Response(res.body, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
  },
};
