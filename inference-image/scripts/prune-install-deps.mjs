// Removes the packages that only onnxruntime-node's postinstall downloader uses (adm-zip, global-agent and whatever
// they alone pull in): the runtime never loads them. Walks the dependency graph from the app's own dependencies,
// resolving names as Node does (nearest node_modules upwards), without following onnxruntime-node's edges to the
// downloader's packages, and deletes every installed package the walk never reached.
// Usage: node scripts/prune-install-deps.mjs [app dir holding package.json and node_modules]
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const INSTALL_ONLY = { 'onnxruntime-node': ['adm-zip', 'global-agent'] };

const app = resolve(process.argv[2] ?? '.');
const modules = join(app, 'node_modules');
if (!existsSync(modules)) {
  console.error(`prune-install-deps: ${modules} not found`);
  process.exit(1);
}
const manifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Every installed package directory, nested ones included. */
function installed(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name.startsWith('.')) continue;
    const path = join(dir, name);
    if (name.startsWith('@')) installed(path, out);
    else if (existsSync(join(path, 'package.json'))) {
      out.push(path);
      installed(join(path, 'node_modules'), out);
    }
  }
  return out;
}

/** The directory Node would load `name` from when required by the package at `from`. */
function resolvePackage(from, name) {
  for (let dir = from; dir.startsWith(app); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === app) break;
  }
  return undefined;
}

const reached = new Set();
const queue = [app];
while (queue.length > 0) {
  const dir = queue.pop();
  const pkg = manifest(dir);
  const skip = dir === app ? [] : (INSTALL_ONLY[pkg.name] ?? []);
  const deps = { ...pkg.peerDependencies, ...pkg.optionalDependencies, ...pkg.dependencies };
  for (const name of Object.keys(deps)) {
    if (skip.includes(name)) continue;
    const target = resolvePackage(dir, name);
    if (target && !reached.has(target)) {
      reached.add(target);
      queue.push(target);
    }
  }
}

const removed = installed(modules).filter((dir) => !reached.has(dir));
for (const dir of removed) rmSync(dir, { recursive: true, force: true });
console.log(`prune-install-deps: removed ${removed.length} install-only packages: ${removed.map((d) => d.slice(modules.length + 1)).join(', ')}`);
