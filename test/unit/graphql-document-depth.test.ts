/** documentDepth: the nesting of a GraphQL document, before it is parsed (strings, block strings and comments do not nest). */
import fc from 'fast-check';
import { parse, type ASTNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { documentDepth } from '../../src/graphql/document-depth.js';

const CASES: [string, string, number][] = [
  ['empty', '', 0],
  ['one selection set', '{ a }', 1],
  ['nested selections', '{ a { b { c } } }', 3],
  ['arguments and values', '{ a(x: [{ y: [1] }]) }', 5],
  ['braces in a string', '{ a(x: "{{{{[[[(((") }', 2],
  ['escaped quote in a string', '{ a(x: "\\"{{{") }', 2],
  ['braces in a block string', '{ a(x: """ {{{ "" [[[ """) }', 2],
  ['escaped triple quote in a block string', '{ a(x: """ \\""" {{{ """) }', 2],
  ['braces in a comment', '{ a # {{{{ [[[[\n b }', 1],
  ['comment ended by a carriage return', '{ a # {{{{\r{ b } }', 2],
  ['variables and directives', 'query($v: [[Int!]]) { a @include(if: true) { b } }', 3],
  ['unterminated string: no further count', '{ a(x: "{{{', 2],
];

/** the depth graphql-js's own AST gives: selection sets, argument lists, lists and objects */
function astDepth(node: ASTNode): number {
  let deepest = 0;
  const visit = (n: unknown, d: number): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x, d);
      return;
    }
    if (n === null || typeof n !== 'object' || !('kind' in n)) return;
    const o = n as Record<string, unknown> & { kind: string };
    let here = d;
    if (o.kind === 'SelectionSet' || o.kind === 'ListValue' || o.kind === 'ObjectValue') here = d + 1;
    deepest = Math.max(deepest, here);
    if ((o.kind === 'Field' || o.kind === 'Directive') && Array.isArray(o.arguments) && o.arguments.length > 0) deepest = Math.max(deepest, here + 1);
    for (const [k, v] of Object.entries(o)) {
      if (k === 'loc') continue;
      if (k === 'arguments' && Array.isArray(v) && v.length > 0) visit(v, here + 1);
      else visit(v, here);
    }
  };
  visit(node, 0);
  return deepest;
}

describe('documentDepth', () => {
  it.each(CASES)('%s', (_name, doc, depth) => {
    expect(documentDepth(doc)).toBe(depth);
  });

  it('stops counting past the bound', () => {
    const deep = '{ a '.repeat(100_000) + '}'.repeat(100_000);
    expect(documentDepth(deep, 64)).toBe(65);
  });

  it('agrees with the depth of the parsed document for generated selections and arguments', () => {
    const value: fc.Arbitrary<string> = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom('1', '"a{b"', 'true', '"""x[y"""'),
        fc.array(tie('v'), { maxLength: 2 }).map((xs) => `[${xs.join(', ')}]`),
        fc.array(tie('v'), { maxLength: 2 }).map((xs) => `{ ${xs.map((x, i) => `k${i}: ${x}`).join(', ')} }`),
      ),
    })).v;
    const selection: fc.Arbitrary<string> = fc.letrec((tie) => ({
      s: fc.oneof(
        { depthSize: 'small' },
        fc.constant('f'),
        fc
          .tuple(fc.option(value, { nil: undefined }), fc.array(tie('s'), { minLength: 1, maxLength: 3 }))
          .map(([arg, subs]) => `g${arg === undefined ? '' : `(x: ${arg})`} { ${subs.join(' ')} }`),
      ),
    })).s;
    fc.assert(
      fc.property(fc.array(selection, { minLength: 1, maxLength: 3 }), fc.boolean(), (sels, comment) => {
        const doc = `{ ${sels.join(comment ? ' # {[(\n ' : ' ')} }`;
        expect(documentDepth(doc)).toBe(astDepth(parse(doc)));
      }),
      { numRuns: 300 },
    );
  });
});
