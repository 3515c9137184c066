/**
 * limits.maxShardStatementsPerRequest: one composite request never runs more statements at once on
 * one shard than the limit (a 64-part UNION on three shards took every Bolt thread of a member
 * and failed its own routing-table refresh), and every statement still runs, in order of arrival.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTopology } from '../../src/config/load.js';
import { StatementAnalyzer } from '../../src/cypher/analyzer.js';
import { FederatedExecutor, type FederatedRequest } from '../../src/federation/execute.js';
import { ShardSlots } from '../../src/federation/shard-slots.js';
import type { ShardExecutor, ShardRun, ShardResult } from '../../src/routing/executor.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

describe('ShardSlots', () => {
  it('runs at most max at once per shard, every task once, first come first served', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.nat(3)), { minLength: 1, maxLength: 40 }),
        async (max, tasks) => {
          const slots = new ShardSlots(max);
          const running = new Map<string, number>();
          const peak = new Map<string, number>();
          const started: Record<string, number[]> = {};
          const done = tasks.map(([shard, waits], i) =>
            slots.run(shard, async () => {
              (started[shard] ??= []).push(i);
              running.set(shard, (running.get(shard) ?? 0) + 1);
              peak.set(shard, Math.max(peak.get(shard) ?? 0, running.get(shard)!));
              expect(running.get(shard)).toBeLessThanOrEqual(slots.inFlight(shard));
              for (let k = 0; k < waits; k++) await tick();
              running.set(shard, running.get(shard)! - 1);
              if (waits === 3) throw new Error(`task ${i} fails`);
              return i;
            }),
          );
          const settled = await Promise.allSettled(done);
          settled.forEach((s, i) => {
            if (tasks[i]![1] === 3) expect(s.status).toBe('rejected');
            else expect(s).toEqual({ status: 'fulfilled', value: i });
          });
          for (const n of peak.values()) expect(n).toBeLessThanOrEqual(max);
          for (const [shard, order] of Object.entries(started)) {
            expect(order).toEqual(tasks.flatMap(([s], i) => (s === shard ? [i] : [])));
            expect(slots.inFlight(shard)).toBe(0);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new ShardSlots(0)).toThrow(RangeError);
    expect(() => new ShardSlots(1.5)).toThrow(RangeError);
  });
});

describe('a composite request through FederatedExecutor', () => {
  function executorWith(maxShardStatementsPerRequest: number) {
    const topology = parseTopology({
      regions: { r: { lat: 0, lon: 0 } },
      defaultRegion: 'r',
      clusters: { c: { routers: ['neo4j://127.0.0.1:7687'], auth: { user: 'neo4j', passwordEnv: 'P' } } },
      shards: { s1: { cluster: 'c', database: 'a' }, s2: { cluster: 'c', database: 'b' } },
      composites: { comp: { shards: ['s1', 's2'] } },
      apiKeys: [],
      limits: { maxShardStatementsPerRequest },
    });
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    let statements = 0;
    // the shards: each statement takes a few event-loop turns and answers one row
    const shards = {
      async run(req: ShardRun): Promise<ShardResult> {
        statements++;
        running.set(req.shard, (running.get(req.shard) ?? 0) + 1);
        peak.set(req.shard, Math.max(peak.get(req.shard) ?? 0, running.get(req.shard)!));
        for (let k = 0; k < 3; k++) await tick();
        running.set(req.shard, running.get(req.shard)! - 1);
        const explain = req.statement.startsWith('EXPLAIN');
        return {
          result: { fields: ['x'], values: explain ? [] : [[{ $type: 'Integer', _value: '1' }]], bookmarks: [], counters: {}, notifications: [] },
          route: { shard: req.shard, member: { cluster: 'c', address: 'm:7687' }, role: 'READ', region: 'r', cache: 'memory' },
          attempts: 1,
        } as ShardResult;
      },
    };
    const analyzer = new StatementAnalyzer({ maxStatementBytes: 65536, parseBudgetMs: 5000, cacheEntries: 100, cacheBytes: 1 << 24 });
    const executor = new FederatedExecutor(topology, shards as unknown as ShardExecutor, analyzer);
    return { executor, peak, statements: () => statements };
  }

  const request = (statement: string): FederatedRequest => ({
    composite: 'comp',
    statement,
    parameters: {},
    accessMode: 'READ',
    bookmarks: { shards: {}, raw: [] },
    region: 'r',
    pinned: false,
    allowPartial: false,
    deadline: Date.now() + 60_000,
    maxRows: 1000,
  });

  it.each([1, 3, 8])('a 20-part UNION ALL runs at most %i statements at once on each shard, and all of them', async (max) => {
    const { executor, peak, statements } = executorWith(max);
    const union = Array.from({ length: 20 }, (_, i) => `MATCH (n) RETURN ${i} AS x`).join(' UNION ALL ');
    const out = await executor.run(request(union));
    expect(out.result.values).toHaveLength(40);
    expect(peak.get('s1')).toBe(max);
    expect(peak.get('s2')).toBe(max);
    // 20 parts on 2 shards, plus the one validating EXPLAIN
    expect(statements()).toBe(41);
  });
});
