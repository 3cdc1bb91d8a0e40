/**
 * Writes the demo model: a wide MLP classifier whose hidden layer is applied
 * DEPTH times with tied weights, the projected input re-injected at every step
 * (h_i = relu(W h_{i-1} + b + U x)). Tying keeps the file small (~19 MB) while
 * giving each item enough arithmetic that inference, not HTTP, dominates a
 * request; re-injecting x keeps the answer dependent on the input instead of
 * collapsing onto W's dominant direction.
 *
 * Deterministic: weights come from a seeded PRNG, so every run writes the same
 * bytes and tests can rely on the same outputs everywhere.
 *
 * Usage: node dist/scripts/make-demo-model.js [--out path] [--if-missing]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { onnx } from 'onnx-proto';
import { DEMO_MODEL_PATH } from '../src/paths';

export const DEMO = {
  features: 256,
  hidden: 2048,
  depth: 24,
  classes: 10,
  seed: 20240611,
} as const;

/** mulberry32: tiny, fast, and good enough to make weights look random. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function floatTensor(name: string, dims: number[], scale: number, rand: () => number): onnx.ITensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = (rand() * 2 - 1) * scale;
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    // ONNX raw_data is little-endian; so is every platform ORT runs on.
    rawData: new Uint8Array(values.buffer),
  };
}

function valueInfo(name: string, elemType: number, dims: Array<number | string>): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

export function buildDemoModel(): Uint8Array {
  const { features, hidden, depth, classes, seed } = DEMO;
  const rand = prng(seed);
  // Uniform(-s, s) has variance s^2/3. w_hidden's scale puts its spectral
  // radius near 1, which ReLU turns into a contraction: activations stay O(1)
  // over DEPTH steps and converge to an input-dependent fixed point.
  const initializer = [
    floatTensor('w_in', [features, hidden], Math.sqrt(6 / features), rand),
    floatTensor('b_in', [hidden], 0.1, rand),
    floatTensor('w_hidden', [hidden, hidden], Math.sqrt(3 / hidden), rand),
    floatTensor('b_hidden', [hidden], 0.1, rand),
    floatTensor('w_out', [hidden, classes], Math.sqrt(3 / hidden), rand),
    floatTensor('b_out', [classes], 0.1, rand),
  ];

  const node: onnx.INodeProto[] = [
    { opType: 'Gemm', input: ['input', 'w_in', 'b_in'], output: ['x_proj'], name: 'dense_in' },
    { opType: 'Relu', input: ['x_proj'], output: ['h0'], name: 'relu_in' },
  ];
  for (let i = 1; i <= depth; i++) {
    node.push(
      { opType: 'Gemm', input: [`h${i - 1}`, 'w_hidden', 'b_hidden'], output: [`h${i}_lin`], name: `dense_${i}` },
      { opType: 'Add', input: [`h${i}_lin`, 'x_proj'], output: [`h${i}_pre`], name: `inject_${i}` },
      { opType: 'Relu', input: [`h${i}_pre`], output: [`h${i}`], name: `relu_${i}` },
    );
  }
  const intAttr = (name: string, i: number): onnx.IAttributeProto => ({
    name,
    i,
    type: onnx.AttributeProto.AttributeType.INT,
  });
  node.push(
    { opType: 'Gemm', input: [`h${depth}`, 'w_out', 'b_out'], output: ['logits'], name: 'dense_out' },
    { opType: 'Softmax', input: ['logits'], output: ['probabilities'], name: 'softmax', attribute: [intAttr('axis', 1)] },
    {
      opType: 'ArgMax',
      input: ['logits'],
      output: ['label'],
      name: 'argmax',
      attribute: [intAttr('axis', 1), intAttr('keepdims', 0)],
    },
  );

  const FLOAT = onnx.TensorProto.DataType.FLOAT;
  const model: onnx.IModelProto = {
    irVersion: 7,
    producerName: 'modelship-demo',
    producerVersion: '1',
    modelVersion: 1,
    docString: `Demo MLP classifier: ${features} features -> ${hidden} x ${depth} (tied) -> ${classes} classes`,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'demo_mlp',
      node,
      initializer,
      input: [valueInfo('input', FLOAT, ['batch', features])],
      output: [
        valueInfo('probabilities', FLOAT, ['batch', classes]),
        valueInfo('label', onnx.TensorProto.DataType.INT64, ['batch']),
      ],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

function main(argv: string[]): void {
  const outIdx = argv.indexOf('--out');
  const out = resolve(outIdx >= 0 && argv[outIdx + 1] ? argv[outIdx + 1] : DEMO_MODEL_PATH);
  if (argv.includes('--if-missing') && existsSync(out)) return;
  const bytes = buildDemoModel();
  mkdirSync(dirname(out), { recursive: true });
  // Write then rename so a concurrent reader never sees a half-written model.
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, out);
  const sha = createHash('sha256').update(bytes).digest('hex');
  process.stdout.write(`wrote ${out} (${(bytes.length / 1e6).toFixed(1)} MB, sha256 ${sha})\n`);
}

if (require.main === module) main(process.argv.slice(2));
