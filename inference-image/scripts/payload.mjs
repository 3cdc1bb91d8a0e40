// Measures the image's runtime payload: compiled app, production node_modules
// (installed fresh from the lockfile, other-platform ONNX Runtime binaries
// pruned as in the Dockerfile) and the baked demo model.
// Usage: npm run payload   (builds first)
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function size(path) {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += size(join(path, entry));
  return total;
}
const mb = (b) => (b < 1024 * 1024 ? `${(b / 1024).toFixed(0)} KiB` : `${(b / 1024 / 1024).toFixed(1)} MiB`);

const dist = join(root, 'dist', 'src');
const model = join(root, 'models', 'demo', 'model.onnx');
if (!existsSync(dist) || !existsSync(model)) {
  console.error('payload: run "npm run build" first');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'modelship-payload-'));
try {
  for (const f of ['package.json', 'package-lock.json', '.npmrc']) copyFileSync(join(root, f), join(work, f));
  execFileSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: work, stdio: 'inherit' });
  const nm = join(work, 'node_modules');
  const before = size(nm);
  execFileSync(process.execPath, [join(root, 'scripts', 'prune-ort.mjs'), nm], { stdio: 'inherit' });
  const after = size(nm);
  const packages = readdirSync(nm)
    .filter((n) => !n.startsWith('.'))
    .flatMap((n) => (n.startsWith('@') ? readdirSync(join(nm, n)).map((s) => `${n}/${s}`) : [n]))
    .map((n) => [n, size(join(nm, n))])
    .sort((a, b) => b[1] - a[1]);
  const app = size(dist);
  const modelBytes = size(model);
  console.log('');
  console.log(`compiled app (dist/src)          ${mb(app)}`);
  console.log(`production node_modules          ${mb(after)}  (${packages.length} packages; ${mb(before)} before pruning other-platform ORT binaries)`);
  console.log(`runtime payload (app + modules)  ${mb(app + after)}`);
  console.log(`demo model (baked by default)    ${mb(modelBytes)}`);
  console.log(`total added to the base image    ${mb(app + after + modelBytes)}`);
  console.log(`largest packages: ${packages.slice(0, 5).map(([n, b]) => `${n} ${mb(b)}`).join(', ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
