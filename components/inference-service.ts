import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    appLabels,
    CLUSTER_DNS_LABEL,
    GPU_RESOURCE,
    HOST_TOPOLOGY_KEY,
    IRSA_ROLE_ANNOTATION,
    NAMESPACE_NAME_LABEL,
    SAFE_TO_EVICT_ANNOTATION,
    selectorLabels,
    ZONE_TOPOLOGY_KEY,
} from "./internal/k8s-constants";
import { GPU_TAINT_EFFECT, GPU_TAINT_KEY } from "./internal/gpu-constants";
import { isDigestRef } from "./internal/image-ref";
import { DEFAULT_RUN_AS, restrictedContainerSecurityContext, restrictedPodSecurityContext, type RunAs } from "./internal/pod-security";
import { ArgChecker, isDnsLabel, isIntInRange } from "./internal/validation";
import { DNS1035_LABEL_RULE, isDns1035Label, isDns1123Subdomain, isLabelValue, isQualifiedName } from "./internal/k8s-names";
import { labelledNamespace } from "./internal/namespaces";
import { checkInput, checkInputs } from "./internal/inputs";
import { irsaTrustPolicy } from "./internal/iam";
import { DO_NOT_DISRUPT_ANNOTATION, doNotDisruptValue } from "./internal/karpenter";
import { resolveServer, serverEngine, serverProblems, type ResolvedServer, type ServerArgs } from "./internal/server-profiles";
import { cacheSizeLimit, downloadSeconds, MODEL_STORE_DEFAULTS, modelStoreProblems, modelStorePolicy, parseS3Uri, syncCommand, type ModelStoreArgs } from "./internal/model-store";
import {
    checkCidrs,
    checkLabels,
    cidrProblem,
    checkPodPeer,
    cidrPeer,
    DEFAULT_MONITORING_NAMESPACE,
    ingressRule,
    podPeer,
    PROMETHEUS_POD_LABELS,
    type PodPeer,
} from "./internal/network-policy";

export type { PodPeer } from "./internal/network-policy";
export type { CustomServerArgs, EngineServerArgs, ServerArgs, ServerEngine } from "./internal/server-profiles";
export type { ModelStoreArgs } from "./internal/model-store";

export const INFERENCE_SERVICE_TYPE = "modelship:index:InferenceService";

/**
 * The pod's tolerations: the given ones, plus the GPU taint's when the pod requests GPUs (what Kubernetes'
 * ExtendedResourceToleration admission plugin would add, were it enabled), so GPU pods schedule on tainted GPU nodes
 * on any cluster. Pure.
 */
export function podTolerations(scheduling: Scheduling | undefined, gpu: number): Scheduling["tolerations"] {
    const given = scheduling?.tolerations ?? [];
    if (gpu <= 0 || given.some((t) => t.key === GPU_TAINT_KEY)) return given.length > 0 ? given : undefined;
    return [...given, { key: GPU_TAINT_KEY, operator: "Exists", effect: GPU_TAINT_EFFECT }];
}

/** Where pods may run; `GpuCluster.gpuScheduling` fits here as it is. */
export interface Scheduling {
    /** Node labels a pod's node must carry. */
    nodeSelector?: Record<string, string>;
    /** Taints the pods tolerate (e.g. the GPU node taint). */
    tolerations?: { key: string; operator: "Equal" | "Exists"; value?: string; effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }[];
}

/** Something that yields a Kubernetes Secret name: a `SecretWiring`, duck-typed so this file does not import it. */
export interface SecretSource {
    secretName: pulumi.Output<string>;
}

/** Autoscaling on work in flight with KEDA. Needs KEDA and a Prometheus scraping the pods (see `ServingAddons`). */
export interface AutoscalingArgs {
    /** URL of the Prometheus KEDA queries, e.g. `ServingAddons.prometheusUrl`. Required. */
    prometheusUrl: pulumi.Input<string>;
    /** Inference requests in flight (running or queued) one pod should carry; above it, pods are added. Default 4. */
    targetInFlightPerPod?: number;
    /** CPU utilisation (% of the request) above which pods are added regardless of the in-flight signal. Default 80. */
    cpuUtilization?: number;
    /** Seconds the desired count must stay higher before scaling up. Default 0: GPU nodes take minutes, start early. */
    scaleUpStabilizationSeconds?: number;
    /** Seconds of lower load before scaling down. Default 600: a GPU pod given back costs a cold start to get again. */
    scaleDownStabilizationSeconds?: number;
    /** Seconds between KEDA's metric polls. Default 15. */
    pollingIntervalSeconds?: number;
    /**
     * PromQL returning demand measured outside the pods (e.g. requests queued at an ingress or gateway for this
     * service). Required when `replicas.min` is 0: with no pod running, the pods' own in-flight gauge is empty and
     * could never wake the service. Compared against `targetInFlightPerPod`.
     */
    wakeQuery?: pulumi.Input<string>;
}

/** Who may reach the serving port (which also serves `/metrics`). Enforced by the component's NetworkPolicy. */
export interface IngressFromArgs {
    /** Admit every pod of the service's own namespace. Default true. */
    sameNamespace?: boolean;
    /** Further pods allowed to call the server, e.g. an ingress controller or gateway: `{ namespace?, namespaceLabels?, podLabels? }`. Default none. */
    pods?: PodPeer[];
    /** IPv4 CIDRs allowed to call the server, e.g. a load balancer's subnets (`subnet.cidrBlock`; traffic from outside the cluster). Default none. */
    cidrs?: pulumi.Input<string>[];
    /**
     * The Prometheus that scrapes `/metrics` (and feeds KEDA): its namespace and pod labels, e.g. `ServingAddons.scraper`,
     * or `false` to admit none. Default { namespace: "monitoring", podLabels: { "app.kubernetes.io/name": "prometheus" } }.
     */
    prometheus?: { namespace: string; podLabels?: Record<string, string> } | false;
}

