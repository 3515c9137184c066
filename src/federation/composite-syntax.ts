/**
 * The composite-only syntax of a statement: which graph a USE names (the composite itself, one of
 * its graphs by name, or graph.byName(...) with a string or a parameter), graph.names() as a
 * parameter, other graph functions refused outside USE; and the statement with that syntax
 * neutralised: the text a single shard can run as written (passthrough) or EXPLAIN (validation).
 */
import type { StatementInfo } from '../cypher/classify.js';
import type { ParseNode } from '../cypher/grammar.js';
import type { Tree } from '../cypher/tree.js';
import { GRAPH_NAMES_PARAM, type ExtraParam, type GraphRef, type ShardStatement } from './plan.js';
import { refuse } from './refusal.js';
import type { ExprReader } from './scope.js';
import { applyEdits, spaces, type TextEdit } from './text-edits.js';
import type { Part } from './walk-state.js';

/** the composite a statement is planned for: its name and its shards */
export interface CompositeTarget {
  name: string;
  shards: readonly string[];
  /** the most parts a UNION on the composite may have (limits.maxUnionParts; default DEFAULT_MAX_UNION_PARTS) */
  maxUnionParts?: number;
}

/** the topology's default for limits.maxUnionParts */
export const DEFAULT_MAX_UNION_PARTS = 64;

/** the composite-only syntax of one statement (one instance per statement planned) */
export class CompositeSyntax {
  /** edits of the whole statement for validation and passthrough (composite-only syntax neutralised) */
  private readonly neutral: TextEdit[] = [];
  private readonly neutralExtra = new Map<string, ExtraParam>();
  /** false once the statement uses something a single shard cannot run as written */
  passthroughOk = true;

  constructor(
    private readonly t: Tree,
    private readonly info: StatementInfo,
    private readonly target: CompositeTarget,
    private readonly x: ExprReader,
  ) {}

  passthrough(): ShardStatement {
    return { text: applyEdits(this.t.src, this.neutral), extra: [...this.neutralExtra.values()] };
  }

  statementPrefix(): string {
    return this.info.cypherOptions ? `${this.info.cypherOptions} ` : '';
  }

  /** EXPLAIN of the user's statement with composite-only syntax neutralised: Neo4j's own errors, on the user's text */
  validation(): ShardStatement {
    const body = applyEdits(this.t.src, this.neutral, this.info.bodyStart);
    return { text: `EXPLAIN ${this.statementPrefix()}${body}`, extra: [...this.neutralExtra.values()] };
  }

  /** USE clauses blanked, graph.names() as a parameter: the text a single shard can run or EXPLAIN */
  neutralise(body: ParseNode): void {
    const t = this.t;
    for (const use of t.find(body, 'useClause')) this.neutral.push([t.start(use), t.end(use), spaces(t.text(use))]);
    for (const f of t.find(body, 'functionInvocation')) {
      const name = this.x.functionName(f);
      if (name === 'graph.names') {
        this.neutral.push([t.start(f), t.end(f), `$${GRAPH_NAMES_PARAM}`]);
        this.neutralExtra.set(GRAPH_NAMES_PARAM, { name: GRAPH_NAMES_PARAM, kind: 'graphNames' });
      } else if (name.startsWith('graph.') && !t.find(body, 'useClause').some((u) => t.within(f, u))) {
        this.passthroughOk = false;
      }
    }
    if (t.find(body, 'useClause').some((u) => t.within(u, body) && !this.info.uses.find((x) => x.range[0] === t.start(u))?.top)) this.passthroughOk = false;
    for (const use of this.info.uses) {
      if (use.top && !(use.target.kind === 'name' && this.isComposite(use.target.parts))) this.passthroughOk = false;
    }
  }

  private isComposite(parts: string[]): boolean {
    return parts.length === 1 && parts[0] === this.target.name;
  }

  /** resolves a USE target to the composite itself, or one of its graphs */
  graphOf(use: ParseNode): GraphRef | 'composite' {
    const ref = this.info.uses.find((u) => u.range[0] === this.t.start(use));
    if (!ref) refuse('USE clause not understood.');
    const target = ref.target;
    if (target.kind === 'name') {
      if (this.isComposite(target.parts)) return 'composite';
      return { kind: 'name', parts: target.parts };
    }
    if (target.kind === 'byName') {
      const arg = target.arg;
      if (arg.kind === 'string') return { kind: 'name', parts: [arg.value] };
      if (arg.kind === 'param') return { kind: 'param', name: arg.name };
      refuse(
        `USE graph.byName(${arg.kind === 'variable' ? arg.name : arg.text}) is supported with a string or a parameter, or as UNWIND graph.names() AS g CALL { USE graph.byName(g) ... }.`,
      );
    }
    refuse(`USE ${target.text} is not supported on composites: use ${this.target.name}.<shard>, graph.byName(...) or the graph.names() idiom.`);
  }

  /** graph.names() outside the idiom's UNWIND: the composite's graph names, as a parameter */
  graphNamesAsParameter(sq: ParseNode, part: Part): void {
    const t = this.t;
    for (const f of t.find(sq, 'functionInvocation')) {
      if (this.x.functionName(f) !== 'graph.names') continue;
      const [s, e] = t.range(f);
      if (part.edits.some(([a, b]) => a < e && s < b)) continue;
      part.edits.push([s, e, `$${GRAPH_NAMES_PARAM}`]);
      part.extra.set(GRAPH_NAMES_PARAM, { name: GRAPH_NAMES_PARAM, kind: 'graphNames' });
    }
  }

  /** graph.names() anywhere becomes a parameter; other graph functions outside USE are refused */
  rejectGraphFunctions(scopeNode: ParseNode, part: Part): void {
    const t = this.t;
    for (const f of t.find(scopeNode, 'functionInvocation')) {
      if (t.find(scopeNode, 'useClause').some((u) => t.within(f, u))) continue;
      const name = this.x.functionName(f);
      if (name === 'graph.names') {
        part.edits.push([t.start(f), t.end(f), `$${GRAPH_NAMES_PARAM}`]);
        part.extra.set(GRAPH_NAMES_PARAM, { name: GRAPH_NAMES_PARAM, kind: 'graphNames' });
      } else if (name.startsWith('graph.')) {
        refuse(`${t.text(t.kid(f, 'functionName')!)}() is supported only in USE clauses on composites.`);
      }
    }
  }
}
