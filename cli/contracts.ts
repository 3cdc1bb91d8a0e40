/**
 * The contracts the providers and the Kubernetes API server enforce, which Pulumi's mock runtime does not: name
 * lengths once Pulumi's autoname suffix is added, name and label formats, and the ordering a real `pulumi up` relies
 * on (a namespaced object after its Namespace, a custom resource after what installs its CRD, a Helm release after a
 * node group that can run its pods, an image push after the registry configuration it relies on, and no immutable tag
 * pushed twice).
 *
 * `resourceContractProblems` runs at registration (the mock runtime refuses the resource, as the provider would);
 * `graphContractViolations` runs over the whole recorded program (`MockRecorder.checkContracts()`, `modelship plan`).
 */
import { AWS_NAME_LIMITS, awsNameInputs, effectiveAwsNameLength } from "../components/internal/aws-name-limits";
import {
    dns1123LabelProblem,
    HELM_RELEASE_NAME_MAX,
    labelValueProblem,
    objectNameProblem,
    qualifiedNameProblem,
} from "../components/internal/k8s-names";

/** The contracts checked; each violation names one. */
export type ContractName =
    | "aws-name-length"
    | "aws-name-format"
    | "aws-name-collision"
    | "aws-tag"
    | "eks-node-label"
    | "k8s-name"
    | "k8s-label"
    | "helm-release-name"
    | "namespace-order"
    | "crd-order"
    | "helm-node-group"
    | "image-push-order"
    | "replica-pull-order"
    | "immutable-tag-twice";

/** One contract a resource breaks, with what to change. */
export interface ContractViolation {
    contract: ContractName;
    /** URN of the resource that breaks it. */
    urn: string;
    type: string;
    name: string;
    /** What the provider or the API server would say, and the fix. */
    message: string;
}

/** What the checks need of a recorded resource (a subset of `RecordedResource`). */
export interface ContractResource {
    type: string;
    name: string;
    urn: string;
    inputs: Record<string, any>;
    state?: Record<string, any>;
    parentUrn?: string;
    provider?: string;
    custom: boolean;
    dependencies: string[];
}

type Problem = { contract: ContractName; message: string };

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const CRD = "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition";
const ECR_REPOSITORY = "aws:ecr/repository:Repository";
const ECR_REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration";
const IMAGE = "docker-build:index:Image";
const EKS_CLUSTERS = new Set(["eks:index:Cluster", "aws:eks/cluster:Cluster"]);
const NODE_GROUPS = new Set(["eks:index:ManagedNodeGroup", "aws:eks/nodeGroup:NodeGroup", "eks:index:NodeGroup", "eks:index:NodeGroupV2"]);

/** A stand-in for the random part of an autoname (K8S_AUTONAME_SUFFIX_LENGTH characters), so that format rules see a realistic name. */
const K8S_AUTONAME_SAMPLE = "-a1b2c3d4";

/**
 * Which Helm charts install the CRDs of an API group (a program that installs one of them must order the group's
 * custom resources after it).
 */
export const CRD_INSTALLERS: Record<string, readonly string[]> = {
    "keda.sh": ["keda"],
    "eventing.keda.sh": ["keda"],
    "external-secrets.io": ["external-secrets"],
    "generators.external-secrets.io": ["external-secrets"],
    "monitoring.coreos.com": ["kube-prometheus-stack", "prometheus-operator-crds", "prometheus-operator"],
    "karpenter.sh": ["karpenter", "karpenter-crd"],
    "karpenter.k8s.aws": ["karpenter", "karpenter-crd"],
    "cert-manager.io": ["cert-manager"],
    "acme.cert-manager.io": ["cert-manager"],
    "nvidia.com": ["gpu-operator"],
};

/** `kubernetes:keda.sh/v1alpha1:ScaledObject` -> { group: "keda.sh", kind: "ScaledObject" }; undefined for other types. Pure. */
export function kubernetesKind(type: string): { group: string; version: string; kind: string } | undefined {
    const m = /^kubernetes:([^/:]+)\/([^/:]+):([A-Za-z0-9]+)$/.exec(type);
    return m ? { group: m[1], version: m[2], kind: m[3] } : undefined;
}

