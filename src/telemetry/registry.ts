/**
 * A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms.
 * Every metric is one family rendered as one block (HELP, TYPE, then all its samples), so strict
 * parsers read each name once with its type. Gauges may be collected at scrape time (member
 * health, process memory) instead of being set.
 */

export type Labels = Record<string, string>;

const NEEDS_ESCAPE = /[\\"\n]/;

function escapeLabel(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** the series key of a label set: its labels sorted by name (one series per label set, whatever order a caller wrote them in) */
function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) out += `${i > 0 ? ',' : ''}${keys[i]}="${escapeLabel(String(labels[keys[i]!]))}"`;
  return out + '}';
}

function numberText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

type Type = 'counter' | 'gauge' | 'histogram';

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: Type;
  samples(): string[];
}

export class Counter implements Family {
  readonly type = 'counter';
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelText(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  /** the current value of one series (0 when never incremented) */
  value(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }
  samples(): string[] {
    return [...this.values].map(([k, v]) => `${this.name}${k} ${numberText(v)}`);
  }
}

/** a counter kept elsewhere (a plain number that only grows), read at scrape time */
class CounterFrom implements Family {
  readonly type = 'counter';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}
  samples(): string[] {
    return [`${this.name} ${numberText(this.read())}`];
  }
}

/** samples of a gauge read at scrape time */
export type Collect = () => Iterable<[Labels, number]>;

export class Gauge implements Family {
  readonly type = 'gauge';
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly collect?: Collect,
  ) {}
  set(labels: Labels, value: number): void {
    this.values.set(labelText(labels), value);
  }
  samples(): string[] {
    const out = new Map(this.values);
    if (this.collect) for (const [labels, v] of this.collect()) out.set(labelText(labels), v);
    return [...out].map(([k, v]) => `${this.name}${k} ${numberText(v)}`);
  }
}

export class Histogram implements Family {
  readonly type = 'histogram';
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}
  observe(labels: Labels, value: number): void {
    const k = labelText(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  samples(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: numberText(b) })} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${numberText(s.sum)}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class Registry {
  private readonly families = new Map<string, Family>();

  private add<F extends Family>(family: F): F {
    if (this.families.has(family.name)) throw new Error(`metric ${family.name} is registered twice`);
    this.families.set(family.name, family);
    return family;
  }

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  counterFrom(name: string, help: string, read: () => number): void {
    this.add(new CounterFrom(name, help, read));
  }

  gauge(name: string, help: string, collect?: Collect): Gauge {
    return this.add(new Gauge(name, help, collect));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  has(name: string): boolean {
    return this.families.has(name);
  }

  /** the exposition text: one block per family with samples (families without samples are left out) */
  render(): string {
    const lines: string[] = [];
    for (const f of this.families.values()) {
      const samples = f.samples();
      if (samples.length === 0) continue;
      lines.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${f.name} ${f.type}`, ...samples);
    }
    return lines.join('\n') + '\n';
  }
}
