/**
 * The Worker build's stand-in for rxjs (wrangler.toml [alias] maps "rxjs" and "rxjs/operators"
 * here). neo4j-driver imports rxjs only for its reactive API (session-rx, result-rx,
 * transaction-rx, retry-logic-rx), which the gateway never calls; bundling rxjs cost the Worker
 * about 160 KiB (30 KiB gzipped). Each name the driver imports is here and fails loudly if it is
 * ever reached, so a future use cannot go unnoticed.
 */
function absent(name: string): never {
  throw new Error(`rxjs.${name} is not in the Worker build (src/adapters/worker/no-rxjs.ts): the gateway does not use the driver's reactive API`);
}
const fn =
  (name: string) =>
  (..._args: unknown[]): never =>
    absent(name);
const cls = (name: string) =>
  class {
    constructor() {
      absent(name);
    }
  };

export const Observable = cls('Observable');
export const Subject = cls('Subject');
export const ReplaySubject = cls('ReplaySubject');
export const defer = fn('defer');
export const from = fn('from');
export const of = fn('of');
export const throwError = fn('throwError');
// rxjs/operators
export const catchError = fn('catchError');
export const concatWith = fn('concatWith');
export const delay = fn('delay');
export const mergeMap = fn('mergeMap');
export const publishReplay = fn('publishReplay');
export const refCount = fn('refCount');
export const retryWhen = fn('retryWhen');
