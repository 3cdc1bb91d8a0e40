import { resolve } from 'node:path';
import { z } from 'zod';
import { BODY_MEMORY_FACTOR } from './admission';
import { DEMO_MODEL_PATH } from './paths';

export { DEMO_MODEL_PATH };

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

// Empty strings count as unset: Kubernetes and compose files often render
// optional variables as "" and that should mean "use the default".
const envSchema = z.object({
  MODEL_PATH: z.string().min(1).default(DEMO_MODEL_PATH),
  MODEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be 1-128 characters of letters, digits, "_", "." or "-"')
    .default('demo'),
  MODEL_VERSION: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of letters, digits, "_", "." or "-"')
    .default('1'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: int(0, 65535).default(8080),
  // Unset: /metrics is served on PORT. Set: only on this port, so a NetworkPolicy can admit the scraper alone to it.
  METRICS_PORT: int(1, 65535).optional(),
  DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  CUDA_DEVICE_ID: int(0, 64).default(0),
  ORT_INTRA_OP_THREADS: int(0, 1024).default(0),
  ORT_INTER_OP_THREADS: int(0, 1024).default(1),
  MAX_BATCH_SIZE: int(1, 4096).default(64),
  // 0 = greedy, Triton's default: an idle model runs at once and whatever arrives during a run forms the next batch.
  MAX_QUEUE_DELAY_MS: z.coerce.number().min(0).max(10_000).default(0),
  MAX_QUEUE_SIZE: int(1, 1_000_000).default(256),
  // Unset: derived from MAX_BATCH_SIZE in `defaults` below.
  MAX_REQUEST_ROWS: int(1, 1_000_000).optional(),
  MAX_QUEUE_ROWS: int(1, 10_000_000).optional(),
  // 0 = off: the queue is bounded by MAX_QUEUE_ROWS (and MAX_QUEUE_SIZE) only.
  MAX_QUEUE_WAIT_MS: int(0, 600_000).default(0),
  MAX_BODY_BYTES: int(1024, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  BODY_BUDGET_BYTES: int(8 * 1024, 64 * 1024 * 1024 * 1024).default(128 * 1024 * 1024),
  REQUEST_TIMEOUT_MS: int(100, 3_600_000).default(30_000),
  HEADERS_TIMEOUT_MS: int(100, 3_600_000).default(10_000),
  // Above AWS ALB's 60 s idle timeout, so the balancer (not the server) closes idle connections: no 502 races.
  KEEP_ALIVE_TIMEOUT_MS: int(100, 3_600_000).default(72_000),
  MAX_CONNECTIONS: int(1, 1_000_000).default(1024),
  DRAIN_TIMEOUT_MS: int(0, 3_600_000).default(25_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REQUEST_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REQUEST_ID_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be an HTTP header name (letters, digits, "-")')
    .transform((h) => h.toLowerCase())
    .default('x-request-id'),
});

/** Defaults that depend on another setting, in one place. */
export const defaults = {
  /** One request may carry at most one full batch. */
  maxRequestRows: (maxBatchSize: number) => maxBatchSize,
  /** Four full batches waiting (and never fewer than 256 rows), so the wait in the queue is a few session runs. */
  maxQueueRows: (maxBatchSize: number) => Math.max(256, 4 * maxBatchSize),
};

export interface Config {
  modelPath: string;
  modelName: string;
  modelVersion: string;
  host: string;
  port: number;
  /** Port of the separate /metrics listener; undefined serves /metrics on `port`. */
  metricsPort: number | undefined;
  device: 'auto' | 'cpu' | 'cuda';
  cudaDeviceId: number;
  /** 0 lets ONNX Runtime pick (one thread per physical core). */
  intraOpThreads: number;
  interOpThreads: number;
  /** Most rows merged into one session.run; 1 turns batching off. */
  maxBatchSize: number;
  /** How long the first queued request may wait for company before its batch runs. */
  maxQueueDelayMs: number;
  /** Requests waiting for a batch; beyond it requests get 503 at once. */
  maxQueueSize: number;
  /** Rows one request may carry, whatever the batch size; beyond it 400. */
  maxRequestRows: number;
  /** Rows waiting for a batch; beyond it 503 at once, so queueing delay stays a few runs long. */
  maxQueueRows: number;
  /** Expected time to answer a new request (queued rows x measured ms per row); beyond it 503 at once. 0 = off. */
  maxQueueWaitMs: number;
  /** Largest request body; 413 beyond it. */
  maxBodyBytes: number;
  /** Memory for request bodies being received, parsed or served at once (BODY_MEMORY_FACTOR x their bytes); beyond it 503 + Retry-After. */
  bodyBudgetBytes: number;
  /** Whole request (headers + body) must arrive within this; 408 and close otherwise. */
  requestTimeoutMs: number;
  /** Request headers must arrive within this. */
  headersTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections; beyond it new connections are closed at once. */
  maxConnections: number;
  /** Bound on the SIGTERM drain; after it the process exits regardless. */
  drainTimeoutMs: number;
  logLevel: string;
  /** Level of the one line logged per request; below LOG_LEVEL it is not written. */
  requestLogLevel: string;
  /** Header a request id is read from (when valid) and echoed in; lower case. */
  requestIdHeader: string;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim();
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}=${JSON.stringify(raw[String(i.path[0])])}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const maxRequestRows = e.MAX_REQUEST_ROWS ?? defaults.maxRequestRows(e.MAX_BATCH_SIZE);
  const maxQueueRows = e.MAX_QUEUE_ROWS ?? defaults.maxQueueRows(e.MAX_BATCH_SIZE);
  const conflicts = [
    maxQueueRows < maxRequestRows &&
      `  MAX_QUEUE_ROWS=${maxQueueRows} is below MAX_REQUEST_ROWS=${maxRequestRows}: a full-size request could never be queued; raise MAX_QUEUE_ROWS`,
    e.BODY_BUDGET_BYTES < BODY_MEMORY_FACTOR * e.MAX_BODY_BYTES &&
      `  BODY_BUDGET_BYTES=${e.BODY_BUDGET_BYTES} is below ${BODY_MEMORY_FACTOR} x MAX_BODY_BYTES=${e.MAX_BODY_BYTES} (a body costs ${BODY_MEMORY_FACTOR}x its size in memory): a full-size body could never be admitted; raise BODY_BUDGET_BYTES`,
    e.METRICS_PORT !== undefined &&
      e.METRICS_PORT === e.PORT &&
      `  METRICS_PORT=${e.METRICS_PORT} is PORT too: give the metrics listener a port of its own, or unset METRICS_PORT to serve /metrics on PORT`,
    e.HEADERS_TIMEOUT_MS > e.REQUEST_TIMEOUT_MS &&
      `  HEADERS_TIMEOUT_MS=${e.HEADERS_TIMEOUT_MS} is above REQUEST_TIMEOUT_MS=${e.REQUEST_TIMEOUT_MS}: the headers are part of the request; lower HEADERS_TIMEOUT_MS`,
  ].filter((c): c is string => typeof c === 'string');
  if (conflicts.length > 0) throw new ConfigError(`invalid configuration:\n${conflicts.join('\n')}`);
  return {
    modelPath: resolve(e.MODEL_PATH),
    modelName: e.MODEL_NAME,
    modelVersion: e.MODEL_VERSION,
    host: e.HOST,
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    device: e.DEVICE,
    cudaDeviceId: e.CUDA_DEVICE_ID,
    intraOpThreads: e.ORT_INTRA_OP_THREADS,
    interOpThreads: e.ORT_INTER_OP_THREADS,
    maxBatchSize: e.MAX_BATCH_SIZE,
    maxQueueDelayMs: e.MAX_QUEUE_DELAY_MS,
    maxQueueSize: e.MAX_QUEUE_SIZE,
    maxRequestRows,
    maxQueueRows,
    maxQueueWaitMs: e.MAX_QUEUE_WAIT_MS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    bodyBudgetBytes: e.BODY_BUDGET_BYTES,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    headersTimeoutMs: e.HEADERS_TIMEOUT_MS,
    keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: e.MAX_CONNECTIONS,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
    requestLogLevel: e.REQUEST_LOG_LEVEL,
    requestIdHeader: e.REQUEST_ID_HEADER,
  };
}
