import { existsSync } from 'node:fs';
import type * as ort from 'onnxruntime-node';

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

/** Device files the NVIDIA container runtime mounts when a GPU is assigned. */
export function gpuPresent(): boolean {
  return existsSync('/dev/nvidiactl') || existsSync('/dev/nvidia0') || existsSync('/proc/driver/nvidia/version');
}

type Typed = Exclude<TensorData, string[]>;

/**
 * The buffers to transfer to another thread with `tensors`. Data that is a view on a larger buffer (a subarray, a
 * pooled Buffer) or on a shared one is first replaced, in place, by a compact copy: transferring its buffer would
 * move more than the tensor out of reach of its other users.
 */
export function transferables(tensors: NamedTensor[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const t of tensors) {
    if (!ArrayBuffer.isView(t.data)) continue;
    let view = t.data as Typed;
    // Compared by tag, not instanceof: the buffer may come from another realm (a vm context, another thread).
    const owned = Object.prototype.toString.call(view.buffer) === '[object ArrayBuffer]' && !buffers.has(view.buffer as ArrayBuffer);
    if (!owned || view.byteOffset !== 0 || view.byteLength !== view.buffer.byteLength) {
      view = view.slice() as Typed;
      t.data = view;
    }
    buffers.add(view.buffer as ArrayBuffer);
  }
  return [...buffers];
}
