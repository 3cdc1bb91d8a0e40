// Removes what a production node_modules carries but never loads: TypeScript sources and declarations, source maps,
// markdown, and the packages' own tests, docs, examples and benchmarks (~20 MB of the image). LICENSE files stay.
// Usage: node scripts/prune-dev-files.mjs [node_modules dir]
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const DEAD_DIRS = new Set(['test', 'tests', '__tests__', 'docs', 'doc', 'example', 'examples', 'benchmark', 'benchmarks', 'bench', '.github']);
const DEAD_FILE = /(\.d\.[cm]?ts|\.[cm]?ts|\.map|\.md|\.markdown)$/i;

const root = resolve(process.argv[2] ?? 'node_modules');
if (!existsSync(root)) {
  console.error(`prune-dev-files: ${root} not found`);
  process.exit(1);
}

let files = 0;
let bytes = 0;
function remove(path) {
  const size = sizeOf(path);
  rmSync(path, { recursive: true, force: true });
  bytes += size;
}
function sizeOf(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}
/** Walks a package's tree; `inPackage` is false at node_modules level, where names are package names, not folders. */
function walk(dir, inPackage) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) {
      if (inPackage && DEAD_DIRS.has(entry.name.toLowerCase())) {
        remove(path);
        files++;
      } else {
        // A scope (@fastify) or node_modules holds packages; anything else is inside a package.
        const holdsPackages = entry.name === 'node_modules' || (!inPackage && entry.name.startsWith('@'));
        walk(path, !holdsPackages);
      }
    } else if (inPackage && DEAD_FILE.test(entry.name)) {
      remove(path);
      files++;
    }
  }
}
walk(root, false);
console.log(`prune-dev-files: removed ${files} files and folders, ${(bytes / 2 ** 20).toFixed(1)} MiB`);