/** Whether a group is served by the API server itself (no CRD to wait for). Pure. */
export function isBuiltInGroup(group: string): boolean {
    return ["core", "apps", "batch", "policy", "autoscaling", "helm.sh", "yaml", "kustomize"].includes(group) || group.endsWith(".k8s.io") || group.endsWith(".kubernetes.io");
}

const str = (v: unknown): v is string => typeof v === "string";

/** The AWS resources a remote (multi-language) component creates, which the mock never sees registered. Pure. */
export function impliedAwsResources(r: Pick<ContractResource, "type" | "name" | "inputs">): { type: string; name: string; inputs: Record<string, any>; via: string }[] {
    if (r.type === "eks:index:Cluster") {
        const out: { type: string; name: string; inputs: Record<string, any>; via: string }[] = [
            { type: "aws:eks/cluster:Cluster", name: `${r.name}-eksCluster`, inputs: { name: r.inputs.name }, via: "pulumi-eks's EKS cluster" },
        ];
        // pulumi-eks creates the cluster's service role as ServiceRole(`${name}-eksRole`) -> aws.iam.Role(`${name}-eksRole-role`).
        if (r.inputs.serviceRole === undefined) out.push({ type: "aws:iam/role:Role", name: `${r.name}-eksRole-role`, inputs: {}, via: "pulumi-eks's cluster service role" });
        return out;
    }
    if (r.type === "eks:index:ManagedNodeGroup") {
        const { nodeGroupName, nodeGroupNamePrefix } = r.inputs;
        return [{ type: "aws:eks/nodeGroup:NodeGroup", name: r.name, inputs: { nodeGroupName, nodeGroupNamePrefix }, via: "pulumi-eks's EKS node group" }];
    }
    return [];
}

function awsNameProblems(type: string, logicalName: string, inputs: Record<string, any>, via?: string): Problem[] {
    const limit = AWS_NAME_LIMITS[type];
    if (limit === undefined) return [];
    const problems: Problem[] = [];
    const what = via ? `${via} (${type} "${logicalName}")` : type;
    const eff = effectiveAwsNameLength(type, logicalName, inputs);
    const { name: nameInput, prefix } = awsNameInputs(type);
    if (eff && eff.length > limit) {
        const how =
            eff.how === "autoname"
                ? `Pulumi autonames it "${logicalName}-xxxxxxx" (${eff.length} characters)`
                : eff.how === "prefix"
                  ? `its ${prefix} plus the provider's 26-character suffix is ${eff.length} characters`
                  : `its ${nameInput} is ${eff.length} characters`;
        const fix = eff.how === "autoname" ? `shorten the component name by ${eff.length - limit} characters or set ${nameInput} explicitly` : `shorten ${eff.how === "prefix" ? prefix : nameInput}`;
        problems.push({ contract: "aws-name-length", message: `${what}: AWS allows ${limit} characters, ${how}; ${fix}` });
    }
    const actual = str(inputs[nameInput]) ? inputs[nameInput] : inputs[nameInput] === undefined && (!prefix || inputs[prefix] === undefined) ? `${logicalName}-abcdef0` : undefined;
    if (actual !== undefined) {
        const format = AWS_NAME_FORMATS[type];
        if (format && !format.pattern.test(actual)) problems.push({ contract: "aws-name-format", message: `${what}: name "${actual}" ${format.rule}; use a name that does` });
    }
    return problems;
}

