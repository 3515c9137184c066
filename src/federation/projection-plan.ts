/**
 * Plans a composite query's merge point(s): the final RETURN alone, or one WITH that combines
 * rows of several shards followed by the final RETURN (both read by projection.ts). For each, it
 * rewrites the clause(s) the shards run, so each shard returns exactly what the merge needs (its
 * rows already sorted, a pushed-down LIMIT, hidden sort keys, per-shard partial aggregates or
 * value lists), and builds the gateway's merge pipeline (plan.ts `Stage`). Names are resolved the
 * way Cypher resolves them: ORDER BY sees the projection's aliases first, then the variables
 * before it; every internal column is named `__n4gw_*` and renaming is done on identifiers only,
 * so the user's expressions are evaluated by Neo4j exactly as written.
 */
import { Codes } from '../errors/index.js';
import type { ParseNode } from '../cypher/grammar.js';
import type { Tree } from '../cypher/tree.js';
import { ROW_LIMIT_PARAM, type AggregatePlan, type ExtraParam, type SortKey, type Stage } from './plan.js';
import { aggregateItems, intSource, keyColumn, type Projection, valueSource } from './projection.js';
import type { ExprReader } from './scope.js';
import { ident, type TextEdit } from './text-edits.js';
import { refuse } from './refusal.js';

export interface FinalPlan {
  edits: TextEdit[];
  extra: ExtraParam[];
  pipeline: Stage[];
  /** output column names (undefined: the shards' own) */
  columns: string[] | undefined;
  /** the columns of the shard statement's final RETURN, by name */
  shardColumns: string[];
}

export class ProjectionPlanner {
  private readonly extra: ExtraParam[] = [];

  constructor(
    private readonly t: Tree,
    private readonly x: ExprReader,
    private readonly composite: string,
  ) {}

  /** the pushed-down row limit: each shard returns at most skip + limit rows */
  private rowLimit(p: Projection): string {
    if (!p.limit) return '';
    this.extra.push({
      name: ROW_LIMIT_PARAM,
      kind: 'rowLimit',
      skip: p.skip ? intSource(this.t, p.skip, 'SKIP') : undefined,
      limit: intSource(this.t, p.limit, 'LIMIT'),
    });
    return ` LIMIT $${ROW_LIMIT_PARAM}`;
  }

  private slice(p: Projection): Stage[] {
    if (!p.skip && !p.limit) return [];
    return [{ op: 'slice', skip: p.skip ? intSource(this.t, p.skip, 'SKIP') : undefined, limit: p.limit ? intSource(this.t, p.limit, 'LIMIT') : undefined }];
  }

  /**
   * A key expression with references to the projection's aliases renamed to the columns holding
   * them (aliases shadow earlier variables, as in Cypher). `others`: references to anything else
   * are allowed (they stay as written); otherwise they are refused.
   */
  private renamedKey(p: Projection, e: ParseNode, column: (i: number) => string, others: boolean): string {
    const t = this.t;
    const facts = this.x.facts(e, new Set([...p.scopeBefore.keys(), ...p.items.map((i) => i.name)]));
    const edits: TextEdit[] = [];
    for (const [name, nodes] of facts.refs) {
      const i = p.items.findIndex((it) => it.name === name);
      if (i < 0) {
        if (!others) refuse(`ORDER BY ${t.text(e)}: after DISTINCT or an aggregation, a composite can only order by the returned columns.`);
        continue;
      }
      for (const n of nodes) edits.push([t.start(n), t.end(n), column(i)]);
    }
    const [s, end] = t.range(e);
    let out = t.src.slice(s, end);
    for (const [a, b, r] of edits.sort((u, v) => v[0] - u[0])) out = out.slice(0, a - s) + r + out.slice(b - s);
    return out;
  }

