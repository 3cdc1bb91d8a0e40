import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Config } from './config';
import { HttpError } from './errors';
import type { FromWorker, ToWorker, WorkerSettings } from './ort-worker';
import { PACKAGE_ROOT } from './paths';
import { type Datatype, gpuPresent, type NamedTensor, type TensorData, type TensorSpec, transferables } from './tensors';

export { DATATYPES, datatypeOf, gpuPresent } from './tensors';
export type { Datatype, NamedTensor, TensorData, TensorSpec } from './tensors';

/** The narrow surface the rest of the server needs; tests can wrap it to count runs. */
export interface Model {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** True when every input and output has a dynamic leading dim, so rows of different requests can be stacked. */
  readonly batchable: boolean;
  readonly executionProvider: 'cpu' | 'cuda';
  /** Runs the model; the feeds' typed arrays are handed over (they may be detached afterwards). */
  run(feeds: Record<string, NamedTensor>, outputNames?: readonly string[]): Promise<Record<string, NamedTensor>>;
  /** Calls `listener` once if the model stops serving for good (its worker died); every later run then fails. */
  onFailure?(listener: (err: Error) => void): void;
  close(): Promise<void>;
}

/**
 * The worker script. It runs compiled: next to this file in dist/, or in dist/src/ when this file runs from source
 * (jest), which is why `npm test` builds first.
 */
export const WORKER_SCRIPT = __filename.endsWith('.ts') ? join(PACKAGE_ROOT, 'dist', 'src', 'ort-worker.js') : join(__dirname, 'ort-worker.js');

type Loaded = Extract<FromWorker, { kind: 'loaded' }>;

/** How long close() waits for the runs already sent before it terminates the thread. */
const CLOSE_TIMEOUT_MS = 10_000;

interface Waiting {
  resolve(outputs: Record<string, NamedTensor>): void;
  reject(err: Error): void;
}

/**
 * A model whose ONNX Runtime session lives in a worker thread (./ort-worker). A session run holds the thread that
 * calls it for the whole run; here that is the worker's, so the server's event loop keeps reading, admitting,
 * refusing and answering requests while a batch runs. If the worker dies, runs in flight and every later run fail
 * with a 500 (not retried blindly: the request may be what killed it) and `onFailure` listeners are told.
 */
export class WorkerModel implements Model {
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  readonly batchable: boolean;
  readonly executionProvider: 'cpu' | 'cuda';
  private readonly waiting = new Map<number, Waiting>();
  private readonly listeners: Array<(err: Error) => void> = [];
  private nextId = 1;
  private failure: Error | undefined;
  private lastError: Error | undefined;
  private closing = false;
  private readonly ended: Promise<void>;

  constructor(
    /** The thread itself; tests end it to play a crash. */
    readonly worker: Worker,
    loaded: Loaded,
  ) {
    this.inputs = loaded.inputs;
    this.outputs = loaded.outputs;
    this.executionProvider = loaded.executionProvider;
    this.batchable = [...this.inputs, ...this.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
    worker.on('message', (msg: FromWorker) => this.receive(msg));
    worker.on('error', (err: Error) => (this.lastError = err));
    this.ended = new Promise((resolve) =>
      worker.once('exit', (code: number) => {
        this.exited(code);
        resolve();
      }),
    );
    // Only a run in flight keeps the process alive.
    worker.unref();
  }

  run(feeds: Record<string, NamedTensor>, outputNames?: readonly string[]): Promise<Record<string, NamedTensor>> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('the model is closed'));
    const tensors = Object.values(feeds).map((t) => ({ ...t }));
    const names = outputNames && outputNames.length > 0 ? [...outputNames] : this.outputs.map((o) => o.name);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const msg: ToWorker = { kind: 'run', id, feeds: tensors, outputNames: names };
      try {
        this.worker.postMessage(msg, transferables(tensors));
      } catch (err) {
        reject(err as Error);
        return;
      }
      this.waiting.set(id, { resolve, reject });
      if (this.waiting.size === 1) this.worker.ref();
    });
  }

  onFailure(listener: (err: Error) => void): void {
    if (this.failure) listener(this.failure);
    else this.listeners.push(listener);
  }

  /**
   * Lets the runs already sent finish, releases the session and ends the thread; past `timeoutMs` the thread is
   * terminated (which, inside a native run, takes the process down: only for a process on its way out anyway).
   */
  async close(timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
    if (this.closing || this.failure) return this.ended;
    this.closing = true;
    this.worker.ref();
    this.worker.postMessage({ kind: 'close' } satisfies ToWorker);
    const timer = setTimeout(() => void this.worker.terminate(), timeoutMs);
    await this.ended;
    clearTimeout(timer);
  }

  private settle(id: number): Waiting | undefined {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    if (this.waiting.size === 0) this.worker.unref();
    return w;
  }

  private receive(msg: FromWorker): void {
    if (msg.kind === 'result') this.settle(msg.id)?.resolve(Object.fromEntries(msg.outputs.map((t) => [t.name, t])));
    else if (msg.kind === 'failed') this.settle(msg.id)?.reject(new Error(msg.message));
  }

  private exited(code: number): void {
    const err = this.closing
      ? new Error('the model was closed before the run')
      : new HttpError(500, `the ONNX Runtime worker stopped unexpectedly (${this.lastError?.message ?? `exit code ${code}`}); this server is no longer ready`);
    if (!this.closing) this.failure = err;
    for (const w of this.waiting.values()) w.reject(err);
    this.waiting.clear();
    if (this.closing) return;
    for (const listener of this.listeners.splice(0)) listener(err);
  }
}

