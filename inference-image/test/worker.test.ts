import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { loadModel, type Model, WORKER_SCRIPT, WorkerModel } from '../src/model';
import { PACKAGE_ROOT } from '../src/paths';
import { buildServer } from '../src/server';
import { transferables } from '../src/tensors';
import { get, inferBody, post, rows, silent, startServer, testConfig, type Running } from './helpers';
import { slowBody, writeSlowModel } from './slow-model';

// A batch of this many rows holds the slow model's session for about a second on one thread.
const LONG_ROWS = Number(process.env.SLOW_ROWS ?? 160);
const slowEnv = { MAX_BATCH_SIZE: '1024' };

// Runs of the slow model stretch on a loaded CI machine; the assertions are relative to them, the timeout is not.
jest.setTimeout(90_000);

let slowPath: string;
beforeAll(() => {
  slowPath = writeSlowModel();
});
afterAll(() => rmSync(dirname(slowPath), { recursive: true, force: true }));

async function slowServer(env: Record<string, string> = {}): Promise<{ model: Model; srv: Running }> {
  const model = await loadModel(testConfig({ MODEL_PATH: slowPath, ...slowEnv }), silent);
  return { model, srv: await startServer(model, { ...slowEnv, ...env }) };
}

describe('the event loop while a long batch runs', () => {
  it('keeps answering /v2/health/live within milliseconds, because the session runs in a worker thread', async () => {
    const { model, srv } = await slowServer();
    try {
      const started = performance.now();
      let inferDone = false;
      const infer = post(`${srv.url}/v2/models/demo/infer`, slowBody(LONG_ROWS)).then((r) => {
        inferDone = true;
        return { ...r, ms: performance.now() - started };
      });
      const probes: number[] = [];
      await new Promise((r) => setTimeout(r, 50));
      while (!inferDone) {
        const t0 = performance.now();
        const live = await get(`${srv.url}/v2/health/live`);
        if (!inferDone) probes.push(performance.now() - t0);
        expect(live.status).toBe(200);
        await new Promise((r) => setTimeout(r, 20));
      }
      const result = await infer;
      expect(result.status).toBe(200);
      expect(result.json.outputs[0].shape).toEqual([LONG_ROWS]);
      // The run was long enough to matter, and the loop answered all along it, none waiting for the run (with the
      // session on the event loop no probe is answered until the run ends). Relative bounds: CI machines are shared.
      expect(result.ms).toBeGreaterThan(500);
      expect(probes.length).toBeGreaterThanOrEqual(5);
      expect(Math.max(...probes)).toBeLessThan(result.ms / 3);
    } finally {
      await srv.close();
      await model.close();
    }
  });

  it('refuses a request that does not fit the queue with a 503 at once, not after the run', async () => {
    const half = LONG_ROWS / 2;
    const { model, srv } = await slowServer({ MAX_REQUEST_ROWS: String(LONG_ROWS), MAX_QUEUE_ROWS: String(LONG_ROWS) });
    try {
      // One long run, then a queue filled to the brim (MAX_QUEUE_ROWS), then one row too many.
      const started = performance.now();
      const running = post(`${srv.url}/v2/models/demo/infer`, slowBody(LONG_ROWS)).then((r) => ({ ...r, ms: performance.now() - started }));
      await new Promise((r) => setTimeout(r, 100));
      const queued = Array.from({ length: 2 }, () => post(`${srv.url}/v2/models/demo/infer`, slowBody(half)));
      await new Promise((r) => setTimeout(r, 100));
      const t0 = performance.now();
      const refused = await post(`${srv.url}/v2/models/demo/infer`, slowBody(1));
      const refusedMs = performance.now() - t0;
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.json.error).toMatch(new RegExp(`${LONG_ROWS} rows waiting, MAX_QUEUE_ROWS ${LONG_ROWS}`));
      const long = await running;
      expect(long.status).toBe(200);
      // At once: in a fraction of the run it arrived during, not after it.
      expect(refusedMs).toBeLessThan(long.ms / 3);
      expect((await Promise.all(queued)).map((r) => r.status)).toEqual([200, 200]);
    } finally {
      await srv.close();
      await model.close();
    }
  });
});

