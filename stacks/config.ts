/**
 * Stack configuration: one schema per target, validated with zod so that a missing or malformed key fails before any
 * resource is declared, with a message naming the key. Every key is documented in docs/stacks.md.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { Region } from "@pulumi/aws/types/enums";
import { createHash } from "crypto";
import { z } from "zod";
import { defaultModelName, MODEL_NAME_PATTERN, type ModelArgs } from "../components/inference-image";
import { SECRET_WIRING_DEFAULTS } from "../components/secret-wiring";
import { SERVING_ADDONS_DEFAULTS } from "../components/serving-addons";

export const CONFIG_NAMESPACE = "modelship";
export const TARGETS = ["cloud", "edge", "hybrid"] as const;
export type Target = (typeof TARGETS)[number];

/** One configuration problem: the full key (`modelship:cluster.gpuNodeGroups[0].maxSize`) and what to do. */
export interface ConfigProblem {
    key: string;
    problem: string;
}

/** Every line of a message: one problem alone reads `key: problem`; several read one per line under a count. Pure. */
export function formatProblems(problems: readonly ConfigProblem[]): string {
    if (problems.length === 1) return `${problems[0].key}: ${problems[0].problem}`;
    return [`${problems.length} configuration problems:`, ...problems.map((p) => `  ${p.key}: ${p.problem}`)].join("\n");
}

/** Configuration problems, each naming its key; the message lists all of them, one per line. */
export class ConfigError extends Error {
    readonly problems: readonly ConfigProblem[];
    constructor(
        readonly key: string,
        problem: string,
        more: readonly ConfigProblem[] = [],
    ) {
        const problems = [{ key, problem }, ...more];
        super(formatProblems(problems));
        this.name = "ConfigError";
        this.problems = problems;
    }

    /** One error carrying all of `problems` (at least one). */
    static of(problems: readonly ConfigProblem[]): ConfigError {
        const [first, ...rest] = problems;
        return new ConfigError(first.key, first.problem, rest);
    }
}

/**
 * Collects problems so that a stack reports all of them at once: `check` runs a step and records the problems of a
 * {@link ConfigError} it throws (other errors propagate), `done` throws them together.
 */
export class ConfigProblems {
    readonly list: ConfigProblem[] = [];
    add(...problems: ConfigProblem[]): void {
        this.list.push(...problems);
    }
    check<T>(step: () => T): T | undefined {
        try {
            return step();
        } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            this.add(...err.problems);
            return undefined;
        }
    }
    done(): void {
        if (this.list.length > 0) throw ConfigError.of(this.list);
    }
}

/** Levenshtein distance (insertions, deletions, substitutions), case-insensitive. Pure. */
export function editDistance(a: string, b: string): number {
    const x = a.toLowerCase();
    const y = b.toLowerCase();
    let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
    for (let i = 1; i <= x.length; i++) {
        const row = [i];
        for (let j = 1; j <= y.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x[i - 1] === y[j - 1] ? 0 : 1));
        prev = row;
    }
    return prev[y.length];
}

/** The candidate nearest to `word`, if near enough to be a typo of it (a third of its letters, at least 2). Pure. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
    const limit = Math.max(2, Math.floor(word.length / 3));
    let best: { c: string; d: number } | undefined;
    for (const c of candidates) {
        const d = editDistance(word, c);
        if (d <= limit && (best === undefined || d < best.d)) best = { c, d };
    }
    return best?.c;
}

/** The region codes the AWS provider (@pulumi/aws) knows. */
export const AWS_REGIONS: readonly string[] = Object.values(Region);

/** Why `value` is not an AWS region, or undefined when it is one. Pure. */
export function regionProblem(value: string): string | undefined {
    if (AWS_REGIONS.includes(value)) return undefined;
    const near = closest(value, AWS_REGIONS);
    return `"${value}" is not an AWS region${near ? `: did you mean ${near}?` : `: use a region code such as eu-central-1 (${AWS_REGIONS.length} known to @pulumi/aws)`}`;
}

const region = z.string().superRefine((value, ctx) => {
    const problem = regionProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
});
const principal = z.string().regex(/^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role\/.+|user\/.+))$/, "expected an IAM principal ARN or a 12-digit account ID");
const cidr = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "expected an IPv4 CIDR such as 203.0.113.0/24");
const name = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "expected lowercase letters, digits and dashes");
const positiveInt = z.number().int().min(1);

