/**
 * Classifies one parsed statement: what it does (reads, writes, schema, administration, SHOW,
 * TERMINATE, LOAD CSV, procedures and functions by name, USE targets, EXPLAIN/PROFILE,
 * CALL {} IN TRANSACTIONS). The per-key policy decides on this classification before anything
 * is sent to Neo4j. It looks at the whole tree, subqueries included, and never executes or
 * rewrites anything. The result is plain data, cached per statement text.
 */
import type { ParseNode } from './grammar.js';
import { BUILTIN_FUNCTIONS, READ_ONLY_PROCEDURES } from './catalog.js';
import { nameParts, type Tree, unquote } from './tree.js';

/** what a command needs beyond reading and writing data */
export type Need = 'schema' | 'show' | 'terminate' | 'admin' | 'loadCsv';

/** the argument of graph.byName(...) */
export type GraphNameArg =
  { kind: 'string'; value: string } | { kind: 'param'; name: string } | { kind: 'variable'; name: string } | { kind: 'other'; text: string };

/** a graph a USE clause names */
export type GraphTarget = { kind: 'name'; parts: string[] } | { kind: 'byName'; arg: GraphNameArg } | { kind: 'other'; text: string };

export interface UseRef {
  /** where the whole USE clause sits (UTF-16 offsets) */
  range: [number, number];
  /** the first clause of a top-level query part (or of a command), not inside a subquery */
  top: boolean;
  target: GraphTarget;
}

export interface StatementInfo {
  kind: 'query' | 'command';
  explain: boolean;
  profile: boolean;
  /** preparser options to keep in front of a rewritten statement (`CYPHER ...`), without EXPLAIN/PROFILE */
  cypherOptions: string;
  /** where the statement proper starts, after the preparser options */
  bodyStart: number;
  /** capabilities the statement needs beyond reading and writing data */
  needs: Need[];
  /** what the command is, for messages (e.g. "SHOW USERS") */
  command?: string;
  /** creates, merges, sets, removes or deletes data (anywhere, subqueries included) */
  writes: boolean;
  /** CALL { ... } IN TRANSACTIONS */
  inTransactions: boolean;
  /** procedures called, by name as written */
  procedures: string[];
  /** procedures called that are not on the read-only allow-list */
  privilegedProcedures: string[];
  /** functions called that are not Neo4j built-ins (user-defined, e.g. plugins) */
  userFunctions: string[];
  uses: UseRef[];
  /** $names the statement references */
  parameters: string[];
}

const WRITE_CLAUSES: ReadonlySet<string> = new Set([
  'createClause',
  'insertClause',
  'deleteClause',
  'setClause',
  'removeClause',
  'mergeClause',
  'foreachClause',
]);

const SCHEMA_COMMANDS: ReadonlySet<string> = new Set(['createConstraint', 'createIndex', 'dropConstraint', 'dropIndex']);
const SHOW_COMMANDS: ReadonlySet<string> = new Set(['showIndexCommand', 'showConstraintCommand', 'showFunctions', 'showProcedures']);
/** SHOW commands that reveal other keys' statements and parameters, or the server's configuration */
const ADMIN_SHOW_COMMANDS: ReadonlySet<string> = new Set([
  'showTransactions',
  'showSettings',
  'showAliases',
  'showCurrentUser',
  'showDatabase',
  'showPrivileges',
  'showRolePrivileges',
  'showRoles',
  'showServers',
  'showSupportedPrivileges',
  'showUserPrivileges',
  'showUsers',
]);
const ALL_COMMAND_PARTS: ReadonlySet<string> = new Set([...SCHEMA_COMMANDS, ...SHOW_COMMANDS, ...ADMIN_SHOW_COMMANDS, 'terminateCommand']);

function words(tree: Tree, n: ParseNode, max = 3): string {
  return tree.text(n).trim().split(/\s+/).slice(0, max).join(' ').toUpperCase();
}

function graphTarget(tree: Tree, ref: ParseNode): GraphTarget {
  const inner = tree.kid(ref, 'graphReference');
  if (inner) return graphTarget(tree, inner);
  const fn = tree.kid(ref, 'functionInvocation');
  if (fn) {
    const name = nameParts(tree.text(tree.kid(fn, 'functionName')!))
      .join('.')
      .toLowerCase();
    if (name !== 'graph.byname') return { kind: 'other', text: tree.text(ref) };
    const args = tree.kids(fn, 'functionArgument');
    if (args.length !== 1) return { kind: 'other', text: tree.text(ref) };
    const expr = tree.kid(args[0]!, 'expression')!;
    const str = tree.only(expr, 'stringLiteral');
    if (str) return { kind: 'byName', arg: { kind: 'string', value: stringLiteralValue(tree.text(str)) } };
    const param = tree.only(expr, 'parameter');
    if (param) return { kind: 'byName', arg: { kind: 'param', name: parameterName(tree, param) } };
    const variable = tree.only(expr, 'variable');
    if (variable) return { kind: 'byName', arg: { kind: 'variable', name: unquote(tree.text(variable)) } };
    return { kind: 'byName', arg: { kind: 'other', text: tree.text(expr) } };
  }
  const alias = tree.kid(ref, 'symbolicAliasName');
  if (alias) return { kind: 'name', parts: nameParts(tree.text(alias)) };
  return { kind: 'other', text: tree.text(ref) };
}