/** Arguments of {@link InferenceService}. Only `image` is required. */
export interface InferenceServiceArgs {
    /**
     * Image reference pinned by digest (`repo@sha256:<64 hex>`), e.g. an `InferenceImage`'s `ref` (`image.ref`). A tag is refused
     * unless `allowMutableTag`. An Output is checked when it resolves, and fails the update with the same message.
     */
    image: pulumi.Input<string>;
    /** Accept a mutable tag as `image` (development only: pods may run different code). Default false. */
    allowMutableTag?: boolean;
    /**
     * Namespace of every object: a name; an Output such as `secrets.namespace` (it carries the dependency on the
     * namespace behind it, and is checked when it resolves); or a `k8s.core.v1.Namespace` made elsewhere, which every
     * object then waits for. Default "default".
     */
    namespace?: pulumi.Input<string> | k8s.core.v1.Namespace;
    /** Create the namespace, labelled to enforce, warn and audit the "restricted" Pod Security Standard. Default false. */
    createNamespace?: boolean;
    /**
     * The serving engine: "modelship" (this library's server), "triton", "vllm", or { engine: "custom", ... }. Each
     * profile sets the ports, probes, arguments, shared memory, scrape target and autoscaling signal from the engine's
     * documentation (docs/serving-engines.md). Default "modelship".
     */
    server?: ServerArgs;
    /**
     * Weights from S3, synced at pod start into a node-local cache (triton, vllm, custom only): an init container
     * running `aws s3 sync` as the pod's own IRSA role, which may read that prefix and nothing else. Default none.
     */
    modelStore?: ModelStoreArgs;
    /**
     * Add a namespace-wide default-deny egress NetworkPolicy (`podSelector: {}`), so that every pod of the namespace
     * starts closed; the server's own policy re-allows DNS and `egressCidrs`. Needs `networkPolicy`. Default: on when
     * `createNamespace` (a namespace shared with other workloads is yours to close).
     */
    denyEgressByDefault?: boolean;
    /** Container port the server listens on (`PORT`), also the Service port (modelship only: the other engines use theirs). Default 8080. */
    port?: number;
    /**
     * Port of the server's own `/metrics` listener (`METRICS_PORT`): the serving port then has no `/metrics`, and the
     * NetworkPolicy admits only the scraping Prometheus to this one. Default 9091.
     */
    metricsPort?: number;
    /** `MODEL_NAME` of the server. Default: unset (the image's default). */
    modelName?: string;
    /** Extra environment variables. `PORT`, `METRICS_PORT`, `DEVICE` and `DRAIN_TIMEOUT_MS` are set by the component. */
    env?: Record<string, pulumi.Input<string>>;
    /** CPU and memory per pod. Requests default to cpu "1" and memory "2Gi"; the memory limit defaults to the request; no CPU limit by default. */
    resources?: { cpu?: string; memory?: string; memoryLimit?: string; cpuLimit?: string };
    /** GPUs per pod (the `nvidia.com/gpu` limit). Default 0: CPU only. */
    gpu?: number;
    /** Node selection, e.g. `cluster.gpuScheduling`. Default none. */
    scheduling?: Scheduling;
    /** Pod count: autoscaled between `min` and `max`; without autoscaling, `min` pods run. Default { min: 1, max: 3 }. */
    replicas?: { min: number; max: number };
    /** Secret consumed whole as environment variables (`envFrom`): a `SecretWiring` or the name of an existing Secret. Default none. */
    secret?: SecretSource | string;
    /** The pod's service account: `roleArn` annotates it for IRSA; `name` names it (an existing one when no `roleArn`). Default: a dedicated account without API token. */
    serviceAccount?: { roleArn?: pulumi.Input<string>; name?: string };
    /** Seconds the model may take to load before the pod counts as failed (startup probe budget). Default 600. */
    modelLoadSeconds?: number;
    /** Seconds the server drains after SIGTERM (`DRAIN_TIMEOUT_MS`). Default 25. */
    drainSeconds?: number;
    /** Seconds the preStop hook sleeps, letting endpoints drop the pod before SIGTERM (runs `sleep` in the image; 0 disables). Default 5. */
    preStopSleepSeconds?: number;
    /** Autoscaling on in-flight requests with KEDA, or `false` for a fixed `replicas.min`. Default false. */
    autoscaling?: AutoscalingArgs | false;
    /** Create a Prometheus Operator `ServiceMonitor` (needs its CRD). Default false; scrape annotations are always set. */
    serviceMonitor?: boolean;
    /** Create a NetworkPolicy: ingress to the serving port from `ingressFrom` only; egress to cluster DNS and `egressCidrs` only. Default true. */
    networkPolicy?: boolean;
    /** Who may reach the serving port. Default: pods of the same namespace, plus Prometheus pods of the "monitoring" namespace. */
    ingressFrom?: IngressFromArgs;
    /** IPv4 CIDRs pods may connect to (any port), besides DNS, e.g. `db.cidrBlock`. Default none. */
    egressCidrs?: pulumi.Input<string>[];
    /** User, group and fsGroup ids the pod runs as. Default 10001 for all three (the server image's user). */
    runAs?: Partial<RunAs>;
    /** Size limit of the `/tmp` scratch volume (the root filesystem is read-only). Default "1Gi". */
    scratchSize?: string;
    /**
     * The node groups (and node add-ons, such as the NVIDIA device plugin) the pods run on, when this program creates
     * them: the Deployment and the Service (which awaits the pods' endpoints) wait for them, so their readiness timeout
     * does not run out while nodes are still being created. On a `GpuCluster` pass its node groups and
     * `cluster.addons.nvidiaDevicePlugin`. Default none (the nodes exist already).
     */
    nodesReady?: pulumi.Resource[];
    /**
     * What installs the CRDs of the ScaledObject (KEDA) and the ServiceMonitor (Prometheus Operator), when this program
     * installs them, e.g. `addons.ready`: those objects wait for it, as the API server refuses a kind it does not know yet.
     * Default none (the CRDs exist already).
     */
    addonsReady?: pulumi.Resource[];
    /** Budget of the first rollout, from which the Deployment's and Service's readiness timeouts are derived ({@link rolloutTimeouts}). */
    rollout?: RolloutArgs;
}

/** What a pod's first start may wait for, besides `modelLoadSeconds`. */
export interface RolloutArgs {
    /** Seconds to get a new node: autoscaler reaction, instance launch, join, device plugin. Default 900 with GPUs (groups scale from zero; cluster-autoscaler allows up to 15 min for a new GPU to become allocatable), 0 without. */
    nodeProvisionSeconds?: number;
    /** Seconds to pull and unpack the image on a fresh node. Default 600 with GPUs (multi-GB CUDA images), 180 without. */
    imagePullSeconds?: number;
}

/** Defaults, in one place. */
export const INFERENCE_SERVICE_DEFAULTS = {
    allowMutableTag: false,
    namespace: "default",
    createNamespace: false,
    port: 8080,
    metricsPort: 9091,
    cpu: "1",
    memory: "2Gi",
    gpu: 0,
    replicas: { min: 1, max: 3 },
    modelLoadSeconds: 600,
    drainSeconds: 25,
    preStopSleepSeconds: 5,
    /** Margin beyond preStop + drain before the kubelet sends SIGKILL. */
    terminationMarginSeconds: 10,
    serviceMonitor: false,
    networkPolicy: true,
    ingressFrom: {
        sameNamespace: true,
        prometheus: { namespace: DEFAULT_MONITORING_NAMESPACE, podLabels: { ...PROMETHEUS_POD_LABELS } },
    },
    scratchSize: "1Gi",
    targetInFlightPerPod: 4,
    cpuUtilization: 80,
    scaleUpStabilizationSeconds: 0,
    scaleDownStabilizationSeconds: 600,
    pollingIntervalSeconds: 15,
    /** Startup probe period; the failure threshold is modelLoadSeconds / this. */
    startupPeriodSeconds: 10,
    rollout: {
        gpu: { nodeProvisionSeconds: 900, imagePullSeconds: 600 },
        cpu: { nodeProvisionSeconds: 0, imagePullSeconds: 180 },
        /** Seconds added to every budget: scheduling, readiness probe periods, the provider's polling. */
        marginSeconds: 120,
        /** The Kubernetes provider's own default await, which a budget never goes below. */
        floorSeconds: 600,
    },
} as const;

/** The server's HTTP contract (inference-image/src). */
export const SERVER = {
    livePath: "/v2/health/live",
    readyPath: "/v2/health/ready",
    metricsPath: "/metrics",
    /** Gauge of requests accepted and not yet answered; it already counts the queued ones. */
    inFlightMetric: "modelship_inference_requests_in_flight",
} as const;

const COMPONENT_LABEL = "modelship-inference";
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;

/** Whether `image` is pinned by digest. Pure. */
export const isDigestReference = isDigestRef;

function imageProblem(image: string): string {
    return `"${image}" is not pinned by digest: use repo@sha256:<64 hex> (e.g. an InferenceImage's image.ref), or set allowMutableTag: true for development`;
}

/**
 * The image as an Output that fails when it resolves to an unpinned reference. An Output cannot be checked at
 * construction, so the check runs when it resolves and fails the update with the construction-time message.
 */
export function pinnedImage(name: string, image: pulumi.Input<string>, allowMutableTag: boolean): pulumi.Output<string> {
    return checkInput({ component: "InferenceService", name, field: "image" }, image, (ref) => (allowMutableTag || isDigestReference(ref) ? undefined : imageProblem(ref)));
}

/** Returns `ref`, or throws the construction-time error when it is not pinned by digest and tags are not allowed. Pure. */
export function assertPinnedImage(name: string, ref: string, allowMutableTag: boolean): string {
    if (!allowMutableTag && !isDigestReference(ref)) throw new Error(`InferenceService "${name}": image ${imageProblem(ref)}`);
    return ref;
}

