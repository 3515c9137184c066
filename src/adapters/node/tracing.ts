/**
 * Optional span export on Node: with observability.otlpEndpoint (or the standard
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT variables), a tracer provider
 * is registered for the process that sends the gateway's spans to that collector by OTLP/HTTP
 * (JSON), in batches. Without one, no tracer is registered and spans cost nothing.
 */
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
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

let registered: NodeTracerProvider | undefined;

/** Registers the process's tracer provider (once per process; later calls reuse it). */
export function startTracing(url: string, serviceName: string): Tracing {
  if (!registered) {
    const provider = new NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': serviceName, 'service.version': GATEWAY_VERSION }),
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 500 })],
    });
    provider.register();
    registered = provider;
  }
  const provider = registered;
  return {
    async shutdown() {
      await provider.forceFlush();
    },
  };
}
