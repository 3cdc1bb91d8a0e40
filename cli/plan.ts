/**
 * `modelship plan`: runs the program of the Pulumi project it is run in (its Pulumi.yaml `main`) offline under Pulumi's
 * mock runtime, with the stack's config file, no cloud credentials and no Pulumi CLI, and prints what the stack would
 * create. In this repository that program is stacks/index.ts, the ready-made stacks.
 *
 * Provider-computed values (ARNs, URLs, image digests) are placeholders, shown as `<placeholder:…>`: the plan shows what
 * is declared and how it is wired, not what AWS will answer.
 *
 * It then runs the modelship policy pack (policy/) over the recorded resources, as the engine would over a preview, and
 * prints its violations; `--enforce` refuses the plan on a mandatory one.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import Module from "module";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import * as pulumi from "@pulumi/pulumi";
import { stringify as toYaml, parse as parseYaml } from "yaml";
import { budgetProblem, estimateCost, renderCost, type CostEstimate } from "./cost";
import { installMockRuntime, markPlaceholders, mockRegion, unwrapSecrets, type MockRecorder, type RecordedResource } from "./mock-runtime";
import { formatViolation, policies, runPolicies, validatePolicyConfig, type PolicyPackConfig, type PolicyTarget, type PolicyViolation } from "../policy";
import { signingOwnerWarnings, unsignedImageWarnings } from "./signing-check";
import { formatViolations, type ContractViolation } from "./contracts";

export const SECRET_MASK = "[secret]";

export const USAGE = `usage: modelship plan [options]

Runs the Pulumi program of the project in the current directory (Pulumi.yaml \`main\`) offline, under Pulumi's mock
runtime, with the stack's config file (Pulumi.<stack>.yaml), and prints what the stack would create.

options:
  -s, --stack NAME        stack whose Pulumi.<NAME>.yaml to read (default: cloud)
      --json              print the plan as JSON (input of --diff)
      --diff FILE         compare with a previous plan (JSON from --json): added, removed, changed resources
      --out DIR           also write every Kubernetes object (and Helm release) as YAML under DIR, replacing
                          the files a previous run wrote there
      --project-dir DIR   directory holding Pulumi.yaml (default: found upwards from the current directory)
      --enforce           exit non-zero when the policy pack (modelship/policy) reports a mandatory violation
      --policy-config F   the pack's policy config (JSON, as pulumi --policy-pack-config): levels per rule or "all"
      --max-monthly USD   fail (exit 1) when the estimated full-scale monthly cost exceeds USD, or is unknown
  -h, --help              print this help`;

export interface PlanOptions {
    stack: string;
    json: boolean;
    out?: string;
    /** A previous plan (JSON) to compare with. */
    diff?: string;
    /** Directory holding Pulumi.yaml. Default: found upwards from the working directory. */
    projectDir?: string;
    /** Refuse the plan (`refused` in the result; the CLI exits non-zero) on a mandatory policy violation. */
    enforce?: boolean;
    /** A policy config file (JSON, as `pulumi preview --policy-pack-config`). */
    policyConfig?: string;
    /** Fail when the estimated full-scale monthly cost (USD) exceeds this, or cannot be priced. */
    maxMonthly?: number;
    /** The day the cost is estimated for (YYYY-MM-DD; EKS support windows depend on it). Default today. */
    asOf?: string;
    /** Loads the program's main module. Default: Node's `require`, after dropping the project's modules from its cache. */
    load?: (file: string) => unknown;
}

export interface PlanResource {
    type: string;
    name: string;
    parent: string | null;
    /** The explicit provider (e.g. which cluster a Kubernetes object goes to); null for the default one. */
    provider?: string | null;
    inputs: Record<string, unknown>;
}

export interface Plan {
    stack: string;
    /** The project's program (Pulumi.yaml `main`), relative to the project directory. */
    program?: string;
    /** The `target` stack output, when the program exports one (modelship's ready stacks do). */
    target?: string;
    resources: PlanResource[];
    /** Number of resources of each type. */
    counts?: Record<string, number>;
    /** The program's stack outputs, secrets masked. */
    outputs?: Record<string, unknown>;
    /** What the policy pack reported, mandatory first. */
    violations?: PolicyViolation[];
    /** The estimated monthly cost band (cli/cost.ts). */
    cost?: CostEstimate;
}