const AWS_NAME_FORMATS: Record<string, { pattern: RegExp; rule: string }> = {
    "aws:ecr/repository:Repository": { pattern: /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/, rule: "is not an ECR repository name (lowercase letters, digits, '.', '_', '-' and '/' between components)" },
    "aws:iam/role:Role": { pattern: /^[\w+=,.@-]+$/, rule: "has characters IAM refuses (allowed: letters, digits and +=,.@_-)" },
    "aws:iam/policy:Policy": { pattern: /^[\w+=,.@-]+$/, rule: "has characters IAM refuses (allowed: letters, digits and +=,.@_-)" },
    "aws:eks/nodeGroup:NodeGroup": { pattern: /^[0-9A-Za-z][A-Za-z0-9_-]*$/, rule: "is not an EKS node group name (a letter or digit, then letters, digits, '-' and '_')" },
};

function awsTagProblems(type: string, inputs: Record<string, any>): Problem[] {
    const problems: Problem[] = [];
    const check = (key: string, value: unknown, where: string) => {
        if (key.length > 128) problems.push({ contract: "aws-tag", message: `${type}: ${where} key "${key.slice(0, 40)}…" is ${key.length} characters; AWS allows 128: shorten it` });
        if (str(value) && value.length > 256) problems.push({ contract: "aws-tag", message: `${type}: ${where} "${key}" has a value of ${value.length} characters; AWS allows 256: shorten it` });
    };
    if (inputs.tags && typeof inputs.tags === "object" && !Array.isArray(inputs.tags)) for (const [k, v] of Object.entries(inputs.tags)) check(k, v, "tag");
    if (type === "aws:autoscaling/tag:Tag" && inputs.tag && str(inputs.tag.key)) check(inputs.tag.key, inputs.tag.value, "Auto Scaling tag");
    return problems;
}

function eksNodeLabelProblems(type: string, inputs: Record<string, any>): Problem[] {
    const problems: Problem[] = [];
    for (const [k, v] of Object.entries((inputs.labels ?? {}) as Record<string, unknown>)) {
        // The EKS API takes node label keys and values of 1 to 63 characters; the kubelet then applies Kubernetes' rules.
        if (k.length > 63) problems.push({ contract: "eks-node-label", message: `${type}: node label key "${k}" is ${k.length} characters; EKS allows 63: shorten it` });
        if (str(v) && v.length === 0) problems.push({ contract: "eks-node-label", message: `${type}: node label "${k}" has an empty value, which EKS refuses: give it a value` });
        const kp = qualifiedNameProblem(k);
        if (kp) problems.push({ contract: "eks-node-label", message: `${type}: node label key "${k}" ${kp}: fix the key` });
        const vp = str(v) ? labelValueProblem(v) : undefined;
        if (vp) problems.push({ contract: "eks-node-label", message: `${type}: node label "${k}" value "${v}" ${vp}: fix the value` });
    }
    for (const t of (inputs.taints ?? []) as { key?: unknown; value?: unknown }[]) {
        if (str(t.key) && (t.key.length === 0 || t.key.length > 63)) problems.push({ contract: "eks-node-label", message: `${type}: taint key "${t.key}" must be 1 to 63 characters` });
        if (str(t.value) && t.value.length > 63) problems.push({ contract: "eks-node-label", message: `${type}: taint "${String(t.key)}" value is ${t.value.length} characters; EKS allows 63` });
    }
    return problems;
}

function labelProblems(where: string, labels: unknown): Problem[] {
    if (!labels || typeof labels !== "object") return [];
    const problems: Problem[] = [];
    for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
        const kp = qualifiedNameProblem(k);
        if (kp) problems.push({ contract: "k8s-label", message: `${where} key "${k}" ${kp}: the API server refuses it; fix the key` });
        const vp = str(v) ? labelValueProblem(v) : undefined;
        if (vp) problems.push({ contract: "k8s-label", message: `${where} "${k}" value "${String(v)}" ${vp}: the API server refuses it; fix the value` });
    }
    return problems;
}

