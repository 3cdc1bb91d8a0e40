import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerfileParser, type Instruction, ModifiableInstruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';

const root = join(__dirname, '..');
const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
const dockerfile = DockerfileParser.parse(text);

/** Instructions grouped by the stage they belong to. */
function stages(): Map<string, Instruction[]> {
  const out = new Map<string, Instruction[]>();
  let current: Instruction[] | undefined;
  for (const inst of dockerfile.getInstructions()) {
    if (inst.getKeyword() === 'FROM') {
      const from = dockerfile.getFROMs().find((f) => f.getRange().start.line === inst.getRange().start.line)!;
      current = [];
      out.set(from.getBuildStage() ?? `stage${out.size}`, current);
    }
    current?.push(inst);
  }
  return out;
}

const byStage = stages();
const RUNTIME = ['cpu', 'gpu'];
/** Arguments including flags such as --from, as written. */
const args = (inst: Instruction) => {
  const flags = inst instanceof ModifiableInstruction ? inst.getFlags().map((f) => `--${f.getName()}=${f.getValue()}`) : [];
  return [...flags, inst.getArgumentsContent() ?? ''].join(' ');
};
const of = (stage: string, keyword: string) => byStage.get(stage)!.filter((i) => i.getKeyword() === keyword);

describe('Dockerfile', () => {
  it('passes dockerfile-utils lint with no problems', () => {
    expect(validate(text)).toEqual([]);
  });

  it('has build, deps and the cpu and gpu runtime stages, cpu last (the default target)', () => {
    expect([...byStage.keys()]).toEqual(['node', 'build', 'model', 'deps', 'deps-gpu', 'deps-cpu', 'gpu', 'cpu']);
  });

  it('pins every base image by exact version tag and digest', () => {
    const initialArgs = Object.fromEntries(
      dockerfile.getInitialARGs().map((a) => [a.getProperty()!.getName(), a.getProperty()!.getValue()!]),
    );
    expect(initialArgs.NODE_IMAGE).toMatch(/^node:\d+\.\d+\.\d+-bookworm-slim@sha256:[0-9a-f]{64}$/);
    expect(initialArgs.CUDA_IMAGE).toMatch(/^nvidia\/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+@sha256:[0-9a-f]{64}$/);
    expect(initialArgs.DEBIAN_IMAGE).toMatch(/^debian:bookworm-slim@sha256:[0-9a-f]{64}$/);
    for (const from of dockerfile.getFROMs()) {
      // `scratch` is the model stage: no image at all.
      expect(['${NODE_IMAGE}', '${CUDA_IMAGE}', '${DEBIAN_IMAGE}', 'deps', 'scratch']).toContain(from.getImage());
    }
  });

  it('installs dependencies before copying sources, so code changes keep the dependency layer', () => {
    const build = byStage.get('build')!.map((i) => `${i.getKeyword()} ${args(i)}`);
    const install = build.findIndex((l) => l.startsWith('RUN') && l.includes('npm ci'));
    const manifests = build.findIndex((l) => l.startsWith('COPY package.json package-lock.json'));
    const sources = build.findIndex((l) => l.startsWith('COPY src'));
    expect(manifests).toBeGreaterThanOrEqual(0);
    expect(manifests).toBeLessThan(install);
    expect(install).toBeLessThan(sources);
  });

  it('installs production dependencies only for runtime, prunes other platforms, and opts in to CUDA only for gpu', () => {
    const deps = of('deps', 'RUN').map(args).join('\n');
    expect(deps).toMatch(/npm ci --omit=dev/);
    expect(deps).toMatch(/prune-ort\.mjs/);
    expect(deps).not.toMatch(/ONNXRUNTIME_NODE_INSTALL/);
    expect(of('deps-gpu', 'RUN').map(args).join('\n')).toMatch(/node scripts\/cuda-ep\.mjs install /);
    expect(readFileSync(join(root, '.npmrc'), 'utf8')).toMatch(/^onnxruntime-node-install=skip$/m);
  });

  describe.each(RUNTIME)('runtime stage %s', (stage) => {
    it('runs as the fixed non-root uid 10001', () => {
      const users = of(stage, 'USER').map(args);
      expect(users.at(-1)).toBe('10001:10001');
    });

    it('has an exec-form ENTRYPOINT running node directly', () => {
      const [entry] = of(stage, 'ENTRYPOINT');
      expect(JSON.parse(args(entry))).toEqual(['node', 'dist/src/main.js']);
    });

    it('sets NODE_ENV=production, defaults to the baked demo model and exposes the port', () => {
      const env = of(stage, 'ENV').map(args).join(' ');
      expect(env).toMatch(/NODE_ENV=production/);
      expect(env).toMatch(/MODEL_PATH=\/app\/model\/\$\{MODEL_FILE\}/);
      expect(env).toMatch(/MODEL_NAME=\$\{MODEL_NAME\}/);
      const stageArgs = Object.fromEntries(of(stage, 'ARG').map((a) => args(a).split('=')));
      expect(stageArgs).toMatchObject({ MODEL_NAME: 'demo', MODEL_FILE: 'model.onnx' });
      expect(env).toMatch(/PORT=8080/);
      expect(of(stage, 'EXPOSE').map(args)).toEqual(['8080']);
    });

    it('copies only runtime artifacts from earlier stages', () => {
      const copies = of(stage, 'COPY').map(args);
      const allowed = [
        /^--from=deps-(gpu|cpu) \/app\/node_modules \.\/node_modules$/,
        /^--from=build \/src\/package\.json \.\/package\.json$/,
        /^--from=model \/ \.\/model\/$/,
        /^--from=build \/src\/dist\/src \.\/dist\/src$/,
        /^--from=node \/usr\/local\/bin\/node \/usr\/local\/bin\/node$/,
      ];
      for (const c of copies) expect(allowed.some((re) => re.test(c))).toBe(true);
      expect(copies.some((c) => c.includes('dist/src'))).toBe(true);
      // Never the whole build tree, sources, or dev node_modules.
      for (const c of copies) expect(c).not.toMatch(/--from=build \/src\/node_modules|\/src\/src|--from=build \/src \.|tsconfig/);
    });

    it('installs nothing and builds nothing', () => {
      const runs = of(stage, 'RUN').map(args).join('\n');
      expect(runs).not.toMatch(/\b(npm (ci|install)|apt-get|apt |yarn add|tsc|gcc|make|pip)\b/);
      expect(of(stage, 'ADD')).toHaveLength(0);
    });
  });

  it('gpu stage uses the CUDA base and the CUDA-enabled dependencies', () => {
    expect(dockerfile.getFROMs().find((f) => f.getBuildStage() === 'gpu')!.getImage()).toBe('${CUDA_IMAGE}');
    expect(of('gpu', 'COPY').map(args)).toContain('--from=deps-gpu /app/node_modules ./node_modules');
    expect(of('cpu', 'COPY').map(args)).toContain('--from=deps-cpu /app/node_modules ./node_modules');
  });

  it('.dockerignore keeps local installs, build output and models out of the context', () => {
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['**/node_modules', 'dist', 'models', 'test']) expect(ignore).toContain(entry);
  });
});

