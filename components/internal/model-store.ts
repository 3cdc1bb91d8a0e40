/**
 * Model weights from S3: a pod-start sync of `s3://bucket/prefix` into a bounded node-local cache, read through the
 * pod's own IRSA role. Pure helpers; `InferenceService` creates the objects.
 *
 * Why an init container and not the Mountpoint for Amazon S3 CSI driver (evaluated 2026-11-26):
 * - Cold start: engines read weights with many random reads (safetensors are mmapped, Triton backends seek); over a
 *   FUSE mount each miss is an S3 GET, while a bulk parallel download to local disk followed by local reads is bounded
 *   by one sequential transfer. The download is measured against a stated bandwidth (`downloadMBps`).
 * - Memory: a sync streams to disk; Mountpoint's own read-ahead buffers and optional cache live on the node, shared.
 * - IAM: the sync runs as the pod's service account (IRSA), so exactly this pod reads exactly this prefix. The CSI
 *   driver's default credentials are the driver's (node-wide) role; pod-level credentials need its v2 and per-volume
 *   configuration, plus a cluster-scoped PersistentVolume per bucket.
 * - Readiness: an init container finishes before the server starts, so the server never sees partial weights.
 * The cost: a sync image (the AWS CLI, pinned by digest) and node-local disk the size of the model.
 */
import type * as pulumi from "@pulumi/pulumi";
import { isDigestRef } from "./image-ref";

/** Weights in S3, synced at pod start into a node-local cache. */
export interface ModelStoreArgs {
    /** `s3://bucket/prefix` of the weights (every object under the prefix is fetched). Required. */
    s3Uri: string;
    /** Total size of the weights in GB (10^9 bytes): sizes the cache and the download estimate. Required. */
    sizeGb: number;
    /**
     * The image that runs the sync: the AWS CLI (`aws s3 sync`), pinned by digest, e.g.
     * `public.ecr.aws/aws-cli/aws-cli@sha256:<64 hex>`. Required.
     */
    syncImage: string;
    /** The cluster whose OIDC provider the reader role trusts: a `GpuCluster` or `{ oidcProviderArn, oidcProviderUrl }`. Required. */
    cluster: { oidcProviderArn: pulumi.Input<string>; oidcProviderUrl: pulumi.Input<string> };
    /** Region of the bucket. Default: the AWS provider's region. */
    region?: string;
    /** Download bandwidth the estimate assumes, in MB/s. Default 250 (one pod's `aws s3 sync` on a 25 Gbit/s GPU node; lower it for smaller nodes). */
    downloadMBps?: number;
    /** Seconds the download may take; overrides the estimate from `sizeGb` / `downloadMBps`. */
    downloadSeconds?: number;
    /** Size limit of the node-local cache volume. Default: `sizeGb` plus 10%, rounded up to whole GiB. */
    cacheSize?: string;
    /** Where the weights appear in the server container (read-only). Default "/models". */
    mountPath?: string;
    /** KMS key ARN the objects are encrypted with (SSE-KMS): the role may `kms:Decrypt` with it, through S3 only. Default none. */
    kmsKeyArn?: string;
    /** IPv4 CIDRs the pods reach S3 and STS at (HTTPS only), e.g. VPC endpoint subnets. Default ["0.0.0.0/0"] on port 443. */
    egressCidrs?: string[];
}

/** Defaults, in one place. */
export const MODEL_STORE_DEFAULTS = {
    downloadMBps: 250,
    mountPath: "/models",
    cacheHeadroom: 1.1,
    /** Fixed start-up of the sync (credentials, listing) before bytes flow. */
    syncOverheadSeconds: 30,
    egressCidrs: ["0.0.0.0/0"],
} as const;

/** A parsed `s3://bucket/prefix`. */
export interface S3Location {
    bucket: string;
    /** The key prefix without leading or trailing "/" ("" for the whole bucket). */
    prefix: string;
}

// Bucket naming rules: 3-63 characters of lowercase letters, digits, "." and "-", starting and ending alphanumeric.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket/prefix`; undefined when it is not one. Pure. */
export function parseS3Uri(uri: string): S3Location | undefined {
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
    if (!m || !BUCKET.test(m[1]) || m[1].includes("..")) return undefined;
    const prefix = m[2].replace(/\/+$/, "");
    if (prefix.includes("//") || /[*?]/.test(prefix)) return undefined;
    return { bucket: m[1], prefix };
}

