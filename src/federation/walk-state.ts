/**
 * The state the composite planner's clause walk carries through a query part (clauses.ts), shared
 * with the subqueries it walks (subqueries.ts) and the part planning (planner.ts): the phase, the
 * kinds of the variables in scope, the part being planned (its text edits and extra parameters),
 * and the mode of the walk.
 */
import type { ParseNode } from '../cypher/grammar.js';
import type { ExtraParam } from './plan.js';
import type { Scope } from './scope.js';
import type { TextEdit } from './text-edits.js';

/** how the walk treats a part: a top-level part, a subquery per row, a producer, the idiom's per-shard body (ClauseWalker.walk) */
export type Mode = 'top' | 'row' | 'producer' | 'per-shard';

export interface State {
  phase: 'global' | 'local';
  scope: Scope;
}

/** per-part planning context */
export interface Part {
  node: ParseNode;
  clauses: ParseNode[];
  edits: TextEdit[];
  extra: Map<string, ExtraParam>;
  idiom: boolean;
}

/** walks a query part's clauses in a mode (ClauseWalker.walk); subqueries walk theirs through it */
export type Walk = (part: Part, clauses: ParseNode[], st: State, mode: Mode) => unknown;