const imageSchema = z
    .object({
        /** Build context, relative to the project root. */
        context: z.string().min(1).default("inference-image"),
        dockerfile: z.string().min(1).optional(),
        /** Dockerfile stage. */
        target: z.string().min(1).optional(),
        platforms: z.array(z.string()).min(1).optional(),
    })
    .strict()
    .default({ context: "inference-image" });

const modelNameSchema = z.string().regex(MODEL_NAME_PATTERN, "expected a served model name: letters, digits, _ . - (up to 128, starting with a letter or digit)");

const modelSchema = z
    .object({
        /** The .onnx file, relative to the project root. */
        path: z.string().min(1),
        /** Served name; default the file name without .onnx. */
        name: modelNameSchema.optional(),
        /** External-data files, relative to the model's directory. */
        externalData: z.array(z.string().min(1)).optional(),
    })
    .strict()
    .optional();

const repositorySchema = z
    .object({
        name: z.string().min(2).optional(),
        untaggedExpiryDays: positiveInt.optional(),
        keepTaggedImages: positiveInt.optional(),
        pullPrincipals: z.array(principal).optional(),
        /** Delete the stack's repository with its images on destroy. Default true (see {@link STACK_REPOSITORY_FORCE_DELETE}). */
        forceDelete: z.boolean().optional(),
    })
    .strict()
    .default({});

/**
 * A stack's repository is its own (named per stack, see {@link accountUniqueName}) and holds only images the stack
 * builds from source, so a destroy deletes it with them: otherwise every destroy stops at it (docker-build deletes
 * only the index digest it pushed and leaves the per-platform manifests), and destroy-then-up cannot work.
 */
export const STACK_REPOSITORY_FORCE_DELETE = true;

const gpuNodeGroupSchema = z
    .object({
        name,
        instanceTypes: z.array(z.string().min(1)).min(1),
        minSize: z.number().int().min(0).optional(),
        maxSize: positiveInt,
        desiredSize: z.number().int().min(0).optional(),
        capacityType: z.enum(["ON_DEMAND", "SPOT"]).optional(),
        amiType: z.string().optional(),
        diskSizeGb: positiveInt.optional(),
        labels: z.record(z.string(), z.string()).optional(),
    })
    .strict();

const clusterSchema = z
    .object({
        /** Kubernetes version, pinned. */
        version: z.string().regex(/^1\.\d+$/, "expected a Kubernetes minor version such as \"1.33\""),
        publicAccessCidrs: z.array(cidr).default([]),
        /** "private" (no public endpoint) needs privateEndpointReachable: true: see GpuCluster. */
        endpointAccess: z.enum(["public", "private"]).optional(),
        privateEndpointReachable: z.boolean().optional(),
        admins: z.array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/.+$/, "expected an IAM role or user ARN (access entries take no account IDs)")).default([]),
        vpcId: z.string().optional(),
        privateSubnetIds: z.array(z.string()).optional(),
        publicSubnetIds: z.array(z.string()).optional(),
        gpuNodeGroups: z.array(gpuNodeGroupSchema).min(1, "list at least one GPU node group"),
        scaleDownDelay: z.string().regex(/^\d+[smh]$/, "expected a duration such as 10m").optional(),
        /** Who provides GPU capacity: cluster-autoscaler (default) or karpenter. */
        capacity: z.enum(["cluster-autoscaler", "karpenter"]).optional(),
    })
    .strict();

/**
 * Namespaces the stack's own add-ons create, or that every cluster already has: the service creating one of them would
 * collide with the add-on's (two owners of one Namespace) or fail with "already exists" at deploy time.
 */
export const RESERVED_NAMESPACES: Record<string, string> = {
    [SERVING_ADDONS_DEFAULTS.kedaNamespace]: "KEDA's, which the stack installs",
    [SERVING_ADDONS_DEFAULTS.prometheusNamespace]: "Prometheus's, which the stack installs",
    [SECRET_WIRING_DEFAULTS.operatorNamespace]: "External Secrets Operator's, which the stack installs",
    default: "Kubernetes' own, which exists already",
    "kube-system": "Kubernetes' own, which exists already",
    "kube-public": "Kubernetes' own, which exists already",
    "kube-node-lease": "Kubernetes' own, which exists already",
};
const serviceNamespace = name.refine((ns) => !(ns in RESERVED_NAMESPACES), {
    error: (issue) => `"${String(issue.input)}" is ${RESERVED_NAMESPACES[String(issue.input)]} namespace: the service creates its own, so pick another (e.g. inference)`,
});

