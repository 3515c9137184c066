/**
 * Process metrics of the Node runtime, under the names Prometheus' own Node client uses: CPU time,
 * resident memory, start time, V8 heap, and event-loop lag (the mean delay since the last scrape,
 * sampled every 20 ms by perf_hooks).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Registry } from '../../telemetry/registry.js';

export function registerProcessMetrics(registry: Registry): () => void {
  const started = Date.now() / 1000 - process.uptime();
  const lag = monitorEventLoopDelay({ resolution: 20 });
  lag.enable();
  registry.counterFrom('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  });
  registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => [[{}, process.memoryUsage.rss()]]);
  registry.gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', () => [[{}, Math.round(started)]]);
  registry.gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes.', () => [[{}, process.memoryUsage().heapUsed]]);
  registry.gauge('nodejs_heap_size_total_bytes', 'V8 heap allocated, in bytes.', () => [[{}, process.memoryUsage().heapTotal]]);
  registry.gauge('nodejs_eventloop_lag_seconds', 'Mean event-loop delay since the previous scrape, in seconds.', () => {
    const mean = Number.isFinite(lag.mean) ? lag.mean / 1e9 : 0;
    lag.reset();
    return [[{}, mean]];
  });
  return () => lag.disable();
}
