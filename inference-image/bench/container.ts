/**
 * The same server natively and in its container, side by side and interleaved, so the container's cost is measured
 * against the same machine in the same seconds and not against a figure from another day:
 *   native                the node binary and /app (dist, node_modules, model) copied OUT of the image, run on the host
 *   container             the image, run as EdgeDevice runs it: read-only root, tmpfs /tmp, no capabilities,
 *                         no-new-privileges, uid 10001, memory limit 2048 MiB; host network instead of a published
 *                         port (the one deliberate change: no docker-proxy/NAT on the path)
 *   container-unconfined  the same with --security-opt seccomp=unconfined: what the seccomp filter costs
 *   native-cgroup         native, moved into a CPU cgroup of its own as Docker puts a container: under CPU contention
 *                         the kernel then shares CPU between groups, not threads (needs root; leave it out of
 *                         BENCH_ARMS otherwise)
 * Each round starts every arm afresh, side by side on its own port, and alternates between them at a fine grain, so
 * a burst of someone else's load on a shared machine hits every arm alike: BENCH_REQUESTS sequential single-row
 * requests per arm, sent A B C A B C ... (p50/p99), then concurrency 32 in 1 s slices, A B C A B C ..., BENCH_SECONDS
 * per arm (throughput, p50/p99). An arm not being measured is idle. Every arm's stdout goes to a file on disk
 * (native: a log file; container: Docker's json-file).
 * The image is built from the real Dockerfile (cpu target) on the local stand-in bases, as the root image test does.
 *
 * Usage: npm run bench:container   (env BENCH_ROUNDS per arm, default 3; BENCH_REQUESTS, default 500;
 * BENCH_SECONDS, default 10; BENCH_PORT, default 18080; BENCH_ARMS, default "native,native-cgroup,container,container-unconfined")
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
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
const SLICE_MS = 1000;
/** Pause between sequential requests (not timed). */
const GAP_MS = 2;
const REPO_ROOT = resolve(PACKAGE_ROOT, '..');
/** EdgeDevice's hardening (components/edge-device.ts), as `docker run` flags. */
const EDGE_FLAGS = ['--read-only', '--tmpfs', '/tmp:rw,noexec,nosuid,size=256m', '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges:true', '--user', '10001:10001', '--memory', '2048m', '--memory-swap', '2048m'];

type ArmName = 'native' | 'native-cgroup' | 'container' | 'container-unconfined';
/** Extra server settings for every arm, `KEY=VALUE,KEY=VALUE` (e.g. REQUEST_LOG_LEVEL=debug to take the per-request log line out). */
const SERVER_ENV = (process.env.BENCH_ENV ?? '').split(',').filter((kv) => kv.includes('='));
const ARMS = (process.env.BENCH_ARMS ?? 'native,native-cgroup,container,container-unconfined').split(',') as ArmName[];

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

/** A CPU cgroup of its own at the top level (cgroup v1 cpu controller, or v2), as Docker makes one per container. */
function ownCpuCgroup(): string {
  const v1 = '/sys/fs/cgroup/cpu';
  const dir = join(existsSync(join(v1, 'cpu.shares')) ? v1 : '/sys/fs/cgroup', 'modelship-bench-native');
  if (!existsSync(dir)) mkdirSync(dir);
  return dir;
}

function startNative(x: Extracted, logFile: string, port: number, cgroup?: string): Running {
  const log = openSync(logFile, 'a');
  const proc: ChildProcess = spawn(x.node, [join(x.app, 'dist', 'src', 'main.js')], {
    cwd: x.app,
    env: { ...x.env, ...Object.fromEntries(SERVER_ENV.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])), HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  // cgroup.procs moves every thread of the process, including those node started already.
  if (cgroup && proc.pid) writeFileSync(join(cgroup, 'cgroup.procs'), String(proc.pid));
  return {
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    },
  };
}

async function startContainer(name: string, extra: string[], port: number): Promise<Running> {
  await sh('docker', ['rm', '-f', name]).catch(() => undefined);
  await sh('docker', ['run', '-d', '--name', name, '--network', 'host', ...EDGE_FLAGS, ...extra, ...SERVER_ENV.flatMap((kv) => ['-e', kv]), '-e', 'HOST=127.0.0.1', '-e', `PORT=${port}`, IMAGE]);
  return {
    async stop() {
      await sh('docker', ['stop', '-t', '30', name]);
      await sh('docker', ['rm', '-f', name]);
    },
  };
}

async function waitReady(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fetch(`http://127.0.0.1:${port}/v2/health/ready`).then((r) => r.ok, () => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`server on 127.0.0.1:${port} not ready within ${timeoutMs} ms`);
}