/** Validates the arguments; throws an error naming the field and the fix. Pure: no Pulumi calls. */
export function validateInferenceServiceArgs(name: string, args: InferenceServiceArgs): void {
    const c = new ArgChecker("InferenceService", name);
    const d = INFERENCE_SERVICE_DEFAULTS;
    c.check(isDns1035Label(name, 50), "name", `"${name}" must be a DNS-1035 label of at most 50 characters (${DNS1035_LABEL_RULE}): it names the Service, which Kubernetes refuses otherwise`);
    if (typeof args.image === "string" && !(args.allowMutableTag ?? d.allowMutableTag)) c.check(isDigestReference(args.image), "image", imageProblem(args.image));
    if (typeof args.namespace === "string") c.check(namespaceProblem(args.namespace) === undefined, "namespace", namespaceProblem(args.namespace) ?? "");
    if (args.createNamespace) c.check(typeof args.namespace === "string", "namespace", "must be a plain string when createNamespace is true; pass an Output or a Namespace only for a namespace made elsewhere");
    if (args.port !== undefined) c.check(isIntInRange(args.port, 1024, 65535), "port", `must be a whole number from 1024 to 65535 (got ${args.port}): the server runs as non-root`);
    if (args.metricsPort !== undefined) c.check(isIntInRange(args.metricsPort, 1024, 65535), "metricsPort", `must be a whole number from 1024 to 65535 (got ${args.metricsPort}): the server runs as non-root`);
    c.check((args.metricsPort ?? d.metricsPort) !== (args.port ?? d.port), "metricsPort", `must differ from port (${args.port ?? d.port}): /metrics gets a listener of its own`);
    const engine = serverEngine(args.server);
    for (const [field, problem] of serverProblems(args.server, { gpu: args.gpu ?? d.gpu, hasModelStore: args.modelStore !== undefined, modelName: args.modelName })) c.check(false, field, problem);
    if (engine !== "modelship") {
        for (const field of ["port", "metricsPort"] as const) {
            c.check(args[field] === undefined, field, `applies to the modelship server only: the ${engine} profile uses the engine's own ports (docs/serving-engines.md)${engine === "custom" ? "; set server.port / server.metricsPort" : ""}`);
        }
        if (args.autoscaling && engine === "custom")
            c.check(typeof args.server === "object" && args.server.engine === "custom" && args.server.queueQuery !== undefined, "server.queueQuery", "is required for autoscaling a custom server: give PromQL over its queued + running requests with $SELECTOR, e.g. sum(my_queue{$SELECTOR})");
    }
    if (args.modelStore !== undefined) {
        for (const [field, problem] of modelStoreProblems(args.modelStore)) c.check(false, field, problem);
        c.check(args.serviceAccount?.roleArn === undefined, "serviceAccount.roleArn", "cannot be combined with modelStore: the component creates the pod's role, allowed to read the model store's prefix only");
        // The reader role is autonamed "<name>-weights-<7 chars>": IAM role names hold 64 characters.
        c.check(name.length <= 48, "name", `"${name}" is ${name.length} characters; with modelStore at most 48, so that the IAM role "${name}-weights-xxxxxxx" fits AWS's 64: shorten it`);
    }
    if (args.gpu !== undefined) c.check(isIntInRange(args.gpu, 0, 16), "gpu", `must be a whole number of GPUs from 0 to 16 (got ${args.gpu})`);
    for (const [field, value] of Object.entries(args.resources ?? {})) {
        c.check(value === undefined || QUANTITY.test(value), `resources.${field}`, `"${value}" is not a Kubernetes quantity such as "500m", "2" or "4Gi"`);
    }
    for (const key of Object.keys(args.env ?? {})) {
        c.check(ENV_NAME.test(key), `env.${key}`, 'is not a valid environment variable name: use letters, digits, "_", "-" and ".", not starting with a digit');
        if (engine === "modelship") c.check(!["PORT", "METRICS_PORT", "DEVICE", "DRAIN_TIMEOUT_MS"].includes(key), `env.${key}`, "is set by the component: use port, metricsPort, gpu or drainSeconds instead");
    }
    const replicas = args.replicas ?? d.replicas;
    const autoscaling = args.autoscaling ?? false;
    c.check(isIntInRange(replicas.min, 0) && isIntInRange(replicas.max, 1) && replicas.min <= replicas.max, "replicas", `must have whole numbers 0 <= min <= max and max >= 1 (got min ${replicas.min}, max ${replicas.max})`);
    if (autoscaling === false) {
        c.check(replicas.min >= 1, "replicas.min", "is 0 without autoscaling, so nothing would run: set min >= 1, or configure autoscaling (with a wakeQuery) to scale to zero");
    } else {
        if (replicas.min === 0)
            c.check(autoscaling.wakeQuery !== undefined, "autoscaling.wakeQuery", "is required when replicas.min is 0: with no pod running the in-flight metric is empty and nothing would wake the service; give a PromQL over demand measured outside the pods");
        if (autoscaling.targetInFlightPerPod !== undefined)
            c.check(autoscaling.targetInFlightPerPod > 0, "autoscaling.targetInFlightPerPod", `must be > 0 (got ${autoscaling.targetInFlightPerPod})`);
        if (autoscaling.cpuUtilization !== undefined)
            c.check(isIntInRange(autoscaling.cpuUtilization, 1, 100), "autoscaling.cpuUtilization", `must be a whole percentage from 1 to 100 (got ${autoscaling.cpuUtilization})`);
        for (const field of ["scaleUpStabilizationSeconds", "scaleDownStabilizationSeconds"] as const) {
            const v = autoscaling[field];
            if (v !== undefined) c.check(isIntInRange(v, 0, 3600), `autoscaling.${field}`, `must be whole seconds from 0 to 3600 (got ${v})`);
        }
        if (autoscaling.pollingIntervalSeconds !== undefined)
            c.check(isIntInRange(autoscaling.pollingIntervalSeconds, 1, 600), "autoscaling.pollingIntervalSeconds", `must be whole seconds from 1 to 600 (got ${autoscaling.pollingIntervalSeconds})`);
    }
    if (args.modelLoadSeconds !== undefined) c.check(isIntInRange(args.modelLoadSeconds, 10, 7200), "modelLoadSeconds", `must be whole seconds from 10 to 7200 (got ${args.modelLoadSeconds})`);
    if (args.drainSeconds !== undefined) c.check(isIntInRange(args.drainSeconds, 0, 3600), "drainSeconds", `must be whole seconds from 0 to 3600 (got ${args.drainSeconds})`);
    if (args.preStopSleepSeconds !== undefined) c.check(isIntInRange(args.preStopSleepSeconds, 0, 120), "preStopSleepSeconds", `must be whole seconds from 0 to 120 (got ${args.preStopSleepSeconds})`);
    checkCidrs(c, "egressCidrs", args.egressCidrs ?? []);
    if (args.egressCidrs?.length) c.check(args.networkPolicy ?? d.networkPolicy, "egressCidrs", "has no effect with networkPolicy: false: remove it or enable the policy");
    // Without the server's own policy re-allowing DNS, a namespace-wide deny would cut the server off.
    if (args.denyEgressByDefault) c.check(args.networkPolicy ?? d.networkPolicy, "denyEgressByDefault", "needs the server's NetworkPolicy (it re-allows DNS and egressCidrs): remove networkPolicy: false or denyEgressByDefault");
    if (args.ingressFrom !== undefined) {
        c.check(args.networkPolicy ?? d.networkPolicy, "ingressFrom", "has no effect with networkPolicy: false: remove it or enable the policy");
        checkIngressFrom(c, args.ingressFrom);
    }
    for (const [field, v] of Object.entries(args.runAs ?? {})) c.check(isIntInRange(v, 1, 2147483647), `runAs.${field}`, `must be a non-zero id (got ${v}): the restricted profile forbids root`);
    if (typeof args.secret === "string") c.check(isDns1123Subdomain(args.secret), "secret", `"${args.secret}" is not a valid Secret name: use a DNS-1123 subdomain (lowercase letters, digits, "-" and ".") of at most 253 characters`);
    if (args.serviceAccount?.name !== undefined)
        c.check(isDns1123Subdomain(args.serviceAccount.name), "serviceAccount.name", `"${args.serviceAccount.name}" is not a valid service account name: use a DNS-1123 subdomain (lowercase letters, digits, "-" and ".") of at most 253 characters`);
    checkScheduling(c, args.scheduling);
    for (const field of ["nodeProvisionSeconds", "imagePullSeconds"] as const) {
        const v = args.rollout?.[field];
        if (v !== undefined) c.check(isIntInRange(v, 0, 7200), `rollout.${field}`, `must be whole seconds from 0 to 7200 (got ${v})`);
    }
    for (const field of ["nodesReady", "addonsReady"] as const) {
        const v = args[field];
        if (v !== undefined) c.check(Array.isArray(v) && v.every((r) => pulumi.Resource.isInstance(r)), field, "must be a list of resources, e.g. [cluster.systemNodeGroup]");
    }
    c.done();
}

