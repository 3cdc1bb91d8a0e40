import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ClusterAutoscalerCapacity, nodeTemplateTagProblems, type CapacityContext, type GpuCapacityStrategy, type GpuNodeGroupShape } from "./internal/capacity";
import {
    CLUSTER_ADMIN_POLICY_ARN,
    IMDSV2_METADATA_OPTIONS,
    NODE_ROLE_POLICY_ARNS,
    VPC_CNI_NAMESPACE,
    VPC_CNI_POLICY_ARN,
    VPC_CNI_SERVICE_ACCOUNT,
    nodeBlockDevices,
    nodeImagePullPolicy,
    systemAmiType,
} from "./internal/eks-nodes";
import {
    CLOUDWATCH_RETENTION_DAYS,
    CONTROL_PLANE_LOG_TYPES,
    EKS_CLUSTER_NAME,
    EKS_CLUSTER_NAME_MAX,
    controlPlaneLogGroupName,
    defaultClusterName,
} from "./internal/eks-control-plane";
import { GPU_CLUSTER_CHARTS, devicePluginValues, metricsServerValues } from "./internal/gpu-addons";
import {
    GPU_ACCELERATOR_LABEL,
    GPU_ACCELERATOR_VALUE,
    GPU_MODEL_LABEL,
    GPU_TAINT_EFFECT,
    GPU_TAINT_EFFECT_EKS,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    NODE_GROUP_LABEL,
    NODE_OS_LABEL,
    NODE_ROLE_GPU,
    NODE_ROLE_LABEL,
    NODE_ROLE_SYSTEM,
    NVIDIA_GPU_PRESENT_LABEL,
    AWS_GPU_LABEL,
    RESERVED_LABEL_PREFIXES,
    gpuScheduling,
    type GpuScheduling,
} from "./internal/gpu-constants";
import {
    GPU_AMI_TYPES,
    type CpuArchitecture,
    type GpuAmiType,
    cpuArchitecture,
    defaultGpuAmiType,
    gpuInstanceInfo,
    isGpuAmiType,
} from "./internal/gpu-instances";
import { irsaTrustPolicy, policyDocument, policyJson } from "./internal/iam";
import { autoScalingVolumeKeyPolicy, cloudWatchLogsKeyPolicy, keyArnOrCreate } from "./internal/kms";
import { AUTONAME_SUFFIX_LENGTH, autonameOverflow, type AutonamedChild } from "./internal/aws-name-limits";
import { componentTags } from "./internal/tags";
import { ArgChecker, InvalidArgumentError, isCidr, isDnsLabel, isIntInRange, labelKeyProblem, nodeLabelValueProblem } from "./internal/validation";
import { MAX_ALLOWED_ADDRESSES, coveredAddresses, parseCanonicalCidr, type Ipv4Cidr } from "./internal/cidr";
import { pinnedRelease } from "./internal/helm";
import { installKarpenter, KARPENTER_AMI_ALIAS, KARPENTER_DEFAULTS, karpenterAutonamedChildren, type KarpenterPoolShape, type KarpenterResources } from "./internal/karpenter";
import { checkInputs, checkPlain, isPlain } from "./internal/inputs";

export type { GpuScheduling } from "./internal/gpu-constants";
export type { GpuAmiType } from "./internal/gpu-instances";

export const GPU_CLUSTER_TYPE = "modelship:index:GpuCluster";

/** One group of GPU nodes: one instance shape, scaled between `minSize` and `maxSize`. */
export interface GpuNodeGroupArgs {
    /** Group name (lowercase letters, digits, `-`; at most 20 characters), unique in the cluster. Required. */
    name: string;
    /** NVIDIA GPU instance types, all with the same GPU model, count and CPU architecture (e.g. `["g6.xlarge"]`). Required. */
    instanceTypes: string[];
    /** Minimum nodes; 0 lets the group scale to zero when no GPU pod is pending. Default 0. */
    minSize?: number;
    /** Maximum nodes. Required. */
    maxSize: number;
    /** Nodes at creation; the autoscaler owns the size afterwards. Default `minSize`. */
    desiredSize?: number;
    /**
     * `ON_DEMAND`, or `SPOT` with on-demand fallback: with cluster-autoscaler a spot group preferred through the
     * priority expander and an on-demand twin (`<name>-od`) behind it; with Karpenter a NodePool allowing both
     * capacity types (spot first). A SPOT group needs at least two instance types. Default `ON_DEMAND`.
     */
    capacityType?: "ON_DEMAND" | "SPOT";
    /** EKS AMI type with NVIDIA drivers, matching the instances' CPU. Default `AL2023_x86_64_NVIDIA` (`AL2023_ARM_64_NVIDIA` on Graviton). */
    amiType?: GpuAmiType | (string & {});
    /** Size of the encrypted gp3 volume holding images and containers, in GiB. Default 100. */
    diskSizeGb?: number;
    /** Extra Kubernetes labels on the nodes (not under `modelship.dev/`, `nvidia.com/`, `kubernetes.io/`...). Default none. */
    labels?: Record<string, string>;
    /** GPUs per node; needed only for an instance size modelship's table does not list. Default: from the table. */
    gpusPerNode?: number;
}

/** The small on-demand CPU node group that runs cluster add-ons (CoreDNS, autoscaler, metrics-server). */
export interface SystemNodeGroupArgs {
    /** Non-GPU instance types. Default `["m6i.large"]`. */
    instanceTypes?: string[];
    /** Minimum nodes. Default 2 (add-ons survive the loss of one). */
    minSize?: number;
    /** Maximum nodes. Default 3. */
    maxSize?: number;
    /** Nodes at creation. Default `minSize`. */
    desiredSize?: number;
    /** Root volume size in GiB (encrypted gp3). Default 50. */
    diskSizeGb?: number;
}

/** Arguments of {@link GpuCluster}. Only `gpuNodeGroups` is required. */
export interface GpuClusterArgs {
    /** Kubernetes minor version of the control plane, pinned (e.g. `"1.33"`). Default "1.33". */
    version?: string;
    /** GPU node groups; at least one. Required. */
    gpuNodeGroups: GpuNodeGroupArgs[];
    /** The CPU node group for add-ons. Default: see {@link SystemNodeGroupArgs}. */
    systemNodeGroup?: SystemNodeGroupArgs;
    /** Existing VPC. Give `privateSubnetIds` with it. Default: a VPC created for the cluster. */
    vpcId?: pulumi.Input<string>;
    /** Private subnets (in at least two zones) for nodes and the control plane's network interfaces. Required with `vpcId`. */
    privateSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** Public subnets for internet-facing load balancers. Default none (with `vpcId`); the created VPC's otherwise. */
    publicSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** CIDR of the VPC created when `vpcId` is not given. Default "10.0.0.0/16". */
    vpcCidrBlock?: string;
    /** Availability zones of the created VPC (2-6). Default 3: more zones, better odds of finding GPU capacity. */
    availabilityZones?: number;
    /** NAT gateways of the created VPC: `OnePerAz` (survives a zone outage) or `Single` (cheaper). Default `OnePerAz`. */
    natGateways?: "OnePerAz" | "Single";
    /**
     * Who reaches the Kubernetes API endpoint, which `pulumi up` itself uses to install the add-ons. `"public"`: the
     * public endpoint, open to `publicAccessCidrs` only (nodes still use the private one). `"private"`: no public
     * endpoint; needs `privateEndpointReachable: true`. Default `"public"` when `publicAccessCidrs` is given; otherwise
     * required.
     */
    endpointAccess?: "public" | "private";
    /**
     * With `endpointAccess: "private"`: you confirm the machine running `pulumi up` reaches the VPC (a self-hosted runner
     * in it, a VPN, a bastion or SSM tunnel); a GitHub-hosted runner or a laptop outside it cannot. Default false.
     */
    privateEndpointReachable?: boolean;
    /**
     * CIDR blocks allowed to reach the public API endpoint: the egress of the machines running `pulumi up` and
     * `kubectl` (office, VPN, CI runners). Each CIDR must be canonical (`203.0.113.0/24`: no host bits, no leading
     * zeros) and together they may cover at most a /8 worth of addresses (16,777,216). Elements may be Outputs (checked
     * when they resolve); the list itself is plain, as its emptiness decides the endpoint. Default [] (see `endpointAccess`).
     */
    publicAccessCidrs?: pulumi.Input<string>[];
    /**
     * IAM role or user ARNs granted cluster admin through access entries (e.g. `role.arn`), besides the principal running
     * the first `pulumi up`, which EKS makes admin itself. Listing that principal fails the preview (its second entry
     * would fail with 409). Default none (only the creator).
     */
    admins?: pulumi.Input<string>[];
    /** KMS key ARN for envelope encryption of Kubernetes secrets. Default: a key created for the cluster, rotation on. */
    kmsKeyArn?: pulumi.Input<string>;
    /**
     * The EKS cluster's physical name (1-100 letters, digits, `-`, `_`). Default `<name>-<stack>-<6 hex>` (hash of
     * project and stack). Fixed before creation: the control-plane log group is named after it.
     */
    clusterName?: string;
    /** Days CloudWatch keeps the control-plane logs: one of CloudWatch's values (1, 3, 5, 7, 14, 30, 60, 90, ... 3653; 0 = forever). Default 90. */
    logRetentionDays?: number;
    /**
     * KMS key ARN encrypting the control-plane log group. Its key policy must let `logs.<region>.amazonaws.com` use it
     * for that log group. Default: a key created for it, rotation on, with exactly that policy.
     */
    logsKmsKeyArn?: pulumi.Input<string>;
    /**
     * ECR repositories of your account the nodes pull images from (e.g. an `ImageRegistry`'s `repositoryArn`); no other
     * repository of the account is readable by the nodes. Repositories other accounts share (the AWS-owned EKS add-on
     * registries among them) stay pullable. Default none.
     */
    imageRepositoryArns?: pulumi.Input<string>[];
    /** How long a GPU node must sit idle before the autoscaler removes it, as `<n>s`, `<n>m` or `<n>h`. Default "10m". */
    scaleDownDelay?: string;
    /**
     * Who provides GPU capacity: `"cluster-autoscaler"` (managed node groups from zero, tagged for scale-from-zero) or
     * `"karpenter"` (Karpenter on the system nodes; a NodePool per GPU group, no GPU node groups). One per cluster.
     * Default "cluster-autoscaler".
     */
    capacity?: "cluster-autoscaler" | "karpenter";
    /**
     * KMS key ARN encrypting the nodes' EBS volumes. Its key policy must let the `AWSServiceRoleForAutoScaling`
     * service-linked role use it (Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey, and CreateGrant with
     * `kms:GrantIsForAWSResource`), or nodes never launch. Default: a key created for it, rotation on, with that policy.
     */
    nodeVolumeKmsKeyArn?: pulumi.Input<string>;
    /** Tags merged onto the defaults, which name the component. */
    tags?: Record<string, string>;
}

