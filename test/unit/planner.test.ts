/**
 * The composite planner's golden cases, kept as data (test/unit/data/planner-cases.json): each
 * case is a statement and either the plan (what each shard runs, how the gateway merges) or the
 * refusal. A reader sees every supported and refused shape in one place; adding a case needs no
 * code: add {comment, statement} and run `UPDATE_GOLDEN=1 npx vitest run test/unit/planner.test.ts`
 * to fill in the planner's answer, then read the diff before committing it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StatementAnalyzer } from '../../src/cypher/analyzer.js';
import { CompositePlanner } from '../../src/federation/planner.js';
import type { Plan } from '../../src/federation/plan.js';

interface Case {
  comment: string;
  statement: string;
  /** the plan, in short */
  plan?: unknown;
  /** the refusal's code and message */
  refused?: { code: string; message: string };
}

const FILE = new URL('./data/planner-cases.json', import.meta.url);
const cases = JSON.parse(readFileSync(FILE, 'utf8')) as Case[];
const analyzer = new StatementAnalyzer({ maxStatementBytes: 65536, parseBudgetMs: 5000, cacheEntries: 1000, cacheBytes: 1 << 26 });

/** the plan without what only a debugger needs */
function short(plan: Plan): unknown {
  switch (plan.kind) {
    case 'single':
      return { single: plan.graph, shard: plan.statement.text, extra: plan.statement.extra };
    case 'once':
      return { once: plan.statement.text, extra: plan.statement.extra };
    case 'fanout':
      return { shard: plan.statement.text, extra: plan.statement.extra, pipeline: plan.pipeline, ...(plan.idiom ? { idiom: true } : {}) };
    case 'union':
      return { union: plan.distinct ? 'distinct' : 'all', parts: plan.parts.map(short) };
  }
}

async function planOf(statement: string): Promise<Pick<Case, 'plan' | 'refused'>> {
  const analysis = await analyzer.analyze(statement);
  if (!analysis.ok) throw new Error(`${statement}: ${analysis.failure.message}`);
  const parsed = (await analyzer.parseTree(statement))!;
  const out = new CompositePlanner(parsed.tree, analysis.info, { name: 'c', shards: ['a', 'b'] }).plan(parsed.statement);
  return out.ok ? { plan: short(out.planned.plan) } : { refused: out.refusal };
}

describe('composite planner golden cases (test/unit/data/planner-cases.json)', () => {
  if (process.env.UPDATE_GOLDEN) {
    it('updates the golden file', async () => {
      const updated: Case[] = [];
      for (const c of cases) updated.push({ comment: c.comment, statement: c.statement, ...(await planOf(c.statement)) });
      writeFileSync(FILE, JSON.stringify(updated, null, 2) + '\n');
    });
    return;
  }
  it('has cases', () => {
    expect(cases.length).toBeGreaterThan(40);
  });
  it.each(cases.map((c) => [c.comment, c] as const))('%s', async (_comment, c) => {
    const got = await planOf(c.statement);
    expect(got).toEqual({ ...(c.plan !== undefined ? { plan: c.plan } : {}), ...(c.refused !== undefined ? { refused: c.refused } : {}) });
  });
});