const replicasSchema = z
    .object({ min: z.number().int().min(0), max: positiveInt })
    .strict()
    .refine((r) => r.max >= r.min, { message: "max must be >= min" });

const digestRef = z.string().regex(/^[^\s@]+@sha256:[0-9a-f]{64}$/, "expected an image pinned by digest: repo@sha256:<64 hex>");

/** `service.server`: the serving engine (docs/serving-engines.md). */
const serverSchema = z.union([
    z.enum(["modelship", "triton", "vllm"]),
    z
        .object({
            engine: z.enum(["triton", "vllm"]),
            extraArgs: z.array(z.string().min(1)).optional(),
            sharedMemory: z.string().regex(/^[0-9]+(Mi|Gi)$/, 'expected a size such as "2Gi"').optional(),
            modelRepository: z.string().startsWith("/", "expected an absolute path").optional(),
        })
        .strict(),
]);

/** `service.modelStore`: weights in S3, synced at pod start (see InferenceService modelStore). The cluster is the stack's. */
const modelStoreSchema = z
    .object({
        s3Uri: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^*?]+$/, "expected s3://bucket/prefix (the prefix holding this model's weights)"),
        sizeGb: z.number().positive(),
        syncImage: digestRef,
        region: region.optional(),
        downloadMBps: z.number().positive().optional(),
        downloadSeconds: positiveInt.optional(),
        cacheSize: z.string().regex(/^[0-9]+(Mi|Gi|Ti)$/, 'expected a size such as "40Gi"').optional(),
        kmsKeyArn: z.string().regex(/^arn:aws[a-z-]*:kms:/, "expected a KMS key ARN").optional(),
    })
    .strict();

/** The engine a `service.server` value names. Pure. */
export function configEngine(server: z.infer<typeof serverSchema> | undefined): "modelship" | "triton" | "vllm" {
    return server === undefined ? "modelship" : typeof server === "string" ? server : server.engine;
}

const serviceSchema = z
    .object({
        namespace: serviceNamespace.default("inference"),
        replicas: replicasSchema.default({ min: 1, max: 4 }),
        gpusPerPod: z.number().int().min(0).default(1),
        port: z.number().int().min(1).max(65535).default(8080),
        cpu: z.string().optional(),
        memory: z.string().optional(),
        modelLoadSeconds: positiveInt.optional(),
        egressCidrs: z.array(cidr).default([]),
        /** The serving engine. Default "modelship" (the image this stack builds). */
        server: serverSchema.default("modelship"),
        /** The engine's image as published, pinned by digest (triton, vllm): no image is built. */
        serverImage: digestRef.optional(),
        modelStore: modelStoreSchema.optional(),
        /**
         * PromQL of demand measured outside the pods (e.g. requests queued at the ingress for this service): lets
         * `replicas.min` be 0, so that no GPU runs while idle (InferenceService autoscaling.wakeQuery).
         */
        wakeQuery: z.string().min(1).optional(),
    })
    .strict()
    .refine((s) => configEngine(s.server) === "modelship" || s.serverImage !== undefined, {
        message: 'is required with server triton or vllm: the engine\'s published image pinned by digest, e.g. "nvcr.io/nvidia/tritonserver@sha256:<64 hex>" (no image is built)',
        path: ["serverImage"],
    })
    .refine((s) => configEngine(s.server) !== "modelship" || s.serverImage === undefined, {
        message: "applies to server triton or vllm only: the modelship server runs the image this stack builds",
        path: ["serverImage"],
    })
    .refine((s) => configEngine(s.server) !== "modelship" || s.modelStore === undefined, {
        message: "applies to server triton or vllm only: the modelship server has its model baked into the image (modelship:model)",
        path: ["modelStore"],
    })
    .default({ namespace: "inference", replicas: { min: 1, max: 4 }, gpusPerPod: 1, port: 8080, egressCidrs: [], server: "modelship" });