/** What {@link plan} returns. */
export interface PlanResult {
    /** What to print: the tree, the JSON plan, or the diff. */
    text: string;
    plan: Plan;
    /** Kubernetes YAML files written under `--out`. */
    written: string[];
    diff?: PlanDiff;
    /** What the policy pack reported, mandatory first. */
    violations: PolicyViolation[];
    /** True with `enforce` when a mandatory policy violation refuses the plan (the CLI exits non-zero). */
    refused: boolean;
    /** Why the plan fails `--max-monthly`, when it does. */
    budgetError?: string;
    /** Contracts of the providers and the API server that the program breaks; `modelship plan` fails when any. */
    contractViolations: ContractViolation[];
    /** The recording of the run (every resource with its inputs, dependencies and provider). */
    recorder: MockRecorder;
}

/** A one-line user error (bad flag, unknown stack, bad config). */
export class PlanError extends Error {}

/** Parses `plan` flags with `util.parseArgs`. Returns `"help"` for `--help`. Pure. */
export function parsePlanArgs(argv: string[]): PlanOptions | "help" {
    let values;
    try {
        ({ values } = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                stack: { type: "string", short: "s", default: "cloud" },
                json: { type: "boolean", default: false },
                out: { type: "string" },
                diff: { type: "string" },
                "project-dir": { type: "string" },
                enforce: { type: "boolean", default: false },
                "policy-config": { type: "string" },
                "max-monthly": { type: "string" },
                help: { type: "boolean", short: "h", default: false },
            },
        }));
    } catch (err) {
        throw new PlanError(`${(err as Error).message.split("\n")[0].replace(/\.? To specify .*$/, "")}: see modelship plan --help`);
    }
    if (values.help) return "help";
    const opts: PlanOptions = { stack: values.stack, json: values.json };
    if (values.out !== undefined) opts.out = values.out;
    if (values.diff !== undefined) opts.diff = values.diff;
    if (values["project-dir"] !== undefined) opts.projectDir = values["project-dir"];
    if (values.enforce) opts.enforce = true;
    if (values["policy-config"] !== undefined) opts.policyConfig = values["policy-config"];
    if (values["max-monthly"] !== undefined) opts.maxMonthly = parseMaxMonthly(values["max-monthly"]);
    return opts;
}

/** Finds the directory holding Pulumi.yaml, from `start` upwards. */
export function findProjectRoot(start: string): string | undefined {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) return undefined;
    }
}

/** Finds the directory holding Pulumi.yaml, from `start` upwards. */
export function findProjectDir(start: string): string {
    const dir = findProjectRoot(start);
    if (dir === undefined) throw new PlanError(`no Pulumi.yaml in ${start} or above: run from the modelship project or pass --project-dir`);
    return dir;
}

/** The fields of Pulumi.yaml the plan reads. */
export interface PulumiProject {
    name: string;
    main?: string;
    stackConfigDir?: string;
}

