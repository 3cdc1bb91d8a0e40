import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The CUDA EP fetch, run for real against a stand-in NuGet package served on loopback (NuGet itself is not reachable
// from our CI): the pinned sha256 decides whether anything is installed.
const root = join(__dirname, '..');
const script = join(root, 'scripts', 'cuda-ep.mjs');
const realLock = JSON.parse(readFileSync(join(root, 'cuda-ep.lock.json'), 'utf8'));
const AdmZip = createRequire(require.resolve('onnxruntime-node/package.json'))('adm-zip');

function nupkg(): Buffer {
  const zip = new AdmZip();
  for (const [file, entry] of Object.entries<string>(realLock.files)) zip.addFile(entry, Buffer.from(`stand-in ${file}`));
  zip.addFile('Microsoft.ML.OnnxRuntime.Gpu.Linux.nuspec', Buffer.from('<package/>'));
  return zip.toBuffer();
}

const pkg = nupkg();
const pkgSha = createHash('sha256').update(pkg).digest('hex');
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/pkg.nupkg') res.end(pkg);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pkg.nupkg`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function lockWith(fields: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cuda-ep-'));
  const path = join(dir, 'cuda-ep.lock.json');
  writeFileSync(path, JSON.stringify({ ...realLock, url, ...fields }));
  return path;
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { env: { ...process.env, CUDA_EP_SHA256: '', ...env }, cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

describe('CUDA execution provider fetch (scripts/cuda-ep.mjs)', () => {
  it('installs the libraries when the download matches the pinned sha256', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'cuda-ep-dest-'));
    const r = await run(['install', dest], { CUDA_EP_LOCK: lockWith({ sha256: pkgSha }) });
    expect(r).toMatchObject({ code: 0 });
    for (const file of Object.keys(realLock.files)) expect(readFileSync(join(dest, file), 'utf8')).toBe(`stand-in ${file}`);
  });

  it('fails the build and installs nothing on a sha256 mismatch', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'cuda-ep-dest-'));
    const r = await run(['install', dest], { CUDA_EP_LOCK: lockWith({ sha256: 'a'.repeat(64) }) });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`sha256 mismatch`);
    expect(r.out).toContain(pkgSha);
    for (const file of Object.keys(realLock.files)) expect(existsSync(join(dest, file))).toBe(false);
  });

  it('refuses to install without a pin, and says how to pin', async () => {
    const r = await run(['install', mkdtempSync(join(tmpdir(), 'cuda-ep-dest-'))], { CUDA_EP_LOCK: lockWith({ sha256: '' }) });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/no sha256 pinned.*npm run pin:cuda-ep.*CUDA_EP_SHA256/s);
  });

  it('lets the CUDA_EP_SHA256 build arg stand in for the lock, and still checks it', async () => {
    const dest = mkdtempSync(join(tmpdir(), 'cuda-ep-dest-'));
    expect((await run(['install', dest], { CUDA_EP_LOCK: lockWith({ sha256: '' }), CUDA_EP_SHA256: pkgSha })).code).toBe(0);
    expect((await run(['install', dest], { CUDA_EP_LOCK: lockWith({ sha256: pkgSha }), CUDA_EP_SHA256: 'b'.repeat(64) })).code).toBe(1);
  });

  it('refuses a pin for another ONNX Runtime release than the binding', async () => {
    const r = await run(['install', mkdtempSync(join(tmpdir(), 'cuda-ep-dest-'))], { CUDA_EP_LOCK: lockWith({ sha256: pkgSha, version: '1.0.0' }) });
    expect(r.code).toBe(1);
    expect(r.out).toContain('onnxruntime-node is');
  });

  it('pin writes the sha256 of what it downloaded into the lock', async () => {
    const lock = lockWith({ sha256: '' });
    expect((await run(['pin'], { CUDA_EP_LOCK: lock })).code).toBe(0);
    expect(JSON.parse(readFileSync(lock, 'utf8')).sha256).toBe(pkgSha);
  });

  it('the lock names the NuGet package of the onnxruntime-node release we depend on', () => {
    const ortVersion = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies['onnxruntime-node'];
    expect(realLock.version).toBe(ortVersion);
    expect(realLock.url).toBe(
      `https://api.nuget.org/v3-flatcontainer/microsoft.ml.onnxruntime.gpu.linux/${ortVersion}/microsoft.ml.onnxruntime.gpu.linux.${ortVersion}.nupkg`,
    );
    expect(realLock.sha256 === '' || /^[0-9a-f]{64}$/.test(realLock.sha256)).toBe(true);
  });

  it('the gpu image gets its CUDA libraries only through the checked fetch', () => {
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/RUN node scripts\/cuda-ep\.mjs install node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64/);
    expect(dockerfile).not.toMatch(/onnxruntime-node\/script\/install\.js|ONNXRUNTIME_NODE_INSTALL=cuda/);
    expect(dockerfile).toMatch(/COPY cuda-ep\.lock\.json/);
  });
});
