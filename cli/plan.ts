/**
 * `modelship plan`: runs a stack's program offline under Pulumi's mock runtime, with the stack's config file, no cloud
 * credentials and no Pulumi CLI, and prints what the stack would create.
 *
 * Provider-computed values (ARNs, URLs, image digests) are placeholders: the plan shows what is declared and how it is
 * wired, not what AWS will answer.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { stringify as toYaml, parse as parseYaml } from "yaml";
import { findProjectRoot } from "../stacks/config";
import { installMockRuntime, type MockRecorder, type RecordedResource } from "./mock-runtime";

export const SECRET_MASK = "[secret]";

export interface PlanOptions {
    stack: string;
    json: boolean;
    out?: string;
    /** Directory holding Pulumi.yaml. Default: found upwards from the working directory. */
    projectDir?: string;
}

export interface PlanResource {
    type: string;
    name: string;
    parent: string | null;
    inputs: Record<string, unknown>;
}

export interface Plan {
    stack: string;
    target: string;
    resources: PlanResource[];
}

/** A one-line user error (bad flag, unknown stack, bad config). */
export class PlanError extends Error {}

/** Parses `--stack NAME --json --out DIR --project-dir DIR`. Pure. */
export function parsePlanArgs(argv: string[]): PlanOptions {
    const opts: PlanOptions = { stack: "cloud", json: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const value = (): string => {
            const v = argv[++i];
            if (v === undefined || v.startsWith("--")) throw new PlanError(`${arg} needs a value`);
            return v;
        };
        if (arg === "--stack" || arg === "-s") opts.stack = value();
        else if (arg.startsWith("--stack=")) opts.stack = arg.slice("--stack=".length);
        else if (arg === "--json") opts.json = true;
        else if (arg === "--out") opts.out = value();
        else if (arg.startsWith("--out=")) opts.out = arg.slice("--out=".length);
        else if (arg === "--project-dir") opts.projectDir = value();
        else throw new PlanError(`unknown option ${arg}: use --stack NAME [--json] [--out DIR]`);
    }
    return opts;
}

/** Finds the directory holding Pulumi.yaml, from `start` upwards. */
export function findProjectDir(start: string): string {
    const dir = findProjectRoot(start);
    if (dir === undefined) throw new PlanError(`no Pulumi.yaml in ${start} or above: run from the modelship project or pass --project-dir`);
    return dir;
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
    const project = parseYaml(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { name: string; stackConfigDir?: string };
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

/** Replaces the values at `paths` (`a.b[0].c`) with the mask. Pure: returns a copy. */
export function maskSecrets(inputs: Record<string, unknown>, paths: string[]): Record<string, unknown> {
    const copy = JSON.parse(JSON.stringify(inputs)) as Record<string, unknown>;
    for (const p of paths) {
        if (p === "") return { [SECRET_MASK]: SECRET_MASK };
        const parts = p.match(/[^.[\]]+/g) ?? [];
        let node: Record<string, unknown> | undefined = copy;
        for (const part of parts.slice(0, -1)) node = node?.[part] as Record<string, unknown> | undefined;
        const last = parts[parts.length - 1];
        if (node && typeof node === "object" && last !== undefined && last in node) node[last] = SECRET_MASK;
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

/** Turns recorded resources into the plan's resource list, secrets masked. */
export function toPlanResources(recorder: MockRecorder): PlanResource[] {
    return recorder.resources.map((r) => ({
        type: r.type,
        name: r.name,
        parent: recorder.byUrn(r.parentUrn)?.name ?? null,
        inputs: maskSecrets(r.inputs, r.secretPaths),
    }));
}

/** Renders the tree by parent. */
export function renderTree(plan: Plan, recorder: MockRecorder, file: string): string {
    const lines = [`Plan of stack "${plan.stack}" (target ${plan.target}, config ${file}): ${plan.resources.length} resources`, ""];
    const roots = recorder.resources.filter((r) => !recorder.byUrn(r.parentUrn));
    const walk = (r: RecordedResource, prefix: string, last: boolean, top: boolean) => {
        const settings = keySettings({ ...r, inputs: maskSecrets(r.inputs, r.secretPaths) });
        const branch = top ? "" : last ? "└─ " : "├─ ";
        lines.push(`${prefix}${branch}${r.name}  (${r.type})${settings.length ? `  ${settings.join("  ")}` : ""}`);
        const children = recorder.childrenOf(r);
        children.forEach((c, idx) => walk(c, top ? prefix : prefix + (last ? "   " : "│  "), idx === children.length - 1, false));
    };
    roots.forEach((r) => walk(r, "", true, true));
    lines.push("", "Placeholders stand for values AWS computes (ARNs, URLs, digests); secrets show as [secret].");
    return lines.join("\n");
}

/** Writes every Kubernetes object (and each Helm release's chart and values) as YAML under `dir`. */
export function writeKubernetesYaml(recorder: MockRecorder, dir: string): string[] {
    fs.mkdirSync(dir, { recursive: true });
    const written: string[] = [];
    recorder.resources
        .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
        .forEach((r, idx) => {
            const inputs = maskSecrets(r.inputs, r.secretPaths);
            const kind = r.type.split(":").pop() ?? "Object";
            const doc = r.type === "kubernetes:helm.sh/v3:Release" ? { helmRelease: inputs } : inputs;
            const file = path.join(dir, `${String(idx).padStart(3, "0")}-${kind.toLowerCase()}-${r.name}.yaml`);
            fs.writeFileSync(file, toYaml(doc, { sortMapEntries: false }));
            written.push(file);
        });
    return written;
}

/** Runs the plan and returns what to print. Throws {@link PlanError} (or a config error) on bad input. */
export async function plan(opts: PlanOptions): Promise<{ text: string; plan: Plan; written: string[] }> {
    const projectDir = opts.projectDir ? path.resolve(opts.projectDir) : findProjectDir(process.cwd());
    const stackConfig = readStackConfig(projectDir, opts.stack);
    pulumi.runtime.setAllConfig(stackConfig.config, stackConfig.secretKeys);
    const recorder = installMockRuntime({ project: stackConfig.project, stack: opts.stack });
    // Pulumi runs a program from the project directory; relative paths in config (the image context) depend on it.
    const cwd = process.cwd();
    process.chdir(projectDir);
    let target: string;
    try {
        // Loaded only now, so that the program's module-level config reads see this stack's config.
        const { runStack } = await import("../stacks/run");
        try {
            target = runStack().target;
        } catch (err) {
            throw new PlanError(`${stackConfig.file}: ${(err as Error).message}`);
        }
        await recorder.settle();
    } finally {
        process.chdir(cwd);
    }
    const result: Plan = { stack: opts.stack, target, resources: toPlanResources(recorder) };
    const written = opts.out ? writeKubernetesYaml(recorder, path.resolve(opts.out)) : [];
    const text = opts.json ? JSON.stringify(result, null, 2) : renderTree(result, recorder, stackConfig.file);
    return { text, plan: result, written };
}