/** Names an environment variable may have (what the API server accepts). */
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** What is wrong with a namespace name, or undefined. Pure. */
export function namespaceProblem(ns: string): string | undefined {
    return typeof ns === "string" && isDnsLabel(ns) ? undefined : `"${ns}" is not a valid namespace name: use a DNS-1123 label (lowercase letters, digits, "-", at most 63) such as "inference"`;
}

/** Records the problems of `scheduling`: node selector keys and values, toleration keys, as the API server checks them. */
function checkScheduling(c: ArgChecker, scheduling: Scheduling | undefined): void {
    for (const [key, value] of Object.entries(scheduling?.nodeSelector ?? {})) {
        c.check(isQualifiedName(key), "scheduling.nodeSelector", `has "${key}", which is not a label key ([prefix/]name, the name at most 63 characters) such as "node.kubernetes.io/instance-type"`);
        c.check(isLabelValue(value), `scheduling.nodeSelector.${key}`, `"${value}" is not a label value (at most 63 letters, digits, "-", "_", "." starting and ending with a letter or digit)`);
    }
    for (const [i, t] of (scheduling?.tolerations ?? []).entries()) {
        c.check(isQualifiedName(t.key), `scheduling.tolerations[${i}].key`, `"${t.key}" is not a taint key ([prefix/]name) such as "nvidia.com/gpu"`);
        if (t.value !== undefined) c.check(isLabelValue(t.value), `scheduling.tolerations[${i}].value`, `"${t.value}" is not a taint value (at most 63 letters, digits, "-", "_", ".")`);
    }
}

/** Records the problems of `ingressFrom`. */
function checkIngressFrom(c: ArgChecker, from: IngressFromArgs): void {
    for (const [i, peer] of (from.pods ?? []).entries()) checkPodPeer(c, `ingressFrom.pods[${i}]`, peer);
    checkCidrs(c, "ingressFrom.cidrs", from.cidrs ?? []);
    const p = from.prometheus;
    if (p !== undefined && p !== false) {
        c.check(typeof p.namespace === "string" && isDnsLabel(p.namespace), "ingressFrom.prometheus.namespace", `"${p.namespace}" is not a valid namespace name: give the namespace Prometheus runs in, e.g. ServingAddons.scraper.namespace`);
        if (p.podLabels !== undefined) checkLabels(c, "ingressFrom.prometheus.podLabels", p.podLabels);
    }
    const sameNamespace = from.sameNamespace ?? INFERENCE_SERVICE_DEFAULTS.ingressFrom.sameNamespace;
    c.check(
        sameNamespace || (from.pods ?? []).length > 0 || (from.cidrs ?? []).length > 0,
        "ingressFrom",
        "admits no client (sameNamespace is false and neither pods nor cidrs are given): admit the callers, or set networkPolicy: false",
    );
}

/**
 * Rolling update bounds. With GPUs a surge pod would wait for a GPU that `replicas.max` never bought, so pods are
 * replaced one at a time in place; without, a 25% surge keeps full capacity during the rollout. Pure.
 */
export function rolloutStrategy(gpu: number): { maxSurge: number | string; maxUnavailable: number | string } {
    return gpu > 0 ? { maxSurge: 0, maxUnavailable: 1 } : { maxSurge: "25%", maxUnavailable: 0 };
}

/** Failure threshold giving the startup probe `modelLoadSeconds` to pass. Pure. */
export function startupFailureThreshold(modelLoadSeconds: number, periodSeconds: number): number {
    return Math.ceil(modelLoadSeconds / periodSeconds);
}

/** The readiness budget of the pods' rollout, in seconds. */
export interface RolloutBudget {
    gpu: number;
    nodeProvisionSeconds: number;
    imagePullSeconds: number;
    modelLoadSeconds: number;
    terminationGraceSeconds: number;
    replicasMax: number;
}

/** The rollout budget of a service: `rollout` over the defaults of its path (GPU or CPU). Pure. */
export function rolloutBudget(
    args: Pick<InferenceServiceArgs, "gpu" | "rollout" | "modelLoadSeconds" | "replicas" | "drainSeconds" | "preStopSleepSeconds" | "autoscaling" | "modelStore">,
): RolloutBudget {
    const d = INFERENCE_SERVICE_DEFAULTS;
    const gpu = args.gpu ?? d.gpu;
    const path = gpu > 0 ? d.rollout.gpu : d.rollout.cpu;
    return {
        gpu,
        nodeProvisionSeconds: args.rollout?.nodeProvisionSeconds ?? path.nodeProvisionSeconds,
        imagePullSeconds: args.rollout?.imagePullSeconds ?? path.imagePullSeconds,
        // The weights' download from a model store comes before the load (init container): one budget covers both.
        modelLoadSeconds: startupBudgetSeconds(args.modelLoadSeconds ?? d.modelLoadSeconds, args.modelStore),
        terminationGraceSeconds: terminationGracePeriod(args.preStopSleepSeconds ?? d.preStopSleepSeconds, args.drainSeconds ?? d.drainSeconds, d.terminationMarginSeconds),
        // Without autoscaling `min` pods run; with it, up to `max` may be rolled.
        replicasMax: args.autoscaling ? (args.replicas ?? d.replicas).max : (args.replicas ?? d.replicas).min,
    };
}

/**
 * How long the Kubernetes provider may await the Deployment (and the Service, which awaits its endpoints), in seconds.
 * Create: every pod starts at once, each on a node that may have to be provisioned, then pulls and loads:
 * `node + pull + load + margin`. Update: pods are replaced in waves, one pod at a time with GPUs (no surge, see
 * {@link rolloutStrategy}), 25% surge without; each wave waits for the old pod's grace period (GPU) or a new node
 * (CPU), the pull and the load: `waves * wave + margin`. Never below the provider's own 600 s. Pure.
 */
export function rolloutTimeouts(b: RolloutBudget): { createSeconds: number; updateSeconds: number } {
    const r = INFERENCE_SERVICE_DEFAULTS.rollout;
    const start = b.imagePullSeconds + b.modelLoadSeconds;
    const createSeconds = b.nodeProvisionSeconds + start + r.marginSeconds;
    const max = Math.max(1, b.replicasMax);
    // Kubernetes rounds a percentage surge up: 25% of 3 is 1 pod.
    const waves = b.gpu > 0 ? max : Math.ceil(max / Math.ceil(max * 0.25));
    const wave = (b.gpu > 0 ? b.terminationGraceSeconds : b.nodeProvisionSeconds) + start;
    const updateSeconds = waves * wave + r.marginSeconds;
    return { createSeconds: Math.max(r.floorSeconds, createSeconds), updateSeconds: Math.max(r.floorSeconds, updateSeconds) };
}

