/** A minimal Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms. */

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return '{' + keys.map((k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',') + '}';
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
}

export class Counter {
  readonly values = new Map<string, number>();
  constructor(readonly family: Family) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  render(): string[] {
    return [...this.values.entries()].map(([k, v]) => `${this.family.name}${k} ${v}`);
  }
}

export class Gauge {
  readonly values = new Map<string, () => number>();
  constructor(readonly family: Family) {}
  set(labels: Labels, read: () => number): void {
    this.values.set(labelKey(labels), read);
  }
  render(): string[] {
    return [...this.values.entries()].map(([k, read]) => `${this.family.name}${k} ${read()}`);
  }
}

export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly family: Family, readonly buckets: number[]) {}
  observe(labels: Labels, value: number): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.family.name}_bucket${labelKey({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      out.push(`${this.family.name}_bucket${labelKey({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.family.name}_sum${labelKey(s.labels)} ${s.sum}`);
      out.push(`${this.family.name}_count${labelKey(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class Metrics {
  private readonly all: (Counter | Gauge | Histogram)[] = [];

  readonly requests = this.add(new Counter({ name: 'gateway_http_requests_total', help: 'HTTP requests by route and status.', type: 'counter' }));
  readonly latency = this.add(
    new Histogram({ name: 'gateway_http_request_duration_seconds', help: 'HTTP request latency by route.', type: 'histogram' }, [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]),
  );
  readonly shardRequests = this.add(new Counter({ name: 'gateway_shard_requests_total', help: 'Statements sent to shards, by shard, role, region and outcome.', type: 'counter' }));
  readonly routingTables = this.add(new Counter({ name: 'gateway_routing_table_lookups_total', help: 'Routing-table lookups by source (memory, redis, discovery).', type: 'counter' }));
  readonly retries = this.add(new Counter({ name: 'gateway_retries_total', help: 'Statements retried on another attempt, by shard.', type: 'counter' }));
  readonly fanout = this.add(new Histogram({ name: 'gateway_fanout_width', help: 'Shards touched by one composite request.', type: 'histogram' }, [1, 2, 4, 8, 16, 32, 64]));
  readonly errors = this.add(new Counter({ name: 'gateway_errors_total', help: 'Error responses by code.', type: 'counter' }));

  private add<T extends Counter | Gauge | Histogram>(m: T): T {
    this.all.push(m);
    return m;
  }

  render(): string {
    const lines: string[] = [];
    for (const m of this.all) {
      const body = m.render();
      if (body.length === 0) continue;
      lines.push(`# HELP ${m.family.name} ${m.family.help}`, `# TYPE ${m.family.name} ${m.family.type}`, ...body);
    }
    return lines.join('\n') + '\n';
  }
}
