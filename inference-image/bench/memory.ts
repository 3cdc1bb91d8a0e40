/**
 * Memory under concurrent large bodies: the server (its defaults unless overridden) gets BENCH_CLIENTS (192)
 * simultaneous bodies of just under MAX_BODY_BYTES (8 MiB) each, every client on its own connection, writing its
 * whole body before reading. Prints idle RSS, the body budget, the peak RSS during the burst (VmHWM, reset after
 * idle is measured), the ceiling 1.5 x idle + budget, and how the clients were answered.
 * Usage: npm run bench:memory   (Linux: reads /proc; env BENCH_CLIENTS, BODY_BUDGET_BYTES, MAX_BODY_BYTES)
 */
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { loadConfig } from '../src/config';
import { mib, procBytes, startServer, stopServer } from './server-process';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 192);

/** A well-formed inference request of exactly `bytes`, whose data does not fit its shape: parsed in full, then a 400. */
function largeBody(bytes: number): Buffer {
  const head = '{"inputs":[{"name":"input","shape":[1,256],"datatype":"FP32","data":[';
  const tail = ']}]}';
  const numbers = Math.floor((bytes - head.length - tail.length) / 6);
  const text = head + Array(numbers).fill('0.125').join(',') + tail;
  return Buffer.from(text + ' '.repeat(bytes - text.length));
}

function send(port: number, body: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, method: 'POST', path: '/v2/models/demo/infer', agent: false, headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end(body);
  });
}

async function main(): Promise<void> {
  const env: Record<string, string> = {};
  for (const key of ['BODY_BUDGET_BYTES', 'MAX_BODY_BYTES']) if (process.env[key]) env[key] = process.env[key]!;
  const config = loadConfig(env);
  const { proc, port } = await startServer(env);
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const idle = procBytes(proc.pid!, 'VmRSS');
    // "5" resets the peak (VmHWM) to the current RSS, so the peak below is the burst's, not the model load's.
    writeFileSync(`/proc/${proc.pid}/clear_refs`, '5');
    const body = largeBody(config.maxBodyBytes - 1024);
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: CLIENTS }, () => send(port, body)));
    const seconds = (performance.now() - started) / 1000;
    const peak = procBytes(proc.pid!, 'VmHWM');
    await new Promise((r) => setTimeout(r, 1000));
    const after = procBytes(proc.pid!, 'VmRSS');
    const counts = outcomes.reduce<Record<string, number>>((m, o) => ({ ...m, [o]: (m[o] ?? 0) + 1 }), {});
    const ceiling = 1.5 * idle + config.bodyBudgetBytes;
    console.log(`${CLIENTS} concurrent bodies of ${mib(body.length)} (${mib(CLIENTS * body.length)} in all), answered in ${seconds.toFixed(1)} s`);
    console.log(`answers: ${Object.entries(counts).map(([k, v]) => `${k} x ${v}`).join(', ')}`);
    console.log(`idle RSS ${mib(idle)}, BODY_BUDGET_BYTES ${mib(config.bodyBudgetBytes)}, peak RSS ${mib(peak)}, RSS 1 s after ${mib(after)}`);
    console.log(`peak ${mib(peak)} ${peak <= ceiling ? '<=' : '>'} 1.5 x idle + budget = ${mib(ceiling)}: ${peak <= ceiling ? 'PASS' : 'FAIL'}`);
    if (peak > ceiling) process.exitCode = 1;
  } finally {
    await stopServer(proc);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