/** Pulumi `customTimeouts` for a rollout budget, in whole minutes rounded up. Pure. */
export function rolloutCustomTimeouts(b: RolloutBudget): { create: string; update: string } {
    const t = rolloutTimeouts(b);
    return { create: `${Math.ceil(t.createSeconds / 60)}m`, update: `${Math.ceil(t.updateSeconds / 60)}m` };
}

/** Grace period that outlasts the preStop sleep plus the server's drain. Pure. */
export function terminationGracePeriod(preStopSleepSeconds: number, drainSeconds: number, margin: number): number {
    return preStopSleepSeconds + drainSeconds + margin;
}

/** The Prometheus selector of this Deployment's pods (the Prometheus chart labels pods `namespace`/`pod`). Pure. */
export function podSelector(namespace: string, deploymentName: string): string {
    return `namespace="${namespace}",pod=~"${deploymentName}-[a-z0-9]+-[a-z0-9]+"`;
}

/** PromQL summing in-flight requests over this Deployment's pods. Pure. */
export function inFlightQuery(namespace: string, deploymentName: string): string {
    return `sum(${SERVER.inFlightMetric}{${podSelector(namespace, deploymentName)}})`;
}

/** PromQL of the engine's queue signal (queued + running requests) over this Deployment's pods. Pure. */
export function queueQuery(server: ResolvedServer, namespace: string, deploymentName: string): string {
    const q = server.queueQuery(podSelector(namespace, deploymentName));
    if (q === undefined) throw new Error("a custom server needs server.queueQuery to autoscale");
    return q;
}

/** Seconds the startup probe allows: the model's load, plus its download from the model store (docs/serving-engines.md). Pure. */
export function startupBudgetSeconds(modelLoadSeconds: number, store: ModelStoreArgs | undefined): number {
    return modelLoadSeconds + (store ? downloadSeconds(store) : 0);
}

/** The KEDA ScaledObject spec: in-flight per pod, CPU as a floor, fast up and slow down. Pure (inputs pass through). */
export function scaledObjectSpec(opts: {
    deploymentName: string;
    namespace: pulumi.Input<string>;
    replicas: { min: number; max: number };
    autoscaling: AutoscalingArgs;
    query: pulumi.Input<string>;
    /** Add the CPU utilisation trigger (CPU-bound servers). Default true. */
    cpuTrigger?: boolean;
}): Record<string, unknown> {
    const d = INFERENCE_SERVICE_DEFAULTS;
    const a = opts.autoscaling;
    const threshold = String(a.targetInFlightPerPod ?? d.targetInFlightPerPod);
    const triggers: Record<string, unknown>[] = [
        { type: "prometheus", name: "in-flight", metadata: { serverAddress: a.prometheusUrl, query: opts.query, threshold } },
        ...(opts.cpuTrigger ?? true ? [{ type: "cpu", name: "cpu", metricType: "Utilization", metadata: { value: String(a.cpuUtilization ?? d.cpuUtilization) } }] : []),
    ];
    if (a.wakeQuery !== undefined) {
        triggers.push({ type: "prometheus", name: "wake", metadata: { serverAddress: a.prometheusUrl, query: a.wakeQuery, threshold, activationThreshold: "0" } });
    }
    const scaleDownWindow = a.scaleDownStabilizationSeconds ?? d.scaleDownStabilizationSeconds;
    return {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: opts.deploymentName },
        pollingInterval: a.pollingIntervalSeconds ?? d.pollingIntervalSeconds,
        // Only used for the last step to zero; same patience as any other scale-down.
        cooldownPeriod: scaleDownWindow,
        minReplicaCount: opts.replicas.min,
        maxReplicaCount: opts.replicas.max,
        advanced: {
            horizontalPodAutoscalerConfig: {
                behavior: {
                    scaleUp: {
                        stabilizationWindowSeconds: a.scaleUpStabilizationSeconds ?? d.scaleUpStabilizationSeconds,
                        selectPolicy: "Max",
                        policies: [
                            { type: "Percent", value: 100, periodSeconds: 30 },
                            { type: "Pods", value: 2, periodSeconds: 30 },
                        ],
                    },
                    scaleDown: {
                        stabilizationWindowSeconds: scaleDownWindow,
                        selectPolicy: "Min",
                        policies: [{ type: "Pods", value: 1, periodSeconds: 120 }],
                    },
                },
            },
        },
        triggers,
    };
}

/**
 * The NetworkPolicy's ingress rules: the clients (`ingressFrom` same namespace, pods, CIDRs) to the serving port, and
 * the scraping Prometheus alone to the metrics port (the server serves `/metrics` there only). Pure.
 */
export function ingressRules(port: number | number[], metricsPort: number, ingressFrom: IngressFromArgs = {}): k8s.types.input.networking.v1.NetworkPolicyIngressRule[] {
    const d = INFERENCE_SERVICE_DEFAULTS.ingressFrom;
    const clients = [
        // A podSelector alone selects pods of the policy's own namespace.
        ...((ingressFrom.sameNamespace ?? d.sameNamespace) ? [{ podSelector: {} }] : []),
        ...(ingressFrom.pods ?? []).map(podPeer),
        ...(ingressFrom.cidrs ?? []).map(cidrPeer),
    ];
    const rules = clients.length > 0 ? [ingressRule(clients, Array.isArray(port) ? port : [port])] : [];
    const prometheus = ingressFrom.prometheus ?? d.prometheus;
    if (prometheus !== false) {
        rules.push(ingressRule([podPeer({ namespace: prometheus.namespace, podLabels: prometheus.podLabels ?? { ...PROMETHEUS_POD_LABELS } })], [metricsPort]));
    }
    return rules;
}

/** The NetworkPolicy spec: ingress to the serving port from `ingressFrom` only; egress to cluster DNS and the given CIDRs. Pure. */
export function networkPolicySpec(
    selector: Record<string, string>,
    port: number | number[],
    metricsPort: number,
    egressCidrs: pulumi.Input<string>[],
    ingressFrom: IngressFromArgs = {},
    httpsEgressCidrs: pulumi.Input<string>[] = [],
): k8s.types.input.networking.v1.NetworkPolicySpec {
    return {
        podSelector: { matchLabels: selector },
        policyTypes: ["Ingress", "Egress"],
        ingress: ingressRules(port, metricsPort, ingressFrom),
        egress: [
            {
                to: [{ namespaceSelector: { matchLabels: { [NAMESPACE_NAME_LABEL]: "kube-system" } }, podSelector: { matchLabels: { ...CLUSTER_DNS_LABEL } } }],
                ports: [
                    { protocol: "UDP", port: 53 },
                    { protocol: "TCP", port: 53 },
                ],
            },
            ...egressCidrs.map((cidr) => ({ to: [cidrPeer(cidr)] })),
            // The model store's sync: S3 and STS over HTTPS only.
            ...(httpsEgressCidrs.length > 0 ? [{ to: httpsEgressCidrs.map(cidrPeer), ports: [{ protocol: "TCP", port: 443 }] }] : []),
        ],
    };
}

/** The server container's ports: serving, metrics (when on a listener of its own) and the engine's others. Pure. */
export function containerPorts(server: ResolvedServer): k8s.types.input.core.v1.ContainerPort[] {
    return [
        { name: "http", containerPort: server.port, protocol: "TCP" },
        ...(server.metricsPort !== server.port ? [{ name: "metrics", containerPort: server.metricsPort, protocol: "TCP" }] : []),
        ...server.extraPorts.map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: "TCP" })),
    ];
}

/** The Service's ports, one per container port (metrics for a ServiceMonitor; the NetworkPolicy still admits only Prometheus). Pure. */
export function servicePorts(server: ResolvedServer): k8s.types.input.core.v1.ServicePort[] {
    return containerPorts(server).map((p) => ({ name: p.name as string, port: p.containerPort as number, targetPort: p.name as string, protocol: "TCP" }));
}