describe('a worker that dies', () => {
  it('fails the request in flight with a 500 JSON answer (no hang), turns readiness 503 and reports the failure once', async () => {
    const model = (await loadModel(testConfig({ MODEL_PATH: slowPath, ...slowEnv }), silent)) as WorkerModel;
    const failures: Error[] = [];
    const server = buildServer({ config: testConfig(slowEnv), logger: silent, defaultMetrics: false, onModelFailure: (err) => failures.push(err) });
    await server.attachModel(model);
    const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
    try {
      expect((await get(`${url}/v2/health/ready`)).status).toBe(200);
      const running = post(`${url}/v2/models/demo/infer`, slowBody(LONG_ROWS));
      await new Promise((r) => setTimeout(r, 150));
      // While A runs: a message the worker does not know (a server bug) ends the thread once A is done, and B,
      // accepted meanwhile, is in flight when it dies. (Ending the thread inside a native run aborts the process.)
      model.worker.postMessage({ kind: 'bogus' });
      const inFlight = post(`${url}/v2/models/demo/infer`, slowBody(2));
      expect((await running).status).toBe(200);
      const answer = await inFlight;
      expect(answer.status).toBe(500);
      expect(answer.headers.get('content-type')).toMatch(/application\/json/);
      expect(answer.json.error).toMatch(/ONNX Runtime worker stopped unexpectedly \(.*does not know/);
      expect(failures).toHaveLength(1);
      expect(server.ready).toBe(false);
      const ready = await get(`${url}/v2/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.json.error).toMatch(/model stopped serving/);
      // Later requests are turned away at once, and a direct run fails rather than waiting for a dead thread.
      expect((await post(`${url}/v2/models/demo/infer`, slowBody(1))).status).toBe(503);
      await expect(model.run({ x: { name: 'x', datatype: 'FP32', shape: [1, 8], data: new Float32Array(8) } })).rejects.toThrow(/stopped unexpectedly/);
      expect((await get(`${url}/v2/health/live`)).status).toBe(200);
    } finally {
      await server.app.close();
      await model.close();
    }
  });

  it('at load: a file that is not a model rejects loadModel with ONNX Runtime\'s reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'modelship-bad-'));
    const bad = join(dir, 'model.onnx');
    writeFileSync(bad, 'not an onnx model');
    try {
      await expect(loadModel(testConfig({ MODEL_PATH: bad }), silent)).rejects.toThrow(/protobuf|parse|load/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('closing the model', () => {
  it('ends the worker thread; a run after close fails at once', async () => {
    const model = (await loadModel(testConfig(), silent)) as WorkerModel;
    const exited = new Promise<number>((resolve) => model.worker.once('exit', resolve));
    await model.close();
    await exited;
    await expect(model.run({ input: { name: 'input', datatype: 'FP32', shape: [1, 256], data: new Float32Array(256) } })).rejects.toThrow(/closed/);
  });
});

describe('tensors cross to the worker by transfer', () => {
  it('moves a whole buffer (the sender keeps a detached one) and sends a view of a larger buffer as a compact copy', async () => {
    const whole = new Float32Array([1, 2, 3, 4]);
    const big = new Float32Array(1024).fill(7);
    const view = big.subarray(10, 12);
    const tensors = [
      { name: 'a', datatype: 'FP32' as const, shape: [4], data: whole },
      { name: 'b', datatype: 'FP32' as const, shape: [2], data: view },
      { name: 'c', datatype: 'BYTES' as const, shape: [1], data: ['x'] },
    ];
    const list = transferables(tensors);
    expect(list).toHaveLength(2);
    expect(tensors[1].data).not.toBe(view);
    expect((tensors[1].data as Float32Array).buffer.byteLength).toBe(8);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<typeof tensors>((resolve) => port2.once('message', resolve));
    port1.postMessage(tensors, list);
    const got = await received;
    port1.close();
    expect(whole.buffer.byteLength).toBe(0);
    // The larger buffer stays with its owner, untouched.
    expect(big.buffer.byteLength).toBe(4096);
    expect(Array.from(got[0].data as Float32Array)).toEqual([1, 2, 3, 4]);
    expect(Array.from(got[1].data as Float32Array)).toEqual([7, 7]);
    expect(got[2].data).toEqual(['x']);
  });

  it('a demo-model run returns the same answer as before the transfer, batch after batch', async () => {
    const model = await loadModel(testConfig(), silent);
    const srv = await startServer(model);
    try {
      const data = rows(3, 42);
      const first = await post(`${srv.url}/v2/models/demo/infer`, inferBody(data));
      const second = await post(`${srv.url}/v2/models/demo/infer`, inferBody(data));
      expect(first.status).toBe(200);
      expect(second.json.outputs).toEqual(first.json.outputs);
    } finally {
      await srv.close();
      await model.close();
    }
  });
});

describe('the worker script ships with the server', () => {
  it('is dist/src/ort-worker.js, found next to the compiled model.js, in the dist/src the image copies whole', () => {
    const compiled = join(PACKAGE_ROOT, 'dist', 'src', 'ort-worker.js');
    expect(WORKER_SCRIPT).toBe(compiled);
    expect(existsSync(compiled)).toBe(true);
    // The compiled server resolves it relative to itself, as it runs in the image.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect((require(join(PACKAGE_ROOT, 'dist', 'src', 'model.js')) as { WORKER_SCRIPT: string }).WORKER_SCRIPT).toBe(compiled);
    const dockerfile = readFileSync(join(PACKAGE_ROOT, 'Dockerfile'), 'utf8');
    // Both runtime targets (gpu, cpu) copy the compiled directory as a whole, so a new file in it is in the image.
    expect(dockerfile.match(/^COPY --from=build \/src\/dist\/src \.\/dist\/src$/gm)).toHaveLength(2);
  });
});