  /**
   * Sort keys of a projection computed on the shards: a key that names an item uses that item's
   * column; any other becomes a hidden column. Returns the expressions to add (as `name AS alias`
   * texts) and the keys over [items..., hidden...].
   */
  private keys(p: Projection, column: (i: number) => string, hiddenName: (j: number) => string, free: boolean): { hidden: string[]; keys: SortKey[] } {
    const hidden: string[] = [];
    const keys: SortKey[] = [];
    for (const o of p.order) {
      const col = keyColumn(this.t, this.x, p, o.expr);
      if (col !== undefined) {
        keys.push({ col, desc: o.desc });
        continue;
      }
      const expr = this.renamedKey(p, o.expr, column, free);
      keys.push({ col: p.items.length + hidden.length, desc: o.desc });
      hidden.push(`${expr} AS ${hiddenName(hidden.length)}`);
    }
    return { hidden, keys };
  }

  private orderText(keys: SortKey[], name: (col: number) => string): string {
    return keys.length === 0 ? '' : ` ORDER BY ${keys.map((k) => `${name(k.col)}${k.desc ? ' DESC' : ''}`).join(', ')}`;
  }

  /** the final RETURN in the local phase */
  single(p: Projection): FinalPlan {
    const t = this.t;
    const [rs, re] = t.range(p.clause);
    if (p.kind === 'row-local')
      return { edits: [], extra: [], pipeline: [{ op: 'merge', order: [] }], columns: undefined, shardColumns: p.items.map((i) => i.name) };
    const columns = p.items.map((i) => i.name);
    const c = (i: number) => `__n4gw_c${i}`;
    const k = (j: number) => `__n4gw_k${j}`;
    if (p.aggregating && !p.entityKeyed) return this.gatewayAggregation(p, [rs, re], columns);
    const plain = !p.aggregating && !p.distinct;
    const { hidden, keys } = this.keys(p, c, k, plain);
    const first = plain
      ? `WITH *, ${p.items.map((it, i) => `${it.text} AS ${c(i)}`).join(', ')}`
      : `WITH ${p.distinct ? 'DISTINCT ' : ''}${p.items.map((it, i) => `${it.text} AS ${c(i)}`).join(', ')}`;
    const cols = [...p.items.map((_, i) => c(i)), ...hidden];
    const name = (col: number) => (col < p.items.length ? c(col) : k(col - p.items.length));
    const text = `${first} RETURN ${cols.join(', ')}${this.orderText(keys, name)}${this.rowLimit(p)}`;
    const pipeline: Stage[] = [{ op: 'merge', order: keys }];
    // DISTINCT over several shards (no entity among the columns): the same row may come from each
    if (p.distinct && !p.entityKeyed) pipeline.push({ op: 'distinct', cols: p.items.map((_, i) => i) });
    pipeline.push(...this.slice(p));
    if (hidden.length > 0) pipeline.push({ op: 'project', cols: p.items.map((_, i) => i) });
    return { edits: [[rs, re, text]], extra: this.extra, pipeline, columns, shardColumns: [...p.items.map((_, i) => c(i)), ...hidden.map((_, j) => k(j))] };
  }

