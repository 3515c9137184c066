/**
 * The Node adapter's heap policy (adapters/node/heap-policy.ts): GATEWAY_HEAP_GROWING_PERCENT is an
 * integer from 0 to 1000 (default 50); anything else stops the gateway with a clear message.
 */
import { describe, expect, it } from 'vitest';
import { applyHeapPolicy, DEFAULT_HEAP_GROWING_PERCENT } from '../../src/adapters/node/heap-policy.js';

describe('heap policy', () => {
  it.each([
    [undefined, DEFAULT_HEAP_GROWING_PERCENT],
    ['', DEFAULT_HEAP_GROWING_PERCENT],
    ['0', 0],
    ['100', 100],
    ['1000', 1000],
  ])('GATEWAY_HEAP_GROWING_PERCENT=%j applies %i', (raw, percent) => {
    expect(applyHeapPolicy({ GATEWAY_HEAP_GROWING_PERCENT: raw })).toEqual({ percent });
  });

  it.each(['-1', '1001', '1.5', 'fifty', '0x10 '])('GATEWAY_HEAP_GROWING_PERCENT=%j is refused with a message naming it', (raw) => {
    const out = applyHeapPolicy({ GATEWAY_HEAP_GROWING_PERCENT: raw });
    expect(out).toHaveProperty('problem');
    expect((out as { problem: string }).problem).toMatch(/GATEWAY_HEAP_GROWING_PERCENT/);
  });
});