/** What every step of an {@link InferenceService} shares: its name, labels, namespace and the objects to wait for. */
interface ServiceContext {
    name: string;
    labels: Record<string, string>;
    selector: Record<string, string>;
    namespace: pulumi.Output<string>;
    /** The namespace created here, or the one given as a resource: every namespaced object waits for it. */
    nsDeps: pulumi.Resource[];
    /** The node groups the pods run on: the workload and the Service awaiting it wait for them. */
    nodeDeps: pulumi.Resource[];
    /** What installs the CRDs of the ScaledObject and ServiceMonitor. */
    crdDeps: pulumi.Resource[];
    /** Readiness timeouts of the Deployment and the Service, from the rollout budget. */
    timeouts: { create: string; update: string };
    port: number;
    metricsPort: number;
    /** The serving engine's profile. */
    server: ResolvedServer;
}

/**
 * Runs a model server on Kubernetes: a hardened Deployment ("restricted" Pod Security Standard), a Service, a
 * PodDisruptionBudget, a NetworkPolicy and, when asked, KEDA autoscaling on in-flight requests and a ServiceMonitor.
 * The Kubernetes provider comes through `opts.provider`. Built in steps, each a method: namespace, service account,
 * Deployment, Service, disruption budget, network policy, autoscaling, monitoring.
 */
export class InferenceService extends pulumi.ComponentResource {
    /** Name of the ClusterIP Service. */
    readonly serviceName: pulumi.Output<string>;
    readonly namespace: pulumi.Output<string>;
    /** In-cluster URL: `http://<service>.<namespace>.svc.cluster.local:<port>`. */
    readonly endpoint: pulumi.Output<string>;
    readonly deploymentName: pulumi.Output<string>;
    /** Name of the pod's service account. */
    readonly serviceAccountName: pulumi.Output<string>;

    // ---- the children, for extending rather than forking
    /** The Deployment running the server. */
    readonly deployment: k8s.apps.v1.Deployment;
    /** The ClusterIP Service. */
    readonly service: k8s.core.v1.Service;
    /** The PodDisruptionBudget. */
    readonly podDisruptionBudget: k8s.policy.v1.PodDisruptionBudget;
    /** The NetworkPolicy, unless `networkPolicy: false`. */
    readonly networkPolicy: k8s.networking.v1.NetworkPolicy | undefined;
    /** The namespace's default-deny egress NetworkPolicy, with `denyEgressByDefault`. */
    readonly defaultDenyEgress: k8s.networking.v1.NetworkPolicy | undefined;
    /** The KEDA ScaledObject, when `autoscaling` is set. */
    readonly scaledObject: k8s.apiextensions.CustomResource | undefined;
    /** The ServiceMonitor, when `serviceMonitor` is on. */
    readonly serviceMonitor: k8s.apiextensions.CustomResource | undefined;
    /** The service account created for the pods; undefined when an existing one is named. */
    readonly serviceAccount: k8s.core.v1.ServiceAccount | undefined;
    /** The namespace, when `createNamespace`. */
    readonly namespaceResource: k8s.core.v1.Namespace | undefined;
    /** The role that reads the model store (IRSA), when `modelStore` is set. */
    readonly modelStoreRole: aws.iam.Role | undefined;
    /** The serving engine ("modelship", "triton", "vllm" or "custom"). */
    readonly engine: string;

    constructor(name: string, args: InferenceServiceArgs, opts?: pulumi.ComponentResourceOptions) {
        validateInferenceServiceArgs(name, args);
        super(INFERENCE_SERVICE_TYPE, name, {}, opts);

        const d = INFERENCE_SERVICE_DEFAULTS;
        const labels = appLabels(COMPONENT_LABEL, name);
        const ns = args.createNamespace ?? d.createNamespace ? labelledNamespace(`${name}-ns`, { name: args.namespace as string, level: "restricted", labels }, { parent: this }) : undefined;
        const server = resolveServer(args.server, {
            gpu: args.gpu ?? d.gpu,
            modelName: args.modelName,
            modelPath: args.modelStore ? (args.modelStore.mountPath ?? MODEL_STORE_DEFAULTS.mountPath) : undefined,
            drainSeconds: args.drainSeconds ?? d.drainSeconds,
            port: args.port,
            metricsPort: args.metricsPort,
        });
        const givenNs = k8s.core.v1.Namespace.isInstance(args.namespace) ? args.namespace : undefined;
        const nsResource = ns ?? givenNs;
        const ctx: ServiceContext = {
            name,
            labels,
            selector: selectorLabels(COMPONENT_LABEL, name),
            namespace: nsResource
                ? nsResource.metadata.name
                : checkInput({ component: "InferenceService", name, field: "namespace" }, (args.namespace as pulumi.Input<string> | undefined) ?? d.namespace, namespaceProblem),
            nsDeps: nsResource ? [nsResource] : [],
            nodeDeps: args.nodesReady ?? [],
            crdDeps: args.addonsReady ?? [],
            timeouts: rolloutCustomTimeouts(rolloutBudget(args)),
            port: server.port,
            metricsPort: server.metricsPort,
            server,
        };

        this.engine = server.engine;
        const store = args.modelStore ? this.createModelStoreRole(ctx, args, args.modelStore) : undefined;
        this.modelStoreRole = store?.role;
        const account = this.createServiceAccount(ctx, args, store?.role);
        // The pods sync the weights as soon as they start: the role's policy must exist by then.
        this.deployment = this.createDeployment(ctx, args, account.name, store ? [store.policy] : []);
        this.service = this.createService(ctx);
        this.podDisruptionBudget = this.createDisruptionBudget(ctx);
        this.networkPolicy = args.networkPolicy ?? d.networkPolicy ? this.createNetworkPolicy(ctx, args) : undefined;
        this.defaultDenyEgress = (args.denyEgressByDefault ?? ns !== undefined) && this.networkPolicy ? this.createDefaultDenyEgress(ctx) : undefined;
        this.scaledObject = args.autoscaling ? this.createScaledObject(ctx, args.autoscaling, args.replicas ?? d.replicas, this.deployment) : undefined;
        this.serviceMonitor = args.serviceMonitor ?? d.serviceMonitor ? this.createServiceMonitor(ctx, this.service) : undefined;
        this.serviceAccount = account.resource;
        this.namespaceResource = ns;

        this.serviceName = this.service.metadata.name;
        this.namespace = ctx.namespace;
        this.deploymentName = this.deployment.metadata.name;
        this.serviceAccountName = account.name;
        this.endpoint = pulumi.interpolate`http://${this.service.metadata.name}.${ctx.namespace}.svc.cluster.local:${ctx.port}`;
        this.registerOutputs({
            serviceName: this.serviceName,
            namespace: this.namespace,
            endpoint: this.endpoint,
            deploymentName: this.deploymentName,
            serviceAccountName: this.serviceAccountName,
        });
    }

    /** The model store's reader role: assumable by this service's account only, reading the store's prefix only. */
    private createModelStoreRole(ctx: ServiceContext, args: InferenceServiceArgs, store: ModelStoreArgs): { role: aws.iam.Role; policy: aws.iam.RolePolicy } {
        const loc = parseS3Uri(store.s3Uri)!;
        const role = new aws.iam.Role(
            `${ctx.name}-weights`,
            {
                description: `Lets InferenceService ${ctx.name} read its weights from s3://${loc.bucket}/${loc.prefix}/ (IRSA)`,
                assumeRolePolicy: irsaTrustPolicy({
                    oidcProviderArn: store.cluster.oidcProviderArn,
                    oidcProviderUrl: store.cluster.oidcProviderUrl,
                    namespace: ctx.namespace,
                    serviceAccount: args.serviceAccount?.name ?? ctx.name,
                }),
            },
            { parent: this },
        );
        const policy = new aws.iam.RolePolicy(
            `${ctx.name}-weights`,
            { role: role.name, policy: aws.getPartitionOutput({}, { parent: this }).partition.apply((partition) => JSON.stringify(modelStorePolicy(loc, { partition, kmsKeyArn: store.kmsKeyArn }))) },
            { parent: this },
        );
        return { role, policy };
    }

