/**
 * Log lines to stdout, batched: lines written in one turn of the event loop go out in one write
 * (a write per line cost several percent of the gateway's CPU under load). Lines still pending when
 * the process exits are written synchronously, so none is lost.
 */
import { writeSync } from 'node:fs';

/** flush at once past this many pending characters */
const MAX_PENDING = 64 * 1024;

let pending: string[] = [];
let size = 0;
let scheduled = false;
let hooked = false;

function flush(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const text = pending.join('\n') + '\n';
  pending = [];
  size = 0;
  process.stdout.write(text);
}

/** writes one line (without its newline) to stdout, batched with the others of this turn */
export function writeStdoutLine(line: string): void {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      if (pending.length > 0) writeSync(1, pending.join('\n') + '\n');
    });
  }
  pending.push(line);
  size += line.length;
  if (size > MAX_PENDING) flush();
  else if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}
