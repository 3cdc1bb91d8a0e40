/**
 * Queueing delay under a burst of large requests: BENCH_CLIENTS (512) clients each send one request of BENCH_ROWS
 * (64) rows at the same moment, against the server's defaults; BENCH_ROUNDS (3) such bursts, 1 s apart. Prints the
 * latency of the answered (200) requests and of the ones turned away (503). Without a bound on queued rows the last
 * answer waits for all 512 x 64 rows to run. Per burst and for bursts 2+ together: a later burst meets a server that
 * has just been through one, which is where a stalled event loop showed (requests unread during a run, admitted late).
 * Usage: npm run bench:queue   (BENCH_ENV=KEY=VALUE,... sets server settings)
 */
import { Agent, request } from 'node:http';
import { DEMO } from '../scripts/make-demo-model';
import { quantile, startServer, stopServer } from './server-process';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 512);
const ROWS = Number(process.env.BENCH_ROWS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Server settings for the run, as in bench:container: BENCH_ENV=MAX_QUEUE_ROWS=512,MAX_QUEUE_WAIT_MS=500. */
const SERVER_ENV = Object.fromEntries(
  (process.env.BENCH_ENV ?? '')
    .split(',')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

function body(seed: number): Buffer {
  let s = seed;
  const data = Array.from({ length: ROWS * DEMO.features }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.round((s / 2 ** 31 - 1) * 1e4) / 1e4;
  });
  return Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [ROWS, DEMO.features], datatype: 'FP32', data }] }));
}

function post(agent: Agent, port: number, payload: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = request(
      { agent, host: '127.0.0.1', port, method: 'POST', path: '/v2/models/demo/infer', headers: { 'content-type': 'application/json', 'content-length': payload.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(payload);
  });
}

async function main(): Promise<void> {
  const bodies = Array.from({ length: 8 }, (_, i) => body(i + 1));
  const { proc, port } = await startServer({
    ...(process.env.ORT_INTRA_OP_THREADS ? { ORT_INTRA_OP_THREADS: process.env.ORT_INTRA_OP_THREADS } : {}),
    ...SERVER_ENV,
  });
  const agent = new Agent({ keepAlive: process.env.BENCH_KEEPALIVE !== '0', maxSockets: CLIENTS });
  try {
    const ok: number[] = [];
    const refused: number[] = [];
    let errors = 0;
    let firstBurst = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const before = ok.length;
      const refusedBefore = refused.length;
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, w) => {
          const t0 = performance.now();
          const status = await post(agent, port, bodies[w % bodies.length]);
          const ms = performance.now() - t0;
          if (status === 200) ok.push(ms);
          else if (status === 503) refused.push(ms);
          else errors++;
        }),
      );
      const mine = ok.slice(before).sort((a, b) => a - b);
      const turned = refused.slice(refusedBefore).sort((a, b) => a - b);
      console.log(
        `burst ${round + 1}: ${mine.length} answered 200, p50 ${quantile(mine, 0.5).toFixed(0)} ms, p99 ${quantile(mine, 0.99).toFixed(0)} ms, ` +
          `slowest ${mine[mine.length - 1]?.toFixed(0)} ms; ${turned.length} turned away 503, p99 ${quantile(turned, 0.99).toFixed(0)} ms`,
      );
      if (round === 0) firstBurst = ok.length;
      await new Promise((r) => setTimeout(r, 1000));
    }
    const firstSorted = ok.slice(0, firstBurst).sort((a, b) => a - b);
    const later = ok.slice(firstBurst).sort((a, b) => a - b);
    ok.sort((a, b) => a - b);
    refused.sort((a, b) => a - b);
    const metrics = await new Promise<string>((resolve) => {
      request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve(text));
      }).end();
    });
    const sample = (name: string) => Number(/\S+ (\S+)$/.exec(metrics.split('\n').find((l) => l.startsWith(name)) ?? '')?.[1] ?? NaN);
    const runs = sample('modelship_inference_duration_seconds_count');
    const waits = sample('modelship_inference_queue_wait_seconds_count');
    console.log(
      `server: ${runs} runs of ${(sample('modelship_inference_duration_seconds_sum') / runs * 1000).toFixed(0)} ms on average; ` +
        `queue wait ${(sample('modelship_inference_queue_wait_seconds_sum') / waits * 1000).toFixed(0)} ms on average over ${waits} requests; ` +
        metrics.split('\n').filter((l) => l.startsWith('modelship_inference_rejected_total{')).join(', '),
    );
    console.log(`${ROUNDS} bursts of ${CLIENTS} simultaneous requests x ${ROWS} rows, server defaults (MAX_BATCH_SIZE 64, MAX_QUEUE_ROWS 256)${process.env.BENCH_ENV ? ` with ${process.env.BENCH_ENV}` : ''}`);
    console.log(`answered 200: ${ok.length}, p50 ${quantile(ok, 0.5).toFixed(0)} ms, p99 ${quantile(ok, 0.99).toFixed(0)} ms, max ${ok[ok.length - 1]?.toFixed(0)} ms`);
    console.log(`later bursts (2-${ROUNDS}) answered 200: ${later.length}, p50 ${quantile(later, 0.5).toFixed(0)} ms, p99 ${quantile(later, 0.99).toFixed(0)} ms`);
    // In mean session runs of this same run: comparable across machines and loads, where milliseconds are not.
    const runMs = (sample('modelship_inference_duration_seconds_sum') / runs) * 1000;
    const inRuns = (ms: number) => (ms / runMs).toFixed(1);
    console.log(`p99 in mean runs (${runMs.toFixed(0)} ms): first burst ${inRuns(quantile(firstSorted, 0.99))}, later bursts ${inRuns(quantile(later, 0.99))}`);
    console.log(`turned away 503: ${refused.length}, p50 ${quantile(refused, 0.5).toFixed(0)} ms, p99 ${quantile(refused, 0.99).toFixed(0)} ms; other outcomes: ${errors}`);
  } finally {
    agent.destroy();
    await stopServer(proc);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