/** Reads Pulumi.yaml. */
export function readProject(projectDir: string): PulumiProject {
    let doc: Partial<PulumiProject> | null;
    try {
        doc = parseYaml(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8"));
    } catch (err) {
        throw new PlanError(`Pulumi.yaml: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    if (typeof doc?.name !== "string" || doc.name === "") throw new PlanError("Pulumi.yaml: name: is required (the project's name)");
    return { name: doc.name, main: doc.main, stackConfigDir: doc.stackConfigDir };
}

/**
 * The file Pulumi runs for a project, as the Node.js language host finds it: Pulumi.yaml `main` (a file, or a
 * directory), else the project directory; in a directory, its package.json `main`, else index.ts, else index.js.
 */
export function resolveProgram(projectDir: string, project: PulumiProject): string {
    const main = path.resolve(projectDir, project.main ?? ".");
    const where = project.main === undefined ? "the project directory" : `Pulumi.yaml main (${project.main})`;
    if (!fs.existsSync(main)) throw new PlanError(`${where}: ${path.relative(projectDir, main) || "."} does not exist: fix Pulumi.yaml main`);
    if (fs.statSync(main).isFile()) return main;
    const candidates: string[] = [];
    const pkgFile = path.join(main, "package.json");
    if (fs.existsSync(pkgFile)) {
        const pkgMain = (JSON.parse(fs.readFileSync(pkgFile, "utf8")) as { main?: string }).main;
        if (pkgMain) candidates.push(path.resolve(main, pkgMain), path.resolve(main, `${pkgMain}.js`), path.resolve(main, pkgMain, "index.js"));
    }
    candidates.push(path.join(main, "index.ts"), path.join(main, "index.js"));
    const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
    if (!found) throw new PlanError(`${where}: no program found (package.json main, index.ts or index.js): set main in Pulumi.yaml`);
    return found;
}

/** The part of the `typescript` package the loader uses. */
export interface TypeScriptCompiler {
    transpileModule(
        source: string,
        options: { fileName: string; compilerOptions: { module: number; target: number; esModuleInterop: boolean; inlineSourceMap: boolean; inlineSources: boolean } },
    ): { outputText: string };
    ModuleKind: { CommonJS: number };
    ScriptTarget: { ES2022: number };
}

/** Compiles one TypeScript module to CommonJS, without type-checking (as `pulumi up` does with typecheck off). Pure. */
export function transpileTypeScript(ts: TypeScriptCompiler, source: string, fileName: string): string {
    return ts.transpileModule(source, {
        fileName,
        compilerOptions: {
            module: ts.ModuleKind.CommonJS,
            target: ts.ScriptTarget.ES2022,
            esModuleInterop: true,
            inlineSourceMap: true,
            inlineSources: true,
        },
    }).outputText;
}

/**
 * Lets Node's `require` load `.ts` files with the project's own `typescript` (a devDependency of every
 * `pulumi new typescript` project), unless a loader (ts-node, jest) already handles them. Modelship adds no dependency.
 * Compiled modules are cached by content under node_modules/.cache/modelship-plan, so that a plan of unchanged sources
 * does not even load the compiler.
 */
export function registerTypeScript(projectDir: string): void {
    const extensions = (Module as unknown as { _extensions?: Record<string, unknown> })._extensions;
    if (!extensions || extensions[".ts"]) return;
    let ts: TypeScriptCompiler | undefined;
    const compiler = (): TypeScriptCompiler => {
        try {
            // The project's own compiler, found from the project: a path known only at run time.
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            ts ??= require(require.resolve("typescript", { paths: [projectDir, __dirname] })) as TypeScriptCompiler;
        } catch {
            throw new PlanError("the program is TypeScript but the project has no typescript package: npm install --save-dev typescript, or point Pulumi.yaml main at compiled JavaScript");
        }
        return ts;
    };
    const cacheDir = path.join(fs.existsSync(path.join(projectDir, "node_modules")) ? path.join(projectDir, "node_modules", ".cache") : os.tmpdir(), "modelship-plan");
    extensions[".ts"] = (module: { _compile(code: string, file: string): void }, file: string) => {
        const source = fs.readFileSync(file, "utf8");
        const cached = path.join(cacheDir, `${createHash("sha256").update(`${TRANSPILE_VERSION}\0${file}\0${source}`).digest("hex")}.js`);
        let code: string;
        try {
            code = fs.readFileSync(cached, "utf8");
        } catch {
            code = transpileTypeScript(compiler(), source, file);
            try {
                fs.mkdirSync(cacheDir, { recursive: true });
                fs.writeFileSync(cached, code);
            } catch {
                // A read-only project still plans; it compiles each time.
            }
        }
        module._compile(code, file);
    };
}

/** Changes when the compiler options of {@link transpileTypeScript} do, so that cached modules are recompiled. */
const TRANSPILE_VERSION = "1";

/** Drops the project's own modules (not its node_modules) from Node's module cache, so that a new plan reruns them. */
function forgetProjectModules(projectDir: string): void {
    const prefix = projectDir + path.sep;
    for (const key of Object.keys(require.cache)) {
        if (key.startsWith(prefix) && !key.slice(prefix.length).split(path.sep).includes("node_modules")) delete require.cache[key];
    }
}

export interface StackConfigFile {
    project: string;
    file: string;
    config: Record<string, string>;
    secretKeys: string[];
}

/**
 * Reads the project file and the stack's config file into the flat string map Pulumi's runtime uses. Structured
 * values become JSON, as the Pulumi CLI passes them; `secure:` values (which only the stack's secrets provider can
 * decrypt) become a masked placeholder marked secret.
 */
export function readStackConfig(projectDir: string, stack: string): StackConfigFile {
    const project = readProject(projectDir);
    const configDir = path.join(projectDir, project.stackConfigDir ?? ".");
    const file = path.join(configDir, `Pulumi.${stack}.yaml`);
    const rel = path.relative(projectDir, file);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack) || !fs.existsSync(file)) {
        const have = fs
            .readdirSync(configDir)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter((s): s is string => s !== undefined)
            .sort();
        throw new PlanError(`unknown stack "${stack}": no ${rel} (stacks: ${have.join(", ")})`);
    }
    let doc: { config?: Record<string, unknown> } | null;
    try {
        doc = parseYaml(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new PlanError(`${rel}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [rawKey, value] of Object.entries(doc?.config ?? {})) {
        const key = rawKey.includes(":") ? rawKey : `${project.name}:${rawKey}`;
        if (value !== null && typeof value === "object" && !Array.isArray(value) && "secure" in value) {
            config[key] = SECRET_MASK;
            secretKeys.push(key);
        } else if (typeof value === "string") {
            config[key] = value;
        } else {
            config[key] = JSON.stringify(value);
        }
    }
    return { project: project.name, file: rel, config, secretKeys };
}

/** A secret map (a Secret's `data`, `stringData`) keeps its key names, each value masked; anything else is masked whole. */
function maskValue(v: unknown): unknown {
    if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length > 0) {
        return Object.fromEntries(Object.keys(v).map((k) => [k, SECRET_MASK]));
    }
    return SECRET_MASK;
}

/** Replaces the values at `paths` (`a.b[0].c`) with the mask. Pure: returns a copy. */
export function maskSecrets(inputs: Record<string, unknown>, paths: string[]): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>;
    for (const p of paths) {
        if (p === "") return { [SECRET_MASK]: SECRET_MASK };
        const parts = p.match(/[^.[\]]+/g) ?? [];
        let node: Record<string, unknown> | undefined = copy;
        for (const part of parts.slice(0, -1)) node = node?.[part] as Record<string, unknown> | undefined;
        const last = parts[parts.length - 1];
        if (node && typeof node === "object" && last !== undefined && last in node) node[last] = maskValue(node[last]);
    }
    return copy;
}

