/**
 * What a TCK scenario asks for, read from its steps: the graph to build (named graphs,
 * "having executed" statements), the parameters, the query, how its result is compared
 * ("in order", "ignoring element order for lists") and an optional control query. The TCK's
 * expected results are not used: the judge compares the gateway with a real Neo4j instead.
 * A scenario the harness cannot set up (procedure fixtures, @ignore) carries `skip`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { TypedValue } from '../../src/values/typed.js';
import { parseFeature, type Scenario, type Step } from './gherkin.js';
import { parseTckValue } from './literals.js';

export interface ResultShape {
  /** the scenario expects the rows in order */
  ordered: boolean;
  /** the scenario compares lists as multisets */
  ignoreListOrder: boolean;
}

export interface TckQuery extends ResultShape {
  statement: string;
  /** what the TCK expects, for the report: "rows", "empty" or the error ("SyntaxError at compile time: ...") */
  expects: string;
}

export interface TckCase {
  /** `<file> [name] #example`: stable across runs, for reports and selection */
  id: string;
  file: string;
  feature: string;
  scenario: string;
  example?: number;
  tags: string[];
  setup: string[];
  parameters: Record<string, TypedValue>;
  query?: TckQuery;
  control?: TckQuery;
  /** the TCK says the query has side effects */
  sideEffects: boolean;
  /** why the harness does not run it */
  skip?: string;
}

const RESULT_STEP = /^the result should be(?:,? in (any order|order))?\s*(\(ignoring element order for lists\))?:?$/;

function shapeOf(text: string): (ResultShape & { expects: string }) | undefined {
  const t = text.replace(/\s+/g, ' ').trim();
  if (t === 'the result should be empty') return { ordered: false, ignoreListOrder: false, expects: 'empty' };
  const m = RESULT_STEP.exec(t);
  if (m) return { ordered: m[1] === 'order', ignoreListOrder: m[2] !== undefined, expects: 'rows' };
  const err = /^an? (\w+) should be raised at (\w+(?: \w+)?): (.+)$/.exec(t);
  if (err) return { ordered: false, ignoreListOrder: false, expects: `${err[1]} at ${err[2]}: ${err[3]}` };
  return undefined;
}

/** Turns a parsed scenario into a case; `graphs` maps a named graph ("binary-tree-1") to its Cypher. */
export function toCase(sc: Scenario, graphs: Record<string, string>): TckCase {
  const id = `${sc.file} ${sc.name}${sc.example !== undefined ? ` #${sc.example}` : ''}`;
  const c: TckCase = { id, file: sc.file, feature: sc.feature, scenario: sc.name, tags: sc.tags, setup: [], parameters: {}, sideEffects: false };
  if (sc.example !== undefined) c.example = sc.example;
  if (sc.tags.includes('@ignore')) c.skip = 'tagged @ignore in the TCK';
  let current: TckQuery | undefined;
  const fail = (step: Step, why: string) => {
    c.skip ??= `${why} (line ${step.line}: ${step.text})`;
  };
  for (const step of sc.steps) {
    const t = step.text.replace(/\s+/g, ' ').replace(/#$/, '').trim();
    if (t === 'an empty graph' || t === 'any graph') continue;
    const named = /^the ([\w-]+) graph$/.exec(t);
    if (named) {
      const cypher = graphs[named[1]!];
      if (cypher === undefined) fail(step, `unknown named graph ${named[1]}`);
      else c.setup.push(cypher);
      continue;
    }
    if (t.startsWith('having executed')) {
      if (step.docString === undefined) fail(step, 'having executed without a statement');
      else c.setup.push(step.docString);
      continue;
    }
    if (t.startsWith('parameters are')) {
      for (const row of step.table ?? []) {
        if (row.length !== 2) {
          fail(step, 'parameter row without two cells');
          continue;
        }
        try {
          c.parameters[row[0]!] = parseTckValue(row[1]!);
        } catch (e) {
          fail(step, `parameter ${row[0]}: ${(e as Error).message}`);
        }
      }
      continue;
    }
    if (t.startsWith('there exists a procedure')) {
      fail(step, 'needs a test procedure the TCK defines, which Neo4j does not have');
      continue;
    }
    if (t === 'executing query:' || t === 'executing control query:') {
      if (step.docString === undefined) {
        fail(step, 'query without a statement');
        continue;
      }
      current = { statement: step.docString, ordered: false, ignoreListOrder: false, expects: 'rows' };
      if (t === 'executing query:') {
        if (c.query) fail(step, 'second query in one scenario');
        c.query = current;
      } else {
        if (!c.query || c.control) fail(step, 'control query without a query, or a second one');
        c.control = current;
      }
      continue;
    }
    if (t === 'no side effects') continue;
    if (t.startsWith('the side effects should be')) {
      c.sideEffects = (step.table ?? []).some((r) => r[1] !== undefined && r[1].trim() !== '0');
      continue;
    }
    const shape = shapeOf(t);
    if (shape) {
      if (!current) fail(step, 'result expectation before a query');
      else Object.assign(current, shape);
      continue;
    }
    fail(step, 'step the harness does not understand');
  }
  if (!c.query) c.skip ??= 'no query';
  return c;
}

/** Reads every .feature file under featuresDir (sorted by path) and the named graphs. */
export function loadCases(featuresDir: string, graphsDir: string): TckCase[] {
  const graphs: Record<string, string> = {};
  for (const name of readdirSync(graphsDir)) {
    const file = join(graphsDir, name, `${name}.cypher`);
    try {
      graphs[name] = readFileSync(file, 'utf8');
    } catch {
      // a graph without a .cypher file (only JSON) cannot be used
    }
  }
  const files = (readdirSync(featuresDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.feature')).sort();
  const cases: TckCase[] = [];
  for (const f of files) {
    const rel = relative(featuresDir, join(featuresDir, f)).split('\\').join('/');
    for (const sc of parseFeature(readFileSync(join(featuresDir, f), 'utf8'), rel)) cases.push(toCase(sc, graphs));
  }
  return cases;
}
