/**
 * Optional span export on Node: with observability.otlpEndpoint (or the standard
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT variables), a tracer provider
 * is registered for the process that sends the gateway's spans to that collector by OTLP/HTTP
 * (JSON), in batches. Without one, no tracer is registered and spans cost nothing, and the
 * OpenTelemetry SDK is not even loaded.
 */
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { GATEWAY_VERSION } from '../../config/version.js';

export interface Tracing {
  /** sends what is buffered and stops */
  shutdown(): Promise<void>;
}

/** the collector URL spans go to, or undefined for none */
export function otlpEndpoint(configured: string | undefined, env: Record<string, string | undefined>): string | undefined {
  if (configured) return configured;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}

let registered: Promise<NodeTracerProvider> | undefined;

async function register(url: string, serviceName: string): Promise<NodeTracerProvider> {
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': GATEWAY_VERSION }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 500 })],
  });
  provider.register();
  return provider;
}

/** Registers the process's tracer provider (once per process; later calls reuse it). */
export async function startTracing(url: string, serviceName: string): Promise<Tracing> {
  registered ??= register(url, serviceName);
  const provider = await registered;
  return {
    async shutdown() {
      await provider.forceFlush();
    },
  };
}
