import { resolve } from 'node:path';
import { z } from 'zod';
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
  DEVICE: z.enum(['auto', 'cpu', 'cuda']).default('auto'),
  CUDA_DEVICE_ID: int(0, 64).default(0),
  ORT_INTRA_OP_THREADS: int(0, 1024).default(0),
  ORT_INTER_OP_THREADS: int(0, 1024).default(1),
  MAX_BATCH_SIZE: int(1, 4096).default(64),
  // 0 = greedy, Triton's default: an idle model runs at once and whatever arrives during a run forms the next batch.
  MAX_QUEUE_DELAY_MS: z.coerce.number().min(0).max(10_000).default(0),
  MAX_QUEUE_SIZE: int(1, 1_000_000).default(256),
  MAX_BODY_BYTES: int(1024, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  DRAIN_TIMEOUT_MS: int(0, 3_600_000).default(25_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  modelPath: string;
  modelName: string;
  modelVersion: string;
  host: string;
  port: number;
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
  maxBodyBytes: number;
  /** Bound on the SIGTERM drain; after it the process exits regardless. */
  drainTimeoutMs: number;
  logLevel: string;
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
  return {
    modelPath: resolve(e.MODEL_PATH),
    modelName: e.MODEL_NAME,
    modelVersion: e.MODEL_VERSION,
    host: e.HOST,
    port: e.PORT,
    device: e.DEVICE,
    cudaDeviceId: e.CUDA_DEVICE_ID,
    intraOpThreads: e.ORT_INTRA_OP_THREADS,
    interOpThreads: e.ORT_INTER_OP_THREADS,
    maxBatchSize: e.MAX_BATCH_SIZE,
    maxQueueDelayMs: e.MAX_QUEUE_DELAY_MS,
    maxQueueSize: e.MAX_QUEUE_SIZE,
    maxBodyBytes: e.MAX_BODY_BYTES,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    logLevel: e.LOG_LEVEL,
  };
}
