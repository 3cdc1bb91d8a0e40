import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';

/** Elements per row of the slow model's input. */
export const SLOW_FEATURES = 8;
const SIDE = 256;
const MATMULS = 8;

/**
 * A model that is slow on purpose, to hold a session run for as long as a test needs: x [batch, 8] is tiled to
 * [batch, 256, 256] and multiplied by itself MATMULS times (about 270 MFLOP a row), then summed to y [batch].
 * Small file, small input; the time is set by the row count. Written to a temporary directory; returns its path.
 */
export function writeSlowModel(): string {
  const { FLOAT, INT64 } = onnx.TensorProto.DataType;
  const ints = (name: string, values: number[]): onnx.ITensorProto => ({ name, dims: [values.length], dataType: INT64, int64Data: values });
  const node: onnx.INodeProto[] = [
    { opType: 'Unsqueeze', input: ['x', 'axis1'], output: ['x3'] },
    { opType: 'Tile', input: ['x3', 'repeats'], output: ['m0'] },
  ];
  for (let i = 0; i < MATMULS; i++) node.push({ opType: 'MatMul', input: [`m${i}`, 'm0'], output: [`m${i + 1}`] });
  node.push({ opType: 'ReduceSum', input: [`m${MATMULS}`, 'axes12'], output: ['y'], attribute: [{ name: 'keepdims', i: 0, type: onnx.AttributeProto.AttributeType.INT }] });
  const model: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'modelship-slow-test',
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'slow',
      initializer: [ints('axis1', [1]), ints('repeats', [1, SIDE, SIDE / SLOW_FEATURES]), ints('axes12', [1, 2])],
      node,
      input: [{ name: 'x', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: SLOW_FEATURES }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'batch' }] } } } }],
    },
  };
  const path = join(mkdtempSync(join(tmpdir(), 'modelship-slow-')), 'model.onnx');
  writeFileSync(path, onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish());
  return path;
}

/** An inference body of `rows` rows of small values for the slow model. */
export function slowBody(rows: number) {
  return { inputs: [{ name: 'x', shape: [rows, SLOW_FEATURES], datatype: 'FP32', data: Array.from({ length: rows * SLOW_FEATURES }, (_, i) => (i % 7) / 1000) }] };
}
