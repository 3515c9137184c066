import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { GATEWAY_VERSION } from '../../src/config/version.js';

it('the gateway reports the version package.json declares', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(GATEWAY_VERSION).toBe(pkg.version);
});