/** Defaults, in one place. */
export const GPU_CLUSTER_DEFAULTS = {
    version: "1.33",
    vpcCidrBlock: "10.0.0.0/16",
    availabilityZones: 3,
    natGateways: "OnePerAz",
    publicAccessCidrs: [] as pulumi.Input<string>[],
    scaleDownDelay: "10m",
    capacity: "cluster-autoscaler",
    enabledClusterLogTypes: CONTROL_PLANE_LOG_TYPES,
    logRetentionDays: 90,
    gpuNodeGroup: { minSize: 0, capacityType: "ON_DEMAND", diskSizeGb: 100 },
    systemNodeGroup: { instanceTypes: ["m6i.large"], minSize: 2, maxSize: 3, diskSizeGb: 50 },
} as const;

const CAPACITY_TYPES = ["ON_DEMAND", "SPOT"];
const SCALE_DOWN_DELAY = /^[1-9]\d*[smh]$/;
const KUBERNETES_VERSION = /^1\.\d{2}$/;
const ADMIN_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)\/.+$/;
const ECR_REPOSITORY_ARN = /^arn:aws(-[a-z]+)*:ecr:[a-z]{2}(-[a-z]+)+-\d:\d{12}:repository\/[a-z0-9][a-z0-9._/-]*$/;

/** What is wrong with an `imageRepositoryArns` entry, or undefined. Pure. */
export function repositoryArnProblem(arn: string): string | undefined {
    return typeof arn === "string" && ECR_REPOSITORY_ARN.test(arn)
        ? undefined
        : `"${arn}" must be one ECR repository's ARN (arn:aws:ecr:us-west-2:123456789012:repository/modelship), without wildcards: list each repository the nodes pull from`;
}

/** Returns a resolved `imageRepositoryArns[i]` or throws the construction-time error for it. Pure. */
export function checkResolvedRepositoryArn(name: string, i: number, value: string): string {
    const problem = repositoryArnProblem(value);
    if (problem !== undefined) throw new InvalidArgumentError("GpuCluster", name, `imageRepositoryArns[${i}]`, problem);
    return value;
}

/** A GPU group with every default applied and the facts derived from its instance types. */
export interface ResolvedGpuNodeGroup {
    name: string;
    instanceTypes: string[];
    minSize: number;
    maxSize: number;
    desiredSize: number;
    capacityType: "ON_DEMAND" | "SPOT";
    amiType: GpuAmiType;
    diskSizeGb: number;
    arch: CpuArchitecture;
    accelerator: string;
    gpusPerNode: number;
    /** Every Kubernetes label the nodes carry (the user's and modelship's). */
    labels: Record<string, string>;
}

function validateGpuGroup(c: ArgChecker, g: GpuNodeGroupArgs, i: number): void {
    const at = `gpuNodeGroups[${i}]`;
    c.check(typeof g.name === "string" && isDnsLabel(g.name, 20), `${at}.name`, `"${g.name}" must be 1-20 lowercase letters, digits or "-" (e.g. "l4")`);
    const types = g.instanceTypes ?? [];
    c.check(types.length > 0, `${at}.instanceTypes`, `is empty: list at least one NVIDIA GPU instance type (e.g. ["g6.xlarge"])`);
    const infos = types.map((t) => gpuInstanceInfo(t));
    infos.forEach((info, j) => {
        if (!info.ok) c.check(false, `${at}.instanceTypes[${j}]`, `${info.reason}`);
    });
    const ok = infos.filter((x) => x.ok);
    const archs = new Set(ok.map((x) => x.arch));
    const models = new Set(ok.map((x) => x.accelerator));
    c.check(archs.size <= 1, `${at}.instanceTypes`, `mixes x86_64 and arm64 families (${types.join(", ")}): one AMI serves one architecture, so split them into two groups`);
    c.check(models.size <= 1, `${at}.instanceTypes`, `mixes GPU models (${[...models].join(", ")}): put each model in its own group so pods can select it`);
    const counts = new Set(ok.map((x) => x.gpus));
    if (g.gpusPerNode !== undefined) {
        c.check(isIntInRange(g.gpusPerNode, 1, 16), `${at}.gpusPerNode`, `must be a whole number from 1 to 16 (got ${g.gpusPerNode})`);
        const known = ok.map((x) => x.gpus).filter((n): n is number => n !== undefined);
        c.check(known.every((n) => n === g.gpusPerNode), `${at}.gpusPerNode`, `is ${g.gpusPerNode} but ${types.join(", ")} has ${known.join("/")} GPUs per node: remove gpusPerNode or fix it`);
    } else {
        for (const x of ok) {
            if (x.ok && x.gpus === undefined)
                c.check(false, `${at}.gpusPerNode`, `is needed: modelship does not know how many GPUs a ${x.family}.${x.size} has; set gpusPerNode (or use a listed size)`);
        }
        c.check(counts.size <= 1, `${at}.instanceTypes`, `mixes GPU counts per node (${types.join(", ")}): the autoscaler plans with one node shape per group, so split them`);
    }
    const minSize = g.minSize ?? GPU_CLUSTER_DEFAULTS.gpuNodeGroup.minSize;
    c.check(isIntInRange(minSize, 0, 1000), `${at}.minSize`, `must be a whole number >= 0 (got ${minSize})`);
    c.check(isIntInRange(g.maxSize, 1, 1000), `${at}.maxSize`, `must be a whole number >= 1 (got ${g.maxSize})`);
    c.check(!(g.maxSize < minSize), `${at}.maxSize`, `(${g.maxSize}) is less than minSize (${minSize}): raise maxSize or lower minSize`);
    if (g.desiredSize !== undefined)
        c.check(isIntInRange(g.desiredSize, minSize, Math.max(minSize, g.maxSize)), `${at}.desiredSize`, `(${g.desiredSize}) must lie between minSize (${minSize}) and maxSize (${g.maxSize})`);
    if (g.capacityType !== undefined)
        c.check(CAPACITY_TYPES.includes(g.capacityType), `${at}.capacityType`, `"${g.capacityType}" must be "ON_DEMAND" or "SPOT"`);
    if (g.amiType !== undefined) {
        if (!isGpuAmiType(g.amiType)) {
            c.check(false, `${at}.amiType`, `"${g.amiType}" is not an NVIDIA AMI type: use one of ${Object.keys(GPU_AMI_TYPES).join(", ")} (Amazon Linux 2 GPU AMIs are end-of-life)`);
        } else if (archs.size === 1) {
            const arch = [...archs][0];
            const amiArch = GPU_AMI_TYPES[g.amiType].arch;
            c.check(amiArch === arch, `${at}.amiType`, `${g.amiType} is for ${amiArch} but ${types.join(", ")} is ${arch}: use ${defaultGpuAmiType(arch)} or an ${arch} Bottlerocket NVIDIA AMI`);
        }
    }
    if (g.diskSizeGb !== undefined) c.check(isIntInRange(g.diskSizeGb, 20, 16384), `${at}.diskSizeGb`, `must be a whole number of GiB from 20 to 16384 (got ${g.diskSizeGb})`);
    for (const [key, value] of Object.entries(g.labels ?? {})) {
        const keyProblem = labelKeyProblem(key);
        c.check(keyProblem === undefined, `${at}.labels`, `key "${key}" ${keyProblem}`);
        const valueProblem = nodeLabelValueProblem(value);
        c.check(valueProblem === undefined, `${at}.labels["${key}"]`, `"${value}" ${valueProblem}`);
        c.check(!RESERVED_LABEL_PREFIXES.some((p) => key.startsWith(p) || key.includes(`.${p}`)), `${at}.labels`, `"${key}" uses a prefix modelship or Kubernetes owns (${RESERVED_LABEL_PREFIXES.join(", ")}): choose your own prefix`);
    }
    // A scale-from-zero group is known to cluster-autoscaler only through ASG tags naming each label.
    for (const problem of nodeTemplateTagProblems({ labels: g.labels ?? {}, taints: [] })) c.check(false, `${at}.labels`, problem);
}

