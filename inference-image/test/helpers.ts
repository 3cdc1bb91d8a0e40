import { existsSync } from 'node:fs';
import pino from 'pino';
import * as ort from 'onnxruntime-node';
import { DEMO_MODEL_PATH, loadConfig, type Config } from '../src/config';
import { loadModel, type Model } from '../src/model';
import { buildServer, type InferenceServer } from '../src/server';

export const FEATURES = 256;
export const CLASSES = 10;
export const silent = pino({ level: 'silent' });

export function requireDemoModel(): void {
  if (!existsSync(DEMO_MODEL_PATH)) throw new Error(`demo model missing at ${DEMO_MODEL_PATH}; run "npm run build" first`);
}

/** Test config: loopback, ephemeral port, one ORT thread so parallel test files do not oversubscribe two cores. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', ORT_INTRA_OP_THREADS: '1', DEVICE: 'cpu', ...env });
}

export async function loadTestModel(config: Config = testConfig()): Promise<Model> {
  requireDemoModel();
  return loadModel(config, silent);
}

export interface Running {
  url: string;
  server: InferenceServer;
  close(): Promise<void>;
}

/** The real server, in-process, listening on 127.0.0.1 with an ephemeral port. */
export async function startServer(model: Model, env: Record<string, string> = {}): Promise<Running> {
  const config = testConfig(env);
  const server = buildServer({ config, logger: silent, defaultMetrics: false });
  await server.attachModel(model);
  const url = await server.app.listen({ host: config.host, port: 0 });
  return { url, server, close: () => server.app.close() };
}

/** Deterministic rows in [-1, 1). */
export function rows(count: number, seed: number): number[][] {
  let s = seed >>> 0 || 1;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
  return Array.from({ length: count }, () => Array.from({ length: FEATURES }, next));
}

export function inferBody(data: number[][], extra: Record<string, unknown> = {}) {
  return {
    ...extra,
    inputs: [{ name: 'input', shape: [data.length, FEATURES], datatype: 'FP32', data: data.flat() }],
  };
}

export async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return answer(res);
}

export async function get(url: string) {
  return answer(await fetch(url));
}

/** Status, headers, raw text and (when it parses) the JSON body of a response. */
async function answer(res: Response) {
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** Ground truth: the same rows run one at a time straight through ONNX Runtime, no server, no batching. */
export async function reference(data: number[][]): Promise<Array<{ probabilities: number[]; label: number }>> {
  const session = await ort.InferenceSession.create(DEMO_MODEL_PATH, { intraOpNumThreads: 1 });
  try {
    const out = [];
    for (const row of data) {
      const r = await session.run({ input: new ort.Tensor('float32', Float32Array.from(row), [1, FEATURES]) });
      out.push({ probabilities: Array.from(r.probabilities.data as Float32Array), label: Number((r.label.data as BigInt64Array)[0]) });
    }
    return out;
  } finally {
    await session.release();
  }
}

/** Value of an unlabelled sample (e.g. a histogram's _count) in Prometheus text. */
export function metricValue(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`metric ${name} not found`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

export function expectClose(actual: number[], expected: number[], tol = 1e-4): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (Math.abs(actual[i] - expected[i]) > tol) {
      throw new Error(`element ${i}: ${actual[i]} differs from ${expected[i]} by more than ${tol}`);
    }
  }
}
