/**
 * The middleware a route mounts before its handler, each setting one thing in the request context:
 *  - bodyLimit: 413 past limits.maxBodyBytes (the rest of the body is never read);
 *  - authenticate: `principal`, then the key's admission (concurrency, fleet rate: 429), released
 *    when the response is done;
 *  - negotiate: `typed` (406 when the client accepts nothing the gateway speaks);
 *  - region: `region` (the x-neo4j-region pin, else the runtime's, else the default);
 *  - queryBody: `query` and `bookmarks` (the Query API request body, 400/415 when malformed).
 */
import type { MiddlewareHandler } from 'hono';
import { bodyLimit as honoBodyLimit } from 'hono/body-limit';
import { Codes, GatewayError } from '../../errors/index.js';
import { decodeBookmarks } from '../../routing/bookmarks.js';
import { assertRegion } from '../../topology/index.js';
import { TYPED_JSON, isTypedMedia, negotiate as negotiateMedia, parseQueryRequest } from '../codec.js';
import { REGION_HEADER, type ClientBookmarks, type GatewayEnv } from '../context.js';
import { errorResponse } from '../respond.js';
import type { Services } from '../services.js';

type Middleware = MiddlewareHandler<GatewayEnv>;

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
    bodyLimit: honoBodyLimit({
      maxSize: maxBody,
      // the rest of the body is never read: close the connection so no client reuses it mid-body
      onError: (c) =>
        errorResponse(
          new GatewayError(Codes.PayloadTooLarge, `Request body is larger than ${maxBody} bytes.`, { headers: { connection: 'close' } }),
          isTypedMedia(c.req.header('accept')),
        ),
    }),

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
      const query = parseQueryRequest(await c.req.text(), c.req.header('content-type'), { requireStatement, maxJsonDepth: topology.limits.maxJsonDepth });
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
