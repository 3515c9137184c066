/**
 * The result budget and the Bolt transport's size estimate of driver values (typedJsonSize):
 * close to the typed JSON bolt-values makes, cheap, stopping as soon as the budget is passed,
 * and checking the clock on huge values. Values are real neo4j-driver objects.
 */
import neo4j, { Date as NeoDate, DateTime, Duration, Node, Path, PathSegment, Point, Relationship } from 'neo4j-driver';
import { describe, expect, it } from 'vitest';
import { ResultBudget } from '../../src/limits/result-budget.js';
import { fromDriver } from '../../src/transport/bolt-values.js';
import { typedJsonSize } from '../../src/transport/bolt-collect.js';

const actual = (v: unknown) => new TextEncoder().encode(JSON.stringify(fromDriver(v))).length;

const alice = new Node(neo4j.int(1), ['Person', 'Admin'], { name: 'Alice', age: neo4j.int(42), tags: ['a', 'b'] }, '4:abc:1');
const bob = new Node(neo4j.int(2), ['Person'], { name: 'Bob' }, '4:abc:2');
const knows = new Relationship(neo4j.int(7), neo4j.int(1), neo4j.int(2), 'KNOWS', { since: neo4j.int(2020) }, '5:abc:7', '4:abc:1', '4:abc:2');

const samples: [string, unknown][] = [
  ['null', null],
  ['boolean', true],
  ['small integer', neo4j.int(5)],
  ['large integer', neo4j.int('9007199254740993')],
  ['negative integer', neo4j.int(-123456)],
  ['float', 3.141592653589793],
  ['string', 'hello world'],
  ['list of integers', Array.from({ length: 1000 }, (_, i) => neo4j.int(i))],
  ['list of strings', Array.from({ length: 200 }, () => 'abcdefghijklmnopqrstuvwxyz')],
  ['map', { a: neo4j.int(1), b: 'two', c: [true, false, null], d: { e: 1.5 } }],
  ['bytes', new Int8Array(300)],
  ['node', alice],
  ['relationship', knows],
  ['path', new Path(alice, bob, [new PathSegment(alice, knows, bob)])],
  ['date', new NeoDate(2024, 2, 29)],
  ['datetime', new DateTime(2024, 2, 29, 12, 30, 0, 0, 3600)],
  ['duration', new Duration(1, 2, 3, 4)],
  ['point', new Point(4326, 12.5, 55.7)],
  ['nested lists', [[[neo4j.int(1)], [neo4j.int(2)]], [[neo4j.int(3)]]]],
];

describe('typedJsonSize', () => {
  it.each(samples)('estimates %s within a factor of 1.6 of its typed JSON', (_name, value) => {
    const est = typedJsonSize(value, Number.POSITIVE_INFINITY);
    const real = actual(value);
    expect(est).toBeGreaterThanOrEqual(real / 1.6);
    expect(est).toBeLessThanOrEqual(real * 1.6);
  });

  it('stops as soon as the limit is passed: a 10-million-item list costs what the limit allows', () => {
    const huge = Array.from({ length: 10_000_000 }, (_, i) => i);
    const t0 = performance.now();
    const est = typedJsonSize(huge, 1_000_000);
    const ms = performance.now() - t0;
    expect(est).toBeGreaterThan(1_000_000);
    // ~30 000 items priced, not 10 million (generous bound for a loaded machine)
    expect(ms).toBeLessThan(200);
  });

  it('checks the clock on a value that fits the limit but takes long to walk', () => {
    let clock = 0;
    const now = () => (clock += 1); // every look at the clock advances it 1 ms
    const big = Array.from({ length: 100_000 }, (_, i) => [i]);
    expect(() => typedJsonSize(big, Number.POSITIVE_INFINITY, 5, now)).toThrow(
      expect.objectContaining({ code: 'Neo.TransientError.Gateway.DeadlineExceeded' }),
    );
    // no deadline: walked to the end
    expect(typedJsonSize(big, Number.POSITIVE_INFINITY)).toBeGreaterThan(100_000 * 28);
  });

  it('walks deep nesting without recursion', () => {
    let deep: unknown = neo4j.int(1);
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expect(typedJsonSize(deep, Number.POSITIVE_INFINITY)).toBeGreaterThan(200_000 * 28);
  });
});

describe('ResultBudget', () => {
  it('charges bytes and reports when the limit is passed', () => {
    const b = new ResultBudget({ maxBytes: 100 });
    expect(b.charge(60)).toBe(true);
    expect(b.remaining).toBe(40);
    expect(b.charge(40)).toBe(true);
    expect(b.charge(1)).toBe(false);
    const err = b.tooLarge();
    expect(err.code).toBe('Neo.ClientError.Gateway.ResultTooLarge');
    expect(err.status).toBe(400);
    expect(err.message).toContain('100 bytes');
  });

  it('knows its deadline', () => {
    let t = 0;
    const b = new ResultBudget({ maxBytes: 1, deadline: 10, now: () => t });
    expect(b.expired()).toBe(false);
    t = 11;
    expect(b.expired()).toBe(true);
    expect(new ResultBudget({ maxBytes: 1 }).expired()).toBe(false);
  });
});