function post(agent: Agent, port: number, body: Buffer): Promise<number> {
  return new Promise((ok, fail) => {
    const req = request(
      { agent, host: '127.0.0.1', port, method: 'POST', path: '/v2/models/demo/infer', headers: { 'content-type': 'application/json', 'content-length': body.length } },
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

interface Live {
  arm: ArmName;
  port: number;
  agent: Agent;
  seq: number[];
  load: number[];
  loadMs: number;
  errors: number;
}

/** One round over every live arm, alternating between them as the header describes. */
async function measure(live: Live[], round: number, bodies: Buffer[]): Promise<Round[]> {
  const send = async (l: Live, i: number, into: number[]) => {
    const t0 = performance.now();
    const status = await post(l.agent, l.port, bodies[i % bodies.length]);
    if (status === 200) into.push(performance.now() - t0);
    else l.errors++;
  };
  for (let i = 0; i < 50; i++) for (const l of live) await send(l, i, []);
  // Sequential: the arm that goes first rotates, so no arm always follows the same one.
  for (let i = 0; i < REQUESTS; i++) {
    for (let k = 0; k < live.length; k++) {
      await send(live[(i + k) % live.length], i, live[(i + k) % live.length].seq);
      // ONNX Runtime's pool threads spin briefly after a run; let them settle before the next arm's request.
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
  }
  const slices = Math.max(1, Math.round((SECONDS * 1000) / SLICE_MS));
  for (let slice = 0; slice < slices; slice++) {
    for (let k = 0; k < live.length; k++) {
      const l = live[(slice + k) % live.length];
      const started = performance.now();
      const until = started + SLICE_MS;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async (_, w) => {
          let i = w;
          while (performance.now() < until) await send(l, i++, l.load);
        }),
      );
      l.loadMs += performance.now() - started;
    }
  }
  return live.map((l) => {
    l.seq.sort((a, b) => a - b);
    l.load.sort((a, b) => a - b);
    return {
      arm: l.arm,
      round,
      seqP50: quantile(l.seq, 0.5),
      seqP99: quantile(l.seq, 0.99),
      rps: (l.load.length * 1000) / l.loadMs,
      loadP50: quantile(l.load, 0.5),
      loadP99: quantile(l.load, 0.99),
      errors: l.errors,
    };
  });
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
  console.log(
    `per round, per arm: ${REQUESTS} sequential requests, then concurrency ${CONCURRENCY} for ${SECONDS} s in ${SLICE_MS} ms slices, arms alternating; ` +
      `1 row (${DEMO.features} FP32) per request, 127.0.0.1:${PORT}..${PORT + ARMS.length - 1}\n`,
  );
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
    const running: Running[] = [];
    try {
      const live: Live[] = [];
      for (const [k, arm] of ARMS.entries()) {
        const port = PORT + k;
        running.push(
          arm === 'native' || arm === 'native-cgroup'
            ? startNative(x, join(logDir, `${arm}.log`), port, arm === 'native-cgroup' ? ownCpuCgroup() : undefined)
            : await startContainer(`${CONTAINER}-${arm}`, arm === 'container-unconfined' ? ['--security-opt', 'seccomp=unconfined'] : [], port),
        );
        live.push({ arm, port, agent: new Agent({ keepAlive: true, maxSockets: CONCURRENCY }), seq: [], load: [], loadMs: 0, errors: 0 });
      }
      for (const l of live) await waitReady(l.port, 120_000);
      for (const r of await measure(live, round, bodies)) {
        results.push(r);
        console.log(fmt(r));
      }
      for (const l of live) l.agent.destroy();
    } finally {
      for (const r of running) await r.stop();
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
  if (ARMS.includes('native')) {
    // Each arm against the native run of the same round: drift in the machine's load cancels within a round.
    console.log('\nper-round ratio to the same round\'s native run: median [min .. max]');
    console.log('| arm | seq p50 | seq p99 | c32 req/s |');
    console.log('|---|---|---|---|');
    for (const arm of ARMS.filter((a) => a !== 'native')) {
      const paired = (k: keyof Round) => {
        const ratios = of(arm).map((r) => (r[k] as number) / (results.find((n) => n.arm === 'native' && n.round === r.round)![k] as number) - 1);
        return `${pct(median(ratios))} [${pct(Math.min(...ratios))} .. ${pct(Math.max(...ratios))}]`;
      };
      console.log(`| ${arm} | ${paired('seqP50')} | ${paired('seqP99')} | ${paired('rps')} |`);
    }
  }
  if (ARMS.includes('native-cgroup')) rmdirSync(ownCpuCgroup());
  rmSync(logDir, { recursive: true, force: true });
  rmSync(resolve(x.app, '..'), { recursive: true, force: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