/** What is wrong with an admin ARN, or undefined. Pure. */
export function adminProblem(arn: string): string | undefined {
    return typeof arn === "string" && ADMIN_ARN.test(arn) ? undefined : `"${arn}" is not an IAM role or user ARN (e.g. arn:aws:iam::123456789012:role/platform-admin)`;
}

/**
 * The IAM principal an access entry names for an ARN: an assumed-role session's role (`sts::...:assumed-role/R/s` ->
 * `iam::...:role/R`), a role or user without its path (names are unique in an account, paths are not part of them),
 * anything else unchanged. Pure.
 */
export function accessEntryPrincipal(arn: string): string {
    const session = /^arn:([a-z-]+):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
    if (session) return `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
    const iam = /^arn:([a-z-]+):iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/.exec(arn);
    if (iam) return `arn:${iam[1]}:iam::${iam[2]}:${iam[3]}/${iam[4]}`;
    return arn;
}

/**
 * What is wrong with listing `admin` when `callerArn` runs `pulumi up`, or undefined. pulumi-eks 4.3 always creates
 * the cluster with `bootstrapClusterCreatorAdminPermissions` (pulumi/pulumi-eks#2373), so EKS gives the creator an
 * admin access entry itself and a second entry for the same principal fails with 409 after the control plane was
 * built. Pure.
 */
export function deployerAdminProblem(admin: string, callerArn: string): string | undefined {
    if (accessEntryPrincipal(admin) !== accessEntryPrincipal(callerArn)) return undefined;
    return (
        `"${admin}" is the principal running pulumi up (${callerArn}), which EKS already makes cluster admin when it creates the cluster ` +
        `(pulumi-eks always bootstraps the creator's access entry), so a second entry would fail with 409: remove it from admins, ` +
        `or run pulumi up as another principal`
    );
}

/** `admins[i]` as an Output that fails (with the construction-time message) when it is the principal running `pulumi up`. */
export function checkedNotDeployer(name: string, i: number, admin: pulumi.Input<string>, callerArn: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.all([admin, callerArn]).apply(([arn, caller]) => {
        const problem = deployerAdminProblem(arn, caller);
        if (problem !== undefined) throw new InvalidArgumentError("GpuCluster", name, `admins[${i}]`, problem);
        return arn;
    });
}

/** What is wrong with one public-endpoint CIDR, or undefined. Pure. */
export function publicCidrProblem(cidr: string): string | undefined {
    const p = typeof cidr === "string" ? parseCanonicalCidr(cidr) : ({ ok: false, reason: "is not a string" } as const);
    return p.ok ? undefined : `"${cidr}" ${p.reason}`;
}

/**
 * What is wrong with the whole allow-list (each CIDR canonical, then all of them together, overlaps merged, covering
 * at most a /8 worth of addresses, so neither `0.0.0.0/0` nor its halves get through), as `[field, problem]`. Pure.
 */
export function publicAccessCidrsProblems(cidrs: string[]): [string, string][] {
    const problems: [string, string][] = [];
    const parsed: Ipv4Cidr[] = [];
    for (const [i, cidr] of cidrs.entries()) {
        const problem = publicCidrProblem(cidr);
        if (problem !== undefined) problems.push([`publicAccessCidrs[${i}]`, problem]);
        else parsed.push((parseCanonicalCidr(cidr) as { ok: true; cidr: Ipv4Cidr }).cidr);
    }
    const covered = coveredAddresses(parsed);
    if (covered > MAX_ALLOWED_ADDRESSES)
        problems.push([
            "publicAccessCidrs",
            `together cover ${covered.toLocaleString("en-US")} addresses (overlaps merged), more than a /8 worth (${MAX_ALLOWED_ADDRESSES.toLocaleString("en-US")}): ` +
                `that opens the API endpoint to a large share of the internet; list your office, VPN or CI egress ranges, or use endpointAccess: "private"`,
        ]);
    return problems;
}

/** The allow-list as an Output, failing (with the construction-time message) when a resolved CIDR breaks the rule. */
export function checkedPublicAccessCidrs(name: string, cidrs: pulumi.Input<string>[]): pulumi.Output<string[]> {
    return pulumi.all(cidrs).apply((resolved) => {
        const [first] = publicAccessCidrsProblems(resolved);
        if (first !== undefined) throw new InvalidArgumentError("GpuCluster", name, first[0], first[1]);
        return resolved;
    });
}

/** Where the API endpoint is reachable from, with its default applied. Pure. */
export function endpointAccess(args: Pick<GpuClusterArgs, "endpointAccess" | "publicAccessCidrs">): "public" | "private" | undefined {
    return args.endpointAccess ?? ((args.publicAccessCidrs ?? []).length > 0 ? "public" : undefined);
}

const REACH_PRIVATE_ENDPOINT = "run pulumi up from inside the VPC (a self-hosted runner in it, a VPN, a bastion or SSM tunnel)";

/** The endpoint choice: explicit, and private only with the confirmation that `pulumi up` reaches it. */
function validateEndpoint(c: ArgChecker, args: GpuClusterArgs): void {
    const cidrs = args.publicAccessCidrs ?? [];
    c.check(Array.isArray(cidrs), "publicAccessCidrs", "must be a list (its elements may be Outputs): its emptiness decides whether the endpoint is public");
    if (!Array.isArray(cidrs)) return;
    const access = endpointAccess(args);
    if (access === undefined) {
        c.check(
            false,
            "publicAccessCidrs",
            "is empty, so the API endpoint would be private-only, yet this program installs Helm charts through it from the machine running pulumi up, " +
                "which then cannot reach it: list that machine's egress CIDRs (office, VPN, CI runner) in publicAccessCidrs, " +
                `or set endpointAccess: "private" with privateEndpointReachable: true once you ${REACH_PRIVATE_ENDPOINT}`,
        );
    } else if (access === "private") {
        c.check(cidrs.length === 0, "publicAccessCidrs", 'is given with endpointAccess: "private", which has no public endpoint: remove it, or use endpointAccess: "public"');
        c.check(
            args.privateEndpointReachable === true,
            "privateEndpointReachable",
            `must be true with endpointAccess: "private": this program installs Helm charts through the private endpoint, so ${REACH_PRIVATE_ENDPOINT}, then set it; otherwise list your egress CIDRs in publicAccessCidrs`,
        );
    } else if (access === "public") {
        c.check(cidrs.length > 0, "publicAccessCidrs", 'is empty with endpointAccess: "public": list the CIDRs allowed to reach the endpoint (your office, VPN or CI egress)');
        c.check(args.privateEndpointReachable === undefined, "privateEndpointReachable", 'only applies to endpointAccess: "private": remove it');
    } else {
        c.check(false, "endpointAccess", `"${String(access)}" must be "public" or "private"`);
    }
    if (cidrs.every((x) => isPlain(x))) {
        for (const [field, problem] of publicAccessCidrsProblems(cidrs as string[])) c.check(false, field, problem);
    } else {
        cidrs.forEach((cidr, i) => checkPlain(c, `publicAccessCidrs[${i}]`, cidr, publicCidrProblem));
    }
}

