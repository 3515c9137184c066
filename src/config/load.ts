import type * as z from 'zod';
import { TopologySchema, type Topology } from './schema.js';

/** A configuration that cannot be used; `problems` has one line per problem, each naming its JSON path. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid gateway configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** Renders a zod issue path as a JSON path: $.clusters["c-us"].routers[0] */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '$';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (typeof seg === 'string' && /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(seg)) out += `.${seg}`;
    else out += `[${JSON.stringify(String(seg))}]`;
  }
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string[] {
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // report the branch that got furthest rather than "invalid input"
    const best = issue.errors.reduce((a, b) => (a.length <= b.length ? a : b));
    return best.flatMap((sub) => describeIssue({ ...sub, path: [...issue.path, ...sub.path] } as z.core.$ZodIssue));
  }
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((k) => `${jsonPath([...issue.path, k])}: unknown field`);
  }
  return [`${jsonPath(issue.path)}: ${issue.message}`];
}

/** Parses and validates a topology (already JSON-decoded). Throws ConfigError listing every problem. */
export function parseTopology(input: unknown): Topology {
  const result = TopologySchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.flatMap(describeIssue));
}

/** Parses topology JSON text. */
export function parseTopologyText(text: string, source = 'topology'): Topology {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    // the parser's message may quote the text, and the text may hold a secret (a Redis URL with a password): say where, never what
    const at = /at position (\d+)/.exec((err as Error).message);
    let where = '';
    if (at) {
      const before = text.slice(0, Number(at[1]));
      const line = before.split('\n').length;
      where = ` at line ${line}, column ${before.length - before.lastIndexOf('\n')}`;
    }
    throw new ConfigError([`$: ${source} is not valid JSON${where}`]);
  }
  return parseTopology(json);
}

/** Resolves every secret the topology names through `env`; throws ConfigError naming the missing variables (never values). */
export function resolveSecrets(topology: Topology, env: (name: string) => string | undefined): Map<string, string> {
  const passwords = new Map<string, string>();
  const problems: string[] = [];
  for (const [name, cluster] of Object.entries(topology.clusters)) {
    const value = env(cluster.auth.passwordEnv);
    if (value === undefined || value === '') {
      problems.push(`${jsonPath(['clusters', name, 'auth', 'passwordEnv'])}: environment variable ${cluster.auth.passwordEnv} is not set`);
    } else {
      passwords.set(name, value);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return passwords;
}

export { TopologySchema };
export type { Topology };
