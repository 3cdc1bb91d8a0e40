import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per server instance, so tests can run several servers in one
 * process without metric name clashes. Names are part of the contract with
 * the autoscaler and dashboards: change them only with those.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'modelship_http_requests_total',
    help: 'HTTP requests answered, by route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'modelship_http_request_duration_seconds',
    help: 'HTTP request latency from arrival to response, by route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly inFlight = new Gauge({
    name: 'modelship_inference_requests_in_flight',
    help: 'Inference requests accepted and not yet answered (queued or running)',
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'modelship_inference_queue_depth',
    help: 'Inference requests waiting in the batch queue for a session run',
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'modelship_inference_batch_size',
    help: 'Rows per ONNX Runtime session run (its _count is the number of runs)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512],
    registers: [this.registry],
  });

  readonly inferenceDuration = new Histogram({
    name: 'modelship_inference_duration_seconds',
    help: 'Time spent in one ONNX Runtime session run',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly queueWait = new Histogram({
    name: 'modelship_inference_queue_wait_seconds',
    help: 'Time an inference request waited in the queue before its batch started',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: 'modelship_inference_rejected_total',
    help: 'Inference requests turned away with 503, by reason (queue_full, draining, not_ready)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly ready = new Gauge({
    name: 'modelship_model_ready',
    help: '1 when the model is loaded, warmed up and the server is not draining',
    registers: [this.registry],
  });

  constructor(defaultMetrics = true) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
