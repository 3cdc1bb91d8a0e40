/**
 * Open Inference Protocol (KServe v2) request parsing and response shaping.
 * The envelope is checked with zod; tensor data is walked by hand because it
 * can hold many thousands of elements and each bad element must be named.
 */
import { z } from 'zod';
import { badRequest } from './errors';
import { DATATYPES, type Datatype, type Model, type NamedTensor, type TensorData, type TensorSpec } from './model';

const parameters = z.record(z.string(), z.unknown()).optional();

const requestSchema = z.object({
  id: z.string().optional(),
  parameters,
  inputs: z
    .array(
      z.object({
        name: z.string().min(1),
        shape: z.array(z.number().int().nonnegative()),
        datatype: z.string().min(1),
        parameters,
        data: z.unknown(),
      }),
    )
    .min(1),
  outputs: z.array(z.object({ name: z.string().min(1), parameters })).optional(),
});

export interface InferRequest {
  id?: string;
  /** Rows in this request's leading (batch) dim; 1 for models that do not batch. */
  rows: number;
  inputs: Record<string, NamedTensor>;
  /** Requested output names; empty means all. */
  outputs: string[];
}

export interface ResponseTensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: Array<number | string | boolean>;
}

export interface InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: ResponseTensor[];
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.reduce<string>(
    (acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)),
    '',
  );
  return `${path || 'body'}: ${issue.message}`;
}

const INT_RANGES: Partial<Record<Datatype, [number, number]>> = {
  INT8: [-128, 127],
  UINT8: [0, 255],
  INT16: [-32768, 32767],
  UINT16: [0, 65535],
  INT32: [-2147483648, 2147483647],
  UINT32: [0, 4294967295],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
};

/** Flattens nested `data` in row-major order, rejecting anything that is not an array of scalars. */
function flatten(name: string, data: unknown): unknown[] {
  if (!Array.isArray(data)) throw badRequest(`input "${name}": data must be an array`);
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (v: unknown[]): void => {
    for (const x of v) {
      if (Array.isArray(x)) walk(x);
      else out.push(x);
    }
  };
  walk(data);
  return out;
}

function toTypedData(name: string, datatype: Datatype, values: unknown[]): TensorData {
  const n = values.length;
  const fail = (i: number, what: string) =>
    badRequest(`input "${name}": data[${i}] is ${JSON.stringify(values[i]) ?? typeof values[i]}, expected ${what} for ${datatype}`);
  switch (datatype) {
    case 'FP32':
    case 'FP64': {
      const out = datatype === 'FP32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'number') throw fail(i, 'a number');
        out[i] = v;
      }
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'boolean') throw fail(i, 'true or false');
        out[i] = v ? 1 : 0;
      }
      return out;
    }
    case 'BYTES': {
      const out = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v !== 'string') throw fail(i, 'a string');
        out[i] = v;
      }
      return out;
    }
    case 'FP16':
      throw badRequest(`input "${name}": FP16 input is not supported over JSON; export the model with an FP32 input`);
    default: {
      const [min, max] = INT_RANGES[datatype]!;
      const check = (i: number): number => {
        const v = values[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) throw fail(i, 'an integer');
        if (v < min || v > max) throw fail(i, `an integer in [${min}, ${max}]`);
        return v;
      };
      if (datatype === 'INT64' || datatype === 'UINT64') {
        const out = datatype === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
        for (let i = 0; i < n; i++) out[i] = BigInt(check(i));
        return out;
      }
      const Ctor = { INT8: Int8Array, UINT8: Uint8Array, INT16: Int16Array, UINT16: Uint16Array, INT32: Int32Array, UINT32: Uint32Array }[
        datatype as 'INT8'
      ];
      const out = new Ctor(n);
      for (let i = 0; i < n; i++) out[i] = check(i);
      return out;
    }
  }
}

const fmtShape = (shape: readonly number[]) => `[${shape.map((d) => (d < 0 ? '-1' : String(d))).join(', ')}]`;