/**
 * Every autonamed AWS resource a GpuCluster creates: its own, and those pulumi-eks 4.3 creates inside `eks.Cluster`
 * (its control-plane role and security groups), which the mock runtime never sees. `group` is the index of the GPU
 * group whose name the child carries. Kept next to the constructor's names; a test checks it against what is recorded.
 * Pure.
 */
export function gpuClusterAutonamedChildren(
    name: string,
    groupNames: string[],
    opts: { capacity?: "cluster-autoscaler" | "karpenter"; spotGroups?: boolean[] } = {},
): (AutonamedChild & { group?: number })[] {
    const role = "aws:iam/role:Role";
    const rolePolicy = "aws:iam/rolePolicy:RolePolicy";
    const launchTemplate = "aws:ec2/launchTemplate:LaunchTemplate";
    const nodeGroup = "aws:eks/nodeGroup:NodeGroup";
    const securityGroup = "aws:ec2/securityGroup:SecurityGroup";
    return [
        { type: role, logicalName: `${name}-node-role` },
        { type: role, logicalName: `${name}-vpc-cni` },
        { type: role, logicalName: `${name}-cluster-autoscaler` },
        { type: rolePolicy, logicalName: `${name}-node-image-pull` },
        { type: rolePolicy, logicalName: `${name}-cluster-autoscaler` },
        { type: launchTemplate, logicalName: `${name}-system-lt` },
        // eks.ManagedNodeGroup names its aws.eks.NodeGroup after itself; EKS node group names are autonamed.
        { type: nodeGroup, logicalName: `${name}-system` },
        // pulumi-eks 4.3: ServiceRole `${cluster}-eksRole` -> Role `${cluster}-eksRole-role`, and its security groups.
        { type: role, logicalName: `${name}-eks-eksRole-role` },
        { type: securityGroup, logicalName: `${name}-eks-eksClusterSecurityGroup` },
        { type: securityGroup, logicalName: `${name}-eks-nodeSecurityGroup` },
        ...(opts.capacity === "karpenter"
            ? karpenterAutonamedChildren(name)
            : groupNames.flatMap((g, group) => [
                  { type: launchTemplate, logicalName: `${name}-gpu-${g}-lt`, group },
                  { type: nodeGroup, logicalName: `${name}-gpu-${g}`, group },
                  // A SPOT group's on-demand twin (withOnDemandFallback).
                  ...(opts.spotGroups?.[group]
                      ? [
                            { type: launchTemplate, logicalName: `${name}-gpu-${g}-od-lt`, group },
                            { type: nodeGroup, logicalName: `${name}-gpu-${g}-od`, group },
                        ]
                      : []),
              ])),
    ];
}

/**
 * Names that pass the format rules can still overflow an AWS limit once Pulumi appends its autoname suffix (`-` and 7
 * characters): IAM role names (64) bound the component name, EKS node group names (63) the component and group names
 * together. Reports the worst overflow per field.
 */
function validateNameBudget(c: ArgChecker, name: string, groupNames: string[], budgetOptions: { capacity?: "cluster-autoscaler" | "karpenter"; spotGroups?: boolean[] } = {}): void {
    const worst = new Map<string, { child: AutonamedChild; over: number; length: number; limit: number }>();
    for (const child of gpuClusterAutonamedChildren(name, groupNames, budgetOptions)) {
        const o = autonameOverflow(child);
        if (o === undefined) continue;
        const field = child.group === undefined ? "name" : `gpuNodeGroups[${child.group}].name`;
        if ((worst.get(field)?.over ?? 0) < o.over) worst.set(field, { child, ...o });
    }
    for (const [field, w] of worst) {
        const kind = w.child.type.split(":").pop();
        const fix = field === "name" ? `shorten the component name by ${w.over}` : `shorten the group name or the component name by ${w.over} (together)`;
        c.check(
            false,
            field,
            `is too long for AWS: the ${kind} "${w.child.logicalName}" plus Pulumi's ${AUTONAME_SUFFIX_LENGTH}-character autoname suffix has ${w.length} characters, more than the ${w.limit} AWS allows: ${fix}`,
        );
    }
}

/** Validates the arguments; throws an error naming the field and the fix. Pure: no Pulumi calls. */
export function validateGpuClusterArgs(name: string, args: GpuClusterArgs): void {
    const c = new ArgChecker("GpuCluster", name);
    c.check(isDnsLabel(name), "name", `"${name}" must be lowercase letters, digits or "-": it prefixes every child's name`);
    const version = args.version ?? GPU_CLUSTER_DEFAULTS.version;
    c.check(KUBERNETES_VERSION.test(version), "version", `"${version}" must be a Kubernetes minor version such as "1.33"`);

    const groups = args.gpuNodeGroups ?? [];
    c.check(Array.isArray(args.gpuNodeGroups) && groups.length > 0, "gpuNodeGroups", `is empty: add at least one group, e.g. [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }]`);
    groups.forEach((g, i) => validateGpuGroup(c, g, i));
    const seen = new Map<string, number>();
    groups.forEach((g, i) => {
        const key = String(g.name).toLowerCase();
        const first = seen.get(key);
        c.check(first === undefined, `gpuNodeGroups[${i}].name`, `"${g.name}" is also the name of gpuNodeGroups[${first}]: give each group its own name`);
        if (first === undefined) seen.set(key, i);
    });
    validateNameBudget(
        c,
        name,
        groups.map((g) => String(g.name)),
        { capacity: args.capacity, spotGroups: groups.map((g) => g.capacityType === "SPOT") },
    );

    const sys = args.systemNodeGroup ?? {};
    const d = GPU_CLUSTER_DEFAULTS.systemNodeGroup;
    const sysTypes = sys.instanceTypes ?? [...d.instanceTypes];
    c.check(sysTypes.length > 0, "systemNodeGroup.instanceTypes", `is empty: list a CPU instance type such as "m6i.large"`);
    sysTypes.forEach((t, j) => {
        const arch = cpuArchitecture(t);
        c.check(arch !== undefined, `systemNodeGroup.instanceTypes[${j}]`, `"${t}" is not an EC2 instance type such as "m6i.large"`);
        c.check(!gpuInstanceInfo(t).ok, `systemNodeGroup.instanceTypes[${j}]`, `"${t}" is a GPU instance: the system group runs add-ons only; use a CPU type such as "m6i.large"`);
    });
    c.check(new Set(sysTypes.map(cpuArchitecture)).size <= 1, "systemNodeGroup.instanceTypes", "mixes x86_64 and arm64 types: use one architecture");
    const sysMin = sys.minSize ?? d.minSize;
    const sysMax = sys.maxSize ?? d.maxSize;
    c.check(isIntInRange(sysMin, 1, 100), "systemNodeGroup.minSize", `must be a whole number >= 1 so add-ons always have a node (got ${sysMin})`);
    c.check(isIntInRange(sysMax, 1, 100) && sysMax >= sysMin, "systemNodeGroup.maxSize", `(${sysMax}) must be a whole number >= minSize (${sysMin})`);
    if (sys.desiredSize !== undefined)
        c.check(isIntInRange(sys.desiredSize, sysMin, Math.max(sysMin, sysMax)), "systemNodeGroup.desiredSize", `(${sys.desiredSize}) must lie between minSize and maxSize`);
    if (sys.diskSizeGb !== undefined) c.check(isIntInRange(sys.diskSizeGb, 20, 16384), "systemNodeGroup.diskSizeGb", `must be a whole number of GiB from 20 to 16384`);

    const hasVpc = args.vpcId !== undefined;
    c.check(!hasVpc || args.privateSubnetIds !== undefined, "privateSubnetIds", "is required with vpcId: give the private subnets (in at least two zones) the nodes run in");
    c.check(hasVpc || args.privateSubnetIds === undefined, "vpcId", "is required with privateSubnetIds: give the VPC the subnets belong to");
    c.check(hasVpc || args.publicSubnetIds === undefined, "vpcId", "is required with publicSubnetIds: give the VPC the subnets belong to");
    if (Array.isArray(args.privateSubnetIds))
        c.check(args.privateSubnetIds.length >= 2, "privateSubnetIds", "must list subnets in at least two availability zones (EKS requires two)");
    if (args.vpcCidrBlock !== undefined) c.check(isCidr(args.vpcCidrBlock), "vpcCidrBlock", `"${args.vpcCidrBlock}" is not an IPv4 CIDR such as "10.0.0.0/16"`);
    if (args.availabilityZones !== undefined)
        c.check(isIntInRange(args.availabilityZones, 2, 6), "availabilityZones", `must be a whole number from 2 to 6 (got ${args.availabilityZones})`);
    if (args.natGateways !== undefined)
        c.check(args.natGateways === "OnePerAz" || args.natGateways === "Single", "natGateways", `"${args.natGateways}" must be "OnePerAz" or "Single"`);

    validateEndpoint(c, args);
    (args.admins ?? []).forEach((arn, i) => checkPlain(c, `admins[${i}]`, arn, adminProblem));
    validateCapacity(c, args);
    if (args.scaleDownDelay !== undefined)
        c.check(SCALE_DOWN_DELAY.test(args.scaleDownDelay), "scaleDownDelay", `"${args.scaleDownDelay}" must be a non-zero duration such as "10m", "90s" or "1h"`);
    if (args.clusterName !== undefined)
        c.check(
            typeof args.clusterName === "string" && EKS_CLUSTER_NAME.test(args.clusterName),
            "clusterName",
            `"${args.clusterName}" must be 1-${EKS_CLUSTER_NAME_MAX} letters, digits, "-" or "_", starting with a letter or digit (EKS's rule)`,
        );
    if (args.logRetentionDays !== undefined)
        c.check(
            (CLOUDWATCH_RETENTION_DAYS as readonly number[]).includes(args.logRetentionDays),
            "logRetentionDays",
            `${args.logRetentionDays} is not a retention CloudWatch accepts: use one of ${CLOUDWATCH_RETENTION_DAYS.filter((n) => n > 0).join(", ")} (or 0 to keep logs forever)`,
        );
    for (const [i, arn] of (args.imageRepositoryArns ?? []).entries()) {
        checkPlain(c, `imageRepositoryArns[${i}]`, arn, repositoryArnProblem);
    }
    c.done();
}