function settingsOf(config: Config): WorkerSettings {
  return {
    modelPath: config.modelPath,
    device: config.device,
    cudaDeviceId: config.cudaDeviceId,
    intraOpThreads: config.intraOpThreads,
    interOpThreads: config.interOpThreads,
  };
}

/** Starts the worker and resolves once it has loaded the model, or rejects with why it could not. */
function startWorker(settings: WorkerSettings): Promise<{ worker: Worker; loaded: Loaded }> {
  if (!existsSync(WORKER_SCRIPT)) throw new Error(`${WORKER_SCRIPT} missing; run "npm run build" first`);
  const worker = new Worker(WORKER_SCRIPT, { workerData: settings });
  return new Promise((resolve, reject) => {
    const done = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (msg: FromWorker) => {
      if (msg.kind !== 'loaded') return;
      done();
      resolve({ worker, loaded: msg });
    };
    const onError = (err: Error) => {
      done();
      void worker.terminate();
      reject(err);
    };
    const onExit = (code: number) => {
      done();
      reject(new Error(`the ONNX Runtime worker exited with code ${code} while loading ${settings.modelPath}`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/**
 * Loads the model on the configured device, in a worker thread. `auto` tries CUDA only when a GPU is visible and
 * falls back to CPU if the CUDA provider cannot start; an explicit `cuda` fails loudly instead, because a silent CPU
 * fallback on a GPU node is a capacity bug nobody notices.
 */
export async function loadModel(config: Config, log: Logger): Promise<Model> {
  if (!existsSync(config.modelPath)) {
    throw new Error(`MODEL_PATH ${config.modelPath} does not exist (run "npm run model" for the demo model, or mount yours)`);
  }
  const { worker, loaded } = await startWorker(settingsOf(config));
  if (loaded.cudaFallback !== undefined) log.warn({ err: loaded.cudaFallback }, 'CUDA execution provider unavailable, falling back to CPU');
  const model = new WorkerModel(worker, loaded);
  log.info(
    {
      executionProvider: model.executionProvider,
      requestedDevice: config.device,
      gpuPresent: gpuPresent(),
      modelPath: config.modelPath,
      inputs: model.inputs,
      outputs: model.outputs,
      batchable: model.batchable,
      ortVersion: loaded.ortVersion,
      worker: worker.threadId,
    },
    `model loaded on ${model.executionProvider.toUpperCase()} execution provider`,
  );
  return model;
}

function zeros(datatype: Datatype, count: number): TensorData {
  switch (datatype) {
    case 'FP32':
      return new Float32Array(count);
    case 'FP64':
      return new Float64Array(count);
    case 'FP16':
    case 'UINT16':
      return new Uint16Array(count);
    case 'INT8':
      return new Int8Array(count);
    case 'INT16':
      return new Int16Array(count);
    case 'INT32':
      return new Int32Array(count);
    case 'UINT32':
      return new Uint32Array(count);
    case 'INT64':
      return new BigInt64Array(count);
    case 'UINT64':
      return new BigUint64Array(count);
    case 'BOOL':
    case 'UINT8':
      return new Uint8Array(count);
    case 'BYTES':
      return new Array<string>(count).fill('');
  }
}

/** One run with zero-filled inputs (dynamic dims as 1) so the first real request does not pay for lazy init. */
export async function warmUp(model: Model): Promise<number> {
  const feeds: Record<string, NamedTensor> = {};
  for (const spec of model.inputs) {
    const shape = spec.shape.map((d) => (d < 0 ? 1 : d));
    const count = shape.reduce((a, b) => a * b, 1);
    feeds[spec.name] = { name: spec.name, datatype: spec.datatype, shape, data: zeros(spec.datatype, count) };
  }
  const started = performance.now();
  await model.run(feeds);
  return performance.now() - started;
}