/** Checks a parsed JSON body against the model and converts it to tensors; throws 400s that name the problem. */
export function parseInferRequest(body: unknown, model: Model, maxBatchSize: number): InferRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('request body must be a JSON object with an "inputs" array');
  }
  const parsed = requestSchema.safeParse(body);
  if (!parsed.success) throw badRequest(`invalid inference request: ${parsed.error.issues.slice(0, 5).map(describeIssue).join('; ')}`);
  const req = parsed.data;

  const specs = new Map<string, TensorSpec>(model.inputs.map((s) => [s.name, s]));
  const inputs: Record<string, NamedTensor> = {};
  let rows: number | undefined;
  for (const input of req.inputs) {
    const spec = specs.get(input.name);
    if (!spec) {
      throw badRequest(`unknown input "${input.name}"; model inputs are ${model.inputs.map((s) => `"${s.name}"`).join(', ')}`);
    }
    if (inputs[input.name]) throw badRequest(`input "${input.name}" is given more than once`);
    if (!(input.datatype in DATATYPES)) {
      throw badRequest(`input "${input.name}": unknown datatype "${input.datatype}"; expected one of ${Object.keys(DATATYPES).join(', ')}`);
    }
    const datatype = input.datatype as Datatype;
    if (datatype !== spec.datatype) {
      throw badRequest(`input "${input.name}": datatype ${datatype} does not match the model's ${spec.datatype}`);
    }
    const shape = input.shape;
    const fits = shape.length === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === shape[i]);
    if (!fits) throw badRequest(`input "${input.name}": shape ${fmtShape(shape)} does not match the model's ${fmtShape(spec.shape)}`);
    if (model.batchable) {
      const r = shape[0];
      if (r < 1) throw badRequest(`input "${input.name}": batch dimension must be at least 1`);
      if (r > maxBatchSize && maxBatchSize > 1) {
        throw badRequest(`input "${input.name}": batch dimension ${r} exceeds MAX_BATCH_SIZE ${maxBatchSize}`);
      }
      if (rows !== undefined && rows !== r) throw badRequest(`inputs disagree on the batch dimension (${rows} vs ${r})`);
      rows = r;
    }
    const values = flatten(input.name, input.data);
    const expected = shape.reduce((a, b) => a * b, 1);
    if (values.length !== expected) {
      throw badRequest(`input "${input.name}": data has ${values.length} elements but shape ${fmtShape(shape)} needs ${expected}`);
    }
    inputs[input.name] = { name: input.name, datatype, shape, data: toTypedData(input.name, datatype, values) };
  }
  for (const spec of model.inputs) {
    if (!inputs[spec.name]) throw badRequest(`missing input "${spec.name}"`);
  }

  const outputs: string[] = [];
  const outputNames = new Set(model.outputs.map((o) => o.name));
  for (const o of req.outputs ?? []) {
    if (!outputNames.has(o.name)) {
      throw badRequest(`unknown output "${o.name}"; model outputs are ${model.outputs.map((s) => `"${s.name}"`).join(', ')}`);
    }
    if (!outputs.includes(o.name)) outputs.push(o.name);
  }
  return { id: req.id, rows: rows ?? 1, inputs, outputs };
}

/** IEEE 754 half-precision bits to a JS number, for FP16 outputs. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

export function toResponseTensor(t: NamedTensor): ResponseTensor {
  const src = t.data as ArrayLike<unknown>;
  const data = new Array<number | string | boolean>(src.length);
  if (t.datatype === 'BOOL') for (let i = 0; i < src.length; i++) data[i] = src[i] !== 0 && src[i] !== false;
  else if (t.datatype === 'FP16' && t.data instanceof Uint16Array) for (let i = 0; i < src.length; i++) data[i] = halfToNumber(src[i] as number);
  // JSON has no 64-bit integers; clients of this protocol read them as numbers.
  else if (t.datatype === 'INT64' || t.datatype === 'UINT64') for (let i = 0; i < src.length; i++) data[i] = Number(src[i]);
  else for (let i = 0; i < src.length; i++) data[i] = src[i] as number | string;
  return { name: t.name, datatype: t.datatype, shape: t.shape, data };
}