/** The capacity strategy and what it asks of the groups: spot needs choice, Karpenter boots AL2023 only. */
function validateCapacity(c: ArgChecker, args: GpuClusterArgs): void {
    const capacity = args.capacity ?? GPU_CLUSTER_DEFAULTS.capacity;
    c.check(capacity === "cluster-autoscaler" || capacity === "karpenter", "capacity", `"${String(capacity)}" must be "cluster-autoscaler" or "karpenter"`);
    for (const [i, g] of (args.gpuNodeGroups ?? []).entries()) {
        const at = `gpuNodeGroups[${i}]`;
        if (capacity === "karpenter") {
            c.check(g.amiType === undefined || GPU_AMI_TYPES[g.amiType as GpuAmiType]?.os === "al2023", `${at}.amiType`, `is ${String(g.amiType)}: Karpenter's GPU pools boot AL2023 NVIDIA (pinned alias ${KARPENTER_AMI_ALIAS}); remove amiType`);
            c.check(g.desiredSize === undefined, `${at}.desiredSize`, "does not apply with capacity: karpenter (Karpenter launches nodes for pending pods): remove it");
            c.check((g.minSize ?? 0) === 0, `${at}.minSize`, "must be 0 with capacity: karpenter (a NodePool has no minimum; keep always-on capacity in a cluster-autoscaler cluster)");
        }
    }
}

/** Warnings about valid but weak choices (a SPOT group with one instance type: spot often has none of it). Pure. */
export function capacityWarnings(args: Pick<GpuClusterArgs, "gpuNodeGroups">): string[] {
    return (args.gpuNodeGroups ?? [])
        .filter((g) => g.capacityType === "SPOT" && (g.instanceTypes ?? []).length < KARPENTER_DEFAULTS.minSpotInstanceTypes)
        .map((g) => `gpuNodeGroup "${g.name}" is SPOT with one instance type: list at least ${KARPENTER_DEFAULTS.minSpotInstanceTypes} (e.g. g6.xlarge and g6.2xlarge) so spot finds capacity; until then it mostly runs on the on-demand fallback`);
}

/** Applies defaults to a (validated) GPU group and derives its labels. Pure. */
export function resolveGpuNodeGroup(g: GpuNodeGroupArgs): ResolvedGpuNodeGroup {
    const d = GPU_CLUSTER_DEFAULTS.gpuNodeGroup;
    const info = gpuInstanceInfo(g.instanceTypes[0]);
    if (!info.ok) throw new Error(info.reason);
    const amiType: GpuAmiType = g.amiType !== undefined && isGpuAmiType(g.amiType) ? g.amiType : defaultGpuAmiType(info.arch);
    const minSize = g.minSize ?? d.minSize;
    return {
        name: g.name,
        instanceTypes: [...g.instanceTypes],
        minSize,
        maxSize: g.maxSize,
        desiredSize: g.desiredSize ?? minSize,
        capacityType: g.capacityType ?? d.capacityType,
        amiType,
        diskSizeGb: g.diskSizeGb ?? d.diskSizeGb,
        arch: info.arch,
        accelerator: info.accelerator,
        gpusPerNode: g.gpusPerNode ?? (info.gpus as number),
        labels: {
            ...(g.labels ?? {}),
            [GPU_ACCELERATOR_LABEL]: GPU_ACCELERATOR_VALUE,
            [GPU_MODEL_LABEL]: info.accelerator,
            [NODE_GROUP_LABEL]: g.name,
            [NODE_ROLE_LABEL]: NODE_ROLE_GPU,
            [NODE_OS_LABEL]: GPU_AMI_TYPES[amiType].os,
            [NVIDIA_GPU_PRESENT_LABEL]: "true",
            [AWS_GPU_LABEL]: info.accelerator,
        },
    };
}

/**
 * A SPOT group as cluster-autoscaler gets it: the spot group itself, which the priority expander prefers, and an
 * on-demand twin `<name>-od` behind it (same shape and labels, from zero), so a pending pod lands on on-demand when
 * spot has no capacity. Other groups pass through. Pure.
 */
export function withOnDemandFallback(g: ResolvedGpuNodeGroup): ResolvedGpuNodeGroup[] {
    if (g.capacityType !== "SPOT") return [g];
    return [g, { ...g, name: `${g.name}-od`, capacityType: "ON_DEMAND", minSize: 0, desiredSize: 0 }];
}

/** The Auto Scaling group behind a managed node group. `nodeGroup` resolves to the node group's plain state. */
function autoscalingGroupName(group: eks.ManagedNodeGroup): pulumi.Output<string> {
    return group.nodeGroup.apply((ng) => (ng as unknown as { resources: aws.types.output.eks.NodeGroupResource[] }).resources[0].autoscalingGroups[0].name);
}

/** Account, region and partition the cluster is created in, as the AWS provider sees them. */
interface Where {
    region: pulumi.Output<string>;
    accountId: pulumi.Output<string>;
    partition: pulumi.Output<string>;
    /** The ARN of the principal running `pulumi up` (a user, or an assumed-role session). */
    callerArn: pulumi.Output<string>;
}

/** The VPC and subnets the cluster runs in. */
interface Network {
    vpcId: pulumi.Output<string>;
    privateSubnetIds: pulumi.Input<pulumi.Input<string>[]>;
    publicSubnetIds?: pulumi.Input<pulumi.Input<string>[]>;
    /** The VPC created for the cluster, when none was given. */
    vpc?: awsx.ec2.Vpc;
}

/**
 * An EKS cluster for GPU inference: private nodes, an API endpoint open to the listed CIDRs only (or private, when
 * `pulumi up` runs inside the network), secrets encrypted with KMS, API access through access entries, a CPU node
 * group for add-ons, GPU node groups on NVIDIA AMIs that scale from zero, the NVIDIA device plugin and metrics-server.
 * Built in four steps, each a method: network, control plane, node groups, add-ons.
 */