  /** aggregation over several shards: each shard aggregates its rows, the gateway combines */
  private gatewayAggregation(p: Projection, range: [number, number], columns: string[]): FinalPlan {
    const t = this.t;
    const { groups, aggs } = aggregateItems(this.t, p, this.composite);
    const shardCols: string[] = [];
    const add = (expr: string) => {
      shardCols.push(`${expr} AS __n4gw_p${shardCols.length}`);
      return shardCols.length - 1;
    };
    const names = () => shardCols.map((_, i) => `__n4gw_p${i}`);
    const keyCols = groups.map((i) => add(p.items[i]!.text));
    const plans: AggregatePlan[] = aggs.map((a) => {
      const arg = a.arg ? t.text(a.arg) : '*';
      const valuesOf = (distinct: boolean): AggregatePlan => ({
        mode: 'values',
        fn: a.fn,
        distinct,
        col: add(`collect(${distinct ? 'DISTINCT ' : ''}${arg})`),
        ...(a.percentile ? { percentile: valueSource(this.t, a.percentile, a.fn) } : {}),
      });
      switch (a.fn) {
        case 'count':
          return a.distinct ? valuesOf(true) : { mode: 'partial', fn: 'count', col: add(a.star ? 'count(*)' : `count(${arg})`) };
        case 'min':
        case 'max':
          return { mode: 'partial', fn: a.fn, col: add(`${a.fn}(${arg})`) };
        case 'sum':
          return a.distinct ? valuesOf(true) : { mode: 'partial', fn: 'sum', col: add(`sum(${arg})`) };
        case 'avg':
          return a.distinct ? valuesOf(true) : { mode: 'partial-avg', avg: add(`avg(${arg})`), sum: add(`sum(${arg})`), count: add(`count(${arg})`) };
        case 'collect':
          return a.distinct ? valuesOf(true) : { mode: 'partial-collect', col: add(`collect(${arg})`) };
        default:
          // percentiles and standard deviations need every value in one place
          return valuesOf(a.distinct);
      }
    });
    // aggregate stage output: keys, then aggregates; put back in the user's item order
    const itemOrder = p.items.map((_, i) => (groups.includes(i) ? groups.indexOf(i) : groups.length + aggs.findIndex((a) => a.item === i)));
    const keys: SortKey[] = p.order.map((o) => {
      const col = keyColumn(this.t, this.x, p, o.expr);
      if (col === undefined)
        refuse(
          `ORDER BY ${t.text(o.expr)}: after an aggregation over several shards, a composite can only order by the returned columns (by alias or by the same expression).`,
        );
      return { col, desc: o.desc };
    });
    const pipeline: Stage[] = [
      { op: 'merge', order: [] },
      { op: 'aggregate', keys: keyCols, aggregates: plans },
      { op: 'project', cols: itemOrder },
      ...(keys.length > 0 ? [{ op: 'sort', order: keys } as Stage] : []),
      ...this.slice(p),
    ];
    return { edits: [[range[0], range[1], `RETURN ${shardCols.join(', ')}`]], extra: this.extra, pipeline, columns, shardColumns: names() };
  }

