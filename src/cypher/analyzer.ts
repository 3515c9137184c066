/**
 * One statement analysis for every request (REST, explicit transactions, GraphQL; shards and
 * composites): parse with Neo4j's grammar, classify, and keep the result per statement text, so a
 * repeated statement costs a map lookup and never a parse. Statements longer than the configured
 * limit are refused before parsing; a parse has a time budget; the cache is bounded by entries
 * and by (estimated) bytes. Parse trees are never kept: only plain data (the classification, and
 * what later stages attach to the entry, e.g. composite plans) stays in memory.
 */
import { Codes, GatewayError } from '../errors/index.js';
import { classify, type StatementInfo } from './classify.js';
import { loadGrammar, type GrammarLoader, type GrammarModule, type ParseNode } from './grammar.js';
import { parseCypher, type ParseFailure } from './parse.js';
import type { Tree } from './tree.js';

export interface AnalyzerLimits {
  /** longest statement accepted, UTF-8 bytes */
  maxStatementBytes: number;
  /** most milliseconds one parse may take */
  parseBudgetMs: number;
  /** statements whose analysis is kept */
  cacheEntries: number;
  /** estimated bytes the kept analyses may use */
  cacheBytes: number;
}

/** what later stages keep on an analysis (composite plans, Neo4j's verdict on a statement) */
export interface Attachments {
  [key: string]: { value: unknown; bytes: number } | undefined;
}

export type Analysis =
  | { ok: true; text: string; info: StatementInfo; attachments: Attachments }
  | { ok: false; text: string; failure: ParseFailure | { ok: false; reason: 'console'; message: string }; attachments: Attachments };

interface Entry {
  analysis: Analysis;
  bytes: number;
}

const WARM_UP = [
  "MATCH (n:Label {id: $id})-[r:TYPE*1..3]->(m) WHERE n.x > 1 AND m.y STARTS WITH 'a' OR NOT exists(n.z) RETURN n, r, m.name AS name ORDER BY name DESC SKIP 1 LIMIT 10",
  'UNWIND $rows AS r CREATE (a:A {id: r.id, at: datetime(r.at)}) WITH count(*) AS c MERGE (b:B {k: 1}) ON CREATE SET b.n = 0 SET b.n = b.n + 1 REMOVE b.x DELETE b',
  'OPTIONAL MATCH (p:P) WITH p, count(*) AS c, collect(DISTINCT p.x) AS xs WHERE c > 1 CALL { WITH p MATCH (p)-->(q) RETURN q } RETURN p {.id, .name, k: xs[0]} AS m, [x IN xs WHERE x > 0 | x * 2] AS ys, CASE WHEN c > 2 THEN 1 ELSE 0 END AS flag',
  'MATCH (a) WHERE EXISTS { (a)-->() } AND COUNT { MATCH (a)--(b) RETURN b } > 1 RETURN a.v AS v, [(a)-->(b) | b.id] AS ids UNION ALL RETURN 1 AS v, [] AS ids',
  'USE db UNWIND graph.names() AS g CALL { USE graph.byName(g) MATCH (n) RETURN count(n) AS c } RETURN sum(c) AS total, reduce(s = 0, x IN [1, 2] | s + x) AS r, all(x IN [1] WHERE x > 0) AS ok',
  "CALL db.labels() YIELD label RETURN label; LOAD CSV WITH HEADERS FROM 'file:///x.csv' AS row RETURN row",
  'SHOW INDEXES YIELD name, type WHERE type = "RANGE" RETURN name',
  "CREATE USER u SET PASSWORD 'p' CHANGE NOT REQUIRED",
  'EXPLAIN MATCH p = shortestPath((a)-[*]-(b)) RETURN length(p), nodes(p), toUpper(a.s) + "x", 1.5e3, -7, null, true, $p.x',
];