describe('Dockerfile builds anywhere the engine runs', () => {
  it('needs no frontend image from a registry: no `# syntax=` directive', () => {
    expect(text).not.toMatch(/^#\s*syntax\s*=/im);
  });

  it('lets every npm ci trust an extra CA given as a BuildKit secret, never stored in a layer', () => {
    const runs = [...byStage.values()].flat().filter((i) => i.getKeyword() === 'RUN' && /npm ci/.test(args(i)));
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs) expect(args(run)).toMatch(/^--mount=type=secret,id=ca,required=false NODE_EXTRA_CA_CERTS=\/run\/secrets\/ca npm ci/);
    expect(text).not.toMatch(/^(COPY|ADD)\s.*\b(ca|cert)/im);
  });
});

describe('Dockerfile: the model, the labels, no phoning home, no dead weight', () => {
  it('bakes the model from a stage a named build context `model` can replace; the demo by default', () => {
    const modelStage = byStage.get('model')!.map((i) => `${i.getKeyword()} ${args(i)}`);
    expect(modelStage).toEqual(['FROM scratch AS model', 'COPY --from=build /src/models/demo/ /']);
    for (const stage of RUNTIME) expect(of(stage, 'COPY').map(args)).toContain('--from=model / ./model/');
  });

  it.each(RUNTIME)('%s turns ONNX Runtime telemetry off', (stage) => {
    expect(of(stage, 'ENV').map(args).join(' ')).toMatch(/\bORT_DISABLE_TELEMETRY=1\b/);
  });

  it.each(RUNTIME)('%s carries the OCI labels, version from package.json', (stage) => {
    const labels = of(stage, 'LABEL').map(args).join(' ');
    for (const key of ['title', 'description', 'licenses', 'version', 'revision', 'source']) {
      expect(labels).toContain(`org.opencontainers.image.${key}=`);
    }
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
    expect(Object.fromEntries(of(stage, 'ARG').map((a) => args(a).split('=')))).toMatchObject({ VERSION: version });
    expect(labels).toContain('org.opencontainers.image.licenses="Apache-2.0"');
  });

  it('cpu runs on plain Debian slim with only the Node binary copied in: no npm, yarn, corepack or headers', () => {
    expect(dockerfile.getFROMs().find((f) => f.getBuildStage() === 'cpu')!.getImage()).toBe('${DEBIAN_IMAGE}');
    expect(of('cpu', 'COPY').map(args)).toContain('--from=node /usr/local/bin/node /usr/local/bin/node');
  });

  it('prunes dev files and install-only packages from the runtime node_modules', () => {
    expect(of('deps', 'RUN').map(args).join('\n')).toMatch(/prune-dev-files\.mjs node_modules[\s\S]*prune-ort\.mjs node_modules "\$TARGETPLATFORM"/);
    for (const stage of ['deps-cpu', 'deps-gpu']) expect(of(stage, 'RUN').map(args).join('\n')).toMatch(/prune-install-deps\.mjs \./);
  });
});

