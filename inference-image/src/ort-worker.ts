/**
 * The worker thread that owns the ONNX Runtime session (see WorkerModel in ./model). A session run holds the thread
 * that calls it, so it runs here and the server's event loop stays free to read, admit, refuse and answer meanwhile.
 * Tensors cross as typed arrays whose buffers are transferred, never serialised.
 */
import { existsSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { DATATYPES, type Datatype, datatypeOf, gpuPresent, type NamedTensor, type TensorSpec, transferables } from './tensors';

/** What the server passes to the worker at start. */
export interface WorkerSettings {
  modelPath: string;
  device: 'auto' | 'cpu' | 'cuda';
  cudaDeviceId: number;
  intraOpThreads: number;
  interOpThreads: number;
}

export type ToWorker = { kind: 'run'; id: number; feeds: NamedTensor[]; outputNames: string[] } | { kind: 'close' };

export type FromWorker =
  | {
      kind: 'loaded';
      inputs: TensorSpec[];
      outputs: TensorSpec[];
      executionProvider: 'cpu' | 'cuda';
      ortVersion: string;
      /** Set when `auto` wanted CUDA and fell back to CPU: why. */
      cudaFallback?: string;
    }
  | { kind: 'result'; id: number; outputs: NamedTensor[] }
  | { kind: 'failed'; id: number; message: string };

function toSpec(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) throw new Error(`model value "${meta.name}" is not a tensor; only tensor inputs and outputs are supported`);
  const datatype = datatypeOf(meta.type);
  if (!datatype) throw new Error(`model value "${meta.name}" has unsupported type ${meta.type}`);
  // Symbolic dims (strings) and unknown dims are both "any size" to a client.
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

function sessionOptions(settings: WorkerSettings, ep: 'cpu' | 'cuda'): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ep === 'cuda' ? [{ name: 'cuda', deviceId: settings.cudaDeviceId }, 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: settings.interOpThreads,
  };
  if (settings.intraOpThreads > 0) options.intraOpNumThreads = settings.intraOpThreads;
  return options;
}

/**
 * `auto` tries CUDA only when a GPU is visible and falls back to CPU if the CUDA provider cannot start; an explicit
 * `cuda` fails loudly instead, because a silent CPU fallback on a GPU node is a capacity bug nobody notices.
 */
async function createSession(settings: WorkerSettings) {
  if (!existsSync(settings.modelPath)) {
    throw new Error(`MODEL_PATH ${settings.modelPath} does not exist (run "npm run model" for the demo model, or mount yours)`);
  }
  const wantCuda = settings.device === 'cuda' || (settings.device === 'auto' && gpuPresent());
  if (!wantCuda) return { session: await ort.InferenceSession.create(settings.modelPath, sessionOptions(settings, 'cpu')), ep: 'cpu' as const };
  try {
    return { session: await ort.InferenceSession.create(settings.modelPath, sessionOptions(settings, 'cuda')), ep: 'cuda' as const };
  } catch (err) {
    if (settings.device === 'cuda') throw err;
    const session = await ort.InferenceSession.create(settings.modelPath, sessionOptions(settings, 'cpu'));
    return { session, ep: 'cpu' as const, cudaFallback: (err as Error).message };
  }
}

async function run(session: ort.InferenceSession, feeds: NamedTensor[], outputNames: string[]): Promise<NamedTensor[]> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const t of feeds) ortFeeds[t.name] = new ort.Tensor(DATATYPES[t.datatype], t.data as never, t.shape);
  const result = await session.run(ortFeeds, outputNames);
  return outputNames.map((name) => {
    const t = result[name];
    return { name, datatype: (datatypeOf(t.type) ?? 'BYTES') as Datatype, shape: [...t.dims], data: t.data };
  });
}

async function serve(settings: WorkerSettings): Promise<void> {
  const port = parentPort!;
  const { session, ep, cudaFallback } = await createSession(settings);
  const loaded: FromWorker = {
    kind: 'loaded',
    inputs: session.inputMetadata.map(toSpec),
    outputs: session.outputMetadata.map(toSpec),
    executionProvider: ep,
    ortVersion: ort.env.versions.node ?? 'unknown',
    ...(cudaFallback !== undefined ? { cudaFallback } : {}),
  };
  const handle = async (msg: ToWorker): Promise<void> => {
    if (msg.kind === 'close') {
      // Only between runs: ending the thread inside a native run aborts the whole process.
      await session.release();
      port.close();
      return;
    }
    if (msg.kind !== 'run') throw new Error(`the ONNX Runtime worker got a message it does not know: ${JSON.stringify(msg).slice(0, 200)}`);
    let reply: FromWorker;
    try {
      reply = { kind: 'result', id: msg.id, outputs: await run(session, msg.feeds, msg.outputNames) };
    } catch (err) {
      port.postMessage({ kind: 'failed', id: msg.id, message: err instanceof Error ? err.message : String(err) } satisfies FromWorker);
      return;
    }
    try {
      port.postMessage(reply, transferables(reply.outputs));
    } catch {
      // A buffer the addon does not let go of (an external one) cannot be transferred; then it is copied.
      port.postMessage(reply);
    }
  };
  // One message at a time, in order: a close or a fault waits for the run before it. A fault (a message this code
  // does not know is a bug in the server) is left unhandled, which ends the thread; the server then fails over.
  let queue = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    queue = queue.then(() => handle(msg));
  });
  port.postMessage(loaded);
}

if (parentPort) {
  // A load failure is left unhandled: the thread ends with it as an error, which loadModel reports.
  void serve(workerData as WorkerSettings);
}
