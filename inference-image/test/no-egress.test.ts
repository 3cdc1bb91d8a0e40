/**
 * The server makes no outbound connection: run in a network namespace that has only loopback, with /etc/resolv.conf
 * (bind-mounted in a private mount namespace) pointing at a DNS stub on 127.0.0.1 that records every query, it loads,
 * warms up and serves 20 inferences without one DNS query and without writing under $HOME. The stub, the server and
 * the client all run inside the namespace (test/netns/harness.js). Needs root (or CAP_SYS_ADMIN) for unshare.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths';
import { FEATURES, requireDemoModel, rows } from './helpers';

const MAIN = join(PACKAGE_ROOT, 'dist', 'src', 'main.js');
const HARNESS = join(__dirname, 'netns', 'harness.js');
const REQUESTS = 20;
const ORT_CACHE = join('.cache', 'Microsoft', 'DeveloperTools', '.onnxruntime');

interface Outcome {
  queries: string[];
  homeFiles: string[];
  result: { ready?: boolean; statuses?: number[]; exitCode?: number | string; lookup?: string; stderr?: string; error?: string };
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

/** One harness run in fresh network + mount namespaces, with a fresh $HOME and a resolv.conf naming only the stub. */
function inNamespace(opts: Record<string, unknown>): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-netns-'));
  const home = mkdtempSync(join(dir, 'home-'));
  const resolvConf = join(dir, 'resolv.conf');
  writeFileSync(resolvConf, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  const queriesFile = join(dir, 'queries');
  const env = { ...(opts.env as Record<string, string> | undefined), HOME: home };
  const args = JSON.stringify({ ...opts, env, queriesFile });
  const script = 'ip link set lo up && mount --bind "$1" /etc/resolv.conf && exec "$2" "$3" "$4"';
  return new Promise((resolve, reject) => {
    execFile('unshare', ['--net', '--mount', 'sh', '-c', script, 'sh', resolvConf, process.execPath, HARNESS, args], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`harness failed: ${err.message}\n${stdout}\n${stderr}`));
      const queries = existsSync(queriesFile) ? readFileSync(queriesFile, 'utf8').split('\n').filter(Boolean) : [];
      resolve({ queries, homeFiles: filesUnder(home), result: JSON.parse(stdout.trim().split('\n').pop()!) });
    });
  });
}

/** The server as `npm run serve` runs it: no ORT_DISABLE_TELEMETRY unless the case sets one. */
function serverRun(port: number, extraEnv: Record<string, string> = {}): Promise<Outcome> {
  const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, FEATURES], datatype: 'FP32', data: rows(1, 11).flat() }] });
  return inNamespace({
    mode: 'server',
    node: process.execPath,
    main: MAIN,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOST: '127.0.0.1', PORT: String(port), DEVICE: 'cpu', LOG_LEVEL: 'warn', ORT_INTRA_OP_THREADS: '1', ...extraEnv },
    readyTimeoutMs: 40_000,
    requests: REQUESTS,
    path: '/v2/models/demo/infer',
    body,
    lingerMs: 1000,
  });
}

beforeAll(() => {
  requireDemoModel();
  if (!existsSync(MAIN)) throw new Error(`${MAIN} missing; run "npm run build" first`);
  const probe = spawnSync('unshare', ['--net', '--mount', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(
      `cannot create a network + mount namespace (unshare --net --mount, then ip link): ${probe.error?.message ?? probe.stderr.trim()}. ` +
        'This test needs root or CAP_SYS_ADMIN, util-linux unshare and iproute2; run it as root (CI does), it is not skipped.',
    );
  }
});

describe('no outbound connections', () => {
  let byDefault: Outcome;
  let optedIn: Outcome;
  beforeAll(async () => {
    // Both at once, each in its own namespaces: ports and the stub's port 53 cannot collide.
    [byDefault, optedIn] = await Promise.all([serverRun(18181), serverRun(18182, { ORT_DISABLE_TELEMETRY: '0' })]);
  }, 90_000);

  it('positive control: the harness records a lookup made inside the namespace', async () => {
    const control = await inNamespace({ mode: 'lookup', host: 'example.com' });
    expect(control.result.lookup).toBe('ENOTFOUND');
    expect(control.queries).toContain('example.com');
  });

  it('loads, warms up and serves 20 inferences with zero DNS queries and nothing written under $HOME', () => {
    expect(byDefault.result).toMatchObject({ ready: true, exitCode: 0 });
    expect(byDefault.result.statuses).toEqual(Array(REQUESTS).fill(200));
    expect(byDefault.queries).toEqual([]);
    expect(byDefault.homeFiles).toEqual([]);
  });

  it("positive control: with ORT_DISABLE_TELEMETRY=0 (the opt-in) ONNX Runtime's telemetry writes its device id under $HOME", () => {
    expect(optedIn.result).toMatchObject({ ready: true, exitCode: 0 });
    expect(optedIn.homeFiles).toContain(join(ORT_CACHE, 'deviceid'));
  });
});
