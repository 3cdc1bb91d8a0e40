/**
 * Kubernetes workloads: the restricted Pod Security Standard, images pinned by digest, no secret literals in env, GPU
 * pods tolerating the GPU taint, and a default-deny egress NetworkPolicy in every namespace that runs a workload.
 *
 * What is visible: the pod templates of Deployments, DaemonSets, StatefulSets, ReplicaSets, Jobs, CronJobs and Pods
 * registered as typed resources (or `ConfigGroup`/`ConfigFile` children in a real preview). A Helm v3 `Release` is
 * one opaque resource whose manifests the provider renders: its objects are not visible to any CrossGuard policy.
 */
import { GPU_RESOURCE, GPU_TAINT_EFFECT, GPU_TAINT_KEY } from "../../components/internal/gpu-constants";
import { arr, obj, resourceRule, stackRule, str } from "./rule";

type Props = Record<string, unknown>;

/** Workload type tokens and the path to their pod spec. */
export const WORKLOAD_POD_SPEC: Record<string, (props: Props) => Props | undefined> = {
    "kubernetes:core/v1:Pod": (p) => obj(p.spec),
    "kubernetes:apps/v1:Deployment": (p) => obj(obj(obj(p.spec)?.template)?.spec),
    "kubernetes:apps/v1:DaemonSet": (p) => obj(obj(obj(p.spec)?.template)?.spec),
    "kubernetes:apps/v1:StatefulSet": (p) => obj(obj(obj(p.spec)?.template)?.spec),
    "kubernetes:apps/v1:ReplicaSet": (p) => obj(obj(obj(p.spec)?.template)?.spec),
    "kubernetes:batch/v1:Job": (p) => obj(obj(obj(p.spec)?.template)?.spec),
    "kubernetes:batch/v1:CronJob": (p) => obj(obj(obj(obj(obj(p.spec)?.jobTemplate)?.spec)?.template)?.spec),
};
export const WORKLOAD_TYPES = Object.keys(WORKLOAD_POD_SPEC);
export const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

/** Every container of a pod spec (init and ephemeral too), with where it sits, for messages. */
export function containersOf(spec: Props): { where: string; c: Props }[] {
    const out: { where: string; c: Props }[] = [];
    for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
        for (const c of arr(spec[field])) out.push({ where: `${field === "containers" ? "container" : field.replace(/s$/, "")} ${str(c.name) ?? "?"}`, c });
    }
    return out;
}

/** Volume types the restricted Pod Security Standard allows. */
export const RESTRICTED_VOLUME_TYPES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
const SECCOMP_OK = ["RuntimeDefault", "Localhost"];
const SELINUX_TYPES_OK = ["container_t", "container_init_t", "container_kvm_t", "container_engine_t"];