/** the value of a Cypher string literal ('...' or "...", with its escapes) */
export function stringLiteralValue(text: string): string {
  const body = text.slice(1, -1);
  return body.replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'u':
      case 'U':
        return String.fromCodePoint(parseInt(e.slice(1), 16));
      default:
        return e;
    }
  });
}

export function parameterName(tree: Tree, param: ParseNode): string {
  const name = tree.kid(param, 'parameterName');
  return unquote(name ? tree.text(name) : tree.text(param).replace(/^\$\s*/, ''));
}

/** the USE clauses and whether each is the first clause of a top-level part */
function collectUses(tree: Tree, body: ParseNode): UseRef[] {
  const tops = new Set<ParseNode>();
  const command = tree.kid(body, 'command');
  if (command) {
    const u = tree.kid(command, 'useClause');
    if (u) tops.add(u);
  }
  const regular = tree.kid(body, 'regularQuery');
  const union = regular ? tree.kid(regular, 'union') : undefined;
  for (const sq of union ? tree.kids(union, 'singleQuery') : []) {
    const first = tree.kid(sq, 'clause')?.children?.[0] ?? tree.kid(sq, 'useClause');
    if (first && tree.is(first, 'useClause')) tops.add(first);
  }
  return tree.find(body, 'useClause').map((u) => ({ range: tree.range(u), top: tops.has(u), target: graphTarget(tree, tree.kid(u, 'graphReference')!) }));
}

export function classify(tree: Tree, statementOrCommand: ParseNode): StatementInfo | { console: true } {
  const pre = tree.kid(statementOrCommand, 'preparsedStatement');
  if (!pre) return { console: true };
  const options = tree.kids(pre, 'preparserOption');
  const explain = options.some((o) => tree.hasToken(o, 'EXPLAIN'));
  const profile = options.some((o) => tree.hasToken(o, 'PROFILE'));
  const cypherOptions = options
    .map((o) => tree.kid(o, 'cypherOptions'))
    .filter((o): o is ParseNode => o !== undefined)
    .map((o) => tree.text(o))
    .join(' ');
  const body = tree.kid(pre, 'statement')!;
  const needs = new Set<Need>();
  let command: string | undefined;
  const cmd = tree.kid(body, 'command');
  if (cmd) {
    const parts = tree.findAny(cmd, ALL_COMMAND_PARTS);
    for (const p of parts) {
      const r = tree.rule(p)!;
      if (SCHEMA_COMMANDS.has(r)) needs.add('schema');
      else if (SHOW_COMMANDS.has(r)) needs.add('show');
      else if (ADMIN_SHOW_COMMANDS.has(r)) needs.add('admin');
      else if (r === 'terminateCommand') needs.add('terminate');
    }
    // users, roles, privileges, databases, aliases, servers: administration
    const kind = (cmd.children ?? []).find((c) => c.ruleIndex !== undefined && !tree.is(c, 'useClause'));
    const r = kind ? tree.rule(kind) : undefined;
    if (r === 'createCommand' || r === 'dropCommand') {
      const what = (kind!.children ?? []).find((c) => c.ruleIndex !== undefined);
      if (!what || !SCHEMA_COMMANDS.has(tree.rule(what)!)) needs.add('admin');
    } else if (r !== 'showCommand' && r !== 'terminateCommand') {
      needs.add('admin');
    }
    if (needs.size === 0) needs.add('admin');
    command = kind ? words(tree, kind) : 'command';
  }
  if (tree.find(body, 'loadCSVClause').length > 0) needs.add('loadCsv');

  const procedures = tree.find(body, 'procedureName').map((p) => nameParts(tree.text(p)).join('.'));
  const userFunctions = [
    ...new Set(
      tree
        .find(body, 'functionName')
        .map((f) => nameParts(tree.text(f)).join('.'))
        .filter((n) => !BUILTIN_FUNCTIONS.has(n.toLowerCase())),
    ),
  ];
  // a command writes unless it only shows (SHOW ... [YIELD ...] [RETURN ...]: no TERMINATE combined with it)
  const kindRule = cmd ? tree.rule((cmd.children ?? []).find((c) => c.ruleIndex !== undefined && !tree.is(c, 'useClause'))) : undefined;
  const showsOnly = kindRule === 'showCommand' && !needs.has('terminate') && !needs.has('schema');
  const writes =
    tree.findAny(body, WRITE_CLAUSES).length > 0 || (cmd !== undefined && !showsOnly && (needs.has('schema') || needs.has('admin') || needs.has('terminate')));
  return {
    kind: cmd ? 'command' : 'query',
    explain,
    profile,
    cypherOptions,
    bodyStart: tree.start(body),
    needs: [...needs],
    ...(command !== undefined ? { command } : {}),
    writes,
    inTransactions: tree.find(body, 'subqueryInTransactionsParameters').length > 0,
    procedures,
    privilegedProcedures: procedures.filter((p) => !READ_ONLY_PROCEDURES.has(p.toLowerCase())),
    userFunctions,
    uses: collectUses(tree, body),
    parameters: [...new Set(tree.find(body, 'parameter').map((p) => parameterName(tree, p)))],
  };
}
