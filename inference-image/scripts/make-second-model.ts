/**
 * Writes the second model, built to differ from the demo in everything the server must not assume: input name
 * ("tokens", not "input"), datatype (INT64, not FP32), rank (3, not 2), two dynamic dims (batch and sequence length,
 * not batch only), and two outputs of different datatypes and ranks:
 *   total [batch]    INT64 = sum of every token id in the row                    (ReduceSum over seq and slot)
 *   score [batch, 2] FP32  = (sum over seq of the token ids, as float) @ WEIGHTS + BIAS
 * Weights are small exact binary fractions, so a test can compute the expected outputs by hand, independently of
 * ONNX Runtime. A few hundred bytes; deterministic.
 *
 * Usage: node dist/scripts/make-second-model.js [--out path] [--if-missing]
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { onnx } from 'onnx-proto';
import { SECOND_MODEL_PATH } from '../src/paths';

export const SECOND = {
  input: 'tokens',
  /** Token ids per sequence position. */
  slots: 3,
  /** [slots][2]: score = sum_seq(tokens) @ WEIGHTS + BIAS. */
  weights: [
    [1, -2],
    [0.5, 3],
    [-1, 0.25],
  ],
  bias: [0.5, -1],
} as const;

const { FLOAT, INT64 } = onnx.TensorProto.DataType;

function valueInfo(name: string, elemType: number, dims: Array<number | string>): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function floats(name: string, dims: number[], values: number[]): onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, floatData: values };
}

function int64s(name: string, values: number[]): onnx.ITensorProto {
  return { name, dims: [values.length], dataType: INT64, int64Data: values };
}

export function buildSecondModel(): Uint8Array {
  const { input, slots, weights, bias } = SECOND;
  const model: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'modelship-second',
    producerVersion: '1',
    modelVersion: 1,
    docString: 'Second test model: INT64 [batch, seq, 3] token ids -> total INT64 [batch], score FP32 [batch, 2]',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'second',
      initializer: [
        int64s('axes_seq_slot', [1, 2]),
        int64s('axes_seq', [1]),
        floats('weights', [slots, 2], weights.flat()),
        floats('bias', [2], [...bias]),
      ],
      node: [
        { opType: 'ReduceSum', input: [input, 'axes_seq_slot'], output: ['total'], name: 'total', attribute: [{ name: 'keepdims', i: 0, type: onnx.AttributeProto.AttributeType.INT }] },
        { opType: 'Cast', input: [input], output: ['tokens_f'], name: 'to_float', attribute: [{ name: 'to', i: FLOAT, type: onnx.AttributeProto.AttributeType.INT }] },
        { opType: 'ReduceSum', input: ['tokens_f', 'axes_seq'], output: ['pooled'], name: 'pool', attribute: [{ name: 'keepdims', i: 0, type: onnx.AttributeProto.AttributeType.INT }] },
        { opType: 'MatMul', input: ['pooled', 'weights'], output: ['projected'], name: 'project' },
        { opType: 'Add', input: ['projected', 'bias'], output: ['score'], name: 'add_bias' },
      ],
      input: [valueInfo(input, INT64, ['batch', 'seq', slots])],
      output: [valueInfo('total', INT64, ['batch']), valueInfo('score', FLOAT, ['batch', 2])],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** The model's definition in plain arithmetic: what the server must answer for `tokens` ([batch][seq][slots]). */
export function secondReference(tokens: number[][][]): { total: number[]; score: number[][] } {
  const { weights, bias } = SECOND;
  return {
    total: tokens.map((row) => row.flat().reduce((a, b) => a + b, 0)),
    score: tokens.map((row) => {
      const pooled = weights.map((_, slot) => row.reduce((a, pos) => a + pos[slot], 0));
      return bias.map((b, j) => pooled.reduce((a, p, slot) => a + p * weights[slot][j], b));
    }),
  };
}

function main(argv: string[]): void {
  const outIdx = argv.indexOf('--out');
  const out = resolve(outIdx >= 0 && argv[outIdx + 1] ? argv[outIdx + 1] : SECOND_MODEL_PATH);
  if (argv.includes('--if-missing') && existsSync(out)) return;
  const bytes = buildSecondModel();
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, out);
  process.stdout.write(`wrote ${out} (${bytes.length} bytes)\n`);
}

if (require.main === module) main(process.argv.slice(2));