/** The ways a pod spec breaks the restricted Pod Security Standard (baseline included). Pure. */
export function restrictedProblems(spec: Props): string[] {
    const problems: string[] = [];
    for (const f of ["hostNetwork", "hostPID", "hostIPC"]) if (spec[f] === true) problems.push(`${f} is true`);
    for (const v of arr(spec.volumes)) {
        const kind = Object.keys(v).find((k) => k !== "name");
        if (kind && !RESTRICTED_VOLUME_TYPES.includes(kind)) problems.push(`volume ${str(v.name) ?? "?"} is a ${kind} volume (allowed: ${RESTRICTED_VOLUME_TYPES.join(", ")})`);
    }
    const pod = obj(spec.securityContext) ?? {};
    const podSeccomp = str(obj(pod.seccompProfile)?.type);
    if (podSeccomp !== undefined && !SECCOMP_OK.includes(podSeccomp)) problems.push(`pod seccompProfile.type is ${podSeccomp}`);
    if (pod.runAsUser === 0) problems.push("pod runAsUser is 0 (root)");
    const seType = str(obj(pod.seLinuxOptions)?.type);
    if (seType !== undefined && !SELINUX_TYPES_OK.includes(seType)) problems.push(`pod seLinuxOptions.type is ${seType}`);
    for (const { where, c } of containersOf(spec)) {
        const sc = obj(c.securityContext) ?? {};
        if (sc.privileged === true) problems.push(`${where}: privileged is true`);
        if (sc.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation is not false`);
        const nonRoot = sc.runAsNonRoot ?? pod.runAsNonRoot;
        if (nonRoot !== true) problems.push(`${where}: runAsNonRoot is not true (pod or container)`);
        if (sc.runAsUser === 0) problems.push(`${where}: runAsUser is 0 (root)`);
        const seccomp = str(obj(sc.seccompProfile)?.type) ?? podSeccomp;
        if (seccomp === undefined || !SECCOMP_OK.includes(seccomp)) problems.push(`${where}: seccompProfile.type is ${seccomp ?? "unset"} (pod or container)`);
        const caps = obj(sc.capabilities) ?? {};
        if (!arr<string>(caps.drop).includes("ALL")) problems.push(`${where}: capabilities.drop does not include ALL`);
        const added = arr<string>(caps.add).filter((a) => a !== "NET_BIND_SERVICE");
        if (added.length > 0) problems.push(`${where}: capabilities.add has ${added.join(", ")} (only NET_BIND_SERVICE is allowed)`);
        if (str(sc.procMount) !== undefined && sc.procMount !== "Default") problems.push(`${where}: procMount is ${str(sc.procMount)}`);
        const cType = str(obj(sc.seLinuxOptions)?.type);
        if (cType !== undefined && !SELINUX_TYPES_OK.includes(cType)) problems.push(`${where}: seLinuxOptions.type is ${cType}`);
        for (const p of arr(c.ports)) if (typeof p.hostPort === "number" && p.hostPort !== 0) problems.push(`${where}: hostPort ${p.hostPort}`);
    }
    return problems;
}

/** A workload rule: `check` runs on the pod spec of every workload type. */
function workloadRule(meta: Parameters<typeof resourceRule>[0], check: (spec: Props) => string[]) {
    return resourceRule(meta, WORKLOAD_TYPES, (props, args, report) => {
        const spec = WORKLOAD_POD_SPEC[args.type](props);
        if (spec) for (const p of check(spec)) report(p);
    });
}

export const restrictedPodSecurity = workloadRule(
    {
        name: "k8s-restricted-pod-security",
        description: "workloads pass the restricted Pod Security Standard (non-root, no privilege escalation, capabilities dropped, seccomp, no host namespaces or hostPath)",
        remediation:
            'set runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities.drop: ["ALL"], seccompProfile.type: RuntimeDefault on every container (InferenceService does), and use no host namespaces, hostPath volumes or host ports',
        cis: "4.2.1-4.2.9, 4.6.2",
        enforcementLevel: "mandatory",
        severity: "critical",
    },
    restrictedProblems,
);

/** Whether an image reference is pinned by digest. Pure. */
export function isPinnedByDigest(image: string): boolean {
    return /@sha256:[0-9a-f]{64}$/.test(image);
}

export const imagesPinnedByDigest = workloadRule(
    {
        name: "k8s-image-digest",
        description: "workload images are pinned by digest (`@sha256:`), so that what runs is what was scanned and signed",
        remediation: "reference images as repository@sha256:<digest> (InferenceImage's image.ref output is one)",
        enforcementLevel: "mandatory",
        severity: "high",
    },
    (spec) => containersOf(spec).flatMap(({ where, c }) => (isPinnedByDigest(str(c.image) ?? "") ? [] : [`${where}: image ${str(c.image) ?? "(none)"} is not pinned by digest`])),
);

/** Env var names that hold secrets. */
export const SECRET_ENV_NAME = /TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|(^|_)KEY($|_)/i;

export const noSecretLiteralsInEnv = workloadRule(
    {
        name: "k8s-no-secret-literals-in-env",
        description: "no secret is written as a literal env value in a pod spec (anyone who can read the workload reads it)",
        remediation: "take the value from a Secret (env[].valueFrom.secretKeyRef or envFrom.secretRef; SecretWiring syncs one from AWS Secrets Manager), or mount it as a file",
        cis: "4.4.1",
        enforcementLevel: "mandatory",
        severity: "critical",
    },
    (spec) =>
        containersOf(spec).flatMap(({ where, c }) =>
            arr(c.env)
                .filter((e) => SECRET_ENV_NAME.test(str(e.name) ?? "") && typeof e.value === "string" && e.value !== "")
                .map((e) => `${where}: env ${str(e.name)} has a literal value`),
        ),
);

/** Whether a pod requests (or limits) GPUs. Pure. */
export function requestsGpu(spec: Props): boolean {
    return containersOf(spec).some(({ c }) => {
        const r = obj(c.resources) ?? {};
        return [obj(r.limits), obj(r.requests)].some((m) => m !== undefined && m[GPU_RESOURCE] !== undefined && String(m[GPU_RESOURCE]) !== "0");
    });
}

/** Whether the tolerations admit the GPU taint (`nvidia.com/gpu=true:NoSchedule`). Pure. */
export function toleratesGpuTaint(tolerations: Props[]): boolean {
    return tolerations.some((t) => {
        const keyOk = t.key === undefined ? t.operator === "Exists" : t.key === GPU_TAINT_KEY;
        const effectOk = t.effect === undefined || t.effect === "" || t.effect === GPU_TAINT_EFFECT;
        const valueOk = t.operator === "Exists" || t.value === "true";
        return keyOk && effectOk && valueOk;
    });
}

export const gpuTolerations = workloadRule(
    {
        name: "k8s-gpu-toleration",
        description: `pods that request ${GPU_RESOURCE} tolerate the GPU nodes' taint (${GPU_TAINT_KEY}:${GPU_TAINT_EFFECT}), or they never schedule`,
        remediation: `add the toleration { key: "${GPU_TAINT_KEY}", operator: "Exists", effect: "${GPU_TAINT_EFFECT}" } (InferenceService adds it when gpusPerPod > 0)`,
        enforcementLevel: "mandatory",
        severity: "medium",
    },
    (spec) => (requestsGpu(spec) && !toleratesGpuTaint(arr(spec.tolerations)) ? [`the pod requests ${GPU_RESOURCE} but does not tolerate the ${GPU_TAINT_KEY} taint`] : []),
);

/** Whether a NetworkPolicy denies egress by default for its whole namespace. Pure. */
export function isDefaultDenyEgress(spec: Props): boolean {
    const selector = obj(spec.podSelector) ?? {};
    const selectsAll = Object.keys(obj(selector.matchLabels) ?? {}).length === 0 && arr(selector.matchExpressions).length === 0;
    // An egress rule without `to`, or to 0.0.0.0/0, allows everything: not a default deny.
    const allowsAll = arr(spec.egress).some((r) => arr(r.to).length === 0 || arr(r.to).some((t) => ["0.0.0.0/0", "::/0"].includes(str(obj(t.ipBlock)?.cidr) ?? "")));
    return selectsAll && arr<string>(spec.policyTypes).includes("Egress") && !allowsAll;
}

export const defaultDenyEgress = stackRule(
    {
        name: "k8s-default-deny-egress",
        description: "every namespace that runs a workload has a default-deny egress NetworkPolicy (podSelector {} with policyTypes Egress)",
        remediation: 'add a NetworkPolicy in the namespace with podSelector: {} and policyTypes: ["Egress"] (and only the egress the pods need), e.g. InferenceService denyEgressByDefault (on with createNamespace)',
        cis: "4.3.2",
        enforcementLevel: "mandatory",
        severity: "high",
    },
    (args, report) => {
        // Namespaces are per cluster: key by the Kubernetes provider.
        const key = (r: (typeof args.resources)[number]) => `${r.provider?.urn ?? ""}\u0000${str(obj(r.props.metadata)?.namespace) ?? "default"}`;
        const denied = new Set(args.resources.filter((r) => r.type === NETWORK_POLICY && isDefaultDenyEgress(obj(r.props.spec) ?? {})).map(key));
        const reported = new Set<string>();
        for (const w of args.resources.filter((r) => WORKLOAD_TYPES.includes(r.type))) {
            const k = key(w);
            if (denied.has(k) || reported.has(k)) continue;
            reported.add(k);
            report(`namespace ${str(obj(w.props.metadata)?.namespace) ?? "default"} (of ${w.name}) has no default-deny egress NetworkPolicy`, w.urn);
        }
    },
);

export const kubernetesRules = [restrictedPodSecurity, imagesPinnedByDigest, noSecretLiteralsInEnv, gpuTolerations, defaultDenyEgress];
