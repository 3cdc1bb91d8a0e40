// Removes onnxruntime-node's prebuilt binaries for every platform but this one
// (~100 MB of macOS, Windows and other-arch libraries an image never loads).
// Usage: node scripts/prune-ort.mjs [node_modules dir]
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const nodeModules = resolve(process.argv[2] ?? 'node_modules');
const binRoot = join(nodeModules, 'onnxruntime-node', 'bin');
if (!existsSync(binRoot)) {
  console.error(`prune-ort: ${binRoot} not found`);
  process.exit(1);
}
const keep = `${process.platform}/${process.arch}`;
let removed = 0;
for (const napi of readdirSync(binRoot)) {
  for (const platform of readdirSync(join(binRoot, napi))) {
    const platformDir = join(binRoot, napi, platform);
    if (!statSync(platformDir).isDirectory()) continue;
    for (const arch of readdirSync(platformDir)) {
      if (`${platform}/${arch}` === keep) continue;
      rmSync(join(platformDir, arch), { recursive: true, force: true });
      removed++;
    }
    if (readdirSync(platformDir).length === 0) rmSync(platformDir, { recursive: true, force: true });
  }
}
console.log(`prune-ort: kept ${keep}, removed ${removed} other platform/arch binary folders`);
