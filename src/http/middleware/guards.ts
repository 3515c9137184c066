/**
 * The middleware a route mounts before its handler, each setting one thing in the request context:
 *  - bodyLimit: 413 when the declared body (content-length) is past limits.maxBodyBytes, before
 *    anything is read; a body without a declared length is held to the limit as it is read
 *    (readBody: reading stops there, the rest is never read);
 *  - authenticate: `principal`, then the key's admission (concurrency, fleet rate: 429), released
 *    when the response is done;
 *  - negotiate: `typed` (406 when the client accepts nothing the gateway speaks);
 *  - region: `region` (the x-neo4j-region pin, else the runtime's, else the default);
 *  - queryBody: `query` and `bookmarks` (the Query API request body, 400/415 when malformed).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { Codes, GatewayError } from '../../errors/index.js';
import { decodeBookmarks } from '../../routing/bookmarks.js';
import { assertRegion } from '../../topology/index.js';
import { declaredTooLarge, payloadTooLarge } from '../body.js';
import { TYPED_JSON, negotiate as negotiateMedia, parseQueryRequest } from '../codec.js';
import { REGION_HEADER, type ClientBookmarks, type GatewayEnv } from '../context.js';
import type { Services } from '../services.js';

type Middleware = MiddlewareHandler<GatewayEnv>;

/** the request's body as text, held to limits.maxBodyBytes (413 past it) */
export async function readBody(s: Services, c: Context<GatewayEnv>): Promise<string> {
  const max = s.topology.limits.maxBodyBytes;
  const text = await s.readBody(c.req.raw, max);
  if (text === undefined) throw payloadTooLarge(max);
  return text;
}

export interface Guards {
  bodyLimit: Middleware;
  authenticate: Middleware;
  negotiate: Middleware;
  region: Middleware;
  queryBody(requireStatement: boolean): Middleware;
}

/** client bookmark tokens, decoded per shard; 400 InvalidBookmark for one the gateway did not issue */
export function clientBookmarks(tokens: string[]): ClientBookmarks {
  const decoded = decodeBookmarks(tokens);
  if (decoded.invalid.length > 0) throw new GatewayError(Codes.InvalidBookmark, `Invalid bookmark: ${decoded.invalid[0]!.slice(0, 64)}`);
  return decoded;
}

export function guards(s: Services): Guards {
  const { topology, auth, admission } = s;
  const maxBody = topology.limits.maxBodyBytes;
  return {
    bodyLimit: async (c, next) => {
      const refused = declaredTooLarge(c.req.header('content-length'), maxBody);
      if (refused) throw refused;
      await next();
    },

    authenticate: async (c, next) => {
      const principal = await auth.authenticate(c.req.header('authorization'));
      c.set('principal', principal);
      const release = admission.admit(principal);
      try {
        await next();
      } finally {
        // a streamed answer keeps its slot until its body is written
        const finished = c.get('request').finished;
        if (finished) void finished.finally(release);
        else release();
      }
    },

    negotiate: async (c, next) => {
      const kind = negotiateMedia(c.req.header('accept'));
      if (!kind) throw new GatewayError(Codes.RequestInvalid, `Not Acceptable: this endpoint answers application/json or ${TYPED_JSON}.`, { status: 406 });
      c.set('typed', kind === 'typed');
      await next();
    },

    region: async (c, next) => {
      const pinned = c.req.header(REGION_HEADER);
      if (pinned !== undefined && pinned !== '') {
        c.set('region', { region: assertRegion(topology, pinned.trim()), pinned: true });
      } else {
        const rt = s.deps.runtimeRegion?.(c.req.raw);
        c.set('region', { region: rt !== undefined && Object.hasOwn(topology.regions, rt) ? rt : topology.defaultRegion, pinned: false });
      }
      await next();
    },

    queryBody: (requireStatement) => async (c, next) => {
      const query = parseQueryRequest(await readBody(s, c), c.req.header('content-type'), { requireStatement, maxJsonDepth: topology.limits.maxJsonDepth });
      c.set('query', query);
      c.set('bookmarks', clientBookmarks(query.bookmarks));
      if (topology.observability.logParameters) {
        const rq = c.get('request');
        rq.statement = query.statement;
        rq.parameters = query.parameters;
      }
      await next();
    },
  };
}
