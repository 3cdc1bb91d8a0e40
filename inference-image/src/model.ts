import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { Logger } from 'pino';
import type { Config } from './config';

/** Open Inference Protocol datatype names, mapped to ONNX Runtime tensor types. */
export const DATATYPES = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
} as const;
export type Datatype = keyof typeof DATATYPES;

const ORT_TO_DATATYPE = new Map<string, Datatype>(
  Object.entries(DATATYPES).map(([k, v]) => [v, k as Datatype]),
);

export function datatypeOf(ortType: string): Datatype | undefined {
  return ORT_TO_DATATYPE.get(ortType);
}

/** A tensor as the protocol and the batcher see it; dims of -1 are dynamic. */
export interface TensorSpec {
  name: string;
  datatype: Datatype;
  shape: number[];
}

export type TensorData = ort.Tensor['data'];

export interface NamedTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/** The narrow surface the rest of the server needs; tests can wrap it to count runs. */
export interface Model {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** True when every input and output has a dynamic leading dim, so rows of different requests can be stacked. */
  readonly batchable: boolean;
  readonly executionProvider: 'cpu' | 'cuda';
  run(feeds: Record<string, NamedTensor>, outputNames?: readonly string[]): Promise<Record<string, NamedTensor>>;
  close(): Promise<void>;
}

function toSpec(meta: ort.InferenceSession.ValueMetadata): TensorSpec {
  if (!meta.isTensor) throw new Error(`model value "${meta.name}" is not a tensor; only tensor inputs and outputs are supported`);
  const datatype = datatypeOf(meta.type);
  if (!datatype) throw new Error(`model value "${meta.name}" has unsupported type ${meta.type}`);
  // Symbolic dims (strings) and unknown dims are both "any size" to a client.
  const shape = meta.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : -1));
  return { name: meta.name, datatype, shape };
}

/** Device files the NVIDIA container runtime mounts when a GPU is assigned. */
export function gpuPresent(): boolean {
  return existsSync('/dev/nvidiactl') || existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia/version');
}

class OrtModel implements Model {
  readonly inputs: TensorSpec[];
  readonly outputs: TensorSpec[];
  readonly batchable: boolean;

  constructor(
    private readonly session: ort.InferenceSession,
    readonly executionProvider: 'cpu' | 'cuda',
  ) {
    this.inputs = session.inputMetadata.map(toSpec);
    this.outputs = session.outputMetadata.map(toSpec);
    this.batchable = [...this.inputs, ...this.outputs].every((t) => t.shape.length > 0 && t.shape[0] === -1);
  }

  async run(feeds: Record<string, NamedTensor>, outputNames?: readonly string[]): Promise<Record<string, NamedTensor>> {
    const ortFeeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(feeds)) {
      ortFeeds[name] = new ort.Tensor(DATATYPES[t.datatype], t.data as never, t.shape);
    }
    const names = outputNames && outputNames.length > 0 ? outputNames : this.outputs.map((o) => o.name);
    const result = await this.session.run(ortFeeds, names);
    const out: Record<string, NamedTensor> = {};
    for (const name of names) {
      const t = result[name];
      out[name] = { name, datatype: datatypeOf(t.type) ?? 'BYTES', shape: [...t.dims], data: t.data };
    }
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function sessionOptions(config: Config, ep: 'cpu' | 'cuda'): ort.InferenceSession.SessionOptions {
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ep === 'cuda' ? [{ name: 'cuda', deviceId: config.cudaDeviceId }, 'cpu'] : ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    interOpNumThreads: config.interOpThreads,
  };
  if (config.intraOpThreads > 0) options.intraOpNumThreads = config.intraOpThreads;
  return options;
}

/**
 * Loads the model on the configured device. `auto` tries CUDA only when a GPU
 * is visible and falls back to CPU if the CUDA provider cannot start; an
 * explicit `cuda` fails loudly instead, because a silent CPU fallback on a GPU
 * node is a capacity bug nobody notices.
 */
export async function loadModel(config: Config, log: Logger): Promise<Model> {
  if (!existsSync(config.modelPath)) {
    throw new Error(`MODEL_PATH ${config.modelPath} does not exist (run "npm run model" for the demo model, or mount yours)`);
  }
  const wantCuda = config.device === 'cuda' || (config.device === 'auto' && gpuPresent());
  let ep: 'cpu' | 'cuda' = wantCuda ? 'cuda' : 'cpu';
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(config.modelPath, sessionOptions(config, ep));
  } catch (err) {
    if (ep !== 'cuda' || config.device === 'cuda') throw err;
    log.warn({ err: (err as Error).message }, 'CUDA execution provider unavailable, falling back to CPU');
    ep = 'cpu';
    session = await ort.InferenceSession.create(config.modelPath, sessionOptions(config, ep));
  }
  const model = new OrtModel(session, ep);
  log.info(
    {
      executionProvider: ep,
      requestedDevice: config.device,
      gpuPresent: gpuPresent(),
      modelPath: config.modelPath,
      inputs: model.inputs,
      outputs: model.outputs,
      batchable: model.batchable,
      ortVersion: ort.env.versions.node,
    },
    `model loaded on ${ep.toUpperCase()} execution provider`,
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
