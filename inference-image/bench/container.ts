/**
 * The same server natively and in its container, alternating rounds, so the container's cost is measured against
 * the same machine minutes later and not against a figure from another day:
 *   native                the node binary and /app (dist, node_modules, model) copied OUT of the image, run on the host
 *   container             the image, run as EdgeDevice runs it: read-only root, tmpfs /tmp, no capabilities,
 *                         no-new-privileges, uid 10001, memory limit 2048 MiB; host network instead of a published
 *                         port (the one deliberate change: no docker-proxy/NAT on the path)
 *   container-unconfined  the same with --security-opt seccomp=unconfined: what the seccomp filter costs
 * Per round: warm-up, BENCH_REQUESTS sequential single-row requests (p50/p99), then concurrency 32 for BENCH_SECONDS
 * (throughput, p50/p99). Both arms' stdout goes to a file on disk (native: a log file; container: Docker's json-file).
 * The image is built from the real Dockerfile (cpu target) on the local stand-in bases, as the root image test does.
 *
 * Usage: npm run bench:container   (env BENCH_ROUNDS per arm, default 3; BENCH_REQUESTS, default 500;
 * BENCH_SECONDS, default 10; BENCH_PORT, default 18080; BENCH_ARMS, default "native,container,container-unconfined")
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEMO } from '../scripts/make-demo-model';
import { PACKAGE_ROOT } from '../src/paths';
import { quantile } from './server-process';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PORT = Number(process.env.BENCH_PORT ?? 18080);
const CONCURRENCY = 32;
const IMAGE = 'modelship-bench/inference:cpu';
const CONTAINER = 'modelship-bench-inference';
const REPO_ROOT = resolve(PACKAGE_ROOT, '..');
/** EdgeDevice's hardening (components/edge-device.ts), as `docker run` flags. */
const EDGE_FLAGS = ['--read-only', '--tmpfs', '/tmp:rw,noexec,nosuid,size=256m', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges:true', '--user', '10001:10001', '--memory', '2048m', '--memory-swap', '2048m'];

type ArmName = 'native' | 'container' | 'container-unconfined';
const ARMS = (process.env.BENCH_ARMS ?? 'native,container,container-unconfined').split(',') as ArmName[];

function sh(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((ok, fail) => {
    execFile(cmd, args, { env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 900_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      err ? fail(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr.slice(-4000)}`)) : ok(stdout),
    );
  });
}

/** A docker CLI that builds with BuildKit: buildx, or a pre-23 CLI (Debian's docker.io) with DOCKER_BUILDKIT=1. */
function buildkitCli(): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
  for (const cmd of [process.env.DOCKER_CLI, 'docker', '/usr/bin/docker'].filter((c): c is string => !!c)) {
    if (spawnSync(cmd, ['buildx', 'version'], { stdio: 'ignore' }).status === 0) return { cmd, args: ['buildx', 'build', '--load'], env: process.env };
    const v = spawnSync(cmd, ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8' });
    const major = Number(/^(\d+)\./.exec(v.stdout ?? '')?.[1]);
    if (v.status === 0 && major > 0 && major < 23) return { cmd, args: ['build'], env: { ...process.env, DOCKER_BUILDKIT: '1' } };
  }
  throw new Error('no docker CLI that builds with BuildKit: install the buildx plugin, or Debian docker.io (/usr/bin/docker)');
}

/** The machine's extra CAs (a TLS-inspecting egress) as one PEM for the build's `ca` secret. */
function extraCaBundle(): string | undefined {
  const dir = '/usr/local/share/ca-certificates';
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.crt')) : [];
  if (files.length === 0) return undefined;
  const out = join(mkdtempSync(join(tmpdir(), 'modelship-ca-')), 'ca.pem');
  writeFileSync(out, files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n'));
  return out;
}

async function buildImage(): Promise<void> {
  const [nodeImage, debianImage] = (await sh(join(REPO_ROOT, 'scripts', 'stand-in-node-base.sh'), [])).trim().split(/\s+/).slice(-2);
  const cli = buildkitCli();
  const ca = extraCaBundle();
  await sh(
    cli.cmd,
    [...cli.args, '--target', 'cpu', '--build-arg', `NODE_IMAGE=${nodeImage}`, '--build-arg', `DEBIAN_IMAGE=${debianImage}`, ...(ca ? ['--secret', `id=ca,src=${ca}`] : []), '-t', IMAGE, PACKAGE_ROOT],
    { env: cli.env },
  );
}

interface Extracted {
  node: string;
  app: string;
  env: Record<string, string>;
}

/** The node binary and /app out of the image, plus the image's own environment with paths moved to the copy. */
async function extract(): Promise<Extracted> {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-bench-'));
  const cid = (await sh('docker', ['create', IMAGE])).trim();
  try {
    await sh('docker', ['cp', `${cid}:/usr/local/bin/node`, join(dir, 'node')]);
    await sh('docker', ['cp', `${cid}:/app`, join(dir, 'app')]);
  } finally {
    await sh('docker', ['rm', cid]);
  }
  const config = JSON.parse(await sh('docker', ['image', 'inspect', '--format', '{{json .Config}}', IMAGE])) as { Env: string[] };
  const env = Object.fromEntries(config.Env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  env.MODEL_PATH = env.MODEL_PATH.replace(/^\/app\//, `${join(dir, 'app')}/`);
  env.HOME = mkdtempSync(join(dir, 'home-'));
  return { node: join(dir, 'node'), app: join(dir, 'app'), env };
}

interface Running {
  stop(): Promise<void>;
}

function startNative(x: Extracted, logFile: string): Running {
  const log = openSync(logFile, 'a');
  const proc: ChildProcess = spawn(x.node, [join(x.app, 'dist', 'src', 'main.js')], {
    cwd: x.app,
    env: { ...x.env, HOST: '127.0.0.1', PORT: String(PORT) },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  return {
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

async function startContainer(extra: string[]): Promise<Running> {
  await sh('docker', ['rm', '-f', CONTAINER]).catch(() => undefined);
  await sh('docker', ['run', '-d', '--name', CONTAINER, '--network', 'host', ...EDGE_FLAGS, ...extra, '-e', 'HOST=127.0.0.1', '-e', `PORT=${PORT}`, IMAGE]);
  return {
    async stop() {
      await sh('docker', ['stop', '-t', '30', CONTAINER]);
      await sh('docker', ['rm', '-f', CONTAINER]);
    },
  };
}

async function waitReady(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fetch(`http://127.0.0.1:${PORT}/v2/health/ready`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server on 127.0.0.1:${PORT} not ready within ${timeoutMs} ms`);
}

function post(agent: Agent, body: Buffer): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request(
      { agent, host: '127.0.0.1', port: PORT, method: 'POST', path: '/v2/models/demo/infer', headers: { 'content-type': 'application/json', 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => ok(res.statusCode ?? 0));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

interface Round {
  arm: ArmName;
  round: number;
  seqP50: number;
  seqP99: number;
  rps: number;
  loadP50: number;
  loadP99: number;
  errors: number;
}

async function measure(arm: ArmName, round: number, bodies: Buffer[]): Promise<Round> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let errors = 0;
  for (let i = 0; i < 50; i++) await post(agent, bodies[i % bodies.length]);
  const seq: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t0 = performance.now();
    const status = await post(agent, bodies[i % bodies.length]);
    if (status === 200) seq.push(performance.now() - t0);
    else errors++;
  }
  seq.sort((a, b) => a - b);
  const load: number[] = [];
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      let i = w;
      while (performance.now() < until) {
        const t0 = performance.now();
        const status = await post(agent, bodies[i++ % bodies.length]);
        if (status === 200) load.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  const elapsed = performance.now() - started;
  agent.destroy();
  load.sort((a, b) => a - b);
  return { arm, round, seqP50: quantile(seq, 0.5), seqP99: quantile(seq, 0.99), rps: (load.length * 1000) / elapsed, loadP50: quantile(load, 0.5), loadP99: quantile(load, 0.99), errors };
}

const median = (xs: number[]) => quantile([...xs].sort((a, b) => a - b), 0.5);
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const fmt = (r: Round) =>
  `| ${r.round} | ${r.arm} | ${r.seqP50.toFixed(2)} | ${r.seqP99.toFixed(2)} | ${r.rps.toFixed(1)} | ${r.loadP50.toFixed(1)} | ${r.loadP99.toFixed(1)} | ${r.errors} |`;

async function imageSizes(): Promise<void> {
  const total = Number((await sh('docker', ['image', 'inspect', '--format', '{{.Size}}', IMAGE])).trim());
  const layers = (await sh('docker', ['history', '--no-trunc', '--human=false', '--format', '{{.Size}}\t{{.CreatedBy}}', IMAGE]))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [size, by] = l.split('\t');
      return { size: Number(size), by: by?.trim() || '(base image layer)' };
    })
    .filter((l) => l.size > 0);
  console.log(`image ${IMAGE}: ${(total / 1e6).toFixed(1)} MB in all; layers with content:`);
  for (const l of layers) console.log(`  ${(l.size / 1e6).toFixed(3).padStart(9)} MB  ${l.by.replace(/\s+/g, ' ').slice(0, 110)}`);
}

async function main(): Promise<void> {
  console.log(`modelship container overhead: ${cpus().length} x ${cpus()[0]?.model ?? 'unknown CPU'}; arms ${ARMS.join(', ')}; ${ROUNDS} rounds each`);
  console.log(`per round: ${REQUESTS} sequential requests, then concurrency ${CONCURRENCY} for ${SECONDS} s; 1 row (${DEMO.features} FP32) per request, 127.0.0.1:${PORT}\n`);
  await buildImage();
  const x = await extract();
  const version = spawnSync(x.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log(`native arm: node ${version} and /app copied out of ${IMAGE} (same binary, same files)`);
  await imageSizes();
  const logDir = mkdtempSync(join(tmpdir(), 'modelship-bench-logs-'));

  const bodies = Array.from({ length: 64 }, (_, i) => {
    let s = 7 + i;
    const data = Array.from({ length: DEMO.features }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 31 - 1));
    return Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, DEMO.features], datatype: 'FP32', data }] }));
  });

  console.log('\n| round | arm | seq p50 ms | seq p99 ms | c32 req/s | c32 p50 ms | c32 p99 ms | errors |');
  console.log('|---|---|---|---|---|---|---|---|');
  const results: Round[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const arm of ARMS) {
      const running =
        arm === 'native'
          ? startNative(x, join(logDir, 'native.log'))
          : await startContainer(arm === 'container-unconfined' ? ['--security-opt', 'seccomp=unconfined'] : []);
      try {
        await waitReady(120_000);
        const r = await measure(arm, round, bodies);
        results.push(r);
        console.log(fmt(r));
      } finally {
        await running.stop();
      }
    }
  }

  const of = (arm: ArmName) => results.filter((r) => r.arm === arm);
  const med = (arm: ArmName, k: keyof Round) => median(of(arm).map((r) => r[k] as number));
  const spread = (arm: ArmName, k: keyof Round) => {
    const xs = of(arm).map((r) => r[k] as number);
    return (Math.max(...xs) - Math.min(...xs)) / median(xs);
  };
  console.log('\nmedians over rounds; overhead relative to native (latency: higher is worse; throughput: lower is worse)');
  console.log('| arm | seq p50 ms | seq p99 ms | c32 req/s | seq p50 vs native | seq p99 vs native | c32 req/s vs native | round-to-round spread (seq p50 / c32 req/s) |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const arm of ARMS) {
    const vs = (k: keyof Round) => (ARMS.includes('native') ? pct(med(arm, k) / med('native', k) - 1) : 'n/a');
    console.log(
      `| ${arm} | ${med(arm, 'seqP50').toFixed(2)} | ${med(arm, 'seqP99').toFixed(2)} | ${med(arm, 'rps').toFixed(1)} | ${vs('seqP50')} | ${vs('seqP99')} | ${vs('rps')} | ${pct(spread(arm, 'seqP50'))} / ${pct(spread(arm, 'rps'))} |`,
    );
  }
  rmSync(logDir, { recursive: true, force: true });
  rmSync(resolve(x.app, '..'), { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