    /** The pods' service account: a dedicated one with no API token, unless the pod needs AWS (IRSA) or names an existing one. */
    private createServiceAccount(ctx: ServiceContext, args: InferenceServiceArgs, storeRole?: aws.iam.Role): { name: pulumi.Output<string>; resource?: k8s.core.v1.ServiceAccount } {
        const sa = args.serviceAccount;
        if (sa?.name !== undefined && sa.roleArn === undefined && storeRole === undefined) return { name: pulumi.output(sa.name) };
        const roleArn: pulumi.Input<string> | undefined = storeRole?.arn ?? sa?.roleArn;
        const needsToken = roleArn !== undefined;
        const resource = new k8s.core.v1.ServiceAccount(
            `${ctx.name}-sa`,
            {
                metadata: {
                    name: sa?.name ?? ctx.name,
                    namespace: ctx.namespace,
                    labels: ctx.labels,
                    ...(needsToken ? { annotations: { [IRSA_ROLE_ANNOTATION]: roleArn } } : {}),
                },
                automountServiceAccountToken: needsToken,
            },
            { parent: this, dependsOn: ctx.nsDeps },
        );
        return { name: resource.metadata.name, resource };
    }

    /** The hardened Deployment: pinned image, restricted security contexts, probes, graceful drain, GPU scheduling. */
    private createDeployment(ctx: ServiceContext, args: InferenceServiceArgs, serviceAccountName: pulumi.Output<string>, awsDeps: pulumi.Resource[]): k8s.apps.v1.Deployment {
        const d = INFERENCE_SERVICE_DEFAULTS;
        const { name, port, metricsPort, labels, selector, server } = ctx;
        const gpu = args.gpu ?? d.gpu;
        const replicas = args.replicas ?? d.replicas;
        const drainSeconds = args.drainSeconds ?? d.drainSeconds;
        const preStopSleep = args.preStopSleepSeconds ?? d.preStopSleepSeconds;
        const runAs: RunAs = { ...DEFAULT_RUN_AS, ...(args.runAs ?? {}) };
        const needsToken = args.serviceAccount?.roleArn !== undefined || args.modelStore !== undefined;
        const store = args.modelStore;
        const storeLoc = store ? parseS3Uri(store.s3Uri)! : undefined;
        const storePath = store?.mountPath ?? MODEL_STORE_DEFAULTS.mountPath;
        const image = pinnedImage(name, args.image, args.allowMutableTag ?? d.allowMutableTag);

        const env: k8s.types.input.core.v1.EnvVar[] = [
            ...(server.readsModelshipEnv
                ? [
                      { name: "PORT", value: String(port) },
                      { name: "METRICS_PORT", value: String(metricsPort) },
                      { name: "DEVICE", value: gpu > 0 ? "cuda" : "cpu" },
                      { name: "DRAIN_TIMEOUT_MS", value: String(drainSeconds * 1000) },
                      ...(args.modelName !== undefined ? [{ name: "MODEL_NAME", value: args.modelName }] : []),
                  ]
                : server.env),
            ...Object.keys(args.env ?? {})
                .sort()
                .map((key) => ({ name: key, value: args.env![key] })),
        ];

        const secretDeps: pulumi.Resource[] = [];
        let envFrom: k8s.types.input.core.v1.EnvFromSource[] | undefined;
        if (typeof args.secret === "string") {
            envFrom = [{ secretRef: { name: args.secret } }];
        } else if (args.secret !== undefined) {
            envFrom = [{ secretRef: { name: args.secret.secretName } }];
            if (pulumi.Resource.isInstance(args.secret)) secretDeps.push(args.secret);
        }

        const r = args.resources ?? {};
        const limits: Record<string, string> = { memory: r.memoryLimit ?? r.memory ?? d.memory };
        if (r.cpuLimit !== undefined) limits.cpu = r.cpuLimit;
        if (gpu > 0) limits[GPU_RESOURCE] = String(gpu);

        const cacheSize = store ? cacheSizeLimit(store) : undefined;
        const volumes: k8s.types.input.core.v1.Volume[] = [
            { name: "tmp", emptyDir: { sizeLimit: args.scratchSize ?? d.scratchSize } },
            ...server.scratch.map((v) => ({ name: v.name, emptyDir: { sizeLimit: args.scratchSize ?? d.scratchSize } })),
            // Memory-backed /dev/shm (counted against the memory limit): the container runtime's default is 64 MiB.
            ...(server.sharedMemory ? [{ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: server.sharedMemory } }] : []),
            // The node-local weights cache, bounded; the pod requests that much ephemeral storage to land on a node with room.
            ...(store ? [{ name: "weights", emptyDir: { sizeLimit: cacheSize } }] : []),
        ];
        const volumeMounts: k8s.types.input.core.v1.VolumeMount[] = [
            { name: "tmp", mountPath: "/tmp" },
            ...server.scratch.map((v) => ({ name: v.name, mountPath: v.mountPath })),
            ...(server.sharedMemory ? [{ name: "dshm", mountPath: "/dev/shm" }] : []),
            ...(store ? [{ name: "weights", mountPath: storePath, readOnly: true }] : []),
        ];
        const initContainers: k8s.types.input.core.v1.Container[] | undefined =
            store && storeLoc
                ? [
                      {
                          name: "fetch-weights",
                          image: pinnedImage(name, store.syncImage, false),
                          command: syncCommand(storeLoc, storePath),
                          env: [
                              // The AWS CLI writes its config and credential caches under HOME: the root filesystem is read-only.
                              { name: "HOME", value: "/tmp" },
                              { name: "AWS_RETRY_MODE", value: "adaptive" },
                              ...(store.region !== undefined ? [{ name: "AWS_REGION", value: store.region }] : []),
                          ],
                          resources: { requests: { cpu: "1", memory: "512Mi" }, limits: { memory: "1Gi" } },
                          securityContext: restrictedContainerSecurityContext(runAs),
                          volumeMounts: [
                              { name: "tmp", mountPath: "/tmp" },
                              { name: "weights", mountPath: storePath },
                          ],
                      },
                  ]
                : undefined;
        const requests: Record<string, string> = { cpu: r.cpu ?? d.cpu, memory: r.memory ?? d.memory };
        if (cacheSize !== undefined) requests["ephemeral-storage"] = cacheSize;

        const probe = (path: string, periodSeconds: number, failureThreshold: number, timeoutSeconds: number) => ({
            httpGet: { path, port: "http" },
            periodSeconds,
            failureThreshold,
            timeoutSeconds,
        });

