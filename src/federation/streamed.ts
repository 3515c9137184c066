/**
 * A composite answer streamed (FederatedExecutor.open): the shards' row streams merged as rows
 * arrive (stream-merge.ts). The stream holds about one row per shard plus the transport's window
 * per shard, never the result. How it ends: every shard's end (counters summed, bookmarks per
 * shard, notifications), or the first error, whether a shard ended with one or the merge refused
 * a row; the other shards are then cancelled, as they are once a LIMIT is reached.
 */
import { Codes, GatewayError } from '../errors/index.js';
import type { ShardBookmarks } from '../routing/bookmarks.js';
import type { ShardStream } from '../routing/executor.js';
import type { Route } from '../routing/types.js';
import type { Counters, Notification } from '../transport/types.js';
import type { TypedValue } from '../values/typed.js';
import { sumCounters, type MissingShard } from './fanout.js';
import type { Stage } from './plan.js';
import type { Row } from './pipeline.js';
import { mergeStream, type RowSource } from './stream-merge.js';

export interface StreamEnd {
  counters: Counters;
  notifications: Notification[];
  /** new Neo4j bookmarks per shard touched */
  shardBookmarks: ShardBookmarks;
  /** the error the answer ended with (the rows sent so far stand, as Neo4j's Query API answers) */
  error?: { code: string; message: string };
}

/** a shard stream ended with an error: the merged stream ends with it */
class ShardEndedWithError extends Error {
  constructor(readonly error: { code: string; message: string }) {
    super(error.message);
  }
}

export class FederatedStream {
  readonly routes: Route[];
  private readonly rows: AsyncGenerator<Row>;
  private ended: StreamEnd | undefined;

  constructor(
    readonly fields: string[],
    private readonly opened: readonly { shard: string; open: ShardStream }[],
    readonly missing: MissingShard[],
    stages: readonly Stage[],
    params: Record<string, TypedValue>,
  ) {
    this.routes = opened.map((o) => o.open.route);
    const sources: RowSource[] = opened.map(({ open }) => ({
      next: async () => {
        const row = await open.stream.next();
        if (row === undefined) {
          const error = open.stream.end().error;
          if (error) throw new ShardEndedWithError(error);
        }
        return row;
      },
    }));
    this.rows = mergeStream(stages, sources, params);
  }

  /** shards asked, the failed ones included */
  get width(): number {
    return this.opened.length + this.missing.length;
  }

  /** attempts each opened shard took (1: no retry), in the order of `routes` */
  get attempts(): number[] {
    return this.opened.map((o) => o.open.attempts);
  }

  /**
   * The next merged row, or undefined once the answer has ended (then `end()` says how: a shard
   * that ended with an error ends the answer with it). A row the merge refuses (see mergeStream)
   * is thrown, once every shard is stopped.
   */
  async next(): Promise<Row | undefined> {
    if (this.ended) return undefined;
    let error: { code: string; message: string } | undefined;
    try {
      const r = await this.rows.next();
      if (!r.done) return r.value;
    } catch (err) {
      if (!(err instanceof ShardEndedWithError)) {
        const refused = err instanceof GatewayError ? err : new GatewayError(Codes.Internal, 'The gateway failed to merge the shards answers.', { cause: err });
        await this.finish({ code: refused.code, message: refused.message });
        throw refused;
      }
      error = err.error;
    }
    await this.finish(error);
    return undefined;
  }

  /** stops every shard statement still streaming (the client went away, or the answer is cut short) */
  async cancel(error?: GatewayError): Promise<void> {
    if (this.ended) return;
    await this.rows.return(undefined);
    await this.finish(error ? { code: error.code, message: error.message } : { code: Codes.Terminated, message: 'The answer was cancelled.' });
  }

  end(): StreamEnd {
    if (!this.ended) throw new GatewayError(Codes.Internal, 'A merged stream was asked how it ended before it did.');
    return this.ended;
  }

  private async finish(error: { code: string; message: string } | undefined): Promise<void> {
    // shards still streaming (a LIMIT was reached, or another shard failed) are stopped; the
    // ones that ended keep their bookmarks
    await Promise.all(this.opened.map((o) => o.open.stream.cancel()));
    const ends = this.opened.map((o) => ({ shard: o.shard, end: o.open.stream.end() }));
    const shardBookmarks: ShardBookmarks = {};
    for (const { shard, end } of ends) if (end.bookmarks.length > 0) shardBookmarks[shard] = [...(shardBookmarks[shard] ?? []), ...end.bookmarks];
    this.ended = {
      counters: sumCounters(ends.map((e) => e.end.counters)),
      notifications: ends.flatMap((e) => e.end.notifications),
      shardBookmarks,
      ...(error ? { error } : {}),
    };
  }
}
