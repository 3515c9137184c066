/**
 * A minimal Gherkin reader for the openCypher TCK's .feature files: Feature, Background,
 * Scenario, Scenario Outline + Examples (each row one scenario, `<name>` placeholders
 * substituted in step text, doc strings and tables), tags, steps with doc strings and data
 * tables. It reads what the TCK uses and nothing more; it never interprets the steps (see
 * scenario.ts).
 */

export interface Step {
  keyword: string;
  /** the step text after its keyword, trimmed */
  text: string;
  docString?: string;
  table?: string[][];
  line: number;
}

export interface Scenario {
  feature: string;
  /** path of the .feature file, relative to the features directory */
  file: string;
  name: string;
  /** for an Examples row: its position among the outline's rows (1-based) */
  example?: number;
  /** for an Examples row: placeholder values */
  bindings?: Record<string, string>;
  tags: string[];
  /** Background steps first */
  steps: Step[];
  line: number;
}

const STEP_KEYWORDS = ['Given', 'When', 'Then', 'And', 'But', '*'];

/** Splits a Gherkin table row `| a | b\|c |` into cells (escapes: `\|`, `\\`, `\n`). */
export function tableCells(line: string): string[] {
  const s = line.trim();
  if (!s.startsWith('|')) throw new Error(`not a table row: ${line}`);
  const cells: string[] = [];
  let cur = '';
  for (let i = 1; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      const n = s[i + 1]!;
      if (n === '|' || n === '\\') {
        cur += n;
        i++;
        continue;
      }
      if (n === 'n') {
        cur += '\n';
        i++;
        continue;
      }
    }
    if (c === '|') {
      cells.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  return cells;
}

interface RawScenario {
  name: string;
  outline: boolean;
  tags: string[];
  steps: Step[];
  examples: { tags: string[]; header: string[]; rows: string[][] }[];
  line: number;
}

/** Parses one .feature file and expands outlines: every Examples row is a scenario of its own. */
export function parseFeature(text: string, file: string): Scenario[] {
  const lines = text.split(/\r?\n/);
  let feature = '';
  let background: Step[] = [];
  const raws: RawScenario[] = [];
  let pendingTags: string[] = [];
  // where steps and tables currently go
  let steps: Step[] | undefined;
  let examples: RawScenario['examples'][number] | undefined;

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('@')) {
      pendingTags.push(...line.split(/\s+/).filter((t) => t.startsWith('@')));
      continue;
    }
    const header = /^(Feature|Background|Scenario Outline|Scenario Template|Scenario|Example|Examples|Scenarios):\s*(.*)$/.exec(line);
    if (header) {
      const [, kind, title] = header as unknown as [string, string, string];
      examples = undefined;
      if (kind === 'Feature') {
        feature = title.trim();
        steps = undefined;
      } else if (kind === 'Background') {
        background = [];
        steps = background;
      } else if (kind === 'Examples' || kind === 'Scenarios') {
        const owner = raws[raws.length - 1];
        if (!owner?.outline) throw new Error(`${file}:${i + 1}: Examples outside a Scenario Outline`);
        examples = { tags: pendingTags, header: [], rows: [] };
        owner.examples.push(examples);
        steps = undefined;
      } else {
        const sc: RawScenario = {
          name: title.trim(),
          outline: kind === 'Scenario Outline' || kind === 'Scenario Template',
          tags: pendingTags,
          steps: [],
          examples: [],
          line: i + 1,
        };
        raws.push(sc);
        steps = sc.steps;
      }
      pendingTags = [];
      continue;
    }
    if (line.startsWith('|')) {
      const cells = tableCells(line);
      if (examples) {
        if (examples.header.length === 0) examples.header = cells;
        else examples.rows.push(cells);
        continue;
      }
      const last = steps?.[steps.length - 1];
      if (!last) throw new Error(`${file}:${i + 1}: table without a step`);
      (last.table ??= []).push(cells);
      continue;
    }
    if (line.startsWith('"""') || line.startsWith('```')) {
      const fence = line.slice(0, 3);
      const indent = raw.indexOf(fence);
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length; j++) {
        const l = lines[j]!;
        if (l.trim() === fence) break;
        // strip the delimiter's indentation (Gherkin), never more than the line's own whitespace
        const lead = /^\s*/.exec(l)![0].length;
        body.push(l.slice(Math.min(indent, lead)).replace(/\\"\\"\\"/g, '"""'));
      }
      if (j >= lines.length) throw new Error(`${file}:${i + 1}: unterminated doc string`);
      const last = steps?.[steps.length - 1];
      if (!last) throw new Error(`${file}:${i + 1}: doc string without a step`);
      last.docString = body.join('\n');
      i = j;
      continue;
    }
    const kw = STEP_KEYWORDS.find((k) => line.startsWith(`${k} `));
    if (kw !== undefined) {
      if (!steps) throw new Error(`${file}:${i + 1}: step outside a scenario: ${line}`);
      steps.push({ keyword: kw, text: line.slice(kw.length).trim(), line: i + 1 });
      continue;
    }
    // free text under Feature: (its description): ignored
    if (steps === undefined && examples === undefined) continue;
    throw new Error(`${file}:${i + 1}: cannot read line: ${line}`);
  }

  const out: Scenario[] = [];
  for (const sc of raws) {
    const base = { feature, file, name: sc.name, line: sc.line };
    if (!sc.outline) {
      out.push({ ...base, tags: sc.tags, steps: [...background, ...sc.steps] });
      continue;
    }
    let n = 0;
    for (const ex of sc.examples) {
      for (const row of ex.rows) {
        n++;
        const bindings: Record<string, string> = {};
        ex.header.forEach((h, k) => (bindings[h] = row[k] ?? ''));
        out.push({
          ...base,
          example: n,
          bindings,
          tags: [...sc.tags, ...ex.tags],
          steps: [...background, ...sc.steps.map((s) => substituteStep(s, bindings))],
        });
      }
    }
  }
  return out;
}

function substitute(s: string, bindings: Record<string, string>): string {
  return s.replace(/<([^<>\s][^<>]*)>/g, (m, name: string) => (name in bindings ? bindings[name]! : m));
}

function substituteStep(step: Step, bindings: Record<string, string>): Step {
  const out: Step = { ...step, text: substitute(step.text, bindings) };
  if (step.docString !== undefined) out.docString = substitute(step.docString, bindings);
  if (step.table) out.table = step.table.map((r) => r.map((c) => substitute(c, bindings)));
  return out;
}
