/**
 * One-run benchmark on the demo model. Prints, with every ratio taken against
 * figures measured in this same run:
 *   - in-process ONNX Runtime throughput at batch 1 and at the best batch (the ceiling);
 *   - the server's throughput and p50/p99 latency at concurrency 1, 16, 64,
 *     with dynamic batching on and off.
 * Usage: npm run bench   (env BENCH_SECONDS per point, default 5;
 * BENCH_MAX_BATCH_SIZE / BENCH_MAX_QUEUE_DELAY_MS override the batched server's settings)
 */
import { Agent, request } from 'node:http';
import { cpus } from 'node:os';
import * as ort from 'onnxruntime-node';
import { DEMO_MODEL_PATH } from '../src/paths';
import { DEMO } from '../scripts/make-demo-model';
import { startServer, stopServer } from './server-process';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const BATCHES = [1, 2, 4, 8, 16, 32, 64, 128];
const CONCURRENCY = [1, 16, 64];

function makeRows(count: number, seed: number): Float32Array {
  let s = seed;
  const out = new Float32Array(count * DEMO.features);
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

async function inProcess(): Promise<Map<number, number>> {
  const session = await ort.InferenceSession.create(DEMO_MODEL_PATH, { graphOptimizationLevel: 'all', interOpNumThreads: 1 });
  const result = new Map<number, number>();
  for (const b of BATCHES) {
    const input = new ort.Tensor('float32', makeRows(b, b), [b, DEMO.features]);
    for (let i = 0; i < 3; i++) await session.run({ input });
    let items = 0;
    const started = performance.now();
    while (performance.now() - started < (SECONDS * 1000) / 2) {
      await session.run({ input });
      items += b;
    }
    result.set(b, (items * 1000) / (performance.now() - started));
  }
  await session.release();
  return result;
}

function post(agent: Agent, port: number, body: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, host: '127.0.0.1', port, method: 'POST', path: '/v2/models/demo/infer', headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

interface LoadResult {
  throughput: number;
  p50: number;
  p99: number;
  errors: number;
}

/** Closed loop: `concurrency` clients, each sending its next request when the last is answered. */
async function load(port: number, concurrency: number, bodies: Buffer[]): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  const run = async (ms: number, record: boolean) => {
    const until = performance.now() + ms;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, w) => {
        let i = w;
        while (performance.now() < until) {
          const t0 = performance.now();
          const status = await post(agent, port, bodies[i++ % bodies.length]);
          if (!record) continue;
          if (status === 200) latencies.push(performance.now() - t0);
          else errors++;
        }
      }),
    );
  };
  await run(500, false);
  const started = performance.now();
  await run(SECONDS * 1000, true);
  const elapsed = performance.now() - started;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return { throughput: (latencies.length * 1000) / elapsed, p50: q(0.5), p99: q(0.99), errors };
}

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`modelship inference benchmark: ${cpus().length} x ${cpu}, node ${process.version}, onnxruntime-node ${ort.env.versions.node}`);
  console.log(`demo model: ${DEMO.features} -> ${DEMO.hidden} x ${DEMO.depth} (tied) -> ${DEMO.classes}; ${SECONDS}s per point\n`);

  const ceilingByBatch = await inProcess();
  const batch1 = ceilingByBatch.get(1)!;
  const [bestBatch, ceiling] = [...ceilingByBatch.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
  console.log('in-process ONNX Runtime (no HTTP):');
  for (const [b, t] of ceilingByBatch) console.log(`  batch ${String(b).padStart(3)}: ${t.toFixed(0).padStart(6)} items/s`);
  console.log(`  batch 1 = ${batch1.toFixed(0)} items/s (${(batch1 / ceiling).toFixed(2)}x ceiling); best batch ${bestBatch} = ${ceiling.toFixed(0)} items/s (the ceiling)\n`);

  const bodies = Array.from({ length: 64 }, (_, i) =>
    Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, DEMO.features], datatype: 'FP32', data: Array.from(makeRows(1, 7 + i)) }] })),
  );

  const modes = [
    // The server's own defaults unless overridden, so the figures describe what ships.
    { name: 'batching on', env: { MAX_BATCH_SIZE: process.env.BENCH_MAX_BATCH_SIZE ?? '64', MAX_QUEUE_DELAY_MS: process.env.BENCH_MAX_QUEUE_DELAY_MS ?? '0' } },
    { name: 'batching off', env: { MAX_BATCH_SIZE: '1', MAX_QUEUE_DELAY_MS: '0' } },
  ];
  const rowsOut: string[] = [];
  const results = new Map<string, LoadResult>();
  for (const mode of modes) {
    const { proc, port } = await startServer({ MAX_QUEUE_SIZE: '1024', ...mode.env });
    try {
      for (const c of CONCURRENCY) {
        const r = await load(port, c, bodies);
        results.set(`${mode.name}/${c}`, r);
        rowsOut.push(
          `| ${mode.name} (MAX_BATCH_SIZE=${mode.env.MAX_BATCH_SIZE}) | ${c} | ${r.throughput.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.throughput / ceiling).toFixed(2)} | ${r.errors} |`,
        );
      }
    } finally {
      await stopServer(proc);
    }
  }
  console.log('server over HTTP (1 row per request, loopback, load generator on the same cores):');
  console.log('| mode | concurrency | req/s | p50 ms | p99 ms | ratio to ceiling | errors |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rowsOut) console.log(r);
  const on64 = results.get('batching on/64')!.throughput;
  const off64 = results.get('batching off/64')!.throughput;
  console.log(
    `\nconcurrency 64: batched ${on64.toFixed(0)} req/s = ${((on64 / ceiling) * 100).toFixed(0)}% of the in-process ceiling (target >= 70%), ` +
      `${(on64 / off64).toFixed(2)}x unbatched (target >= 2x)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
