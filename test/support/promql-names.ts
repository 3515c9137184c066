/**
 * The metric names a PromQL expression (or a Grafana `label_values(...)` variable query) reads,
 * each with the function that directly consumes its range vector (`rate`, `increase`, ...), so a
 * test can check names against a live /metrics scrape and counters against counter functions.
 *
 * A tokenizer, not a PromQL parser: it must never report a label name, a function, a keyword, a
 * string or a Grafana variable as a metric name; what it cannot tokenize is an error.
 */

export interface MetricUse {
  name: string;
  /** the innermost enclosing function or aggregation, if any (`rate`, `sum`, `histogram_quantile`, ...) */
  within: string | undefined;
}

const AGGREGATIONS = new Set([
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
]);
/** binary operators written as words */
const WORD_OPERATORS = new Set(['and', 'or', 'unless', 'atan2', 'bool']);
/** modifiers followed by a parenthesised list of label names */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

export class PromqlError extends Error {}

/** Metric names read by a Grafana variable query (`label_values(<selector>, <label>)`, `query_result(<promql>)`) or PromQL. */
export function metricsOfGrafanaQuery(query: string): MetricUse[] {
  const labelValues = /^\s*label_values\(\s*(.*?)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$/s.exec(query);
  if (labelValues) return metricsOfPromql(labelValues[1]!);
  const queryResult = /^\s*query_result\((.*)\)\s*$/s.exec(query);
  if (queryResult) return metricsOfPromql(queryResult[1]!);
  if (/^\s*label_values\(/.test(query)) throw new PromqlError(`label_values without a selector is not scoped to a metric: ${query}`);
  return metricsOfPromql(query);
}

/** Metric names read by a PromQL expression, in order of appearance. */
export function metricsOfPromql(expr: string): MetricUse[] {
  const out: MetricUse[] = [];
  /** the function or aggregation each open parenthesis belongs to (undefined: plain grouping) */
  const stack: (string | undefined)[] = [];
  let pendingAggregation: string | undefined;
  let i = 0;
  const fail = (what: string): never => {
    throw new PromqlError(`${what} at offset ${i} of: ${expr}`);
  };
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i]!)) i++;
  };
  /** skips a string literal starting at i */
  const skipString = () => {
    const q = expr[i]!;
    for (i++; i < expr.length; i++) {
      if (expr[i] === '\\' && q !== '`') i++;
      else if (expr[i] === q) {
        i++;
        return;
      }
    }
    fail('unterminated string');
  };
  /** skips a balanced region from the opening character at i to its closer (strings inside skipped) */
  const skipBalanced = (open: string, close: string) => {
    let depth = 0;
    while (i < expr.length) {
      const c = expr[i]!;
      if (c === '"' || c === "'" || c === '`') {
        skipString();
        continue;
      }
      if (c === open) depth++;
      else if (c === close && --depth === 0) {
        i++;
        return;
      }
      i++;
    }
    fail(`unbalanced ${open}`);
  };

  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'" || c === '`') {
      skipString();
    } else if (c === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
    } else if (c === '$') {
      // a Grafana variable: $name, ${name}, ${name:format}, $__rate_interval
      i++;
      if (expr[i] === '{') skipBalanced('{', '}');
      else while (i < expr.length && /[A-Za-z0-9_]/.test(expr[i]!)) i++;
    } else if (c === '{') {
      // a selector without a name ({__name__=...}) is not supported: the name would hide in a string
      if (/__name__/.test(expr.slice(i, expr.indexOf('}', i) + 1))) fail('__name__ matchers are not supported');
      skipBalanced('{', '}');
    } else if (c === '[') {
      skipBalanced('[', ']');
    } else if (c === '(') {
      stack.push(pendingAggregation);
      pendingAggregation = undefined;
      i++;
    } else if (c === ')') {
      if (stack.length === 0) fail('unbalanced )');
      stack.pop();
      i++;
    } else if (/[0-9.]/.test(c)) {
      // numbers and durations (1e-9, 0.99, 5m, 1h30m, 0x1f)
      while (i < expr.length && /[0-9A-Za-z_.+-]/.test(expr[i]!)) {
        if ((expr[i] === '+' || expr[i] === '-') && !/[eE]/.test(expr[i - 1]!)) break;
        i++;
      }
    } else if (/[A-Za-z_:]/.test(c)) {
      const start = i;
      while (i < expr.length && /[A-Za-z0-9_:]/.test(expr[i]!)) i++;
      const word = expr.slice(start, i);
      skipSpace();
      const next = expr[i];
      if (LABEL_LISTS.has(word)) {
        if (next !== '(') fail(`expected a label list after ${word}`);
        skipBalanced('(', ')');
      } else if (word === 'offset') {
        if (expr[i] === '-') i++;
        while (i < expr.length && /[0-9A-Za-z]/.test(expr[i]!)) i++;
      } else if (WORD_OPERATORS.has(word) || /^(inf|nan|Inf|NaN)$/.test(word)) {
        // an operator or a number literal
      } else if (AGGREGATIONS.has(word) || next === '(') {
        // a function or an aggregation: its parenthesis is next, or comes after "by (...)" / "without (...)"
        pendingAggregation = word;
      } else {
        out.push({ name: word, within: stack.at(-1) });
      }
    } else if (/[-+*/%^=!<>,@]/.test(c)) {
      i++;
    } else {
      fail(`unexpected ${JSON.stringify(c)}`);
    }
  }
  if (stack.length > 0) fail('unbalanced (');
  return out;
}

/** the metric family a sample name belongs to, given the families a scrape declares with # TYPE */
export function familyOf(name: string, types: Map<string, string>): { family: string; type: string } | undefined {
  if (types.has(name)) return { family: name, type: types.get(name)! };
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const base = name.slice(0, -suffix.length);
    const type = types.get(base);
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return { family: base, type };
  }
  return undefined;
}
