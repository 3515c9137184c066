/**
 * Structured logs: one line per event, JSON by default (`{"time","level","msg",...fields}`), or a
 * short human line (`pretty`) for a terminal. The runtime supplies where lines go (Node: stdout;
 * Workers: console, which `wrangler tail` shows). Callers choose the fields; nothing here adds a
 * secret, a key or a parameter value, and the gateway's callers never pass one unless
 * `observability.logParameters` says so.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'pretty';
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  enabled(level: LogLevel): boolean;
  log(level: LogLevel, msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** where a finished line goes */
  write: (line: string, level: LogLevel) => void;
  now?: () => number;
}

/** an error as log fields: its name, code, message and stack (and its cause's), for logs only */
export function errorFields(err: unknown, depth = 0): LogFields {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: LogFields = { name: err.name, message: err.message };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (err.stack) out.stack = err.stack;
  if (err.cause !== undefined && depth < 3) out.cause = errorFields(err.cause, depth + 1);
  return out;
}

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return errorFields(value);
  return value;
}

/** one JSON line; the replacer (BigInt) only when a plain stringify cannot write the fields */
function jsonLine(time: number, level: LogLevel, msg: string, fields: LogFields): string {
  const record: LogFields = { time: new Date(time).toISOString(), level, msg };
  for (const k in fields) {
    const v = fields[k];
    record[k] = v instanceof Error ? errorFields(v) : v;
  }
  try {
    return JSON.stringify(record);
  } catch {
    return JSON.stringify(record, replacer);
  }
}

function prettyValue(v: unknown): string {
  if (typeof v === 'string') return /^[\w.:/@-]*$/.test(v) && v !== '' ? v : JSON.stringify(v);
  return JSON.stringify(v, replacer) ?? 'undefined';
}

function prettyLine(time: number, level: LogLevel, msg: string, fields: LogFields): string {
  const clock = new Date(time).toISOString().slice(11, 23);
  const { stack: ownStack, ...rest } = fields;
  const stack = ownStack ?? (rest.error as { stack?: unknown } | undefined)?.stack;
  if (rest.error && typeof rest.error === 'object') rest.error = { ...(rest.error as object), stack: undefined };
  const kv = Object.entries(rest)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${prettyValue(v)}`)
    .join(' ');
  const line = `${clock} ${level.toUpperCase().padEnd(5)} ${msg}${kv ? ' ' + kv : ''}`;
  return typeof stack === 'string' ? `${line}\n${stack}` : line;
}

export function createLogger(options: LoggerOptions): Logger {
  const min = RANK[options.level ?? 'info'];
  const format = options.format ?? 'json';
  const now = options.now ?? Date.now;
  const enabled = (level: LogLevel) => RANK[level] >= min;
  const log = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (!enabled(level)) return;
    const time = now();
    let line: string;
    try {
      line = format === 'pretty' ? prettyLine(time, level, msg, fields) : jsonLine(time, level, msg, fields);
    } catch (err) {
      // a field that cannot be written (a cycle) must not lose the event
      line = JSON.stringify({ time: new Date(time).toISOString(), level, msg, logError: (err as Error).message });
    }
    options.write(line, level);
  };
  return {
    enabled,
    log,
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}

/** writes nothing (tests, embedders that log elsewhere) */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => undefined });
