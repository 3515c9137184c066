/**
 * Parses one request's Cypher text with Neo4j's grammar, within a time budget, and checks that
 * the whole text was understood: exactly one statement (a trailing ";" is fine), no syntax error,
 * nothing left over. It never guesses: a text it cannot parse completely is a failure, and the
 * caller decides how to word it (Neo4j's own EXPLAIN gives the user-facing syntax error).
 */
import type { GrammarModule, ParseNode } from './grammar.js';
import { Tree } from './tree.js';

export type ParseFailure =
  | { ok: false; reason: 'syntax'; message: string }
  | { ok: false; reason: 'several-statements'; message: string }
  | { ok: false; reason: 'too-complex'; message: string };

export type ParseOutcome = { ok: true; tree: Tree; statement: ParseNode } | ParseFailure;

class BudgetExceeded extends Error {}

export interface ParseOptions {
  /** most milliseconds the parse may take (checked as rules are entered) */
  budgetMs: number;
  now: () => number;
}

export function parseCypher(grammar: GrammarModule, text: string, opts: ParseOptions): ParseOutcome {
  const errors: string[] = [];
  const listener = {
    syntaxError: (_r: unknown, _o: unknown, line: number, column: number, msg: string) => {
      if (errors.length < 5) errors.push(`${msg} (line ${line}, column ${column + 1})`);
    },
    reportAmbiguity: () => undefined,
    reportAttemptingFullContext: () => undefined,
    reportContextSensitivity: () => undefined,
  };
  const deadline = opts.now() + opts.budgetMs;
  let entered = 0;
  let root: ParseNode;
  try {
    const lexer = new grammar.CypherLexer(grammar.CharStreams.fromString(text));
    lexer.removeErrorListeners();
    lexer.addErrorListener(listener);
    const parser = new grammar.CypherParser(new grammar.CommonTokenStream(lexer));
    parser.removeErrorListeners();
    parser.addErrorListener(listener);
    parser.addParseListener({
      enterEveryRule: () => {
        if ((++entered & 255) === 0 && opts.now() > deadline) throw new BudgetExceeded();
      },
      exitEveryRule: () => undefined,
      visitTerminal: () => undefined,
      visitErrorNode: () => undefined,
    });
    root = parser.statementsOrCommands();
  } catch (err) {
    if (err instanceof BudgetExceeded || err instanceof RangeError) {
      return { ok: false, reason: 'too-complex', message: `The statement is too complex for the gateway to analyse within ${opts.budgetMs} ms.` };
    }
    throw err;
  }
  if (errors.length > 0) return { ok: false, reason: 'syntax', message: errors.join('; ') };
  const tree = new Tree(text, grammar.CypherParser.ruleNames);
  const statements = tree.kids(root, 'statementOrCommand');
  if (statements.length !== 1) {
    return { ok: false, reason: 'several-statements', message: `Expected exactly one statement per request but got: ${statements.length}.` };
  }
  return { ok: true, tree, statement: statements[0]! };
}