/** Problems with `modelStore` as `[field, problem]` pairs. Pure. */
export function modelStoreProblems(store: ModelStoreArgs): [string, string][] {
    const out: [string, string][] = [];
    const loc = parseS3Uri(store.s3Uri ?? "");
    if (!loc) out.push(["modelStore.s3Uri", `"${store.s3Uri}" is not an S3 URI such as "s3://my-models/llama-3-8b/" (bucket names: 3-63 lowercase letters, digits, "." or "-")`]);
    else if (loc.prefix === "") out.push(["modelStore.s3Uri", "names a whole bucket: give the prefix holding this model's weights, so the role can read that prefix and nothing else"]);
    if (!(typeof store.sizeGb === "number" && store.sizeGb > 0 && store.sizeGb <= 10_000)) out.push(["modelStore.sizeGb", `must be the weights' size in GB, > 0 (got ${String(store.sizeGb)}): it sizes the cache and the start-up budget`]);
    if (typeof store.syncImage !== "string" || !isDigestRef(store.syncImage))
        out.push(["modelStore.syncImage", `"${String(store.syncImage)}" is not pinned by digest: use the AWS CLI image as repo@sha256:<64 hex>, e.g. public.ecr.aws/aws-cli/aws-cli@sha256:...`]);
    if (store.cluster === undefined) out.push(["modelStore.cluster", "is required: pass the GpuCluster (or { oidcProviderArn, oidcProviderUrl }) whose OIDC provider the reader role trusts"]);
    if (store.downloadMBps !== undefined && !(store.downloadMBps > 0)) out.push(["modelStore.downloadMBps", `must be > 0 (got ${store.downloadMBps})`]);
    if (store.downloadSeconds !== undefined && !(Number.isInteger(store.downloadSeconds) && store.downloadSeconds > 0 && store.downloadSeconds <= 86_400))
        out.push(["modelStore.downloadSeconds", `must be whole seconds from 1 to 86400 (got ${store.downloadSeconds})`]);
    if (store.cacheSize !== undefined && !/^[0-9]+(Mi|Gi|Ti)$/.test(store.cacheSize)) out.push(["modelStore.cacheSize", `must be a size such as "40Gi" (got "${store.cacheSize}")`]);
    if (store.cacheSize !== undefined && typeof store.sizeGb === "number" && quantityBytes(store.cacheSize) < store.sizeGb * 1e9)
        out.push(["modelStore.cacheSize", `(${store.cacheSize}) is smaller than the weights (${store.sizeGb} GB): the sync would be evicted half-way`]);
    if (store.mountPath !== undefined && !/^\/[A-Za-z0-9._/-]+$/.test(store.mountPath)) out.push(["modelStore.mountPath", `must be an absolute path such as "/models" (got "${store.mountPath}")`]);
    if (store.mountPath !== undefined && ["/", "/tmp", "/dev", "/proc", "/cache"].includes(store.mountPath.replace(/\/+$/, "")))
        out.push(["modelStore.mountPath", `"${store.mountPath}" is reserved: use e.g. "/models"`]);
    if (store.kmsKeyArn !== undefined && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(store.kmsKeyArn))
        out.push(["modelStore.kmsKeyArn", `"${store.kmsKeyArn}" is not a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`]);
    if (store.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(store.region)) out.push(["modelStore.region", `"${store.region}" is not an AWS region such as "us-west-2"`]);
    return out;
}

function quantityBytes(q: string): number {
    const m = /^([0-9]+)(Mi|Gi|Ti)$/.exec(q)!;
    return Number(m[1]) * { Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 }[m[2] as "Mi" | "Gi" | "Ti"];
}

/** The cache volume's size limit: `cacheSize`, else the weights plus 10% in whole GiB. Pure. */
export function cacheSizeLimit(store: Pick<ModelStoreArgs, "sizeGb" | "cacheSize">): string {
    if (store.cacheSize !== undefined) return store.cacheSize;
    return `${Math.ceil((store.sizeGb * 1e9 * MODEL_STORE_DEFAULTS.cacheHeadroom) / 2 ** 30)}Gi`;
}

/** Seconds the download is expected to take: `downloadSeconds`, else size / bandwidth plus the sync's overhead. Pure. */
export function downloadSeconds(store: Pick<ModelStoreArgs, "sizeGb" | "downloadMBps" | "downloadSeconds">): number {
    if (store.downloadSeconds !== undefined) return store.downloadSeconds;
    const mbps = store.downloadMBps ?? MODEL_STORE_DEFAULTS.downloadMBps;
    return Math.ceil((store.sizeGb * 1000) / mbps) + MODEL_STORE_DEFAULTS.syncOverheadSeconds;
}

/**
 * The reader role's policy: `s3:GetObject` on the prefix's objects, `s3:ListBucket` on the bucket only for keys
 * under the prefix, and `kms:Decrypt` through S3 when the objects use a KMS key. Nothing else. Pure.
 */
export function modelStorePolicy(loc: S3Location, opts: { partition?: string; kmsKeyArn?: string; region?: string } = {}): Record<string, unknown> {
    const p = opts.partition ?? "aws";
    const statements: Record<string, unknown>[] = [
        { Sid: "ReadWeights", Effect: "Allow", Action: "s3:GetObject", Resource: `arn:${p}:s3:::${loc.bucket}/${loc.prefix}/*` },
        {
            Sid: "ListWeights",
            Effect: "Allow",
            Action: "s3:ListBucket",
            Resource: `arn:${p}:s3:::${loc.bucket}`,
            Condition: { StringLike: { "s3:prefix": [`${loc.prefix}/`, `${loc.prefix}/*`] } },
        },
    ];
    if (opts.kmsKeyArn !== undefined) {
        statements.push({
            Sid: "DecryptWeights",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: opts.kmsKeyArn,
            Condition: { StringLike: { "kms:ViaService": `s3.*.amazonaws.com` } },
        });
    }
    return { Version: "2012-10-17", Statement: statements };
}

/** The sync command: every object under the prefix into `dir`, quietly, failing on any error. Pure. */
export function syncCommand(loc: S3Location, dir: string): string[] {
    return ["aws", "s3", "sync", `s3://${loc.bucket}/${loc.prefix}/`, dir, "--no-progress", "--only-show-errors"];
}