        return new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name, namespace: ctx.namespace, labels },
                spec: {
                    // KEDA's HPA owns the count when autoscaling; setting it here would fight it on every update.
                    ...(!args.autoscaling ? { replicas: replicas.min } : {}),
                    revisionHistoryLimit: 5,
                    selector: { matchLabels: selector },
                    strategy: { type: "RollingUpdate", rollingUpdate: rolloutStrategy(gpu) },
                    template: {
                        metadata: {
                            labels,
                            annotations: {
                                "prometheus.io/scrape": "true",
                                "prometheus.io/port": String(metricsPort),
                                "prometheus.io/path": server.metricsPath,
                                // The /tmp emptyDir is scratch: without this, cluster-autoscaler never removes the node.
                                [SAFE_TO_EVICT_ANNOTATION]: "true",
                                // GPU pods: Karpenter never consolidates the node away while the model is still loading
                                // (duration form: the protection ends this long after the pod started).
                                ...(gpu > 0 ? { [DO_NOT_DISRUPT_ANNOTATION]: doNotDisruptValue(startupBudgetSeconds(args.modelLoadSeconds ?? d.modelLoadSeconds, store)) } : {}),
                            },
                        },
                        spec: {
                            serviceAccountName,
                            automountServiceAccountToken: needsToken,
                            securityContext: restrictedPodSecurityContext(runAs),
                            terminationGracePeriodSeconds: terminationGracePeriod(preStopSleep, drainSeconds, d.terminationMarginSeconds),
                            nodeSelector: args.scheduling?.nodeSelector,
                            tolerations: podTolerations(args.scheduling, gpu),
                            // Soft spread: on scarce GPUs a hard constraint would leave pods Pending rather than co-located.
                            topologySpreadConstraints: [ZONE_TOPOLOGY_KEY, HOST_TOPOLOGY_KEY].map((topologyKey) => ({
                                maxSkew: 1,
                                topologyKey,
                                whenUnsatisfiable: "ScheduleAnyway",
                                labelSelector: { matchLabels: selector },
                            })),
                            initContainers,
                            containers: [
                                {
                                    name: "server",
                                    image,
                                    ...(server.command ? { command: server.command } : {}),
                                    ...(server.args.length > 0 ? { args: server.args } : {}),
                                    ports: containerPorts(server),
                                    env,
                                    envFrom,
                                    resources: { requests, limits },
                                    securityContext: restrictedContainerSecurityContext(runAs),
                                    volumeMounts,
                                    startupProbe: probe(
                                        server.readyPath,
                                        d.startupPeriodSeconds,
                                        startupFailureThreshold(startupBudgetSeconds(args.modelLoadSeconds ?? d.modelLoadSeconds, store), d.startupPeriodSeconds),
                                        3,
                                    ),
                                    readinessProbe: probe(server.readyPath, 5, 2, 3),
                                    livenessProbe: probe(server.livePath, 10, 3, 5),
                                    ...(preStopSleep > 0 ? { lifecycle: { preStop: { exec: { command: ["sleep", String(preStopSleep)] } } } } : {}),
                                },
                            ],
                            volumes,
                        },
                    },
                },
            },
            // The first rollout may scale a GPU group from zero, pull a multi-GB image and load the model: see rolloutTimeouts.
            { parent: this, dependsOn: [...ctx.nsDeps, ...ctx.nodeDeps, ...secretDeps, ...awsDeps], customTimeouts: ctx.timeouts },
        );
    }

    /** The ClusterIP Service: the serving port, and the metrics port for a ServiceMonitor. */
    private createService(ctx: ServiceContext): k8s.core.v1.Service {
        return new k8s.core.v1.Service(
            `${ctx.name}-service`,
            {
                metadata: { name: ctx.name, namespace: ctx.namespace, labels: ctx.labels },
                spec: {
                    type: "ClusterIP",
                    selector: ctx.selector,
                    ports: servicePorts(ctx.server),
                },
            },
            // The provider awaits ready endpoints, i.e. the pods: same wait, same budget as the Deployment.
            { parent: this, dependsOn: [...ctx.nsDeps, ...ctx.nodeDeps], customTimeouts: ctx.timeouts },
        );
    }

    /** The PodDisruptionBudget: one pod at a time may be evicted, and a crash-looping pod never holds a drain hostage. */
    private createDisruptionBudget(ctx: ServiceContext): k8s.policy.v1.PodDisruptionBudget {
        return new k8s.policy.v1.PodDisruptionBudget(
            `${ctx.name}-pdb`,
            {
                metadata: { name: ctx.name, namespace: ctx.namespace, labels: ctx.labels },
                spec: {
                    // Keeps n-1 serving, yet never blocks a drain at 0 or 1 replicas.
                    maxUnavailable: 1,
                    selector: { matchLabels: ctx.selector },
                    unhealthyPodEvictionPolicy: "AlwaysAllow",
                },
            },
            { parent: this, dependsOn: ctx.nsDeps },
        );
    }

    /** The NetworkPolicy: ingress from `ingressFrom` only, egress to DNS and `egressCidrs` only; CIDR Outputs checked when they resolve. */
    private createNetworkPolicy(ctx: ServiceContext, args: InferenceServiceArgs): k8s.networking.v1.NetworkPolicy {
        const at = (field: string) => ({ component: "InferenceService", name: ctx.name, field });
        const egressCidrs = checkInputs(at("egressCidrs"), args.egressCidrs ?? [], cidrProblem);
        const ingressFrom: IngressFromArgs | undefined = args.ingressFrom && {
            ...args.ingressFrom,
            ...(args.ingressFrom.cidrs ? { cidrs: checkInputs(at("ingressFrom.cidrs"), args.ingressFrom.cidrs, cidrProblem) } : {}),
        };
        return new k8s.networking.v1.NetworkPolicy(
            `${ctx.name}-netpol`,
            {
                metadata: { name: ctx.name, namespace: ctx.namespace, labels: ctx.labels },
                spec: networkPolicySpec(
                    ctx.selector,
                    [ctx.port, ...ctx.server.extraPorts.map((p) => p.containerPort)],
                    ctx.metricsPort,
                    egressCidrs,
                    ingressFrom,
                    args.modelStore ? (args.modelStore.egressCidrs ?? [...MODEL_STORE_DEFAULTS.egressCidrs]) : [],
                ),
            },
            { parent: this, dependsOn: ctx.nsDeps },
        );
    }

    /** The namespace-wide default-deny egress NetworkPolicy (podSelector {}); the server's own policy re-allows DNS and `egressCidrs`. */
    private createDefaultDenyEgress(ctx: ServiceContext): k8s.networking.v1.NetworkPolicy {
        return new k8s.networking.v1.NetworkPolicy(
            `${ctx.name}-default-deny-egress`,
            { metadata: { name: "default-deny-egress", namespace: ctx.namespace, labels: ctx.labels }, spec: { podSelector: {}, policyTypes: ["Egress"] } },
            { parent: this, dependsOn: ctx.nsDeps },
        );
    }

    /** The KEDA ScaledObject scaling the Deployment on in-flight requests. */
    private createScaledObject(ctx: ServiceContext, autoscaling: AutoscalingArgs, replicas: { min: number; max: number }, deployment: k8s.apps.v1.Deployment): k8s.apiextensions.CustomResource {
        const query = ctx.namespace.apply((ns) => queueQuery(ctx.server, ns, ctx.name));
        return new k8s.apiextensions.CustomResource(
            `${ctx.name}-scaler`,
            {
                apiVersion: "keda.sh/v1alpha1",
                kind: "ScaledObject",
                metadata: { name: ctx.name, namespace: ctx.namespace, labels: ctx.labels },
                spec: scaledObjectSpec({ deploymentName: ctx.name, namespace: ctx.namespace, replicas, autoscaling, query, cpuTrigger: ctx.server.cpuTrigger }),
            },
            { parent: this, dependsOn: [...ctx.nsDeps, ...ctx.crdDeps, deployment] },
        );
    }

    /** The Prometheus Operator ServiceMonitor on the metrics port. */
    private createServiceMonitor(ctx: ServiceContext, service: k8s.core.v1.Service): k8s.apiextensions.CustomResource {
        return new k8s.apiextensions.CustomResource(
            `${ctx.name}-monitor`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "ServiceMonitor",
                metadata: { name: ctx.name, namespace: ctx.namespace, labels: ctx.labels },
                spec: {
                    selector: { matchLabels: ctx.selector },
                    endpoints: [{ port: ctx.metricsPort === ctx.port ? "http" : "metrics", path: ctx.server.metricsPath, interval: "15s" }],
                },
            },
            { parent: this, dependsOn: [...ctx.nsDeps, ...ctx.crdDeps, service] },
        );
    }
}
