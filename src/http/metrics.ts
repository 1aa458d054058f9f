import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one app instance (its own registry, so tests can build many apps). */
export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  ordersReceived: Counter<'channel' | 'outcome'>;
}

export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults) collectDefaultMetrics({ register: registry, prefix: 'ordo_' });
  return {
    registry,
    httpDuration: new Histogram({
      name: 'ordo_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    ordersReceived: new Counter({
      name: 'ordo_orders_received_total',
      help: 'Orders posted to the API, by channel and outcome (created, existing, conflict)',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
  };
}