  /** a WITH that combines rows of several shards (m), then the final RETURN (r) */
  twoStage(m: Projection, r: Projection): FinalPlan {
    const t = this.t;
    if (m.where && (m.skip || m.limit || (m.aggregating && !m.entityKeyed))) {
      refuse(
        `WITH ... WHERE after ${m.skip || m.limit ? 'SKIP/LIMIT' : 'an aggregation'} over several shards is not supported on composites (the filter must see the combined rows).`,
      );
    }
    const [ms, me] = t.range(m.clause);
    const [rs, re] = t.range(r.clause);
    const columns = r.items.map((i) => i.name);
    if (m.aggregating && !m.entityKeyed) return this.afterGatewayAggregation(m, r, [ms, me], [rs, re], columns);

    // the shards: m as written (aliases kept, sort keys and the pushed-down LIMIT added)
    const mc = (i: number) => `__n4gw_m${i}`;
    const mk = (j: number) => `__n4gw_mk${j}`;
    const plain = !m.aggregating && !m.distinct;
    const { hidden, keys: mKeys } = this.keys(m, mc, mk, plain);
    // WHERE of a WITH sees the variables before it as well as its aliases: Neo4j filters the rows
    // before it de-duplicates them, so the filter runs where both are still there
    const earlyWhere = m.where !== undefined && !m.aggregating;
    const first =
      plain || earlyWhere
        ? `WITH *, ${m.items.map((it, i) => `${it.text} AS ${mc(i)}`).join(', ')}${earlyWhere ? ` WHERE ${this.renamedKey(m, m.where!, mc, true)}` : ''}`
        : `WITH ${m.distinct ? 'DISTINCT ' : ''}${m.items.map((it, i) => `${it.text} AS ${mc(i)}`).join(', ')}`;
    const keyAlias = (col: number) => (col < m.items.length ? undefined : mk(col - m.items.length));
    // every key gets a column of its own in the second WITH, so the RETURN can hand it on
    const keyCols = mKeys.map((k, j) => ({ ...k, alias: keyAlias(k.col) ?? `__n4gw_mkc${j}`, source: k.col < m.items.length ? mc(k.col) : undefined }));
    const second =
      `WITH ${earlyWhere && m.distinct ? 'DISTINCT ' : ''}${m.items.map((it, i) => `${mc(i)} AS ${ident(it.name)}`).join(', ')}` +
      `${hidden.length > 0 ? ', ' + hidden.join(', ') : ''}` +
      `${keyCols
        .filter((k) => k.source !== undefined)
        .map((k) => `, ${k.source} AS ${k.alias}`)
        .join('')}` +
      (m.where && !earlyWhere ? ` WHERE ${t.text(m.where)}` : '') +
      this.orderText(
        mKeys.map((k, j) => ({ col: j, desc: k.desc })),
        (j) => keyCols[j]!.alias,
      ) +
      this.rowLimit(m);
    // the RETURN's own columns, computed per row on the shards
    const rc = (i: number) => `__n4gw_r${i}`;
    const out: string[] = [];
    const outNames: string[] = [];
    const carried = keyCols.map((k) => k.alias);
    const dedupe = m.distinct && !m.entityKeyed ? m.items.map((it) => ident(it.name)) : [];
    let tail: string;
    const pipeline: Stage[] = [{ op: 'merge', order: [] }];
    if (r.aggregating) {
      const { groups, aggs } = aggregateItems(this.t, r, this.composite);
      const argCols: string[] = [];
      const aggPlans: AggregatePlan[] = aggs.map((a) => {
        let col: number | undefined;
        if (!a.star) {
          col = groups.length + argCols.length;
          argCols.push(`${t.text(a.arg!)} AS __n4gw_a${argCols.length}`);
        }
        return { mode: 'raw', fn: a.fn, distinct: a.distinct, col, ...(a.percentile ? { percentile: valueSource(this.t, a.percentile, a.fn) } : {}) };
      });
      const groupCols = groups.map((i, g) => `${r.items[i]!.text} AS ${rc(g)}`);
      tail = `WITH *${groupCols.length + argCols.length > 0 ? ', ' : ''}${[...groupCols, ...argCols].join(', ')}`;
      out.push(...groups.map((_, g) => rc(g)), ...argCols.map((_, j) => `__n4gw_a${j}`));
      const base = out.length;
      out.push(...carried, ...dedupe);
      outNames.push(...out);
      this.mergeStages(
        pipeline,
        mKeys.map((k, j) => ({ col: base + j, desc: k.desc })),
        dedupe.map((_, d) => base + carried.length + d),
        m,
      );
      const itemOrder = r.items.map((_, i) => (groups.includes(i) ? groups.indexOf(i) : groups.length + aggs.findIndex((a) => a.item === i)));
      pipeline.push({ op: 'aggregate', keys: groups.map((_, g) => g), aggregates: aggPlans }, { op: 'project', cols: itemOrder });
      const rKeys = r.order.map((o) => {
        const col = keyColumn(this.t, this.x, r, o.expr);
        if (col === undefined)
          refuse(`ORDER BY ${t.text(o.expr)}: after an aggregation over several shards, a composite can only order by the returned columns.`);
        return { col, desc: o.desc };
      });
      if (rKeys.length > 0) pipeline.push({ op: 'sort', order: rKeys });
      pipeline.push(...this.slice(r));
    } else {
      const rk = (j: number) => `__n4gw_rk${j}`;
      const { hidden: rHidden, keys: rKeys } = this.keys(r, rc, rk, !r.distinct);
      tail = `WITH *, ${r.items.map((it, i) => `${it.text} AS ${rc(i)}`).join(', ')}`;
      out.push(...r.items.map((_, i) => rc(i)), ...rHidden);
      const base = out.length;
      out.push(...carried, ...dedupe);
      outNames.push(
        ...r.items.map((_, i) => rc(i)),
        ...rHidden.map((_, j) => rk(j)),
        ...carried,
        ...m.items.filter(() => dedupe.length > 0).map((it) => it.name),
      );
      this.mergeStages(
        pipeline,
        mKeys.map((k, j) => ({ col: base + j, desc: k.desc })),
        dedupe.map((_, d) => base + carried.length + d),
        m,
      );
      if (r.distinct) pipeline.push({ op: 'distinct', cols: r.items.map((_, i) => i) });
      if (rKeys.length > 0) pipeline.push({ op: 'sort', order: rKeys });
      pipeline.push(...this.slice(r));
      pipeline.push({ op: 'project', cols: r.items.map((_, i) => i) });
    }
    const orderAgain = carried.length > 0 ? ` ORDER BY ${mKeys.map((k, j) => `${carried[j]}${k.desc ? ' DESC' : ''}`).join(', ')}` : '';
    const shardText = `${first} ${second} ${tail} RETURN ${out.join(', ')}${orderAgain}`;
    return {
      edits: [
        [ms, me, shardText],
        [rs, re, ''],
      ],
      extra: this.extra,
      pipeline,
      columns,
      shardColumns: outNames,
    };
  }

