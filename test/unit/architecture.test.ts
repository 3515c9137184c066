/**
 * The shape of src/ (docs/ARCHITECTURE.md): the layers import downwards only, enforced by the
 * lint rules (probed here with imports that break the direction), and no module imports itself
 * back through others (no import cycle), checked on the real import graph.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
/** the layers as the lint rules know them (eslint.config.js), lowest first */
const { LAYERS } = (await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href)) as { LAYERS: string[] };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** file -> the files of src/ it imports (relative imports, types included: a type cycle is still a cycle of concepts) */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => resolve(dirname(file), spec).replace(/\.m?js$/, '.ts'))
      .filter((target) => target.startsWith(SRC) && !target.includes('/dist/'));
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** strongly connected components with more than one file, or a file importing itself (Tarjan) */
function cycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    indices.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, indices.get(w)!));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.map((f) => relative(ROOT, f)).sort());
    }
  };
  for (const v of graph.keys()) if (!indices.has(v)) visit(v);
  return found;
}

describe('architecture', () => {
  it('src/ has no import cycle', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(50);
    expect(cycles(graph)).toEqual([]);
  });

  it('the cycle check finds a cycle when there is one', () => {
    const graph = new Map([
      ['/a.ts', ['/b.ts']],
      ['/b.ts', ['/c.ts']],
      ['/c.ts', ['/a.ts']],
      ['/d.ts', ['/a.ts']],
    ]);
    expect(cycles(graph).map((c) => c.length)).toEqual([3]);
  });

  it('every folder of src/ is a layer', () => {
    const folders = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory() && name !== 'types');
    expect(folders.sort()).toEqual([...LAYERS].sort());
  });

  // a probe file in each layer importing the layer just above it must fail the lint; importing the one below must pass
  const eslint = new ESLint({ cwd: ROOT });
  const probe = async (layer: string, target: string) => {
    const [result] = await eslint.lintText(`import { x } from '../${target}/probe.js';\nexport const y = x;\n`, {
      filePath: join(SRC, layer, 'layer-probe.ts'),
    });
    return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  };

  it.each(LAYERS.slice(0, -1).map((layer, i) => [layer, LAYERS[i + 1]!]))('src/%s may not import from src/%s', async (layer, above) => {
    const messages = await probe(layer, above);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`src/${layer}/ sits below`);
  });

  it.each(LAYERS.slice(1).map((layer, i) => [layer, LAYERS[i]!]))('src/%s may import from src/%s', async (layer, below) => {
    expect(await probe(layer, below)).toEqual([]);
  });

  it('Node built-ins stay in src/adapters/node/', async () => {
    const [result] = await eslint.lintText(`import { readFileSync } from 'node:fs';\nexport const y = readFileSync;\n`, {
      filePath: join(SRC, 'routing', 'layer-probe.ts'),
    });
    expect(result!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    // the Worker adapter too: it reaches AsyncLocalStorage through src/adapters/node/async-scope.ts
    const [worker] = await eslint.lintText(`import { AsyncLocalStorage } from 'node:async_hooks';\nexport const y = AsyncLocalStorage;\n`, {
      filePath: join(SRC, 'adapters', 'worker', 'layer-probe.ts'),
    });
    expect(worker!.messages.map((m) => m.ruleId)).toContain('no-restricted-imports');
    const [node] = await eslint.lintText(`import { AsyncLocalStorage } from 'node:async_hooks';\nexport const y = AsyncLocalStorage;\n`, {
      filePath: join(SRC, 'adapters', 'node', 'layer-probe.ts'),
    });
    expect(node!.messages.filter((m) => m.ruleId === 'no-restricted-imports')).toEqual([]);
  });
});