/** The key settings of a resource, shown beside it in the tree. Pure. */
export function keySettings(r: RecordedResource): string[] {
    const i = r.inputs;
    const s: string[] = [];
    const push = (label: string, v: unknown) => {
        if (v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0)) s.push(`${label}=${Array.isArray(v) ? v.join(",") : typeof v === "object" ? JSON.stringify(v) : String(v)}`);
    };
    switch (r.type) {
        case "aws:ecr/repository:Repository":
            push("name", i.name);
            push("tagMutability", i.imageTagMutability);
            push("scanOnPush", i.imageScanningConfiguration?.scanOnPush);
            break;
        case "docker-build:index:Image":
            push("target", i.target);
            push("platforms", i.platforms);
            push("tag", (i.tags ?? [])[0]);
            // Your own model: the directory sent as the named build context, and the name it is served under.
            push("model", i.context?.named?.model?.location);
            push("modelName", i.buildArgs?.MODEL_NAME);
            push("modelFile", i.buildArgs?.MODEL_FILE);
            break;
        case "eks:index:Cluster":
            push("version", i.version);
            push("auth", i.authenticationMode);
            push("publicAccessCidrs", i.endpointPublicAccess ? i.publicAccessCidrs : "private-only");
            break;
        case "eks:index:ManagedNodeGroup":
            push("instanceTypes", i.instanceTypes);
            push("amiType", i.amiType);
            push("capacity", i.capacityType);
            if (i.scalingConfig) push("size", `${i.scalingConfig.minSize}..${i.scalingConfig.maxSize}`);
            push("taints", (i.taints ?? []).map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`));
            break;
        case "kubernetes:helm.sh/v3:Release":
            push("chart", i.chart);
            push("version", i.version);
            push("namespace", i.namespace);
            break;
        case "kubernetes:apps/v1:Deployment": {
            const c = i.spec?.template?.spec?.containers?.[0];
            push("image", c?.image);
            push("replicas", i.spec?.replicas);
            push("gpu", c?.resources?.limits?.["nvidia.com/gpu"]);
            push("ports", (c?.ports ?? []).map((p: { containerPort: number }) => p.containerPort));
            break;
        }
        case "kubernetes:core/v1:Secret":
            push("keys", Object.keys({ ...(i.data ?? {}), ...(i.stringData ?? {}) }));
            break;
        case "kubernetes:core/v1:Service":
            push("ports", (i.spec?.ports ?? []).map((p: { port: number }) => p.port));
            break;
        case "kubernetes:keda.sh/v1alpha1:ScaledObject":
            push("replicas", `${i.spec?.minReplicaCount}..${i.spec?.maxReplicaCount}`);
            push("triggers", (i.spec?.triggers ?? []).map((t: { type: string }) => t.type));
            break;
        case "docker:index/container:Container":
            push("ports", (i.ports ?? []).map((p: { internal: number; external: number }) => `${p.external}->${p.internal}`));
            push("gpus", i.gpus);
            push("user", i.user);
            break;
        case "docker:index/remoteImage:RemoteImage":
            push("image", i.name);
            break;
        case "pulumi:providers:docker":
            push("host", i.host);
            break;
        case "modelship:index:InferenceImage":
            push("ref", r.outputs?.ref);
            break;
        case "modelship:index:InferenceService":
            push("endpoint", r.outputs?.endpoint);
            break;
    }
    // AWS resources placed outside the provider's region (ECR replicas, edge-region lookups) say where.
    if (r.type.startsWith("aws:")) push("region", i.region);
    return s;
}

/** The name of the provider resource a resource was registered with (`urn::id`), or null for the default provider. */
function providerName(recorder: MockRecorder, r: RecordedResource): string | null {
    if (!r.provider) return null;
    const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
    return recorder.byUrn(urn)?.name ?? urn.split("::").pop() ?? null;
}

/** Turns recorded resources into the plan's resource list: secrets masked, invented values marked as placeholders. */
export function toPlanResources(recorder: MockRecorder): PlanResource[] {
    return recorder.resources.map((r) => ({
        type: r.type,
        name: r.name,
        parent: recorder.byUrn(r.parentUrn)?.name ?? null,
        provider: providerName(recorder, r),
        inputs: markPlaceholders(maskSecrets(r.inputs, r.secretPaths)),
    }));
}

/** Number of resources of each type, types sorted. Pure. */
export function countByType(resources: Pick<PlanResource, "type">[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of [...resources].sort((a, b) => a.type.localeCompare(b.type))) counts[r.type] = (counts[r.type] ?? 0) + 1;
    return counts;
}

/** One value on one line, cut at `max` characters. Pure. */
function oneLine(v: unknown, max = 120): string {
    const text = typeof v === "string" ? v : String(JSON.stringify(v));
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Renders the tree by parent, then the counts by type and the stack outputs. */
export function renderTree(plan: Plan, recorder: MockRecorder, file: string): string {
    const head = `Plan of stack "${plan.stack}"${plan.target ? ` (target ${plan.target}` : " ("}${plan.target ? ", " : ""}program ${plan.program}, config ${file}): ${plan.resources.length} resources`;
    const lines = [head, ""];
    const byName = new Map(plan.resources.map((p, idx) => [recorder.resources[idx], p]));
    const roots = recorder.resources.filter((r) => !recorder.byUrn(r.parentUrn));
    const walk = (r: RecordedResource, prefix: string, last: boolean, top: boolean) => {
        const planned = byName.get(r);
        const settings = keySettings({ ...r, inputs: planned?.inputs ?? {}, outputs: markPlaceholders(r.outputs) });
        if (r.type.startsWith("kubernetes:") && r.custom) settings.push(`cluster=${planned?.provider ?? "(default provider)"}`);
        const branch = top ? "" : last ? "└─ " : "├─ ";
        lines.push(`${prefix}${branch}${r.name}  (${r.type})${settings.length ? `  ${settings.join("  ")}` : ""}`);
        const children = recorder.childrenOf(r);
        children.forEach((c, idx) => walk(c, top ? prefix : prefix + (last ? "   " : "│  "), idx === children.length - 1, false));
    };
    roots.forEach((r) => walk(r, "", true, true));
    lines.push("", "Resources by type:");
    for (const [type, n] of Object.entries(plan.counts ?? {})) lines.push(`  ${String(n).padStart(3)}  ${type}`);
    const outputs = Object.entries(plan.outputs ?? {});
    if (outputs.length > 0) {
        lines.push("", "Outputs:");
        for (const [k, v] of outputs) lines.push(`  ${k}: ${oneLine(v)}`);
    }
    lines.push("", `<placeholder:…> stands for a value AWS computes (account, digests, ids); secrets show as ${SECRET_MASK}.`);
    return lines.join("\n");
}

/** Marks a directory as written by `--out`, so that a later run may replace its files. */
const OUT_MARKER = ".modelship-plan";

/** The YAML file name of a Kubernetes object: kind and name, stable from run to run. Pure. */
export function yamlFileName(type: string, name: string): string {
    const kind = (type.split(":").pop() ?? "object").toLowerCase();
    return `${kind}-${name}`.replace(/[^A-Za-z0-9_.-]/g, "_") + ".yaml";
}

/**
 * Writes every Kubernetes object (and each Helm release's chart and values) as YAML under `dir`, named by kind and
 * name, after removing the YAML a previous run wrote there. Refuses a non-empty directory it did not write.
 */
export function writeKubernetesYaml(recorder: MockRecorder, dir: string): string[] {
    if (fs.existsSync(dir)) {
        const entries = fs.readdirSync(dir);
        if (entries.length > 0 && !entries.includes(OUT_MARKER)) {
            throw new PlanError(`--out ${dir}: the directory has files modelship plan did not write: choose a new or empty directory`);
        }
        for (const f of entries) if (f.endsWith(".yaml")) fs.rmSync(path.join(dir, f));
    }
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, OUT_MARKER), "Written by modelship plan --out; its .yaml files are replaced on each run.\n");
    const written: string[] = [];
    for (const r of recorder.resources.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) {
        const inputs = markPlaceholders(maskSecrets(r.inputs, r.secretPaths));
        const doc = r.type === "kubernetes:helm.sh/v3:Release" ? { helmRelease: inputs } : inputs;
        let file = path.join(dir, yamlFileName(r.type, r.name));
        // Two kinds of one name in different API groups (rare): the group tells them apart.
        if (written.includes(file)) file = path.join(dir, yamlFileName(r.type.replace(/^kubernetes:([^/]+)\/.*:(\w+)$/, "$1-$2"), r.name));
        fs.writeFileSync(file, toYaml(doc, { sortMapEntries: false }));
        written.push(file);
    }
    return written;
}

/** What changed between two plans. */
export interface PlanDiff {
    added: { type: string; name: string }[];
    removed: { type: string; name: string }[];
    /** Resources whose inputs, parent or provider changed, with the changed paths (`spec.replicas`, `(provider)`). */
    changed: { type: string; name: string; paths: string[] }[];
    /** Stack outputs added, removed or changed. */
    outputs: string[];
    /** Types whose count changed: [before, after]. */
    counts: Record<string, [number, number]>;
}

/** Paths (`a.b[0].c`) at which two JSON values differ, leaves only. Pure. */
export function changedPaths(before: unknown, after: unknown, at = ""): string[] {
    const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
    if (Array.isArray(before) && Array.isArray(after)) {
        const paths: string[] = [];
        for (let i = 0; i < Math.max(before.length, after.length); i++) paths.push(...changedPaths(before[i], after[i], `${at}[${i}]`));
        return paths;
    }
    if (isObj(before) && isObj(after)) {
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
        return keys.flatMap((k) => changedPaths(before[k], after[k], at ? `${at}.${k}` : k));
    }
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [at || "(value)"];
}

/** Compares two plans by resource type and name. Pure. */
export function diffPlans(before: Plan, after: Plan): PlanDiff {
    const key = (r: PlanResource) => `${r.type}\u0000${r.name}`;
    const old = new Map(before.resources.map((r) => [key(r), r]));
    const now = new Map(after.resources.map((r) => [key(r), r]));
    const diff: PlanDiff = { added: [], removed: [], changed: [], outputs: [], counts: {} };
    for (const [k, r] of now) {
        const was = old.get(k);
        if (!was) {
            diff.added.push({ type: r.type, name: r.name });
            continue;
        }
        const paths = changedPaths(was.inputs, r.inputs);
        if ((was.parent ?? null) !== (r.parent ?? null)) paths.push("(parent)");
        if (was.provider !== undefined && (was.provider ?? null) !== (r.provider ?? null)) paths.push("(provider)");
        if (paths.length > 0) diff.changed.push({ type: r.type, name: r.name, paths });
    }
    for (const [k, r] of old) if (!now.has(k)) diff.removed.push({ type: r.type, name: r.name });
    const o1 = before.outputs ?? {};
    const o2 = after.outputs ?? {};
    diff.outputs = [...new Set([...Object.keys(o1), ...Object.keys(o2)])].filter((k) => JSON.stringify(o1[k]) !== JSON.stringify(o2[k])).sort();
    const c1 = countByType(before.resources);
    const c2 = countByType(after.resources);
    for (const t of [...new Set([...Object.keys(c1), ...Object.keys(c2)])].sort()) {
        if ((c1[t] ?? 0) !== (c2[t] ?? 0)) diff.counts[t] = [c1[t] ?? 0, c2[t] ?? 0];
    }
    return diff;
}

/** Renders a diff as Markdown, for a pull request's job summary. Pure. */
export function renderDiff(stack: string, diff: PlanDiff, maxPaths = 8): string {
    const lines = [`### modelship plan: stack ${stack}, ${diff.added.length} to add, ${diff.changed.length} to change, ${diff.removed.length} to remove`, ""];
    if (diff.added.length + diff.changed.length + diff.removed.length + diff.outputs.length === 0) {
        lines.push("No changes.");
        return lines.join("\n");
    }
    lines.push("```diff");
    for (const r of diff.added) lines.push(`+ ${r.name}  (${r.type})`);
    for (const r of diff.removed) lines.push(`- ${r.name}  (${r.type})`);
    for (const r of diff.changed) {
        const shown = r.paths.slice(0, maxPaths).join(", ") + (r.paths.length > maxPaths ? `, … ${r.paths.length - maxPaths} more` : "");
        lines.push(`~ ${r.name}  (${r.type}): ${shown}`);
    }
    lines.push("```");
    if (Object.keys(diff.counts).length > 0) {
        lines.push("", "| type | before | after |", "| --- | --- | --- |");
        for (const [t, [a, b]] of Object.entries(diff.counts)) lines.push(`| ${t} | ${a} | ${b} |`);
    }
    if (diff.outputs.length > 0) lines.push("", `Stack outputs changed: ${diff.outputs.join(", ")}`);
    return lines.join("\n");
}

