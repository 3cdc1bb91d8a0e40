import { Batcher, shapeKey } from '../src/batcher';
import { Metrics } from '../src/metrics';
import type { Model, NamedTensor } from '../src/model';
import type { InferRequest } from '../src/protocol';

// A stand-in model with a dynamic sequence dim ([-1, -1]): ONNX Runtime is not needed to test how requests are grouped.
function fakeModel(runs: number[][]): Model {
  return {
    name: 'seq',
    version: '1',
    inputs: [{ name: 'tokens', datatype: 'FP32', shape: [-1, -1] }],
    outputs: [{ name: 'sum', datatype: 'FP32', shape: [-1] }],
    batchable: true,
    executionProvider: 'cpu',
    async run(feeds: Record<string, NamedTensor>) {
      const t = feeds.tokens;
      runs.push(t.shape);
      const [rows, width] = t.shape;
      const data = t.data as Float32Array;
      const out = new Float32Array(rows);
      for (let r = 0; r < rows; r++) for (let c = 0; c < width; c++) out[r] += data[r * width + c];
      await new Promise((resolve) => setTimeout(resolve, 5));
      return { sum: { name: 'sum', datatype: 'FP32', shape: [rows], data: out } };
    },
    async close() {},
  } as unknown as Model;
}

const request = (width: number, value: number): InferRequest => ({
  rows: 1,
  inputs: { tokens: { name: 'tokens', datatype: 'FP32', shape: [1, width], data: new Float32Array(width).fill(value) } },
  outputs: [],
});

describe('batching a model with dynamic trailing dims', () => {
  it('never stacks requests whose non-leading dims differ, and answers each correctly', async () => {
    const runs: number[][] = [];
    const batcher = new Batcher(fakeModel(runs), { maxBatchSize: 64, maxQueueDelayMs: 0, maxQueueSize: 100, maxQueueRows: 1000 }, new Metrics());
    const widths = [3, 3, 5, 5, 3, 5, 5, 3];
    const answers = await Promise.all(widths.map((w, i) => batcher.submit(request(w, i + 1))));
    answers.forEach((a, i) => expect(Array.from(a.sum.data as Float32Array)).toEqual([widths[i] * (i + 1)]));
    for (const shape of runs) expect([3, 5]).toContain(shape[1]);
    expect(runs.length).toBeLessThan(widths.length);
  });

  it('keys requests by the non-leading dims of every input', () => {
    expect(shapeKey(request(3, 0))).toBe('tokens:3');
    expect(shapeKey(request(3, 0))).not.toBe(shapeKey(request(4, 0)));
  });
});

describe('queue bound in rows', () => {
  it('refuses a request that would take the queued rows past maxQueueRows, with 503 + Retry-After, and serves the rest', async () => {
    const runs: number[][] = [];
    const metrics = new Metrics(false);
    // A long delay keeps everything queued while the bound is tested.
    const batcher = new Batcher(fakeModel(runs), { maxBatchSize: 64, maxQueueDelayMs: 200, maxQueueSize: 100, maxQueueRows: 8 }, metrics);
    const wide = (value: number): InferRequest => ({ ...request(2, value), rows: 4 });
    const accepted = [batcher.submit(wide(1)), batcher.submit(wide(2))];
    expect(batcher.rowsQueued).toBe(8);
    await expect(batcher.submit(request(2, 3))).rejects.toMatchObject({
      statusCode: 503,
      headers: { 'retry-after': '1' },
      message: expect.stringMatching(/8 rows waiting, MAX_QUEUE_ROWS 8/),
    });
    await Promise.allSettled(accepted);
    expect(batcher.rowsQueued).toBe(0);
    expect(await metrics.registry.getSingleMetricAsString('modelship_inference_rejected_total')).toMatch(/reason="queue_full"} 1/);
  });
});

describe('queue bound in expected wait (MAX_QUEUE_WAIT_MS)', () => {
  // Each run takes 20 ms a row, so the batcher measures a speed of (at least) 20 ms per row.
  const slowModel = (): Model =>
    ({
      inputs: [{ name: 'tokens', datatype: 'FP32', shape: [-1, -1] }],
      outputs: [{ name: 'sum', datatype: 'FP32', shape: [-1] }],
      batchable: true,
      executionProvider: 'cpu',
      async run(feeds: Record<string, NamedTensor>) {
        const rows = feeds.tokens.shape[0];
        await new Promise((resolve) => setTimeout(resolve, 20 * rows));
        return { sum: { name: 'sum', datatype: 'FP32', shape: [rows], data: new Float32Array(rows) } };
      },
      async close() {},
    }) as unknown as Model;
  const sized = (rows: number): InferRequest => ({
    rows,
    inputs: { tokens: { name: 'tokens', datatype: 'FP32', shape: [rows, 2], data: new Float32Array(rows * 2) } },
    outputs: [],
  });

  it('refuses a request whose rows, with those ahead of it, would take longer than the limit at the measured speed', async () => {
    const metrics = new Metrics(false);
    const batcher = new Batcher(slowModel(), { maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueSize: 100, maxQueueRows: 1000, maxQueueWaitMs: 400 }, metrics);
    expect(batcher.expectedWaitMs(4)).toBeUndefined();
    await batcher.submit(sized(4));
    expect(batcher.expectedWaitMs(4)).toBeGreaterThanOrEqual(75);
    const running = batcher.submit(sized(4));
    await new Promise((resolve) => setImmediate(resolve));
    // Behind the 4-row run: 4 rows (160 ms with the run), then 1 more (180 ms); 16 more would be 500 ms, over the
    // 400 ms limit, although MAX_QUEUE_ROWS (1000) has room.
    const accepted = [batcher.submit(sized(4)), batcher.submit(sized(1))];
    await expect(batcher.submit(sized(16))).rejects.toMatchObject({
      statusCode: 503,
      headers: { 'retry-after': '1' },
      message: expect.stringMatching(/about \d+ ms of work ahead, MAX_QUEUE_WAIT_MS 400/),
    });
    await Promise.all([running, ...accepted]);
    // An idle batcher takes a request whatever its expected time (32 rows, about 640 ms), so a slow model still serves.
    expect(batcher.expectedWaitMs(32)).toBeGreaterThan(400);
    await expect(batcher.submit(sized(32))).resolves.toBeDefined();
  });

  it('is off at 0: only the row and request bounds apply', async () => {
    const batcher = new Batcher(slowModel(), { maxBatchSize: 4, maxQueueDelayMs: 0, maxQueueSize: 100, maxQueueRows: 1000, maxQueueWaitMs: 0 }, new Metrics(false));
    await batcher.submit(sized(4));
    const running = batcher.submit(sized(4));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(Promise.all([running, batcher.submit(sized(4)), batcher.submit(sized(1)), batcher.submit(sized(8))])).resolves.toHaveLength(4);
  });
});