describe('Dockerfile: multi-arch without QEMU', () => {
  const from = (stage: string) => dockerfile.getFROMs().find((f) => f.getBuildStage() === stage)!;
  const platformFlag = (stage: string) => from(stage).getFlags().find((f) => f.getName() === 'platform')?.getValue();

  it('runs every command of the build and deps stages on the build machine\'s platform ($BUILDPLATFORM), no emulation', () => {
    expect(platformFlag('build')).toBe('$BUILDPLATFORM');
    expect(platformFlag('deps')).toBe('$BUILDPLATFORM');
    // deps-cpu and deps-gpu derive from deps, so they run there too.
    expect(from('deps-cpu').getImage()).toBe('deps');
    expect(from('deps-gpu').getImage()).toBe('deps');
  });

  it('runs no command in a stage of the target platform: node, cpu and gpu only copy', () => {
    for (const stage of ['node', 'cpu', 'gpu']) {
      expect(platformFlag(stage)).toBeUndefined();
      expect(of(stage, 'RUN')).toHaveLength(0);
    }
    // The Node binary comes from the target platform's image, never from a stage built on the build platform.
    for (const stage of RUNTIME) expect(of(stage, 'COPY').map(args).filter((c) => c.includes('/usr/local/bin/node'))).toEqual(['--from=node /usr/local/bin/node /usr/local/bin/node']);
  });

  it('prunes ONNX Runtime for $TARGETPLATFORM, declared after the install so one install serves every platform', () => {
    const deps = byStage.get('deps')!.map((i) => `${i.getKeyword()} ${args(i)}`);
    const install = deps.findIndex((l) => l.startsWith('RUN') && l.includes('npm ci'));
    const arg = deps.findIndex((l) => l === 'ARG TARGETPLATFORM');
    const prune = deps.findIndex((l) => l.includes('prune-ort.mjs node_modules "$TARGETPLATFORM"'));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(arg).toBeGreaterThan(install);
    expect(prune).toBeGreaterThan(arg);
  });
});

describe('prune-ort.mjs', () => {
  const tree = () => {
    const nm = mkdtempSync(join(tmpdir(), 'prune-ort-'));
    for (const d of ['linux/x64', 'linux/arm64', 'darwin/arm64', 'win32/x64']) mkdirSync(join(nm, 'onnxruntime-node', 'bin', 'napi-v6', d), { recursive: true });
    return nm;
  };
  const run = (nm: string, platform?: string) =>
    spawnSync(process.execPath, [join(root, 'scripts', 'prune-ort.mjs'), nm, ...(platform ? [platform] : [])], { encoding: 'utf8' });
  const bin = (nm: string, d: string) => existsSync(join(nm, 'onnxruntime-node', 'bin', 'napi-v6', d));

  it.each([
    ['linux/arm64', 'linux/arm64'],
    ['linux/amd64', 'linux/x64'],
  ])('keeps only the target %s binary (%s), whatever platform it runs on', (platform, kept) => {
    const nm = tree();
    expect(run(nm, platform).status).toBe(0);
    for (const d of ['linux/x64', 'linux/arm64', 'darwin/arm64', 'win32/x64']) expect(bin(nm, d)).toBe(d === kept);
  });

  it('fails, naming the platform, when the package has no binary for it', () => {
    const r = run(tree(), 'linux/arm/v7');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/onnxruntime-node ships no linux\/arm binary \(for linux\/arm\/v7\)/);
  });

  it('onnxruntime-node does ship linux x64 and arm64 binaries in its npm package (what makes the cross-platform install work)', () => {
    const dir = join(root, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6', 'linux');
    expect(existsSync(join(dir, 'x64'))).toBe(true);
    expect(existsSync(join(dir, 'arm64'))).toBe(true);
  });
});