/** Name of a secret config key (`modelship:<name>`, set with `pulumi config set --secret`). */
const secretKeyName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected the name of a secret config key, e.g. gw02TlsKey");

/** The edge image's stage when `image.target` is not set. */
export const EDGE_DEFAULT_TARGET = "cpu";

const deviceSchema = z
    .object({
        name,
        /** Docker host: ssh://user@host, or tcp://host:2376 with tls. */
        host: z.string().regex(/^(ssh|tcp):\/\//, "expected ssh://user@host (or tcp://host:2376 with tls)"),
        /** Names of the secret config keys holding the PEM TLS material of a tcp:// host. */
        tls: z.object({ caCert: secretKeyName, clientCert: secretKeyName, clientKey: secretKeyName }).strict().optional(),
        /** `--gpus all`. Default: only when the image is the `gpu` stage (the cpu stage never uses a GPU, and `--gpus` needs the NVIDIA container toolkit). */
        gpus: z.boolean().optional(),
        hostPort: z.number().int().min(1).max(65535).optional(),
        platform: z.enum(["linux/amd64", "linux/arm64"]).optional(),
        sshOpts: z.array(z.string()).optional(),
        insecureHostKey: z.boolean().optional(),
        memoryMb: z.number().int().min(64).optional(),
        /** The device's SSH host public key (`ssh-ed25519 AAAA…`), for the signature check (`modelship:signing`). */
        hostKey: z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|rsa-sha2-(256|512)) [A-Za-z0-9+/]+=*$/, "expected an SSH public key, e.g. ssh-ed25519 AAAA…").optional(),
    })
    .strict()
    .refine((d) => !d.host.startsWith("tcp://") || d.tls !== undefined, {
        message: "a tcp:// host needs tls: { caCert, clientCert, clientKey } (names of secret config keys holding the PEM material), or use ssh://user@host",
        path: ["tls"],
    });

const onPremSchema = z
    .object({
        namespace: serviceNamespace.default("inference"),
        replicas: replicasSchema.default({ min: 1, max: 2 }),
        gpusPerPod: z.number().int().min(0).default(0),
        nodeSelector: z.record(z.string(), z.string()).optional(),
        port: z.number().int().min(1).max(65535).default(8080),
        egressCidrs: z.array(cidr).default([]),
    })
    .strict()
    .default({ namespace: "inference", replicas: { min: 1, max: 2 }, gpusPerPod: 0, port: 8080, egressCidrs: [] });

const common = {
    /** Prefix of every resource name (and the default ECR repository name, so at least 2 characters). */
    name: name.min(2).default("modelship"),
    /** Served name of the model; `model.name` is preferred with `model`. Default: see {@link servedModel}. */
    modelName: modelNameSchema.optional(),
    /** Your own ONNX model, baked into the image. Default: the demo. */
    model: modelSchema,
    image: imageSchema,
    repository: repositorySchema,
    /** Names of secret config keys to wire into the pods (each read with requireSecret). */
    secrets: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment-variable-like name")).default([]),
    /** Sign the image on push (ECR managed signing) and verify it before it runs (admission control, on-device check). */
    signing: z.boolean().default(false),
};

/** PEM of AWS Signer's Notation root certificate, which the cluster's verifier trusts (`modelship:signing`). */
const signerRootCertificate = z.string().regex(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, "expected the PEM content of AWS Signer's root certificate (see docs/signing.md)").optional();
const rootCertificateCheck = (c: { signing: boolean; signerRootCertificate?: string }): boolean => !c.signing || c.signerRootCertificate !== undefined;
const rootCertificateProblem = () => ({
    message: "is required with signing: true (the admission controller trusts AWS Signer's root): pulumi config set modelship:signerRootCertificate -- \"$(cat aws-signer-notation-root.cert)\" (docs/signing.md)",
    path: ["signerRootCertificate"],
});

export const cloudSchema = z
    .object({ ...common, signerRootCertificate, cluster: clusterSchema, service: serviceSchema })
    .strict()
    .refine(rootCertificateCheck, rootCertificateProblem())
    .refine((c) => !c.signing || configEngine(c.service.server) === "modelship", {
        message: "is on, but service.server runs the engine's published image, which this stack does not build or sign: turn signing off, or serve the modelship image",
        path: ["signing"],
    });