function kubernetesProblems(type: string, logicalName: string, inputs: Record<string, any>): Problem[] {
    const problems: Problem[] = [];
    if (type === HELM_RELEASE) {
        const name = str(inputs.name) ? inputs.name : `${logicalName}${K8S_AUTONAME_SAMPLE}`;
        const how = str(inputs.name) ? "its name" : `the autoname "${logicalName}-xxxxxxxx"`;
        if (name.length > HELM_RELEASE_NAME_MAX) problems.push({ contract: "helm-release-name", message: `${type}: Helm refuses release names over ${HELM_RELEASE_NAME_MAX} characters and ${how} is ${name.length}: set a shorter name` });
        else {
            const p = dns1123LabelProblem(name);
            if (p) problems.push({ contract: "helm-release-name", message: `${type}: release name "${name}" ${p}: Helm refuses it; set a valid name` });
        }
        if (str(inputs.namespace)) {
            const p = dns1123LabelProblem(inputs.namespace);
            if (p) problems.push({ contract: "k8s-name", message: `${type}: namespace "${inputs.namespace}" ${p}` });
        }
        return problems;
    }
    const k = kubernetesKind(type);
    if (!k) return problems;
    const metadata = (inputs.metadata ?? {}) as Record<string, any>;
    const explicit = str(metadata.name);
    const name = explicit ? metadata.name : `${logicalName}${K8S_AUTONAME_SAMPLE}`;
    const p = objectNameProblem(k.kind, name);
    if (p) {
        const fix = explicit ? "set a valid metadata.name" : `pulumi-kubernetes autonames it "${logicalName}-xxxxxxxx": shorten the resource name or set metadata.name`;
        problems.push({ contract: "k8s-name", message: `${type}: metadata.name "${name}" ${p}; ${fix}` });
    }
    if (str(metadata.namespace)) {
        const np = dns1123LabelProblem(metadata.namespace);
        if (np) problems.push({ contract: "k8s-name", message: `${type}: metadata.namespace "${metadata.namespace}" ${np}` });
    }
    problems.push(...labelProblems(`${type}: metadata.labels`, metadata.labels));
    const spec = (inputs.spec ?? {}) as Record<string, any>;
    problems.push(...labelProblems(`${type}: spec.template.metadata.labels`, spec.template?.metadata?.labels));
    problems.push(...labelProblems(`${type}: spec.selector.matchLabels`, spec.selector?.matchLabels));
    return problems;
}

/**
 * The contracts one resource breaks on its own: what the provider or the API server would refuse at create time. Pure.
 * Remote components (pulumi-eks) are checked for the AWS resources they create inside.
 */
export function resourceContractProblems(r: Pick<ContractResource, "type" | "name" | "inputs" | "custom">): Problem[] {
    const problems: Problem[] = [];
    problems.push(...awsNameProblems(r.type, r.name, r.inputs));
    for (const implied of impliedAwsResources(r)) problems.push(...awsNameProblems(implied.type, implied.name, implied.inputs, implied.via));
    if (r.type.startsWith("aws:")) problems.push(...awsTagProblems(r.type, r.inputs));
    if (NODE_GROUPS.has(r.type)) problems.push(...eksNodeLabelProblems(r.type, r.inputs));
    if (r.custom && r.type.startsWith("kubernetes:")) problems.push(...kubernetesProblems(r.type, r.name, r.inputs));
    return problems;
}

/** The URN part of a provider reference (`urn::id`). Pure. */
export function providerUrn(ref: string | undefined): string | undefined {
    if (!ref) return undefined;
    const i = ref.lastIndexOf("::");
    return i > 0 ? ref.slice(0, i) : ref;
}

/** A read-only view of a recorded program's dependency graph. */
export class ResourceGraph {
    private readonly byUrn = new Map<string, ContractResource>();
    private readonly children = new Map<string, ContractResource[]>();
    private readonly reachCache = new Map<string, Set<string>>();

    constructor(readonly resources: readonly ContractResource[]) {
        for (const r of resources) {
            this.byUrn.set(r.urn, r);
            if (r.parentUrn) this.children.set(r.parentUrn, [...(this.children.get(r.parentUrn) ?? []), r]);
        }
    }

