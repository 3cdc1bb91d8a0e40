/**
 * Open Inference Protocol (KServe v2) request parsing and response shaping.
 * The envelope is checked with zod; tensor data is walked by hand because it
 * can hold many thousands of elements and each bad element must be named.
 */
import { z } from 'zod';
import { badRequest } from './errors';
import { DATATYPES, type Datatype, type Model, type NamedTensor, type TensorData, type TensorSpec } from './model';

const parameters = z.record(z.string(), z.unknown()).optional();

/** Most dims a tensor may declare; numpy's limit. Also bounds how deep `data` may nest. */
export const MAX_RANK = 64;
/** Longest user-supplied string an error message quotes; the rest is elided. */
const MAX_QUOTE_CHARS = 64;
/** Most dims an error message prints. */
const MAX_SHAPE_DIMS_SHOWN = 8;

/** Quotes user input for an error message without echoing an unbounded string. */
export function quote(value: string): string {
  return value.length <= MAX_QUOTE_CHARS ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, MAX_QUOTE_CHARS))}… (${value.length} characters)`;
}

/** Names a data element for an error message in bounded space (no JSON.stringify of a deep object). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return quote(v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

const requestSchema = z.object({
  id: z.string().optional(),
  parameters,
  inputs: z
    .array(
      z.object({
        name: z.string().min(1),
        shape: z.array(z.number().int().nonnegative()).max(MAX_RANK),
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

/**
 * Flattens nested `data` in row-major order, rejecting anything that is not an array of scalars. Iterative, and no
 * deeper than `maxDepth` levels (the tensor's rank), so hostile nesting cannot overflow the stack.
 */
export function flatten(name: string, data: unknown, maxDepth: number): unknown[] {
  if (!Array.isArray(data)) throw badRequest(`input ${quote(name)}: data must be an array`);
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const stack: Array<{ items: unknown[]; next: number }> = [{ items: data, next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next === top.items.length) {
      stack.pop();
      continue;
    }
    const x = top.items[top.next++];
    if (!Array.isArray(x)) {
      out.push(x);
      continue;
    }
    if (stack.length >= maxDepth) {
      throw badRequest(`input ${quote(name)}: data is nested more than ${maxDepth} levels deep, deeper than its shape's rank`);
    }
    stack.push({ items: x, next: 0 });
  }
  return out;
}

function toTypedData(name: string, datatype: Datatype, values: unknown[]): TensorData {
  const n = values.length;
  const fail = (i: number, what: string) =>
    badRequest(`input ${quote(name)}: data[${i}] is ${describeValue(values[i])}, expected ${what} for ${datatype}`);
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
      throw badRequest(`input ${quote(name)}: FP16 input is not supported over JSON; export the model with an FP32 input`);
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

const fmtShape = (shape: readonly number[]) => {
  const dims = shape.slice(0, MAX_SHAPE_DIMS_SHOWN).map((d) => (d < 0 ? '-1' : String(d)));
  if (shape.length > MAX_SHAPE_DIMS_SHOWN) dims.push(`… (${shape.length} dims)`);
  return `[${dims.join(', ')}]`;
};

/** Checks a parsed JSON body against the model and converts it to tensors; throws 400s that name the problem. */
export function parseInferRequest(body: unknown, model: Model, maxRequestRows: number): InferRequest {
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
    const name = quote(input.name);
    if (!spec) {
      throw badRequest(`unknown input ${name}; model inputs are ${model.inputs.map((s) => `"${s.name}"`).join(', ')}`);
    }
    if (Object.hasOwn(inputs, input.name)) throw badRequest(`input ${name} is given more than once`);
    if (!Object.hasOwn(DATATYPES, input.datatype)) {
      throw badRequest(`input ${name}: unknown datatype ${quote(input.datatype)}; expected one of ${Object.keys(DATATYPES).join(', ')}`);
    }
    const datatype = input.datatype as Datatype;
    if (datatype !== spec.datatype) {
      throw badRequest(`input ${name}: datatype ${datatype} does not match the model's ${spec.datatype}`);
    }
    const shape = input.shape;
    const fits = shape.length === spec.shape.length && spec.shape.every((d, i) => d < 0 || d === shape[i]);
    if (!fits) throw badRequest(`input ${name}: shape ${fmtShape(shape)} does not match the model's ${fmtShape(spec.shape)}`);
    if (model.batchable) {
      const r = shape[0];
      if (r < 1) throw badRequest(`input ${name}: batch dimension must be at least 1`);
      // Whatever MAX_BATCH_SIZE is (1 included), one request cannot monopolise the model with an unbounded batch.
      if (r > maxRequestRows) {
        throw badRequest(`input ${name}: batch dimension ${r} exceeds the ${maxRequestRows}-row limit per request (MAX_REQUEST_ROWS); split the request`);
      }
      if (rows !== undefined && rows !== r) throw badRequest(`inputs disagree on the batch dimension (${rows} vs ${r})`);
      rows = r;
    }
    const values = flatten(input.name, input.data, shape.length);
    const expected = shape.reduce((a, b) => a * b, 1);
    if (values.length !== expected) {
      throw badRequest(`input ${name}: data has ${values.length} elements but shape ${fmtShape(shape)} needs ${expected}`);
    }
    inputs[input.name] = { name: input.name, datatype, shape, data: toTypedData(input.name, datatype, values) };
  }
  for (const spec of model.inputs) {
    if (!inputs[spec.name]) throw badRequest(`missing input ${quote(spec.name)}`);
  }

  const outputs: string[] = [];
  const outputNames = new Set(model.outputs.map((o) => o.name));
  for (const o of req.outputs ?? []) {
    if (!outputNames.has(o.name)) {
      throw badRequest(`unknown output ${quote(o.name)}; model outputs are ${model.outputs.map((s) => `"${s.name}"`).join(', ')}`);
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