export const edgeSchema = z
    .object({
        ...common,
        deviceRegion: region,
        rolesAnywhereTrustAnchorArn: z.string().regex(/^arn:aws[a-z-]*:rolesanywhere:/, "expected an IAM Roles Anywhere trust anchor ARN").optional(),
        /** Certificate subjects (CN and/or OU patterns) the trust anchor's certificates must carry to pull. */
        deviceSubjects: z
            .object({ cn: z.array(z.string().min(1)).optional(), ou: z.array(z.string().min(1)).optional() })
            .strict()
            .optional(),
        devicePrincipals: z.array(principal).default([]),
        devices: z.array(deviceSchema).default([]),
        /** known_hosts file (relative to the project root) holding every ssh:// device's verified host key. Default: the deployer's ~/.ssh/known_hosts. */
        knownHostsFile: z.string().min(1).optional(),
    })
    .strict()
    .refine((c) => !c.devices.some((d) => d.gpus === true) || (c.image.target ?? EDGE_DEFAULT_TARGET) !== "cpu", {
        message: "a device sets gpus: true but the image is the cpu stage, which never uses a GPU (and --gpus all fails without the NVIDIA container toolkit): remove gpus, or build image.target gpu",
        path: ["devices"],
    })
    .refine((c) => c.rolesAnywhereTrustAnchorArn !== undefined || c.devicePrincipals.length > 0, {
        message: "set rolesAnywhereTrustAnchorArn (devices authenticate with X.509 certificates) or devicePrincipals, so the device pull role trusts someone",
        path: ["rolesAnywhereTrustAnchorArn"],
    })
    .refine((c) => c.rolesAnywhereTrustAnchorArn === undefined || (c.deviceSubjects?.cn?.length ?? 0) + (c.deviceSubjects?.ou?.length ?? 0) > 0, {
        message: "is required with rolesAnywhereTrustAnchorArn, or every certificate the CA issued may pull: list the devices' subjects, e.g. { cn: [\"jetson-*\"] } or { ou: [\"edge-devices\"] }",
        path: ["deviceSubjects"],
    })
    .refine((c) => c.rolesAnywhereTrustAnchorArn !== undefined || c.deviceSubjects === undefined, {
        message: "only applies with rolesAnywhereTrustAnchorArn (certificates authenticated by that anchor): set the anchor, or remove deviceSubjects",
        path: ["deviceSubjects"],
    })
    .superRefine((c, ctx) => {
        if (!c.signing) return;
        // The on-device check runs notation over its own SSH connection, which must know the device's key.
        for (const [i, d] of c.devices.entries()) {
            if (!d.host.startsWith("ssh://")) ctx.addIssue({ code: "custom", path: ["devices", i, "host"], message: "signing: true verifies on the device over SSH: use ssh://user@host" });
            else if (d.hostKey === undefined) ctx.addIssue({ code: "custom", path: ["devices", i, "hostKey"], message: "is required with signing: true: the device's SSH host key (ssh-keyscan -t ed25519 <host>, verified), e.g. ssh-ed25519 AAAA…" });
        }
    });
export const hybridSchema = z
    .object({ ...common, signerRootCertificate, cluster: clusterSchema, service: serviceSchema, onPrem: onPremSchema })
    .strict()
    .refine(rootCertificateCheck, rootCertificateProblem())
    .refine((c) => configEngine(c.service.server) === "modelship", {
        message: "must be modelship for the hybrid target: the on-prem cluster runs the image this stack builds, and has no IRSA for a model store (use the cloud target for triton/vllm)",
        path: ["service", "server"],
    });

export type CloudConfig = z.infer<typeof cloudSchema>;

/**
 * `modelship:repository` as ImageRegistry arguments. The repository's name defaults to {@link accountUniqueName}, so
 * two stacks sharing an account never write into one repository (nor its `buildcache/` twin). Pure.
 */
export function repositoryArgs(repository: z.infer<typeof repositorySchema>, prefix: string, project: string, stack: string) {
    const { name: repositoryName, forceDelete, ...rest } = repository;
    return { repositoryName: repositoryName ?? accountUniqueName(prefix, project, stack), forceDelete: forceDelete ?? STACK_REPOSITORY_FORCE_DELETE, ...rest };
}
export type EdgeConfig = z.infer<typeof edgeSchema>;
export type HybridConfig = z.infer<typeof hybridSchema>;

