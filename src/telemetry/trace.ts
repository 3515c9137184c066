/**
 * Request identity and spans. Every request carries an `x-request-id` (the client's, when it is a
 * sane token, else a new one) and a W3C trace context (the client's `traceparent`, else a new
 * trace); both are echoed in the response and sent to Neo4j as transaction metadata. Spans go
 * through @opentelemetry/api: they cost nothing unless the runtime registers a tracer (Node: an
 * OTLP/HTTP exporter by configuration).
 */
import { context, type Context as OtelContext, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';

export { SpanKind };
export type { Span };

const TRACER_NAME = 'neo4j-edge-gateway';

/** a request id from a client is kept when it is a short printable token; anything else is replaced */
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

export interface TraceContext {
  traceId: string;
  /** the span this request hangs under (the caller's), or a fresh one when the trace starts here */
  spanId: string;
  sampled: boolean;
}

/** 32 random hex digits (a UUID's: crypto.randomUUID draws from a cached entropy pool, far cheaper per call than getRandomValues) */
function randomTraceId(): string {
  return crypto.randomUUID().replace(/-/g, '');
}

/** 16 random hex digits (never all zero: a UUID's version digit is 4) */
function randomSpanId(): string {
  const u = crypto.randomUUID();
  return u.slice(0, 8) + u.slice(9, 13) + u.slice(14, 18);
}

export function requestIdFrom(header: string | undefined): string {
  return header !== undefined && REQUEST_ID.test(header) ? header : crypto.randomUUID();
}

/** the caller's trace context (W3C Trace Context, version 00 and forward-compatible versions), or undefined */
export function parseTraceparent(header: string | undefined): TraceContext | undefined {
  if (header === undefined) return undefined;
  const m = TRACEPARENT.exec(header.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

export function formatTraceparent(t: TraceContext): string {
  return `00-${t.traceId}-${t.spanId}-${t.sampled ? '01' : '00'}`;
}

/** the request's trace context: the caller's, or a new trace */
export function traceFrom(header: string | undefined): TraceContext {
  return parseTraceparent(header) ?? { traceId: randomTraceId(), spanId: randomSpanId(), sampled: false };
}

function tracer() {
  return trace.getTracer(TRACER_NAME);
}

/**
 * Starts the request's server span under the caller's trace. The returned trace context is what
 * the response and Neo4j see: the gateway's span when a tracer records it, else the caller's.
 */
export function startRequestSpan(
  name: string,
  parent: TraceContext,
  attributes: Record<string, string | number>,
): { span: Span; ctx: OtelContext; trace: TraceContext } {
  const parentCtx = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: parent.traceId,
    spanId: parent.spanId,
    traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  });
  const span = tracer().startSpan(name, { kind: SpanKind.SERVER, attributes }, parentCtx);
  const ctx = trace.setSpan(parentCtx, span);
  const sc = span.spanContext();
  const own = span.isRecording() && sc.traceId === parent.traceId;
  return { span, ctx, trace: own ? { traceId: sc.traceId, spanId: sc.spanId, sampled: (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED } : parent };
}

/** runs `fn` with `ctx` as the active context (child spans hang under it where the runtime keeps contexts) */
export function withContext<T>(ctx: OtelContext, fn: () => T): T {
  return context.with(ctx, fn);
}

/** runs `fn` in a child span of the active one; the span ends with `fn`, marked as an error if it throws */
export async function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Record<string, string | number | boolean>,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes }, context.active());
  // nothing records it (no tracer registered, or not sampled): no context to carry for children
  if (!span.isRecording()) return fn(span);
  try {
    return await context.with(trace.setSpan(context.active(), span), () => fn(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as { code?: string }).code ?? (err as Error).message });
    throw err;
  } finally {
    span.end();
  }
}

export function endSpan(span: Span, status: number, errorCode: string | undefined): void {
  span.setAttribute('http.response.status_code', status);
  if (errorCode !== undefined) span.setAttribute('neo4j.error.code', errorCode);
  if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: errorCode ?? String(status) });
  span.end();
}