    get(urn: string | undefined): ContractResource | undefined {
        return urn === undefined ? undefined : this.byUrn.get(urn);
    }

    /** The resource and every descendant. */
    subtree(r: ContractResource): Set<string> {
        const out = new Set<string>();
        const walk = (x: ContractResource) => {
            out.add(x.urn);
            (this.children.get(x.urn) ?? []).forEach(walk);
        };
        walk(r);
        return out;
    }

    /**
     * Every URN that must exist before `r` is created: its dependencies and its provider, transitively; depending on a
     * component means waiting for all of its children.
     */
    waitsFor(r: ContractResource): Set<string> {
        const cached = this.reachCache.get(r.urn);
        if (cached) return cached;
        const seen = new Set<string>();
        const queue: string[] = [...r.dependencies, ...(r.provider ? [providerUrn(r.provider)!] : [])];
        while (queue.length > 0) {
            const urn = queue.pop()!;
            if (seen.has(urn)) continue;
            seen.add(urn);
            const x = this.byUrn.get(urn);
            if (!x) continue;
            queue.push(...x.dependencies);
            if (x.provider) queue.push(providerUrn(x.provider)!);
            if (!x.custom) queue.push(...(this.children.get(x.urn) ?? []).map((c) => c.urn));
        }
        this.reachCache.set(r.urn, seen);
        return seen;
    }

    /** Whether `r` is created only after `on` (or, for a component, all of `on`'s children). */
    waitsOn(r: ContractResource, on: ContractResource): boolean {
        const waits = this.waitsFor(r);
        for (const urn of this.subtree(on)) if (waits.has(urn)) return true;
        return false;
    }
}

const violation = (r: ContractResource, contract: ContractName, message: string): ContractViolation => ({ contract, urn: r.urn, type: r.type, name: r.name, message: `${r.urn}: ${message}` });
const providerKey = (r: ContractResource) => providerUrn(r.provider) ?? "default";
const valueOf = (r: ContractResource) => ({ ...r.inputs, ...(r.state ?? {}) });

function namespaceOrder(g: ResourceGraph): ContractViolation[] {
    // Every resource that creates a namespace, by cluster and name: Namespaces, and Helm releases with createNamespace.
    const creators = new Map<string, ContractResource[]>();
    const add = (key: string, r: ContractResource) => creators.set(key, [...(creators.get(key) ?? []), r]);
    for (const r of g.resources) {
        if (r.type === NAMESPACE && str(valueOf(r).metadata?.name)) add(`${providerKey(r)}\0${valueOf(r).metadata.name}`, r);
        if (r.type === HELM_RELEASE && r.inputs.createNamespace === true && str(r.inputs.namespace)) add(`${providerKey(r)}\0${r.inputs.namespace}`, r);
    }
    const out: ContractViolation[] = [];
    for (const r of g.resources) {
        if (!r.custom || !r.type.startsWith("kubernetes:") || r.type === NAMESPACE) continue;
        const ns = r.type === HELM_RELEASE ? r.inputs.namespace : r.inputs.metadata?.namespace;
        if (!str(ns)) continue;
        const made = (creators.get(`${providerKey(r)}\0${ns}`) ?? []).filter((c) => c !== r);
        if (made.length === 0 || made.length < (creators.get(`${providerKey(r)}\0${ns}`) ?? []).length || made.some((c) => g.waitsOn(r, c))) continue;
        out.push(violation(r, "namespace-order", `is created in namespace "${ns}", which this program creates (${made.map((c) => c.urn).join(", ")}), but does not depend on it: the API server refuses it until the namespace exists. Pass the Namespace (or what creates it) in dependsOn`));
    }
    return out;
}