/** Keys each target reads (besides `target`), for error messages and the README. */
const KEYS: Record<Target, string[]> = {
    cloud: ["name", "modelName", "model", "image", "repository", "secrets", "signing", "signerRootCertificate", "cluster", "service"],
    edge: ["name", "modelName", "model", "image", "repository", "secrets", "signing", "deviceRegion", "rolesAnywhereTrustAnchorArn", "deviceSubjects", "devicePrincipals", "devices", "knownHostsFile"],
    hybrid: ["name", "modelName", "model", "image", "repository", "secrets", "signing", "signerRootCertificate", "cluster", "service", "onPrem"],
};

/** Reads one non-secret key; returns JSON-decoded objects and plain strings. */
export type ConfigGetter = (key: string) => unknown;

/** The object schema at `path` inside `schema` (through defaults, optionals and arrays), for suggesting its keys. */
function objectKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
    let s: z.ZodType = schema;
    const unwrap = () => {
        while (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    };
    for (const part of path) {
        unwrap();
        if (typeof part === "number" && s instanceof z.ZodArray) s = s.element as z.ZodType;
        else if (typeof part === "string" && s instanceof z.ZodObject) s = s.shape[part] as z.ZodType;
        else if (s instanceof z.ZodRecord) s = s.valueType as z.ZodType;
        else return [];
        if (s === undefined) return [];
    }
    unwrap();
    return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

/** `modelship:cluster.gpuNodeGroups[0].maxSize`. Pure. */
export function keyPath(path: readonly PropertyKey[]): string {
    return `${CONFIG_NAMESPACE}:${path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("")}`;
}

const A_TYPE: Record<string, string> = { array: "an array", object: "an object", string: "a string", number: "a number", int: "an integer", boolean: "true or false", record: "a map" };

/** Zod's issues as problems naming the full key, one per issue (one per unknown key, with the nearest known one). */
export function zodProblems(schema: z.ZodType, issues: readonly z.core.$ZodIssue[]): ConfigProblem[] {
    return issues.flatMap((issue): ConfigProblem[] => {
        if (issue.code === "unrecognized_keys") {
            const known = objectKeysAt(schema, issue.path);
            return issue.keys.map((k) => {
                const near = closest(k, known);
                return {
                    key: keyPath([...issue.path, k]),
                    problem: `is not a known key: ${near ? `did you mean ${keyPath([...issue.path, near])}?` : `the keys here are ${known.join(", ")}`}`,
                };
            });
        }
        if (issue.code === "invalid_type") {
            const expected = A_TYPE[issue.expected] ?? issue.expected;
            const input = (issue as { input?: unknown }).input;
            const problem = input === undefined ? `is required: expected ${expected}` : `expected ${expected}, got ${JSON.stringify(input)}`;
            return [{ key: keyPath(issue.path), problem }];
        }
        return [{ key: keyPath(issue.path), problem: issue.message }];
    });
}

/** Parses the target's keys with its schema; throws a {@link ConfigError} listing every bad key. Pure. */
export function parseTargetConfig<T extends Target>(target: T, get: ConfigGetter): T extends "cloud" ? CloudConfig : T extends "edge" ? EdgeConfig : HybridConfig {
    const raw: Record<string, unknown> = {};
    for (const key of KEYS[target]) {
        const v = get(key);
        if (v !== undefined) raw[key] = v;
    }
    const schema = target === "cloud" ? cloudSchema : target === "edge" ? edgeSchema : hybridSchema;
    const result = schema.safeParse(raw, { reportInput: true });
    if (!result.success) throw ConfigError.of(zodProblems(schema, result.error.issues));
    return result.data as never;
}

/** Keys any target reads, for telling "misspelt" from "belongs to another target". */
const ALL_KEYS = [...new Set(Object.values(KEYS).flat())];

/**
 * Problems with the `modelship:*` keys the stack sets (`keys`, without the namespace): each must be one the target
 * reads (`target` unknown: any target's), or one of the `secretKeys` it reads. A misspelt key names the nearest known
 * one. Pure.
 */
export function unknownKeyProblems(target: Target | undefined, keys: readonly string[], secretKeys: readonly string[] = []): ConfigProblem[] {
    const known = ["target", ...(target ? KEYS[target] : ALL_KEYS), ...secretKeys];
    return keys
        .filter((k) => !known.includes(k))
        .map((k) => {
            const key = `${CONFIG_NAMESPACE}:${k}`;
            if (target && ALL_KEYS.includes(k)) {
                const readers = TARGETS.filter((t) => KEYS[t].includes(k));
                return { key, problem: `is not read by the ${target} target (only ${readers.join(", ")}): remove it, or set ${CONFIG_NAMESPACE}:target` };
            }
            const near = closest(k, known);
            const hint = near
                ? `did you mean ${CONFIG_NAMESPACE}:${near}?`
                : `the ${target ?? "stack"} keys are ${known.join(", ")} (a secret key must be listed in ${CONFIG_NAMESPACE}:secrets)`;
            return { key, problem: `is not a known key: ${hint}` };
        });
}

/**
 * Problems with `aws:region`, which every AWS resource, URL and add-on of the stack uses: it must be set (not left to
 * the environment, which the plan and CI cannot see) and be a region code. `awsKeys` (the `aws:*` keys set, without
 * the namespace) point out a misspelt one. Pure.
 */
export function awsRegionProblems(value: string | undefined, awsKeys: readonly string[] = []): ConfigProblem[] {
    const key = "aws:region";
    if (value === undefined) {
        const typo = awsKeys.find((k) => k !== "region" && editDistance(k, "region") <= 2);
        return [{ key, problem: `is required: pulumi config set aws:region <code, e.g. eu-central-1>${typo ? ` (the stack sets aws:${typo}: a typo of aws:region?)` : ""}` }];
    }
    const problem = regionProblem(value);
    return problem ? [{ key, problem }] : [];
}

/**
 * A name for things AWS requires unique per account and region (ECR repositories, Secrets Manager secrets): `name`
 * plus the stack and a hash of project/stack, so two stacks (of one project or two) in one account never collide.
 * Lowercase, as ECR requires. Pure.
 */
export function accountUniqueName(name: string, project: string, stack: string): string {
    const hash = createHash("sha256").update(`${project}/${stack}`).digest("hex").slice(0, 6);
    const stackPart = stack.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    return [name, stackPart, hash].filter((p) => p.length > 0).join("-");
}

/** Reads `modelship:target`. */
export function parseTarget(value: unknown): Target {
    if (value === undefined) throw new ConfigError(`${CONFIG_NAMESPACE}:target`, `is required: set it to one of ${TARGETS.join(", ")}`);
    if (!TARGETS.includes(value as Target)) throw new ConfigError(`${CONFIG_NAMESPACE}:target`, `"${String(value)}" is not a target: use one of ${TARGETS.join(", ")}`);
    return value as Target;
}

/** A getter over Pulumi config: structured values (stored as JSON) decode, plain strings pass through. */
/**
 * Top-level keys that hold a boolean: Pulumi keeps every config value as a string (`pulumi config set modelship:signing
 * true` and `modelship:signing: true` in the stack file both read back as "true"), so these are decoded.
 */
const BOOLEAN_KEYS = new Set(["signing"]);

export function pulumiConfigGetter(config: pulumi.Config): ConfigGetter {
    return (key) => {
        const value = config.get(key);
        if (value !== undefined && BOOLEAN_KEYS.has(key) && /^\s*(true|false)\s*$/.test(value)) return value.trim() === "true";
        if (value === undefined || !/^\s*[[{]/.test(value)) return value;
        try {
            return JSON.parse(value);
        } catch {
            throw new ConfigError(`${CONFIG_NAMESPACE}:${key}`, "is not valid JSON/YAML structure");
        }
    };
}

/**
 * Whether the stack holds `fullKey` (`modelship:apiToken`) encrypted, i.e. it was set with `--secret`. The language
 * host passes the list of secret keys beside the config (`PULUMI_CONFIG_SECRET_KEYS`; `setAllConfig`'s second
 * argument under the mock runtime); its reader is marked internal in the SDK, so it is looked up, and its absence is
 * an error rather than a silent "not secret".
 */
export function configKeyIsSecret(fullKey: string): boolean {
    const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    if (typeof isConfigSecret !== "function") {
        throw new Error(`cannot tell whether ${fullKey} is a secret: this @pulumi/pulumi has no runtime.isConfigSecret; pin the version in package.json`);
    }
    return isConfigSecret(fullKey);
}

/**
 * Reads one secret key; refuses a plaintext value (stored in the stack file in the clear, whatever the plan shows).
 * `why` says why the key is read, for the "not set" message.
 */
export function requireSecretConfig(config: pulumi.Config, key: string, why: string, isSecret: (fullKey: string) => boolean = configKeyIsSecret): pulumi.Output<string> {
    const fullKey = `${CONFIG_NAMESPACE}:${key}`;
    const value = config.getSecret(key);
    if (value === undefined) throw new ConfigError(fullKey, `${why} but not set: pulumi config set --secret ${fullKey} <value>`);
    if (!isSecret(fullKey)) {
        throw new ConfigError(fullKey, `is a secret but is stored in plaintext in the stack's config file: run pulumi config set --secret ${fullKey} <value> (then rotate the value, which the file has exposed)`);
    }
    return value;
}

/** Reads each named secret as a Pulumi secret, refusing one that is missing or was set without `--secret`. */
export function readSecrets(config: pulumi.Config, names: string[], why = `is listed in ${CONFIG_NAMESPACE}:secrets`, isSecret?: (fullKey: string) => boolean): Record<string, pulumi.Output<string>> {
    const out: Record<string, pulumi.Output<string>> = {};
    for (const n of names) out[n] = requireSecretConfig(config, n, why, isSecret);
    return out;
}

/** Names of the secret keys an edge config's devices read their TLS material from. Pure. */
export function deviceTlsKeys(config: Pick<EdgeConfig, "devices">): string[] {
    return [...new Set(config.devices.flatMap((d) => (d.tls ? [d.tls.caCert, d.tls.clientCert, d.tls.clientKey] : [])))];
}

/** The directory holding Pulumi.yaml, searched upwards from `start`; undefined when there is none. */
export function findProjectRoot(start = process.cwd()): string | undefined {
    for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) return undefined;
    }
}

/**
 * Resolves a path from the stack config against the project root. Pulumi runs a program whose `main` is a file from
 * that file's directory (here `stacks/`), so a plain relative path would depend on how the program was started.
 */
export function projectPath(p: string): string {
    return path.isAbsolute(p) ? p : path.resolve(findProjectRoot() ?? process.cwd(), p);
}

/** `modelship:image` as InferenceImage build arguments, with the target's default stage and platforms. */
export function imageBuildArgs(image: z.infer<typeof imageSchema>, defaults: { target: string; platforms: string[] }) {
    return {
        context: projectPath(image.context),
        dockerfile: image.dockerfile === undefined ? undefined : projectPath(image.dockerfile),
        target: image.target ?? defaults.target,
        platforms: image.platforms ?? defaults.platforms,
    };
}

/** The name the demo model is served under (the Dockerfile's default `MODEL_NAME`). */
export const DEMO_MODEL_NAME = "demo";

/**
 * `modelship:model` and `modelship:modelName` as the image's model and the one name every deployment serves it under
 * (model.name, else modelName, else the file name without .onnx; the demo is served as `demo` unless modelName says
 * otherwise). Refuses a missing model file and two different names.
 */
export function servedModel(config: { model?: z.infer<typeof modelSchema>; modelName?: string }): { model?: ModelArgs; modelName: string } {
    const { model, modelName } = config;
    if (!model) return { modelName: modelName ?? DEMO_MODEL_NAME };
    const file = projectPath(model.path);
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) {
        throw new ConfigError(`${CONFIG_NAMESPACE}:model.path`, `"${model.path}" (${file}) is not a file: export your model to ONNX there, or fix the path (relative to the project root)`);
    }
    if (model.name !== undefined && modelName !== undefined && model.name !== modelName) {
        throw new ConfigError(
            `${CONFIG_NAMESPACE}:modelName`,
            `"${modelName}" differs from ${CONFIG_NAMESPACE}:model.name "${model.name}": remove ${CONFIG_NAMESPACE}:modelName (model.name names the served model)`,
        );
    }
    const name = model.name ?? modelName ?? defaultModelName(file);
    return { model: { path: file, name, externalData: model.externalData }, modelName: name };
}