export class GpuCluster extends pulumi.ComponentResource {
    /** Kubeconfig (JSON string) for the cluster. Secret. */
    readonly kubeconfig: pulumi.Output<string>;
    /** Kubernetes provider for everything that runs on the cluster. */
    readonly provider: k8s.Provider;
    readonly clusterName: pulumi.Output<string>;
    readonly oidcProviderArn: pulumi.Output<string>;
    readonly oidcProviderUrl: pulumi.Output<string>;
    /** nodeSelector and tolerations that put a pod on a GPU node. A plain value, usable at construction. */
    readonly gpuScheduling: GpuScheduling;
    readonly vpcId: pulumi.Output<string>;
    /** Names of the GPU node groups, as given in the args. */
    readonly gpuNodeGroupNames: string[];
    /** ARN of the KMS key encrypting Kubernetes secrets. */
    readonly secretsKmsKeyArn: pulumi.Output<string>;
    /** The capacity strategy in use (`cluster-autoscaler`). */
    readonly capacityStrategy: string;
    /** The CloudWatch log group receiving the control-plane logs (`/aws/eks/<cluster>/cluster`). */
    readonly controlPlaneLogGroupName: pulumi.Output<string>;
    /** ARN of the KMS key encrypting the control-plane logs. */
    readonly logsKmsKeyArn: pulumi.Output<string>;
    /** ARN of the IAM role the worker nodes run with (join the cluster, pull the listed images). */
    readonly nodeRoleArn: pulumi.Output<string>;
    /** `"public"` (open to `publicAccessCidrs`) or `"private"`. */
    readonly endpointAccess: "public" | "private";

    // ---- the children, for extending rather than forking
    /** The pulumi-eks cluster (control plane, OIDC provider, access entries). */
    readonly cluster: eks.Cluster;
    /** The VPC created for the cluster; undefined when `vpcId` was given. */
    readonly vpc: awsx.ec2.Vpc | undefined;
    /** The IAM role of every node group. */
    readonly nodeRole: aws.iam.Role;
    /** The CPU node group running the add-ons. */
    readonly systemNodeGroup: eks.ManagedNodeGroup;
    /**
     * What a workload must wait for before its pods can schedule: the system node group. Pass it as `dependsOn` (or a
     * component's `nodesReady`) to anything installed on the cluster, so that an atomic Helm install does not start
     * its 5-minute wait while no node exists yet.
     */
    readonly systemNodes: pulumi.Resource[];
    /** ARN of the KMS key encrypting the nodes' EBS volumes. */
    readonly nodeVolumeKmsKeyArn: pulumi.Output<string>;
    /** The GPU node groups, by group name. */
    readonly gpuNodeGroups: Record<string, eks.ManagedNodeGroup>;
    /** The control plane's security group (pulumi-eks's `clusterSecurityGroupId`). */
    readonly clusterSecurityGroupId: pulumi.Output<string>;
    /** The nodes' security group as pulumi-eks reports it (`nodeSecurityGroupId`). */
    readonly nodeSecurityGroupId: pulumi.Output<string>;
    /** The vpc-cni add-on (network policies enforced, aws-node on its own IRSA role). */
    readonly vpcCni: eks.VpcCniAddon;
    /** The NVIDIA device plugin and metrics-server Helm releases, and the CoreDNS EKS add-on. */
    readonly addons: { nvidiaDevicePlugin: k8s.helm.v3.Release; metricsServer: k8s.helm.v3.Release; coreDns: aws.eks.Addon };
    /** Karpenter's resources (controller, queue, roles, node class, NodePools by group name), with `capacity: "karpenter"`. */
    readonly karpenter: KarpenterResources | undefined;