/** Reads a previous plan (`--json` output) for `--diff`. */
export function readPlanFile(file: string): Plan {
    let doc: Plan;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new PlanError(`--diff ${file}: ${(err as Error).message.split("\n")[0]}: give the JSON of modelship plan --json`);
    }
    if (!doc || !Array.isArray(doc.resources)) throw new PlanError(`--diff ${file}: not a plan (no resources list): give the JSON of modelship plan --json`);
    return doc;
}

// ---- Cost: the monthly band of the plan (cli/cost.ts) and the --max-monthly gate. ----

/** Reads `--max-monthly`: a positive amount in USD. Pure. */
export function parseMaxMonthly(value: string): number {
    const n = Number(value.replace(/^\$/, ""));
    if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw new PlanError(`--max-monthly: "${value}" is not an amount in USD: give a positive number such as 2500`);
    return n;
}

/** Prices what the plan recorded, in the stack's AWS region (`aws:region`, else the mock's default). */
export function costOf(recorder: MockRecorder, asOf?: string): CostEstimate {
    return estimateCost(recorder.resources, { region: mockRegion(), asOf });
}

/** Resolves the program's exports (an object, a promise of one, or a function returning either) to stack outputs. */
async function stackOutputs(exported: unknown): Promise<Record<string, unknown>> {
    let value = exported;
    if (value && typeof value === "object" && (value as { __esModule?: boolean }).__esModule && typeof (value as { default?: unknown }).default === "function") {
        value = (value as { default: () => unknown }).default;
    }
    if (typeof value === "function") value = await (value as () => unknown)();
    value = await value;
    if (value === null || typeof value !== "object") return {};
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
        if (k === "__esModule" || typeof v === "function") continue;
        // An exported resource (a component, a bucket) stands for its URN: its object graph is cyclic (parents, children).
        const o = pulumi.Resource.isInstance(v) ? v.urn : pulumi.output(v);
        const [plain, secret] = await Promise.all([new Promise((resolve) => o.apply((x) => resolve(x))), (o as unknown as { isSecret: Promise<boolean> }).isSecret]);
        outputs[k] = secret ? SECRET_MASK : markPlaceholders(plain);
    }
    return outputs;
}

