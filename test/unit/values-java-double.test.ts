/**
 * Java's Double.toString / Float.toString (JDK 17, what Neo4j 5.26 prints) against the JVM's own
 * output: test/unit/data/java-double-cases.txt was printed by a JDK 17 for random IEEE bit
 * patterns, including 400 doubles where JDK 17's digits differ from the shortest ones.
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { javaDoubleToString, javaFloatToString } from '../../src/values/java-double.js';

const cases = readFileSync(new URL('./data/java-double-cases.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l !== '' && !l.startsWith('#'))
  .map((l) => l.split(' ') as [string, string, string]);

const dv = new DataView(new ArrayBuffer(8));
function doubleOf(hex: string): number {
  dv.setBigUint64(0, BigInt(`0x${hex}`));
  return dv.getFloat64(0);
}
function floatOf(hex: string): number {
  dv.setUint32(0, Number.parseInt(hex, 16));
  return dv.getFloat32(0);
}

describe('JDK 17 Double.toString / Float.toString', () => {
  it('prints what the JVM printed, for every recorded case', () => {
    const wrong = cases.filter(([kind, hex, text]) => (kind === 'd' ? javaDoubleToString(doubleOf(hex)) : javaFloatToString(floatOf(hex))) !== text);
    expect(wrong).toEqual([]);
    expect(cases.length).toBeGreaterThan(1400);
  });

  it.each([
    [1e23, '9.999999999999999E22'],
    [2.82879384806159e17, '2.82879384806159008E17'],
    [5e-324, '4.9E-324'],
    [1, '1.0'],
    [-0, '-0.0'],
    [0.001, '0.001'],
    [0.0001, '1.0E-4'],
    [1e7, '1.0E7'],
    [9999999, '9999999.0'],
    [Number.NaN, 'NaN'],
    [Infinity, 'Infinity'],
    [-Infinity, '-Infinity'],
  ])('%s -> %s', (d, text) => {
    expect(javaDoubleToString(d)).toBe(text);
  });

  it('always reads back to the same double', () => {
    fc.assert(
      fc.property(fc.double(), (d) => {
        const back = Number(javaDoubleToString(d));
        expect(Object.is(back, d) || (Number.isNaN(back) && Number.isNaN(d))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('always reads back to the same float', () => {
    fc.assert(
      fc.property(fc.float(), (f) => {
        const back = Math.fround(Number(javaFloatToString(f)));
        expect(Object.is(back, f) || (Number.isNaN(back) && Number.isNaN(f))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