/** UTF-8 length of a string, without allocating */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export class StatementAnalyzer {
  private grammar: GrammarModule | undefined;
  private loading: Promise<GrammarModule> | undefined;
  private readonly cache = new Map<string, Entry>();
  private bytes = 0;
  /** parses done (cache misses), for tests and metrics */
  parses = 0;

  constructor(
    private readonly limits: AnalyzerLimits,
    private readonly now: () => number = Date.now,
    private readonly loader: GrammarLoader = loadGrammar,
  ) {}

  private async grammarModule(): Promise<GrammarModule> {
    if (this.grammar) return this.grammar;
    this.loading ??= this.loader().then((g) => {
      // ANTLR builds its prediction caches as it meets new syntax: the first parses are many times
      // slower than later ones. Warm them on common shapes, outside any request's budget.
      for (const s of WARM_UP) parseCypher(g, s, { budgetMs: 60_000, now: this.now });
      return g;
    });
    this.grammar = await this.loading;
    return this.grammar;
  }

  /** the grammar, for callers that need the parse tree itself (the composite planner) */
  async parseTree(text: string): Promise<{ tree: Tree; statement: ParseNode } | undefined> {
    this.checkLength(text);
    const parsed = parseCypher(await this.grammarModule(), text, { budgetMs: this.limits.parseBudgetMs, now: this.now });
    this.parses++;
    return parsed.ok ? { tree: parsed.tree, statement: parsed.statement } : undefined;
  }

  private checkLength(text: string): void {
    if (text.length > this.limits.maxStatementBytes || (text.length * 3 > this.limits.maxStatementBytes && utf8Length(text) > this.limits.maxStatementBytes)) {
      throw new GatewayError(
        Codes.StatementTooLarge,
        `The statement is longer than ${this.limits.maxStatementBytes} bytes, the most this gateway accepts (limits.maxStatementBytes).`,
      );
    }
  }

  /** the analysis of a statement: from the cache, or parsed now (throws 413 / 400 on limits) */
  async analyze(text: string): Promise<Analysis> {
    const hit = this.cache.get(text);
    if (hit) {
      // least recently used first: move to the end
      this.cache.delete(text);
      this.cache.set(text, hit);
      return hit.analysis;
    }
    this.checkLength(text);
    const grammar = this.grammar ?? (await this.grammarModule());
    const parsed = parseCypher(grammar, text, { budgetMs: this.limits.parseBudgetMs, now: this.now });
    this.parses++;
    let analysis: Analysis;
    if (!parsed.ok) {
      if (parsed.reason === 'too-complex') throw new GatewayError(Codes.StatementTooComplex, parsed.message);
      analysis = { ok: false, text, failure: parsed, attachments: {} };
    } else {
      const info = classify(parsed.tree, parsed.statement);
      analysis =
        'console' in info
          ? {
              ok: false,
              text,
              failure: { ok: false, reason: 'console', message: 'Console commands (":param", ":use", ...) are not Cypher statements.' },
              attachments: {},
            }
          : { ok: true, text, info, attachments: {} };
    }
    this.store(text, analysis);
    return analysis;
  }

  /** keeps `value` with a statement's analysis (bytes estimated by the caller) */
  attach(analysis: Analysis, key: string, value: unknown, bytes: number): void {
    const entry = this.cache.get(analysis.text);
    const previous = analysis.attachments[key];
    analysis.attachments[key] = { value, bytes };
    if (entry && entry.analysis === analysis) {
      entry.bytes += bytes - (previous?.bytes ?? 0);
      this.bytes += bytes - (previous?.bytes ?? 0);
      this.evict();
    }
  }

  private store(text: string, analysis: Analysis): void {
    // the key and the classification: ~2 bytes per character, plus a fixed overhead per entry
    const bytes =
      text.length * 2 + (analysis.ok ? 512 + 64 * (analysis.info.uses.length + analysis.info.procedures.length + analysis.info.parameters.length) : 256);
    this.cache.set(text, { analysis, bytes });
    this.bytes += bytes;
    this.evict();
  }

  private evict(): void {
    while (this.cache.size > 0 && (this.cache.size > this.limits.cacheEntries || this.bytes > this.limits.cacheBytes)) {
      const [oldest, entry] = this.cache.entries().next().value as [string, Entry];
      this.cache.delete(oldest);
      this.bytes -= entry.bytes;
    }
  }

  get size(): number {
    return this.cache.size;
  }

  get cachedBytes(): number {
    return this.bytes;
  }
}