/** An error from the program: config errors (`modelship:key: …`) name the stack's config file, others the program. */
function programError(err: unknown, configFile: string, program: string): PlanError {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof PlanError) return err;
    // By name, not class: the program loads its own copy of the stacks' modules.
    const isConfig =
        (err instanceof Error && err.name === "ConfigError") || /^[A-Za-z0-9_-]+:[\w.[\]-]+: /.test(message) || /^Missing required configuration variable /.test(message);
    return new PlanError(isConfig ? `${configFile}: ${message}` : `${program}: ${message}`);
}

/** Reads a policy config file (`--policy-config`): JSON by rule name, as `pulumi preview --policy-pack-config` takes. */
export function readPolicyConfig(file: string): PolicyPackConfig {
    let config: PolicyPackConfig;
    try {
        config = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (err) {
        throw new PlanError(`--policy-config ${file}: ${(err as Error).message.split("\n")[0]}: give a JSON object such as {"ecr-lifecycle-policy": "mandatory"}`);
    }
    if (config === null || typeof config !== "object" || Array.isArray(config)) throw new PlanError(`--policy-config ${file}: not a JSON object: give one such as {"all": "advisory"}`);
    try {
        validatePolicyConfig(config, policies);
    } catch (err) {
        throw new PlanError(`--policy-config ${file}: ${(err as Error).message.replace(/^policy config: /, "")}`);
    }
    return config;
}

/** The recorded resources as the engine shows them to policies: inputs, outputs (secrets unwrapped), parent, provider. */
export function policyTargets(recorder: MockRecorder): PolicyTarget[] {
    return recorder.resources.map((r) => {
        const providerUrn = r.provider ? r.provider.slice(0, r.provider.lastIndexOf("::")) : undefined;
        const provider = providerUrn ? recorder.byUrn(providerUrn) : undefined;
        return {
            type: r.type,
            name: r.name,
            urn: r.urn,
            props: r.inputs,
            outputs: r.custom ? unwrapSecrets(r.state).value : { ...r.inputs, ...(r.outputs ?? {}) },
            ...(r.parentUrn ? { parent: r.parentUrn } : {}),
            dependencies: r.dependencies,
            ...(provider ? { provider: { type: provider.type, name: provider.name, urn: provider.urn, props: provider.inputs } } : {}),
        };
    });
}

/** Runs the modelship policy pack over what the plan recorded; mandatory violations first. */
export async function checkPolicies(recorder: MockRecorder, config: PolicyPackConfig = {}): Promise<PolicyViolation[]> {
    const violations = await runPolicies(policies, policyTargets(recorder), config);
    return [...violations.filter((v) => v.enforcementLevel === "mandatory"), ...violations.filter((v) => v.enforcementLevel !== "mandatory")];
}

/** The policy section of the plan: one line per violation, as the Pulumi CLI prints them. Pure. */
export function renderViolations(violations: PolicyViolation[], enforce = false): string {
    const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
    const head = `Policy pack modelship (${policies.length} rules): ${mandatory} mandatory, ${violations.length - mandatory} advisory violation${violations.length - mandatory === 1 ? "" : "s"}`;
    const tail = enforce && mandatory > 0 ? ["", `--enforce: refused, ${mandatory} mandatory violation${mandatory === 1 ? "" : "s"}.`] : [];
    return [head, ...violations.map((v) => `  ${markPlaceholders(formatViolation(v))}`), ...tail].join("\n");
}

/** The lines `modelship plan` prints on stderr before failing, when the program breaks contracts. Pure. */
export function renderContractViolations(violations: readonly ContractViolation[]): string {
    return `${violations.length} contract violation${violations.length === 1 ? "" : "s"}: a real pulumi up would fail or misorder these resources:\n${formatViolations(violations)}`;
}

/** Runs the plan and returns what to print. Throws {@link PlanError} (or a config error) on bad input. */
export async function plan(opts: PlanOptions): Promise<PlanResult> {
    const projectDir = opts.projectDir ? path.resolve(opts.projectDir) : findProjectDir(process.cwd());
    const previous = opts.diff ? readPlanFile(path.resolve(opts.diff)) : undefined;
    const policyConfig = opts.policyConfig ? readPolicyConfig(path.resolve(opts.policyConfig)) : {};
    const project = readProject(projectDir);
    const program = resolveProgram(projectDir, project);
    const programRel = path.relative(projectDir, program);
    const stackConfig = readStackConfig(projectDir, opts.stack);
    pulumi.runtime.setAllConfig(stackConfig.config, stackConfig.secretKeys);
    const recorder = installMockRuntime({ project: stackConfig.project, stack: opts.stack });
    // Pulumi runs a program from the project directory; relative paths in config (the image context) depend on it.
    const cwd = process.cwd();
    process.chdir(projectDir);
    let outputs: Record<string, unknown>;
    try {
        const load =
            opts.load ??
            ((file: string) => {
                if (file.endsWith(".ts")) registerTypeScript(projectDir);
                forgetProjectModules(projectDir);
                // The program, as Pulumi's Node.js host loads it: CommonJS require of a path known only at run time.
                // eslint-disable-next-line @typescript-eslint/no-require-imports
                return require(file);
            });
        try {
            // Loaded only now, so that the program's module-level config reads see this stack's config.
            outputs = await stackOutputs(load(program));
        } catch (err) {
            // What the program registered before it failed finishes under this plan's mocks, not the next one's.
            await recorder.settle();
            throw programError(err, stackConfig.file, programRel);
        }
        await recorder.settle();
    } finally {
        process.chdir(cwd);
    }
    const resources = toPlanResources(recorder);
    const violations = await checkPolicies(recorder, policyConfig);
    const refused = opts.enforce === true && violations.some((v) => v.enforcementLevel === "mandatory");
    const policyText = renderViolations(violations, opts.enforce);
    const result: Plan = {
        stack: opts.stack,
        program: programRel,
        ...(typeof outputs.target === "string" ? { target: outputs.target } : {}),
        resources,
        counts: countByType(resources),
        outputs,
        violations: markPlaceholders(violations),
        cost: costOf(recorder, opts.asOf),
    };
    const budgetError = opts.maxMonthly !== undefined && result.cost ? budgetProblem(result.cost, opts.maxMonthly) : undefined;
    const budget = budgetError ? { budgetError } : {};
    const written = opts.out ? writeKubernetesYaml(recorder, path.resolve(opts.out)) : [];
    const contractViolations = recorder.checkContracts();
    if (previous) {
        const diff = diffPlans(previous, result);
        return { text: opts.json ? JSON.stringify(diff, null, 2) : `${renderDiff(opts.stack, diff)}\n\n${policyText}`, plan: result, written, diff, violations, refused, contractViolations, recorder, ...budget };
    }
    const warnings = [...unsignedImageWarnings(resources), ...signingOwnerWarnings(resources)].map((w) => `warning: ${w}`);
    const costText = result.cost ? `${renderCost(result.cost)}\n\n` : "";
    const text = opts.json ? JSON.stringify(result, null, 2) : `${[renderTree(result, recorder, stackConfig.file), ...warnings].join("\n")}\n\n${costText}${policyText}`;
    return { text, plan: result, written, violations, refused, contractViolations, recorder, ...budget };
}
