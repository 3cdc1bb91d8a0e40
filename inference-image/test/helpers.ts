import { existsSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import pino, { type Logger } from 'pino';
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
export async function startServer(model: Model, env: Record<string, string> = {}, logger: Logger = silent): Promise<Running> {
  const config = testConfig(env);
  const server = buildServer({ config, logger, defaultMetrics: false });
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

/** A logger whose JSON lines are collected in `lines`. */
export function capturingLogger(level = 'info'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

export function openSocket(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

export interface RawOutcome {
  /** Everything the server sent before the connection ended. */
  text: string;
  /** The socket error, e.g. ECONNRESET or EPIPE, if any. */
  error?: string;
  /** Milliseconds from the call to the connection's end. */
  ms: number;
}

/** Resolves when the server ends the connection (or `waitMs` passes, then the client ends it). */
export function outcome(socket: Socket, waitMs = 10_000): Promise<RawOutcome> {
  const started = Date.now();
  let text = '';
  let error: string | undefined;
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', (err: NodeJS.ErrnoException) => (error = err.code ?? err.message));
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ text, error, ms: Date.now() - started });
    });
  });
}

/**
 * A client that writes the whole request before reading a byte of the answer (Python http.client, requests,
 * tritonclient do): if the server closes while it is still writing, the write fails and the answer is lost.
 */
export async function writeFirst(url: string, head: string, body: Buffer): Promise<{ status?: number; text: string; error?: string }> {
  const socket = await openSocket(url);
  socket.pause();
  let error: string | undefined;
  socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
  await new Promise<void>((resolve) => {
    socket.write(head);
    socket.write(body, () => resolve());
    socket.once('close', () => resolve());
  });
  if (error || socket.destroyed) return { text: '', error: error ?? 'closed while writing' };
  let text = '';
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    const length = /content-length: (\d+)/i.exec(text);
    if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) socket.end();
  });
  socket.resume();
  await new Promise((resolve) => socket.once('close', resolve));
  const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return { status: status ? Number(status[1]) : undefined, text, error };
}

/** Resolves with the first complete response on the socket (by Content-Length), or what came before it closed. */
export function readResponse(socket: Socket, waitMs = 10_000): Promise<{ status?: number; text: string }> {
  let text = '';
  return new Promise((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      resolve({ status: status ? Number(status[1]) : undefined, text });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) finish();
    });
    socket.once('close', finish);
  });
}

export const postHead = (path: string, length: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;
