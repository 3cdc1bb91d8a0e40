// The CUDA execution provider libraries, fetched from NuGet and checked against a pinned sha256 before any byte of
// them lands in the image. Replaces onnxruntime-node's own installer, which downloads the same package unchecked.
//
//   node scripts/cuda-ep.mjs install <dir>   download, verify, extract the libraries into <dir>; exit 1 on a mismatch
//   node scripts/cuda-ep.mjs pin             download once and write the sha256 into cuda-ep.lock.json (review it!)
//
// Environment: CUDA_EP_SHA256 overrides the pinned hash (a build arg, for a reviewed bump without editing the lock),
// CUDA_EP_URL the download URL (an internal mirror). Behind a proxy: HTTPS_PROXY with NODE_USE_ENV_PROXY=1, and
// NODE_EXTRA_CA_CERTS for a TLS-inspecting one.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOCK_PATH = process.env.CUDA_EP_LOCK ?? join(ROOT, 'cuda-ep.lock.json');
const SHA256 = /^[0-9a-f]{64}$/;

function fail(message) {
  console.error(`cuda-ep: ${message}`);
  process.exit(1);
}

async function download(url) {
  let res;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (err) {
    fail(`cannot download ${url}: ${err.cause?.message ?? err.message}`);
  }
  if (!res.ok) fail(`cannot download ${url}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

const lock = JSON.parse(readFileSync(LOCK_PATH, 'utf8'));
const url = process.env.CUDA_EP_URL || lock.url;
const [command, dest] = process.argv.slice(2);

if (command === 'pin') {
  const bytes = await download(url);
  lock.sha256 = sha256(bytes);
  writeFileSync(LOCK_PATH, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`cuda-ep: pinned ${lock.package} ${lock.version} (${bytes.length} bytes) sha256 ${lock.sha256} in ${LOCK_PATH}`);
} else if (command === 'install' && dest) {
  const expected = (process.env.CUDA_EP_SHA256 || lock.sha256 || '').toLowerCase();
  if (!SHA256.test(expected)) {
    fail(
      `no sha256 pinned for ${lock.package} ${lock.version}: run \`npm run pin:cuda-ep\` in inference-image/ on a machine ` +
        `that reaches ${new URL(lock.url).host}, review and commit cuda-ep.lock.json, or pass --build-arg CUDA_EP_SHA256=<sha256>`,
    );
  }
  // The provider libraries must come from the same ONNX Runtime release as the binding that loads them.
  const require = createRequire(join(ROOT, 'package.json'));
  const ortVersion = JSON.parse(readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')).version;
  if (ortVersion !== lock.version) fail(`cuda-ep.lock.json pins ${lock.version} but onnxruntime-node is ${ortVersion}: pin the matching version`);
  const bytes = await download(url);
  const actual = sha256(bytes);
  if (actual !== expected) fail(`sha256 mismatch for ${url}: expected ${expected}, got ${actual}; nothing was installed`);
  // adm-zip is onnxruntime-node's own dependency: resolve it from there, wherever npm placed it.
  const AdmZip = createRequire(require.resolve('onnxruntime-node/package.json'))('adm-zip');
  const zip = new AdmZip(bytes);
  mkdirSync(dest, { recursive: true });
  for (const [file, entryName] of Object.entries(lock.files)) {
    const entry = zip.getEntry(entryName);
    if (!entry) fail(`${entryName} is missing from ${lock.package} ${lock.version}`);
    const target = join(dest, file);
    writeFileSync(target, entry.getData());
    chmodSync(target, 0o644);
  }
  for (const file of Object.keys(lock.files)) if (!existsSync(join(dest, file))) fail(`${file} was not written`);
  console.log(`cuda-ep: ${lock.package} ${lock.version} verified (sha256 ${actual}), ${Object.keys(lock.files).length} libraries in ${dest}`);
} else {
  fail('usage: node scripts/cuda-ep.mjs install <dir> | pin');
}
