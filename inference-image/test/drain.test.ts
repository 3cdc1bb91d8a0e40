import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { get, inferBody, metricValue, post, postHead, requireDemoModel, rows } from './helpers';

const MAIN = join(__dirname, '..', 'dist', 'src', 'main.js');

interface Child {
  proc: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; at: number }>;
  logs: string[];
}

/** Starts the compiled server as a real process and resolves once it reports ready. */
async function spawnServer(env: Record<string, string>): Promise<Child> {
  requireDemoModel();
  if (!existsSync(MAIN)) throw new Error(`${MAIN} missing; run "npm run build" first`);
  const proc = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', DEVICE: 'cpu', ORT_INTRA_OP_THREADS: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    proc.on('exit', (code) => resolve({ code, at: Date.now() })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    let address: string | undefined;
    proc.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        logs.push(line);
        const entry = JSON.parse(line) as { msg: string; address?: string };
        if (entry.msg === 'listening') address = entry.address;
        if (entry.msg.startsWith('warm-up inference done') && address) resolve(address);
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()));
    void exited.then(({ code }) => reject(new Error(`server exited with ${code} before ready:\n${logs.join('\n')}`)));
  });
  return { proc, url, exited, logs };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('SIGTERM', () => {
  it('turns readiness 503 at once, completes every accepted request, then exits 0', async () => {
    // Requests wait up to 1.5 s for a batch, so they are still open when SIGTERM lands.
    const child = await spawnServer({ MAX_BATCH_SIZE: '64', MAX_QUEUE_DELAY_MS: '1500', DRAIN_TIMEOUT_MS: '10000' });
    try {
      expect((await get(`${child.url}/v2/health/ready`)).status).toBe(200);
      const infer = `${child.url}/v2/models/demo/infer`;
      const count = 20;
      const pending = Array.from({ length: count }, (_, i) => post(infer, inferBody(rows(1, 500 + i), { id: `d${i}` })));
      // "Accepted" = the server counts them in flight.
      await waitFor(
        async () => metricValue((await get(`${child.url}/metrics`)).text, 'modelship_inference_requests_in_flight') === count,
        5000,
      );

      const sentAt = Date.now();
      child.proc.kill('SIGTERM');
      await waitFor(async () => child.logs.some((l) => l.includes('shutdown requested')), 2000);
      const ready = await get(`${child.url}/v2/health/ready`);
      expect(ready.status).toBe(503);
      expect(ready.json.error).toMatch(/shutting down/);
      expect((await get(`${child.url}/v2/models/demo/ready`)).status).toBe(503);
      // New work is refused with a retry hint; accepted work is not affected.
      const late = await post(infer, inferBody(rows(1, 999)));
      expect(late.status).toBe(503);
      expect(late.headers.get('retry-after')).toBe('1');

      const answers = await Promise.all(pending);
      expect(answers.map((a) => a.status)).toEqual(Array(count).fill(200));
      answers.forEach((a, i) => {
        expect(a.json.id).toBe(`d${i}`);
        expect(a.json.outputs[0].shape).toEqual([1, 10]);
      });

      const { code, at } = await child.exited;
      expect(code).toBe(0);
      expect(at - sentAt).toBeLessThan(10000);
      expect(child.logs.some((l) => l.includes('"clean":true'))).toBe(true);
    } finally {
      child.proc.kill('SIGKILL');
    }
  });

  it('exits within DRAIN_TIMEOUT_MS even when a request cannot finish in time', async () => {
    const child = await spawnServer({ MAX_BATCH_SIZE: '64', MAX_QUEUE_DELAY_MS: '8000', DRAIN_TIMEOUT_MS: '300' });
    try {
      const stuck = post(`${child.url}/v2/models/demo/infer`, inferBody(rows(1, 1))).catch((err: Error) => err);
      await waitFor(
        async () => metricValue((await get(`${child.url}/metrics`)).text, 'modelship_inference_queue_depth') === 1,
        5000,
      );
      const sentAt = Date.now();
      child.proc.kill('SIGTERM');
      const { code, at } = await child.exited;
      expect(code).toBe(1);
      expect(at - sentAt).toBeLessThan(1000);
      await stuck;
    } finally {
      child.proc.kill('SIGKILL');
    }
  });

  it('a half-sent request does not hold the exit: it is cut once accepted work is done, and the exit is clean', async () => {
    const child = await spawnServer({ DRAIN_TIMEOUT_MS: '5000' });
    try {
      const { port } = new URL(child.url);
      const socket = connect(Number(port), '127.0.0.1');
      socket.on('error', () => undefined);
      await new Promise((r) => socket.once('connect', r));
      socket.write(postHead('/v2/models/demo/infer', 1000) + '{"inputs":');
      await new Promise((r) => setTimeout(r, 100));
      const sentAt = Date.now();
      child.proc.kill('SIGTERM');
      const { code, at } = await child.exited;
      expect(code).toBe(0);
      expect(at - sentAt).toBeLessThan(2000);
      socket.destroy();
    } finally {
      child.proc.kill('SIGKILL');
    }
  });

  it('under keep-alive load, every response once draining says Connection: close and no client sees a reset', async () => {
    const child = await spawnServer({ MAX_BATCH_SIZE: '64', MAX_QUEUE_DELAY_MS: '100', DRAIN_TIMEOUT_MS: '10000' });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    try {
      const { port } = new URL(child.url);
      const body = Buffer.from(JSON.stringify(inferBody(rows(1, 1))));
      const once = () =>
        new Promise<{ status: number; connection?: string }>((resolve, reject) => {
          const req = request(
            { agent, host: '127.0.0.1', port, method: 'POST', path: '/v2/models/demo/infer', headers: { 'content-type': 'application/json', 'content-length': body.length } },
            (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      let signalled = false;
      const errors: string[] = [];
      const statuses: number[] = [];
      // Each client sends on its kept-alive connection until the server tells it the connection is closing.
      const clients = Array.from({ length: 16 }, async () => {
        for (let i = 0; i < 500; i++) {
          try {
            const r = await once();
            statuses.push(r.status);
            if (r.connection === 'close') return true;
          } catch (err) {
            errors.push(`${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (after SIGTERM: ${signalled})`);
            return false;
          }
        }
        return false;
      });
      await waitFor(async () => statuses.length >= 64, 10_000);
      signalled = true;
      child.proc.kill('SIGTERM');
      const told = await Promise.all(clients);
      expect(errors).toEqual([]);
      expect(told).toEqual(Array(16).fill(true));
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      const { code } = await child.exited;
      expect(code).toBe(0);
    } finally {
      agent.destroy();
      child.proc.kill('SIGKILL');
    }
  });

  it('refuses to start with a clear message when the configuration is invalid', async () => {
    const proc = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, MAX_BATCH_SIZE: 'lots', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await new Promise<number | null>((r) => proc.on('exit', r));
    expect(code).toBe(2);
    expect(stderr).toMatch(/invalid configuration/);
    expect(stderr).toMatch(/MAX_BATCH_SIZE="lots"/);
  });

  it('exits non-zero with the path when MODEL_PATH does not exist', async () => {
    const proc = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env.PATH, MODEL_PATH: '/nonexistent/model.onnx', HOST: '127.0.0.1', PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((r) => proc.on('exit', r));
    expect(code).toBe(1);
    expect(out).toContain('/nonexistent/model.onnx does not exist');
  });
});
