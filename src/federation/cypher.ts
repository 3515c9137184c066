/**
 * The Cypher parser port: Neo4j's official grammar (@neo4j-cypher/language-support, ANTLR). It is
 * loaded only when a composite is queried, and parse trees are cached per statement text, so
 * single-shard requests never parse. Adapters supply the loader (the package's ESM build does
 * not load under Node's resolver; Node requires its CommonJS build, bundlers import it).
 */

/** the slice of an ANTLR parse tree the analysis reads */
export interface ParseNode {
  ruleIndex?: number;
  children?: ParseNode[] | null;
  start: { start: number; type?: number };
  stop?: { stop: number } | null;
  getText(): string;
}

export interface CypherModule {
  parse(query: string): ParseNode[];
  CypherParser: { ruleNames: string[] };
}

export type CypherLoader = () => Promise<CypherModule>;

export const defaultCypherLoader: CypherLoader = async () => {
  const m = (await import('@neo4j-cypher/language-support')) as unknown as CypherModule & { default?: CypherModule };
  return typeof m.parse === 'function' ? m : (m.default as CypherModule);
};

export class Cypher {
  private module: CypherModule | undefined;
  private loading: Promise<CypherModule> | undefined;
  private readonly cache = new Map<string, ParseNode[]>();

  constructor(
    private readonly loader: CypherLoader = defaultCypherLoader,
    private readonly maxCached = 500,
  ) {}

  async parse(statement: string): Promise<{ trees: ParseNode[]; ruleNames: string[] }> {
    if (!this.module) {
      this.loading ??= this.loader();
      this.module = await this.loading;
    }
    let trees = this.cache.get(statement);
    if (trees) {
      // LRU: most recently used last
      this.cache.delete(statement);
      this.cache.set(statement, trees);
    } else {
      trees = this.module.parse(statement);
      this.cache.set(statement, trees);
      if (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value as string);
    }
    return { trees, ruleNames: this.module.CypherParser.ruleNames };
  }
}
