/**
 * Log lines on stdout (adapters/node/stdout-lines.ts), batched for up to 10 ms: in a child Node
 * process, every line comes out, in order, while the process lives, when it exits on its own (the
 * pending flush does not keep it alive) and when it calls process.exit with lines still pending.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const MODULE = path.resolve(import.meta.dirname, '../../src/adapters/node/stdout-lines.ts');

/** runs `body` (ESM, `writeStdoutLine` in scope) in a child; `onLine` sees each stdout line as it arrives */
function child(body: string, onLine?: (line: string, stdin: NodeJS.WritableStream) => void): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { writeStdoutLine } from ${JSON.stringify(MODULE)};\n${body}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines: string[] = [];
    let buf = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const l of parts) {
        lines.push(l);
        onLine?.(l, p.stdin);
      }
    });
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, lines }));
  });
}

describe('stdout log lines', () => {
  it('reach stdout while the process lives, in order', async () => {
    // the child stays until its stdin closes, which happens only once both lines have arrived
    const out = await child(
      `writeStdoutLine('first'); writeStdoutLine('second'); const keep = setInterval(() => {}, 1000); process.stdin.on('end', () => clearInterval(keep)); process.stdin.resume();`,
      (line, stdin) => {
        if (line === 'second') stdin.end();
      },
    );
    expect(out.lines).toEqual(['first', 'second']);
    expect(out.code).toBe(0);
  });

  it('are all written when the process ends on its own or calls process.exit with lines pending', async () => {
    const lines = Array.from({ length: 500 }, (_, i) => `line ${i}`);
    const write = `for (let i = 0; i < 500; i++) writeStdoutLine('line ' + i);`;
    expect((await child(write)).lines).toEqual(lines);
    expect((await child(`${write} process.exit(3);`)).lines).toEqual(lines);
  });
});
