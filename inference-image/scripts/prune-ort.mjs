// Removes onnxruntime-node's prebuilt binaries for every platform but the target
// (~100 MB of macOS, Windows and other-arch libraries an image never loads).
// The target is a Docker platform (`linux/arm64`, BuildKit's $TARGETPLATFORM), so the install can run on the build
// machine's own platform and be pruned for another without emulation; default: this process's platform.
// Fails when the package ships no binary for the target, rather than leaving an image that cannot load ONNX Runtime.
// Usage: node scripts/prune-ort.mjs [node_modules dir] [os/arch[/variant]]
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

// Docker's architecture names (GOARCH) as Node's process.arch spells them.
const NODE_ARCH = { amd64: 'x64', arm64: 'arm64', arm: 'arm', '386': 'ia32', ppc64le: 'ppc64', s390x: 's390x', riscv64: 'riscv64' };

// The os/arch folder onnxruntime-node keeps a platform's binary in (bin/napi-vN/OS/ARCH): linux/amd64 -> linux/x64.
function ortPlatformDir(dockerPlatform) {
  const [os, arch] = dockerPlatform.split('/');
  const nodeArch = NODE_ARCH[arch];
  if (!os || !nodeArch) throw new Error(`prune-ort: "${dockerPlatform}" is not a Docker platform such as linux/amd64 or linux/arm64`);
  return `${os}/${nodeArch}`;
}

const nodeModules = resolve(process.argv[2] ?? 'node_modules');
const target = process.argv[3];
const binRoot = join(nodeModules, 'onnxruntime-node', 'bin');
if (!existsSync(binRoot)) {
  console.error(`prune-ort: ${binRoot} not found`);
  process.exit(1);
}
const keep = target ? ortPlatformDir(target) : `${process.platform}/${process.arch}`;
let kept = 0;
let removed = 0;
for (const napi of readdirSync(binRoot)) {
  for (const platform of readdirSync(join(binRoot, napi))) {
    const platformDir = join(binRoot, napi, platform);
    if (!statSync(platformDir).isDirectory()) continue;
    for (const arch of readdirSync(platformDir)) {
      if (`${platform}/${arch}` === keep) {
        kept++;
        continue;
      }
      rmSync(join(platformDir, arch), { recursive: true, force: true });
      removed++;
    }
    if (readdirSync(platformDir).length === 0) rmSync(platformDir, { recursive: true, force: true });
  }
}
if (kept === 0) {
  console.error(`prune-ort: onnxruntime-node ships no ${keep} binary${target ? ` (for ${target})` : ''}: build for a platform it supports (linux/amd64, linux/arm64)`);
  process.exit(1);
}
console.log(`prune-ort: kept ${keep}, removed ${removed} other platform/arch binary folders`);