  /** m's own merge on the gateway: k-way merge by its keys, de-duplication, its SKIP/LIMIT */
  private mergeStages(pipeline: Stage[], keys: SortKey[], dedupeCols: number[], m: Projection): void {
    pipeline[0] = { op: 'merge', order: keys };
    if (dedupeCols.length > 0) pipeline.push({ op: 'distinct', cols: dedupeCols });
    pipeline.push(...this.slice(m));
  }

  /**
   * m aggregates rows of several shards: the shards aggregate their own rows, the gateway
   * combines, and the final RETURN must then be something the gateway evaluates itself: columns
   * of m, aggregates over columns of m, ORDER BY columns, DISTINCT, SKIP, LIMIT.
   */
  private afterGatewayAggregation(m: Projection, r: Projection, mRange: [number, number], rRange: [number, number], columns: string[]): FinalPlan {
    const t = this.t;
    const plan = this.gatewayAggregation(
      m,
      mRange,
      m.items.map((i) => i.name),
    );
    const colOf = (e: ParseNode | undefined, what: string): number => {
      const v = e ? t.only(e, 'variable') : undefined;
      const i = v ? m.items.findIndex((it) => it.name === this.x.varName(v)) : -1;
      if (i < 0) {
        refuse(
          `${what}: after an aggregation over several shards (WITH ${t.text(m.body).slice(0, 60)}), a composite's RETURN can only return those columns or aggregate them as they are; compute expressions in the client, or use USE ${this.composite}.<shard>.`,
          Codes.FederationNotSupported,
        );
      }
      return i;
    };
    const pipeline = plan.pipeline;
    if (r.aggregating) {
      const { groups, aggs } = aggregateItems(this.t, r, this.composite);
      const keyCols = groups.map((i) => colOf(r.items[i]!.expr, r.items[i]!.text));
      const aggPlans: AggregatePlan[] = aggs.map((a) => ({
        mode: 'raw',
        fn: a.fn,
        distinct: a.distinct,
        col: a.star ? undefined : colOf(a.arg, t.text(a.arg!)),
        ...(a.percentile ? { percentile: valueSource(this.t, a.percentile, a.fn) } : {}),
      }));
      const itemOrder = r.items.map((_, i) => (groups.includes(i) ? groups.indexOf(i) : groups.length + aggs.findIndex((a) => a.item === i)));
      pipeline.push({ op: 'aggregate', keys: keyCols, aggregates: aggPlans }, { op: 'project', cols: itemOrder });
    } else {
      pipeline.push({ op: 'project', cols: r.items.map((it) => colOf(it.expr, it.text)) });
      if (r.distinct) pipeline.push({ op: 'distinct' });
    }
    const rKeys = r.order.map((o) => {
      const col = keyColumn(this.t, this.x, r, o.expr);
      if (col === undefined)
        refuse(`ORDER BY ${t.text(o.expr)}: after an aggregation over several shards, a composite can only order by the returned columns.`);
      return { col, desc: o.desc };
    });
    if (rKeys.length > 0) pipeline.push({ op: 'sort', order: rKeys });
    pipeline.push(...this.slice(r));
    return { edits: [...plan.edits, [rRange[0], rRange[1], '']], extra: this.extra, pipeline, columns, shardColumns: plan.shardColumns };
  }
}