    constructor(name: string, args: GpuClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        validateGpuClusterArgs(name, args);
        super(GPU_CLUSTER_TYPE, name, {}, opts);
        for (const warning of capacityWarnings(args)) pulumi.log.warn(`GpuCluster "${name}": ${warning}`, this);

        const tags = componentTags("GpuCluster", name, args.tags);
        const caller = aws.getCallerIdentityOutput({}, { parent: this });
        const where: Where = {
            region: aws.getRegionOutput({}, { parent: this }).region,
            accountId: caller.accountId,
            callerArn: caller.arn,
            partition: aws.getPartitionOutput({}, { parent: this }).partition,
        };
        this.endpointAccess = endpointAccess(args) as "public" | "private";

        const network = this.createNetwork(name, args, tags);
        const controlPlane = this.createControlPlane(name, args, tags, where, network);
        const cluster = controlPlane.cluster;
        const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: cluster.kubeconfigJson, enableServerSideApply: true }, { parent: this });
        const nodes = this.createNodeGroups(name, args, tags, where, network, cluster, provider);
        this.addons = this.installAddons(name, provider, cluster, args.version ?? GPU_CLUSTER_DEFAULTS.version, nodes.systemGroup, tags);

        this.cluster = cluster;
        this.vpc = network.vpc;
        this.nodeRole = nodes.nodeRole;
        this.systemNodeGroup = nodes.systemGroup;
        this.systemNodes = [nodes.systemGroup];
        this.nodeVolumeKmsKeyArn = nodes.nodeVolumeKmsKeyArn;
        this.gpuNodeGroups = nodes.gpuGroups;
        this.karpenter = nodes.karpenter;
        this.vpcCni = nodes.vpcCni;
        this.clusterSecurityGroupId = cluster.clusterSecurityGroupId;
        this.nodeSecurityGroupId = cluster.nodeSecurityGroupId;
        this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
        this.provider = provider;
        this.clusterName = cluster.eksCluster.name;
        this.oidcProviderArn = cluster.oidcProviderArn;
        this.oidcProviderUrl = cluster.oidcProviderUrl;
        this.gpuScheduling = gpuScheduling();
        this.vpcId = network.vpcId;
        this.gpuNodeGroupNames = args.gpuNodeGroups.map((g) => g.name);
        this.secretsKmsKeyArn = controlPlane.secretsKmsKeyArn;
        this.capacityStrategy = nodes.capacityStrategy;
        this.controlPlaneLogGroupName = controlPlane.logGroup.name;
        this.logsKmsKeyArn = controlPlane.logsKmsKeyArn;
        this.nodeRoleArn = nodes.nodeRole.arn;
        this.registerOutputs({
            kubeconfig: this.kubeconfig,
            clusterName: this.clusterName,
            oidcProviderArn: this.oidcProviderArn,
            oidcProviderUrl: this.oidcProviderUrl,
            gpuScheduling: this.gpuScheduling,
            vpcId: this.vpcId,
            gpuNodeGroupNames: this.gpuNodeGroupNames,
            secretsKmsKeyArn: this.secretsKmsKeyArn,
            capacityStrategy: this.capacityStrategy,
            controlPlaneLogGroupName: this.controlPlaneLogGroupName,
            logsKmsKeyArn: this.logsKmsKeyArn,
            nodeRoleArn: this.nodeRoleArn,
            nodeVolumeKmsKeyArn: this.nodeVolumeKmsKeyArn,
            endpointAccess: this.endpointAccess,
            clusterSecurityGroupId: this.clusterSecurityGroupId,
            nodeSecurityGroupId: this.nodeSecurityGroupId,
        });
    }

    /** Step 1, network: the given VPC and subnets, or a VPC created for the cluster (private and public subnets, NAT). */
    private createNetwork(name: string, args: GpuClusterArgs, tags: Record<string, string>): Network {
        const d = GPU_CLUSTER_DEFAULTS;
        if (args.vpcId !== undefined) {
            return {
                vpcId: pulumi.output(args.vpcId),
                privateSubnetIds: args.privateSubnetIds as pulumi.Input<pulumi.Input<string>[]>,
                publicSubnetIds: args.publicSubnetIds,
            };
        }
        const vpc = new awsx.ec2.Vpc(
            `${name}-vpc`,
            {
                cidrBlock: args.vpcCidrBlock ?? d.vpcCidrBlock,
                numberOfAvailabilityZones: args.availabilityZones ?? d.availabilityZones,
                natGateways: { strategy: args.natGateways ?? d.natGateways },
                enableDnsHostnames: true,
                enableDnsSupport: true,
                subnetSpecs: [
                    { type: "Private", tags: { ...tags, "kubernetes.io/role/internal-elb": "1" } },
                    { type: "Public", tags: { ...tags, "kubernetes.io/role/elb": "1" } },
                ],
                tags,
            },
            { parent: this },
        );
        return { vpcId: vpc.vpcId, privateSubnetIds: vpc.privateSubnetIds, publicSubnetIds: vpc.publicSubnetIds, vpc };
    }

    /**
     * Step 2, control plane: the secrets key, the log group (created before the cluster, so it is ours: retention, KMS),
     * then the EKS cluster with access entries and the endpoint as chosen.
     */
    private createControlPlane(name: string, args: GpuClusterArgs, tags: Record<string, string>, where: Where, network: Network) {
        const d = GPU_CLUSTER_DEFAULTS;
        const secretsKmsKeyArn = keyArnOrCreate({
            given: args.kmsKeyArn,
            name,
            suffix: "secrets-key",
            description: `Envelope encryption of Kubernetes secrets in EKS cluster ${name}`,
            tags,
            parent: this,
        });
        const eksClusterName = args.clusterName ?? defaultClusterName(name, pulumi.getProject(), pulumi.getStack());
        const { logGroup, logsKmsKeyArn } = this.createControlPlaneLogs(name, args, tags, where, eksClusterName);

        const accessEntries: Record<string, eks.types.input.AccessEntryArgs> = {};
        checkInputs({ component: "GpuCluster", name, field: "admins" }, args.admins ?? [], adminProblem).forEach((admin, i) => {
            accessEntries[`admin-${i}`] = {
                principalArn: checkedNotDeployer(name, i, admin, where.callerArn),
                accessPolicies: { "cluster-admin": { policyArn: CLUSTER_ADMIN_POLICY_ARN, accessScope: { type: "cluster" } } },
                tags,
            };
        });
        const publicAccessCidrs = args.publicAccessCidrs ?? d.publicAccessCidrs;
        const isPublic = this.endpointAccess === "public";
        const cluster = new eks.Cluster(
            `${name}-eks`,
            {
                name: eksClusterName,
                version: args.version ?? d.version,
                authenticationMode: eks.AuthenticationMode.Api,
                accessEntries,
                createOidcProvider: true,
                encryptionConfigKeyArn: secretsKmsKeyArn,
                enabledClusterLogTypes: [...d.enabledClusterLogTypes],
                endpointPrivateAccess: true,
                endpointPublicAccess: isPublic,
                ...(isPublic ? { publicAccessCidrs: checkedPublicAccessCidrs(name, publicAccessCidrs) } : {}),
                skipDefaultNodeGroup: true,
                nodeAssociatePublicIpAddress: false,
                // The vpc-cni add-on is created with the nodes, once the OIDC provider exists, so aws-node gets its own IAM role.
                useDefaultVpcCni: true,
                vpcId: network.vpcId,
                privateSubnetIds: network.privateSubnetIds,
                ...(network.publicSubnetIds !== undefined ? { publicSubnetIds: network.publicSubnetIds } : {}),
                tags,
            },
            // A remote component is constructed only once its dependencies exist, so EKS finds the log group in place.
            { parent: this, dependsOn: [logGroup] },
        );
        return { cluster, secretsKmsKeyArn, logGroup, logsKmsKeyArn };
    }

    /**
     * Step 3, node groups: the VPC CNI and the node role first (nodes start only once aws-node can run with its own role
     * and the CNI enforces NetworkPolicies), then the system group, then each GPU group with its autoscaler wiring.
     */
    private createNodeGroups(name: string, args: GpuClusterArgs, tags: Record<string, string>, where: Where, network: Network, cluster: eks.Cluster, provider: k8s.Provider) {
        const d = GPU_CLUSTER_DEFAULTS;
        const version = args.version ?? d.version;
        const groups = args.gpuNodeGroups.map(resolveGpuNodeGroup);
        const useKarpenter = (args.capacity ?? d.capacity) === "karpenter";
        const capacity: GpuCapacityStrategy = new ClusterAutoscalerCapacity({ scaleDownDelay: args.scaleDownDelay ?? d.scaleDownDelay });
        const vpcCni = this.createVpcCni(name, tags, cluster, args.clusterName ?? defaultClusterName(name, pulumi.getProject(), pulumi.getStack()));
        // One role for all node groups; managed node groups create its EC2_LINUX access entry themselves.
        const { nodeRole, nodePolicies } = this.createNodeRole(name, args, tags, where.accountId);
        const nodeDependencies = [...nodePolicies, vpcCni];
        const nodeVolumeKmsKeyArn = keyArnOrCreate({
            given: args.nodeVolumeKmsKeyArn,
            name,
            suffix: "node-volumes-key",
            description: `EBS volumes of the nodes of EKS cluster ${name}`,
            tags,
            parent: this,
            policy: policyJson(autoScalingVolumeKeyPolicy({ partition: where.partition, accountId: where.accountId })),
        });

        const launchTemplate = (suffix: string, os: "al2023" | "bottlerocket", diskSizeGb: number) =>
            new aws.ec2.LaunchTemplate(
                `${name}-${suffix}-lt`,
                {
                    description: `Nodes of ${name}-${suffix}: IMDSv2 only, encrypted gp3 volumes`,
                    metadataOptions: { ...IMDSV2_METADATA_OPTIONS },
                    blockDeviceMappings: nodeBlockDevices(os, diskSizeGb, nodeVolumeKmsKeyArn),
                    tagSpecifications: [
                        { resourceType: "instance", tags },
                        { resourceType: "volume", tags },
                    ],
                    updateDefaultVersion: true,
                    tags,
                },
                { parent: this },
            );
        const templateRef = (lt: aws.ec2.LaunchTemplate) => ({ id: lt.id, version: lt.latestVersion.apply((v) => String(v)) });

        const sys = args.systemNodeGroup ?? {};
        const sysTypes = sys.instanceTypes ?? [...d.systemNodeGroup.instanceTypes];
        const sysMin = sys.minSize ?? d.systemNodeGroup.minSize;
        const systemLt = launchTemplate("system", "al2023", sys.diskSizeGb ?? d.systemNodeGroup.diskSizeGb);
        const systemGroup = new eks.ManagedNodeGroup(
            `${name}-system`,
            {
                cluster,
                nodeRole,
                // pulumi-eks gives a group the cluster's version only without a launch template: set it, so a version bump
                // upgrades every group after the control plane (EKS refuses the next bump while groups lag behind).
                version,
                amiType: systemAmiType(cpuArchitecture(sysTypes[0]) ?? "x86_64"),
                instanceTypes: sysTypes,
                capacityType: "ON_DEMAND",
                scalingConfig: { minSize: sysMin, maxSize: sys.maxSize ?? d.systemNodeGroup.maxSize, desiredSize: sys.desiredSize ?? sysMin },
                labels: { [NODE_ROLE_LABEL]: NODE_ROLE_SYSTEM },
                launchTemplate: templateRef(systemLt),
                subnetIds: network.privateSubnetIds,
                tags,
            },
            { parent: this, dependsOn: nodeDependencies },
        );

        const ctx: CapacityContext = {
            name,
            parent: this,
            provider,
            clusterName: cluster.eksCluster.name,
            clusterArn: cluster.eksCluster.arn,
            oidcProviderArn: cluster.oidcProviderArn,
            oidcProviderUrl: cluster.oidcProviderUrl,
            region: where.region,
            kubernetesVersion: version,
            tags,
            dependsOn: [systemGroup],
        };

        if (useKarpenter) {
            // Karpenter launches GPU nodes itself: no GPU node groups, no cluster-autoscaler.
            const pools: KarpenterPoolShape[] = groups.map((g) => ({
                name: g.name,
                instanceTypes: g.instanceTypes,
                gpusPerNode: g.gpusPerNode,
                maxSize: g.maxSize,
                capacityType: g.capacityType,
                arch: g.arch === "arm64" ? "arm64" : "amd64",
                labels: g.labels,
            }));
            const karpenter = installKarpenter(
                {
                    ...ctx,
                    partition: where.partition,
                    accountId: where.accountId,
                    subnetIds: network.privateSubnetIds,
                    // The security group EKS gives managed nodes (a launch template without groups): the same rules.
                    securityGroupIds: [cluster.clusterSecurityGroupId],
                    imagePullPolicy: policyJson(nodeImagePullPolicy({ accountId: where.accountId, repositoryArns: args.imageRepositoryArns ?? [] })),
                    diskSizeGb: Math.max(...groups.map((g) => g.diskSizeGb)),
                    volumeKmsKeyId: nodeVolumeKmsKeyArn,
                    consolidateAfter: args.scaleDownDelay ?? d.scaleDownDelay,
                },
                pools,
            );
            return { vpcCni, nodeRole, systemGroup, gpuGroups: {} as Record<string, eks.ManagedNodeGroup>, capacityStrategy: "karpenter", nodeVolumeKmsKeyArn, karpenter };
        }

        const gpuGroups: Record<string, eks.ManagedNodeGroup> = {};
        for (const g of groups.flatMap(withOnDemandFallback)) {
            const lt = launchTemplate(`gpu-${g.name}`, GPU_AMI_TYPES[g.amiType].os, g.diskSizeGb);
            const group = new eks.ManagedNodeGroup(
                `${name}-gpu-${g.name}`,
                {
                    cluster,
                    nodeRole,
                    version,
                    // Always explicit: `gpu: true` alone does not select an NVIDIA AMI on a managed node group.
                    amiType: g.amiType,
                    instanceTypes: g.instanceTypes,
                    capacityType: g.capacityType,
                    scalingConfig: { minSize: g.minSize, maxSize: g.maxSize, desiredSize: g.desiredSize },
                    taints: [{ key: GPU_TAINT_KEY, value: GPU_TAINT_VALUE, effect: GPU_TAINT_EFFECT_EKS }],
                    labels: g.labels,
                    launchTemplate: templateRef(lt),
                    subnetIds: network.privateSubnetIds,
                    ignoreScalingChanges: capacity.ownsNodeGroupSize,
                    tags,
                },
                { parent: this, dependsOn: nodeDependencies },
            );
            gpuGroups[g.name] = group;
            const shape: GpuNodeGroupShape = {
                name: g.name,
                labels: g.labels,
                taints: [{ key: GPU_TAINT_KEY, value: GPU_TAINT_VALUE, effect: GPU_TAINT_EFFECT }],
                gpusPerNode: g.gpusPerNode,
                spot: g.capacityType === "SPOT",
            };
            capacity.addNodeGroup(ctx, shape, autoscalingGroupName(group));
        }
        capacity.install(ctx);
        return { vpcCni, nodeRole, systemGroup, gpuGroups, capacityStrategy: capacity.kind, nodeVolumeKmsKeyArn, karpenter: undefined };
    }

    /**
     * Step 4, add-ons, each after the system nodes: CoreDNS as an EKS add-on, and the NVIDIA device plugin and
     * metrics-server, pinned Helm releases. The device plugin is a DaemonSet on GPU nodes only; with every GPU group at
     * zero it has nothing to schedule, which Helm counts as ready.
     */
    private installAddons(name: string, provider: k8s.Provider, cluster: eks.Cluster, version: string, systemGroup: eks.ManagedNodeGroup, tags: Record<string, string>) {
        // EKS bootstraps a self-managed CoreDNS that no version bump upgrades, and pulumi-eks adds its add-on only with a
        // default node group (without nodes it stays DEGRADED and times out): take it over here, once nodes exist.
        const coreDns = new aws.eks.Addon(
            `${name}-coredns`,
            {
                clusterName: cluster.eksCluster.name,
                addonName: "coredns",
                // EKS's default build for the version, not the newest: it changes only when AWS moves the default.
                addonVersion: aws.eks.getAddonVersionOutput({ addonName: "coredns", kubernetesVersion: version, mostRecent: false }, { parent: this }).version,
                resolveConflictsOnCreate: "OVERWRITE",
                resolveConflictsOnUpdate: "OVERWRITE",
                // Removing the add-on from the program must not remove cluster DNS.
                preserve: true,
                tags,
            },
            { parent: this, dependsOn: [systemGroup] },
        );
        const nvidiaDevicePlugin = pinnedRelease(
            `${name}-nvidia-device-plugin`,
            GPU_CLUSTER_CHARTS.nvidiaDevicePlugin,
            { name: "nvidia-device-plugin", namespace: "kube-system", values: devicePluginValues() },
            { parent: this, provider, dependsOn: [systemGroup] },
        );
        const metricsServer = pinnedRelease(
            `${name}-metrics-server`,
            GPU_CLUSTER_CHARTS.metricsServer,
            { name: "metrics-server", namespace: "kube-system", values: metricsServerValues() },
            { parent: this, provider, dependsOn: [systemGroup] },
        );
        return { nvidiaDevicePlugin, metricsServer, coreDns };
    }

    /** The log group EKS writes control-plane logs to, with retention and a KMS key only CloudWatch Logs may use for it. */
    private createControlPlaneLogs(
        name: string,
        args: GpuClusterArgs,
        tags: Record<string, string>,
        at: Where,
        eksClusterName: string,
    ): { logGroup: aws.cloudwatch.LogGroup; logsKmsKeyArn: pulumi.Output<string> } {
        const logGroupName = controlPlaneLogGroupName(eksClusterName);
        const logGroupArn = pulumi.interpolate`arn:${at.partition}:logs:${at.region}:${at.accountId}:log-group:${logGroupName}`;
        const logsKmsKeyArn = keyArnOrCreate({
            given: args.logsKmsKeyArn,
            name,
            suffix: "logs-key",
            description: `Encryption of the control-plane logs of EKS cluster ${eksClusterName}`,
            tags,
            parent: this,
            policy: policyJson(cloudWatchLogsKeyPolicy({ partition: at.partition, accountId: at.accountId, region: at.region, logGroupArn })),
        });
        const logGroup = new aws.cloudwatch.LogGroup(
            `${name}-control-plane-logs`,
            { name: logGroupName, retentionInDays: args.logRetentionDays ?? GPU_CLUSTER_DEFAULTS.logRetentionDays, kmsKeyId: logsKmsKeyArn, tags },
            { parent: this },
        );
        return { logGroup, logsKmsKeyArn };
    }

    /**
     * The vpc-cni add-on with the network-policy agent on, aws-node's AWS permissions on its own IRSA role. Created after
     * the cluster (the role needs its OIDC provider), before any node (node groups depend on it).
     */
    private createVpcCni(name: string, tags: Record<string, string>, cluster: eks.Cluster, eksClusterName: string): eks.VpcCniAddon {
        const role = new aws.iam.Role(
            `${name}-vpc-cni`,
            {
                description: `VPC CNI (aws-node, IRSA) of EKS cluster ${eksClusterName}`,
                assumeRolePolicy: irsaTrustPolicy({
                    oidcProviderArn: cluster.oidcProviderArn,
                    oidcProviderUrl: cluster.oidcProviderUrl,
                    namespace: VPC_CNI_NAMESPACE,
                    serviceAccount: VPC_CNI_SERVICE_ACCOUNT,
                }),
                tags,
            },
            { parent: this },
        );
        const policy = new aws.iam.RolePolicyAttachment(`${name}-vpc-cni`, { role: role.name, policyArn: VPC_CNI_POLICY_ARN }, { parent: this });
        return new eks.VpcCniAddon(
            `${name}-vpc-cni`,
            {
                clusterName: cluster.eksCluster.name,
                clusterVersion: cluster.eksCluster.version,
                serviceAccountRoleArn: role.arn,
                enableNetworkPolicy: true,
                // Takes over the aws-node DaemonSet EKS bootstraps (no node runs it yet: node groups wait for this add-on).
                resolveConflictsOnCreate: eks.ResolveConflictsOnCreate.Overwrite,
                resolveConflictsOnUpdate: eks.ResolveConflictsOnUpdate.Overwrite,
            },
            { parent: this, dependsOn: [policy] },
        );
    }

    /** The worker nodes' role: joining the cluster, and pulling images from the listed repositories only. */
    private createNodeRole(
        name: string,
        args: GpuClusterArgs,
        tags: Record<string, string>,
        accountId: pulumi.Output<string>,
    ): { nodeRole: aws.iam.Role; nodePolicies: pulumi.Resource[] } {
        const nodeRole = new aws.iam.Role(
            `${name}-node-role`,
            {
                description: `EKS worker nodes of ${name}`,
                assumeRolePolicy: policyJson(policyDocument({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" })),
                tags,
            },
            { parent: this },
        );
        const nodePolicies: pulumi.Resource[] = NODE_ROLE_POLICY_ARNS.map(
            (policyArn) =>
                new aws.iam.RolePolicyAttachment(`${name}-node-${policyArn.split("/").pop()}`, { role: nodeRole.name, policyArn }, { parent: this }),
        );
        const repositoryArns = checkInputs({ component: "GpuCluster", name, field: "imageRepositoryArns" }, args.imageRepositoryArns ?? [], repositoryArnProblem);
        nodePolicies.push(
            new aws.iam.RolePolicy(`${name}-node-image-pull`, { role: nodeRole.name, policy: policyJson(nodeImagePullPolicy({ accountId, repositoryArns })) }, { parent: this }),
        );
        return { nodeRole, nodePolicies };
    }
}