function crdOrder(g: ResourceGraph): ContractViolation[] {
    const out: ContractViolation[] = [];
    for (const r of g.resources) {
        const k = kubernetesKind(r.type);
        if (!r.custom || !k || isBuiltInGroup(k.group)) continue;
        const charts = CRD_INSTALLERS[k.group] ?? [];
        const installers = g.resources.filter(
            (x) =>
                providerKey(x) === providerKey(r) &&
                ((x.type === HELM_RELEASE && charts.includes(String(x.inputs.chart))) || (x.type === CRD && x.inputs.spec?.group === k.group && x.inputs.spec?.names?.kind === k.kind)),
        );
        if (installers.length === 0 || installers.some((i) => g.waitsOn(r, i))) continue;
        out.push(violation(r, "crd-order", `is a ${k.group} custom resource and this program installs its CRD (${installers.map((i) => i.urn).join(", ")}), but it does not depend on that: the API server has no such kind until the CRD exists. Add the installer to dependsOn`));
    }
    return out;
}

/** Taints a node group puts on its nodes that keep pods off (NoSchedule / NoExecute). Pure. */
function repellingTaints(group: ContractResource): string[] {
    const taints = (group.inputs.taints ?? []) as { key?: string; effect?: string }[];
    return taints.filter((t) => str(t.key) && /^(NO_SCHEDULE|NO_EXECUTE|NoSchedule|NoExecute)$/.test(String(t.effect))).map((t) => t.key!);
}

function helmNodeGroups(g: ResourceGraph): ContractViolation[] {
    const out: ContractViolation[] = [];
    const groups = g.resources.filter((r) => NODE_GROUPS.has(r.type));
    if (groups.length === 0) return out;
    for (const r of g.resources) {
        if (r.type !== HELM_RELEASE) continue;
        const provider = g.get(providerUrn(r.provider));
        if (!provider) continue;
        const reach = g.waitsFor(provider);
        const clusters = g.resources.filter((c) => EKS_CLUSTERS.has(c.type) && reach.has(c.urn));
        if (clusters.length === 0) continue;
        const ofCluster = groups.filter((ng) => clusters.some((c) => g.waitsFor(ng).has(c.urn)));
        if (ofCluster.length === 0) continue;
        // A pod runs on a tainted group only when the release's values tolerate every repelling taint (by key).
        const values = JSON.stringify(r.inputs.values ?? {});
        const runnable = ofCluster.filter((ng) => repellingTaints(ng).every((key) => values.includes(`"${key}"`)));
        if (runnable.some((ng) => g.waitsOn(r, ng))) continue;
        const which = runnable.length > 0 ? runnable.map((ng) => ng.urn).join(" or ") : "a node group whose taints its values tolerate (none of this cluster's does)";
        out.push(violation(r, "helm-node-group", `is a Helm release (Helm waits for its pods) that does not depend on a node group that can run it, so it starts when the control plane exists and can time out while nodes come up. Add ${which} to dependsOn`));
    }
    return out;
}

/** The repository part of an image reference (`host/repo:tag` or `host/repo@sha256:...`). Pure. */
export function repositoryOfRef(ref: string): { repository: string; tag?: string } {
    const at = ref.indexOf("@");
    const noDigest = at >= 0 ? ref.slice(0, at) : ref;
    const m = /^(.*?)(?::([^:/]+))?$/.exec(noDigest)!;
    return { repository: m[1], tag: m[2] };
}

/** Whether ECR refuses a second push of `tag` to a repository with these settings. Pure. */
export function tagIsImmutable(repository: { imageTagMutability?: string; imageTagMutabilityExclusionFilters?: { filter: string }[] }, tag: string): boolean {
    const mode = repository.imageTagMutability ?? "MUTABLE";
    const excluded = (repository.imageTagMutabilityExclusionFilters ?? []).some((f) => new RegExp(`^${f.filter.split("*").map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(tag));
    if (mode === "IMMUTABLE") return true;
    if (mode === "IMMUTABLE_WITH_EXCLUSION") return !excluded;
    if (mode === "MUTABLE_WITH_EXCLUSION") return excluded;
    return false;
}

/** Whether a replication configuration's rules cover repository `name` (no filter covers every repository). Pure. */
function replicates(config: ContractResource, name: string): boolean {
    const rules = (config.inputs.replicationConfiguration?.rules ?? []) as { repositoryFilters?: { filter: string }[] }[];
    return rules.some((rule) => !rule.repositoryFilters || rule.repositoryFilters.length === 0 || rule.repositoryFilters.some((f) => name.startsWith(f.filter)));
}

function imagePushes(g: ResourceGraph): ContractViolation[] {
    const out: ContractViolation[] = [];
    const repos = g.resources.filter((r) => r.type === ECR_REPOSITORY);
    const replications = g.resources.filter((r) => r.type === ECR_REPLICATION);
    const pushed = new Map<string, ContractResource>();
    for (const img of g.resources.filter((r) => r.type === IMAGE && r.inputs.push === true)) {
        for (const ref of (img.inputs.tags ?? []) as unknown[]) {
            if (!str(ref)) continue;
            const { repository, tag } = repositoryOfRef(ref);
            const repo = repos.find((x) => valueOf(x).repositoryUrl === repository);
            if (!repo) continue;
            if (!g.waitsOn(img, repo)) out.push(violation(img, "image-push-order", `pushes ${ref} to ${repo.urn} without depending on it: the push fails until the repository exists. Use the repository's repositoryUrl output in the tag`));
            const repoName = String(valueOf(repo).name ?? "");
            for (const rc of replications.filter((rc) => replicates(rc, repoName))) {
                if (!g.waitsOn(img, rc))
                    out.push(
                        violation(img, "image-push-order", `pushes to ${repoName}, which ${rc.urn} replicates, without depending on it: ECR replicates only pushes made after the configuration exists, so the replicas never get this digest. Add the replication configuration to dependsOn`),
                    );
            }
            if (tag === undefined || !tagIsImmutable(valueOf(repo), tag)) continue;
            const key = `${repository}:${tag}`;
            const first = pushed.get(key);
            if (first && first !== img)
                out.push(violation(img, "immutable-tag-twice", `pushes tag ${key}, which ${first.urn} also pushes, to an IMMUTABLE repository: ECR refuses the second push even for the same digest. Give each push its own tag`));
            else pushed.set(key, img);
        }
    }
    return out;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com/<repo>` parts of an ECR image reference; undefined for other registries. Pure. */
export function ecrRefParts(ref: string): { account: string; region: string; repository: string } | undefined {
    const m = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/(.+)$/.exec(repositoryOfRef(ref).repository);
    return m ? { account: m[1], region: m[2], repository: m[3] } : undefined;
}

function replicaPulls(g: ResourceGraph): ContractViolation[] {
    const out: ContractViolation[] = [];
    const pushes = g.resources.filter((r) => r.type === IMAGE && r.inputs.push === true);
    const replications = g.resources.filter((r) => r.type === ECR_REPLICATION);
    for (const pull of g.resources.filter((r) => r.type === "docker:index/remoteImage:RemoteImage" || r.type === "docker:index/container:Container")) {
        const ref = pull.type === "docker:index/container:Container" ? pull.inputs.image : pull.inputs.name;
        const where = str(ref) ? ecrRefParts(ref) : undefined;
        if (!where) continue;
        // A push of the same repository to another region, replicated to this one by a configuration of this program.
        const pushed = pushes.filter((img) =>
            ((img.inputs.tags ?? []) as unknown[]).some((t) => {
                const p = str(t) ? ecrRefParts(t) : undefined;
                return p !== undefined && p.repository === where.repository && p.region !== where.region;
            }),
        );
        if (pushed.length === 0) continue;
        const covering = replications.filter(
            (rc) =>
                replicates(rc, where.repository) &&
                ((rc.inputs.replicationConfiguration?.rules ?? []) as { destinations?: { region?: string }[] }[]).some((rule) => (rule.destinations ?? []).some((d) => d.region === where.region)),
        );
        const missing = [...pushed, ...covering].filter((x) => !g.waitsOn(pull, x));
        if (missing.length === 0) continue;
        out.push(
            violation(pull, "replica-pull-order", `pulls ${where.repository} from the ${where.region} replica but does not wait for ${missing.map((x) => x.urn).join(" and ")}: ECR replicates asynchronously and only pushes made after the configuration exists. Order the pull after the push and the replication configuration, and wait for the digest in ${where.region}`),
        );
    }
    return out;
}

/** Each violation once (an image pushing two tags to one repository breaks an ordering rule once). Pure. */
function dedupe(violations: ContractViolation[]): ContractViolation[] {
    const seen = new Set<string>();
    return violations.filter((v) => {
        const key = `${v.contract}\0${v.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

/** The ordering and uniqueness contracts of a whole recorded program. Pure. */
export function graphContractViolations(resources: readonly ContractResource[]): ContractViolation[] {
    const g = new ResourceGraph(resources);
    return dedupe([...namespaceOrder(g), ...crdOrder(g), ...helmNodeGroups(g), ...imagePushes(g), ...replicaPulls(g)]);
}

/** Every contract a recorded program breaks: each resource's own, then the graph's. Pure. */
export function checkContracts(resources: readonly ContractResource[]): ContractViolation[] {
    const own = resources.flatMap((r) => resourceContractProblems(r).map((p) => violation(r, p.contract, p.message)));
    return dedupe([...own, ...graphContractViolations(resources)]);
}

/** IAM names are global to the account; every other listed type is regional. */
const ACCOUNT_GLOBAL = new Set(["aws:iam/role:Role", "aws:iam/policy:Policy", "aws:iam/instanceProfile:InstanceProfile"]);

/** The AWS names a program claims explicitly, as `type region name` keys (IAM without a region). Pure. */
export function claimedAwsNames(resources: readonly ContractResource[], region: string): Map<string, ContractResource> {
    const out = new Map<string, ContractResource>();
    for (const r of resources) {
        // A remote component's AWS resources (the EKS cluster's name) count as the component's.
        for (const x of [r, ...impliedAwsResources(r)]) {
            if (AWS_NAME_LIMITS[x.type] === undefined || x.type === "aws:iam/rolePolicy:RolePolicy") continue;
            const name = x.inputs[awsNameInputs(x.type).name];
            if (!str(name)) continue;
            const where = ACCOUNT_GLOBAL.has(x.type) ? "(account)" : str(r.inputs.region) ? r.inputs.region : region;
            out.set(`${x.type} ${where} ${name}`, r);
        }
    }
    return out;
}

/**
 * Names two programs deployed to one account would both claim (the second `pulumi up` fails with "already exists"),
 * one violation per clash, on the later program's resource. Pure.
 */
export function nameCollisions(programs: readonly { stack: string; region: string; resources: readonly ContractResource[] }[]): ContractViolation[] {
    const seen = new Map<string, { stack: string; r: ContractResource }>();
    const out: ContractViolation[] = [];
    for (const p of programs) {
        for (const [key, r] of claimedAwsNames(p.resources, p.region)) {
            const first = seen.get(key);
            if (first && first.stack !== p.stack) out.push(violation(r, "aws-name-collision", `claims ${key.split(" ").slice(1).join(" ")}, which stack ${first.stack} also claims (${first.r.urn}): the second stack deployed to this account fails. Derive the name from the stack`));
            else if (!first) seen.set(key, { stack: p.stack, r });
        }
    }
    return out;
}

/** The violations, one per line, for a plan or an error message. Pure. */
export function formatViolations(violations: readonly ContractViolation[]): string {
    return violations.map((v) => `  - [${v.contract}] ${v.message}`).join("\n");
}

/** Thrown by the mock runtime when a resource breaks a contract the provider or the API server enforces. */
export class ContractError extends Error {
    constructor(readonly violations: readonly ContractViolation[]) {
        super(`${violations.length} contract violation${violations.length === 1 ? "" : "s"} a real pulumi up would hit:\n${formatViolations(violations)}`);
        this.name = "ContractError";
    }
}
