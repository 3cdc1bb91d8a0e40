/**
 * Karpenter as a GPU capacity strategy: the controller's AWS side (IAM scoped as upstream's CloudFormation template
 * scopes it, the interruption queue and its EventBridge rules, the node role and its access entry) and the Kubernetes
 * side (the CRD chart, the controller chart, one EC2NodeClass and a NodePool per GPU shape). Pure builders first, each
 * tested directly; `KarpenterCapacity` puts them together.
 *
 * Facts, checked 2026-11-26:
 * - Charts: `oci://public.ecr.aws/karpenter/karpenter` and `.../karpenter-crd` 1.12.1 (Artifact Hub, released
 *   2026-05-12); API versions `karpenter.sh/v1` (NodePool) and `karpenter.k8s.aws/v1` (EC2NodeClass), the same as
 *   `@kubernetes-models/karpenter` 2.0.0 validates against. Karpenter 1.11+ supports Kubernetes 1.29-1.35.
 * - IAM, queue and rules: aws/karpenter-provider-aws website/.../getting-started-with-karpenter/cloudformation.yaml.
 * - AMI: `al2023@v20261112` (awslabs/amazon-eks-ami release v20261112, Kubernetes 1.33-1.37); the al2023 alias
 *   resolves to the NVIDIA variant on NVIDIA instance types.
 * - Pod annotation `karpenter.sh/do-not-disrupt` takes "true" or a duration after the pod's start (karpenter.sh
 *   reference/annotations).
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { CapacityContext } from "./capacity";
import { irsaTrustPolicy, policyDocument, type PolicyDocument } from "./iam";
import { GPU_RESOURCE, GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE } from "./gpu-constants";
import { systemNodeSelector } from "./gpu-addons";

/** The charts, pinned. OCI charts: the chart reference is the full `oci://` URL and there is no repository. */
export const KARPENTER_CHARTS = {
    crd: { chart: "oci://public.ecr.aws/karpenter/karpenter-crd", version: "1.12.1" },
    controller: { chart: "oci://public.ecr.aws/karpenter/karpenter", version: "1.12.1" },
} as const;

/** Where Karpenter runs (upstream's recommendation: kube-system, so it is protected like other critical add-ons). */
export const KARPENTER_NAMESPACE = "kube-system";
export const KARPENTER_SERVICE_ACCOUNT = "karpenter";
/** The AMI every GPU node boots: AL2023, a dated release (never `@latest`: a new AMI would roll every node). */
export const KARPENTER_AMI_ALIAS = "al2023@v20261112";
export const NODE_POOL_API = "karpenter.sh/v1";
export const NODE_CLASS_API = "karpenter.k8s.aws/v1";
export const DO_NOT_DISRUPT_ANNOTATION = "karpenter.sh/do-not-disrupt";

/** Defaults, in one place. */
export const KARPENTER_DEFAULTS = {
    /** A node is replaced after this long (new AMI, fresh kernel), whatever its load. */
    expireAfter: "720h",
    /** At most this many nodes of a pool are disrupted voluntarily at once. */
    disruptionBudget: "1",
    /** Instance types a spot pool needs at least, so spot finds capacity somewhere. */
    minSpotInstanceTypes: 2,
    controllerReplicas: 2,
} as const;

/** The EventBridge rules that feed the interruption queue, as upstream defines them. */
export const INTERRUPTION_RULES = [
    { name: "health", source: "aws.health", detailType: "AWS Health Event" },
    { name: "spot", source: "aws.ec2", detailType: "EC2 Spot Instance Interruption Warning" },
    { name: "rebalance", source: "aws.ec2", detailType: "EC2 Instance Rebalance Recommendation" },
    { name: "state", source: "aws.ec2", detailType: "EC2 Instance State-change Notification" },
] as const;

export interface ControllerPolicyArgs {
    partition: string;
    region: string;
    accountId: string;
    clusterName: string;
    clusterArn: string;
    queueArn: string;
    nodeRoleArn: string;
}

/**
 * The controller's permissions, scoped as upstream's template scopes them: launches and deletions only of resources
 * tagged for this cluster and a NodePool, reads limited to the region, the queue and the node role by ARN, instance
 * profiles only with this cluster's tags. Pure.
 */
export function karpenterControllerPolicy(a: ControllerPolicyArgs): PolicyDocument {
    const ec2 = (type: string, account = "*") => `arn:${a.partition}:ec2:${a.region}:${account}:${type}/*`;
    const owned = `kubernetes.io/cluster/${a.clusterName}`;
    const launched = [ec2("fleet"), ec2("instance"), ec2("volume"), ec2("network-interface"), ec2("launch-template")];
    return policyDocument(
        {
            Sid: "AllowScopedEC2InstanceActions",
            Effect: "Allow",
            Action: ["ec2:RunInstances", "ec2:CreateFleet"],
            Resource: [ec2("image", ""), ec2("snapshot", ""), ec2("spot-instances-request"), ec2("security-group"), ec2("subnet"), ec2("launch-template")],
        },
        {
            Sid: "AllowScopedEC2InstanceActionsWithTags",
            Effect: "Allow",
            Action: ["ec2:RunInstances", "ec2:CreateFleet", "ec2:CreateLaunchTemplate"],
            Resource: launched,
            Condition: { StringEquals: { [`aws:RequestTag/${owned}`]: "owned" }, StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" } },
        },
        {
            Sid: "AllowScopedResourceCreationTagging",
            Effect: "Allow",
            Action: "ec2:CreateTags",
            Resource: launched,
            Condition: {
                StringEquals: { [`aws:RequestTag/${owned}`]: "owned", "ec2:CreateAction": ["RunInstances", "CreateFleet", "CreateLaunchTemplate"] },
                StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" },
            },
        },
        {
            Sid: "AllowScopedResourceTagging",
            Effect: "Allow",
            Action: "ec2:CreateTags",
            Resource: ec2("instance"),
            Condition: {
                StringEquals: { [`aws:ResourceTag/${owned}`]: "owned" },
                StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" },
                "ForAllValues:StringEquals": { "aws:TagKeys": ["karpenter.sh/nodeclaim", "Name"] },
            },
        },
        {
            Sid: "AllowScopedDeletion",
            Effect: "Allow",
            Action: ["ec2:TerminateInstances", "ec2:DeleteLaunchTemplate"],
            Resource: [ec2("instance"), ec2("launch-template")],
            Condition: { StringEquals: { [`aws:ResourceTag/${owned}`]: "owned" }, StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } },
        },
        {
            Sid: "AllowRegionalReadActions",
            Effect: "Allow",
            Action: [
                "ec2:DescribeAvailabilityZones",
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeInstanceTypeOfferings",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplates",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeSpotPriceHistory",
                "ec2:DescribeSubnets",
            ],
            // Describe calls have no resource-level permissions; the region condition is their scope.
            Resource: "*",
            Condition: { StringEquals: { "aws:RequestedRegion": a.region } },
        },
        { Sid: "AllowSSMReadActions", Effect: "Allow", Action: "ssm:GetParameter", Resource: `arn:${a.partition}:ssm:${a.region}::parameter/aws/service/*` },
        // The Price List API has no resources.
        { Sid: "AllowPricingReadActions", Effect: "Allow", Action: "pricing:GetProducts", Resource: "*" },
        {
            Sid: "AllowInterruptionQueueActions",
            Effect: "Allow",
            Action: ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ReceiveMessage"],
            Resource: a.queueArn,
        },
        {
            Sid: "AllowPassingInstanceRole",
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: a.nodeRoleArn,
            Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } },
        },
        {
            Sid: "AllowScopedInstanceProfileCreationActions",
            Effect: "Allow",
            Action: "iam:CreateInstanceProfile",
            // Instance profiles Karpenter creates have generated names: the tags are the scope.
            Resource: `arn:${a.partition}:iam::${a.accountId}:instance-profile/*`,
            Condition: {
                StringEquals: { [`aws:RequestTag/${owned}`]: "owned", "aws:RequestTag/topology.kubernetes.io/region": a.region },
                StringLike: { "aws:RequestTag/karpenter.sh/nodeclass": "*" },
            },
        },
        {
            Sid: "AllowScopedInstanceProfileTagActions",
            Effect: "Allow",
            Action: "iam:TagInstanceProfile",
            Resource: `arn:${a.partition}:iam::${a.accountId}:instance-profile/*`,
            Condition: {
                StringEquals: {
                    [`aws:ResourceTag/${owned}`]: "owned",
                    "aws:ResourceTag/topology.kubernetes.io/region": a.region,
                    [`aws:RequestTag/${owned}`]: "owned",
                    "aws:RequestTag/topology.kubernetes.io/region": a.region,
                },
                StringLike: { "aws:ResourceTag/karpenter.sh/nodeclass": "*", "aws:RequestTag/karpenter.sh/nodeclass": "*" },
            },
        },
        {
            Sid: "AllowScopedInstanceProfileActions",
            Effect: "Allow",
            Action: ["iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
            Resource: `arn:${a.partition}:iam::${a.accountId}:instance-profile/*`,
            Condition: {
                StringEquals: { [`aws:ResourceTag/${owned}`]: "owned", "aws:ResourceTag/topology.kubernetes.io/region": a.region },
                StringLike: { "aws:ResourceTag/karpenter.sh/nodeclass": "*" },
            },
        },
        { Sid: "AllowInstanceProfileReadActions", Effect: "Allow", Action: "iam:GetInstanceProfile", Resource: `arn:${a.partition}:iam::${a.accountId}:instance-profile/*` },
        { Sid: "AllowAPIServerEndpointDiscovery", Effect: "Allow", Action: "eks:DescribeCluster", Resource: a.clusterArn },
    );
}

/** The interruption queue's policy: EventBridge (and SQS) may send to it, nothing else; HTTPS only. Pure. */
export function interruptionQueuePolicy(queueArn: string): PolicyDocument {
    return policyDocument(
        { Sid: "EventBridgeSends", Effect: "Allow", Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] }, Action: "sqs:SendMessage", Resource: queueArn },
        { Sid: "DenyPlainHttp", Effect: "Deny", Principal: { AWS: "*" }, Action: "sqs:*", Resource: queueArn, Condition: { Bool: { "aws:SecureTransport": "false" } } },
    );
}

/** A GPU pool as Karpenter gets it: a shape from `gpuNodeGroups`. */
export interface KarpenterPoolShape {
    name: string;
    instanceTypes: string[];
    /** GPUs per node of every listed type. */
    gpusPerNode: number;
    /** Nodes the pool may run at most: the `nvidia.com/gpu` limit is this times `gpusPerNode`. */
    maxSize: number;
    capacityType: "ON_DEMAND" | "SPOT";
    arch: "amd64" | "arm64";
    labels: Record<string, string>;
}

export interface NodePoolOptions {
    nodeClassName: string;
    /** How long an empty or underused node waits before consolidation (`scaleDownDelay`). */
    consolidateAfter: string;
    expireAfter?: string;
}

/**
 * A NodePool for one GPU shape: NVIDIA instances of the listed types with exactly `gpusPerNode` GPUs, the GPU taint
 * and labels, a `nvidia.com/gpu` limit of `maxSize * gpusPerNode` (one node of the shape always fits below it: a
 * tighter limit counts the next node's GPUs and blocks it, karpenter#8068), consolidation when empty or underused
 * after `consolidateAfter`, one node disrupted at a time, nodes replaced after `expireAfter`. A SPOT pool allows spot
 * and on-demand: Karpenter launches spot while it has capacity and falls back to on-demand. Pure.
 */
export function nodePoolSpec(shape: KarpenterPoolShape, opts: NodePoolOptions): Record<string, unknown> {
    return {
        template: {
            metadata: { labels: { ...shape.labels } },
            spec: {
                nodeClassRef: { group: "karpenter.k8s.aws", kind: "EC2NodeClass", name: opts.nodeClassName },
                taints: [{ key: GPU_TAINT_KEY, value: GPU_TAINT_VALUE, effect: GPU_TAINT_EFFECT }],
                requirements: [
                    { key: "karpenter.k8s.aws/instance-gpu-manufacturer", operator: "In", values: ["nvidia"] },
                    { key: "karpenter.k8s.aws/instance-gpu-count", operator: "In", values: [String(shape.gpusPerNode)] },
                    { key: "node.kubernetes.io/instance-type", operator: "In", values: [...shape.instanceTypes] },
                    { key: "kubernetes.io/arch", operator: "In", values: [shape.arch] },
                    { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
                    { key: "karpenter.sh/capacity-type", operator: "In", values: shape.capacityType === "SPOT" ? ["spot", "on-demand"] : ["on-demand"] },
                ],
                expireAfter: opts.expireAfter ?? KARPENTER_DEFAULTS.expireAfter,
            },
        },
        limits: { [GPU_RESOURCE]: String(shape.maxSize * shape.gpusPerNode) },
        disruption: {
            consolidationPolicy: "WhenEmptyOrUnderutilized",
            consolidateAfter: opts.consolidateAfter,
            budgets: [{ nodes: KARPENTER_DEFAULTS.disruptionBudget }],
        },
    };
}

export interface NodeClassOptions {
    /** Name of the node role (EC2NodeClass `role`; Karpenter makes the instance profile). */
    nodeRoleName: string;
    subnetIds: string[];
    securityGroupIds: string[];
    /** Root volume size: model images are large. */
    diskSizeGb: number;
    /** KMS key of the root volume; the account's EBS default when omitted. */
    volumeKmsKeyId?: string;
    tags: Record<string, string>;
}

/**
 * The EC2NodeClass of the GPU pools: AL2023 pinned to a dated AMI release, IMDSv2 only with hop limit 1 (pods cannot
 * reach the node role), an encrypted gp3 root sized for model images, instance-store NVMe assembled as RAID0 for
 * kubelet and containerd where the type has it, subnets and security groups by ID. Pure.
 */
export function ec2NodeClassSpec(o: NodeClassOptions): Record<string, unknown> {
    return {
        role: o.nodeRoleName,
        amiSelectorTerms: [{ alias: KARPENTER_AMI_ALIAS }],
        subnetSelectorTerms: o.subnetIds.map((id) => ({ id })),
        securityGroupSelectorTerms: o.securityGroupIds.map((id) => ({ id })),
        metadataOptions: { httpEndpoint: "enabled", httpProtocolIPv6: "disabled", httpPutResponseHopLimit: 1, httpTokens: "required" },
        blockDeviceMappings: [
            {
                deviceName: "/dev/xvda",
                ebs: { volumeSize: `${o.diskSizeGb}Gi`, volumeType: "gp3", encrypted: true, deleteOnTermination: true, ...(o.volumeKmsKeyId ? { kmsKeyID: o.volumeKmsKeyId } : {}) },
            },
        ],
        instanceStorePolicy: "RAID0",
        tags: { ...o.tags },
    };
}

/** Helm values of the controller: this cluster, its queue, IRSA, on the system nodes, two replicas. Pure (inputs pass through). */
export function karpenterValues<T>(args: { clusterName: T; queueName: T; roleArn: T }): Record<string, unknown> {
    return {
        settings: { clusterName: args.clusterName, interruptionQueue: args.queueName },
        serviceAccount: { create: true, name: KARPENTER_SERVICE_ACCOUNT, annotations: { "eks.amazonaws.com/role-arn": args.roleArn } },
        replicas: KARPENTER_DEFAULTS.controllerReplicas,
        nodeSelector: systemNodeSelector(),
        // Karpenter must never run on nodes it manages: it would consolidate itself away.
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "karpenter.sh/nodepool", operator: "DoesNotExist" }] }] } } },
        podDisruptionBudget: { name: "karpenter", maxUnavailable: 1 },
    };
}

/** `karpenter.sh/do-not-disrupt` for an inference pod: a duration covering its model load (Karpenter's duration form). Pure. */
export function doNotDisruptValue(startupSeconds: number): string {
    return `${Math.ceil(startupSeconds / 60)}m`;
}

/** Problems of a pool for Karpenter, as `[field, problem]`. Pure. */
export function karpenterPoolProblems(shape: KarpenterPoolShape, field: string): [string, string][] {
    const out: [string, string][] = [];
    if (shape.capacityType === "SPOT" && shape.instanceTypes.length < KARPENTER_DEFAULTS.minSpotInstanceTypes)
        out.push([`${field}.instanceTypes`, `lists ${shape.instanceTypes.length} type for a SPOT pool: give at least ${KARPENTER_DEFAULTS.minSpotInstanceTypes} (e.g. g6.xlarge and g6.2xlarge) so spot finds capacity; on-demand remains the fallback`]);
    return out;
}

/** The AWS children of {@link installKarpenter} that Pulumi autonames, for the component's name budget. Pure. */
export function karpenterAutonamedChildren(name: string): { type: string; logicalName: string }[] {
    const n = `${name}-kp`;
    return [
        { type: "aws:iam/role:Role", logicalName: `${n}-node` },
        { type: "aws:iam/role:Role", logicalName: `${n}-ctl` },
        { type: "aws:iam/rolePolicy:RolePolicy", logicalName: `${n}-node-pull` },
        { type: "aws:iam/rolePolicy:RolePolicy", logicalName: `${n}-ctl` },
        { type: "aws:sqs/queue:Queue", logicalName: `${n}-irq` },
        ...INTERRUPTION_RULES.map((r) => ({ type: "aws:cloudwatch/eventRule:EventRule", logicalName: `${n}-${r.name}` })),
    ];
}

/**
 * What {@link installKarpenter} builds on: the cluster a capacity strategy gets (children named `${name}-kp-...`,
 * `dependsOn` the system node group the controller runs on), plus what launching nodes needs.
 */
export interface KarpenterContext extends Omit<CapacityContext, "kubernetesVersion" | "region"> {
    partition: pulumi.Input<string>;
    region: pulumi.Input<string>;
    accountId: pulumi.Input<string>;
    subnetIds: pulumi.Input<pulumi.Input<string>[]>;
    /** The cluster security group, which EKS managed nodes get too. */
    securityGroupIds: pulumi.Input<string>[];
    /** The node role's image-pull policy (the same repositories the managed nodes may pull). */
    imagePullPolicy: pulumi.Input<string>;
    /** Root volume size of GPU nodes and its KMS key. */
    diskSizeGb: number;
    volumeKmsKeyId?: pulumi.Input<string>;
    consolidateAfter: string;
}

/** What Karpenter's installation created, for the component's outputs and for extending. */
export interface KarpenterResources {
    nodeRole: aws.iam.Role;
    controllerRole: aws.iam.Role;
    queue: aws.sqs.Queue;
    crds: k8s.helm.v3.Release;
    controller: k8s.helm.v3.Release;
    nodeClass: k8s.apiextensions.CustomResource;
    nodePools: Record<string, k8s.apiextensions.CustomResource>;
}

/**
 * Installs Karpenter for a cluster and declares its GPU pools: node role with its EC2_LINUX access entry, the
 * interruption queue (SSE, HTTPS only) with upstream's four EventBridge rules, the controller's IRSA role and policy,
 * the CRD chart then the controller chart on the system nodes, one EC2NodeClass and a NodePool per shape.
 */
export function installKarpenter(ctx: KarpenterContext, pools: KarpenterPoolShape[]): KarpenterResources {
    // Short: IAM role and EventBridge rule names hold 64 characters with Pulumi's 8-character suffix (karpenterAutonamedChildren).
    const n = `${ctx.name}-kp`;
    const opts = { parent: ctx.parent };

    // Nodes: their own role (not the managed groups', whose access entry EKS owns), worker policy and scoped pulls only.
    const nodeRole = new aws.iam.Role(
        `${n}-node`,
        {
            description: "GPU nodes launched by Karpenter: kubelet and image pulls only (VPC CNI permissions live on aws-node's IRSA role)",
            assumeRolePolicy: JSON.stringify(policyDocument({ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" })),
            tags: ctx.tags,
        },
        opts,
    );
    const workerPolicy = new aws.iam.RolePolicyAttachment(
        `${n}-node-worker`,
        { role: nodeRole.name, policyArn: pulumi.interpolate`arn:${ctx.partition}:iam::aws:policy/AmazonEKSWorkerNodePolicy` },
        opts,
    );
    const pullPolicy = new aws.iam.RolePolicy(`${n}-node-pull`, { role: nodeRole.name, policy: ctx.imagePullPolicy }, opts);
    const accessEntry = new aws.eks.AccessEntry(`${n}-node`, { clusterName: ctx.clusterName, principalArn: nodeRole.arn, type: "EC2_LINUX", tags: ctx.tags }, opts);

    // Interruptions: spot warnings, rebalance, state changes and scheduled maintenance reach Karpenter before the node goes.
    const queue = new aws.sqs.Queue(`${n}-irq`, { messageRetentionSeconds: 300, sqsManagedSseEnabled: true, tags: ctx.tags }, opts);
    const queuePolicy = new aws.sqs.QueuePolicy(`${n}-irq`, { queueUrl: queue.url, policy: queue.arn.apply((arn) => JSON.stringify(interruptionQueuePolicy(arn))) }, opts);
    const targets = INTERRUPTION_RULES.map((r) => {
        const rule = new aws.cloudwatch.EventRule(
            `${n}-${r.name}`,
            { description: `${r.detailType} -> Karpenter's interruption queue`, eventPattern: JSON.stringify({ source: [r.source], "detail-type": [r.detailType] }), tags: ctx.tags },
            opts,
        );
        return new aws.cloudwatch.EventTarget(`${n}-${r.name}`, { rule: rule.name, arn: queue.arn }, { ...opts, dependsOn: [queuePolicy] });
    });

    // The controller: IRSA, scoped as upstream's template, to this cluster's tags, this queue and this node role.
    const controllerRole = new aws.iam.Role(
        `${n}-ctl`,
        {
            description: "Karpenter's controller (IRSA): launches and ends this cluster's nodes only",
            assumeRolePolicy: irsaTrustPolicy({ oidcProviderArn: ctx.oidcProviderArn, oidcProviderUrl: ctx.oidcProviderUrl, namespace: KARPENTER_NAMESPACE, serviceAccount: KARPENTER_SERVICE_ACCOUNT }),
            tags: ctx.tags,
        },
        opts,
    );
    const controllerPolicy = new aws.iam.RolePolicy(
        `${n}-ctl`,
        {
            role: controllerRole.name,
            policy: pulumi
                .all([ctx.partition, ctx.region, ctx.accountId, ctx.clusterName, ctx.clusterArn, queue.arn, nodeRole.arn])
                .apply(([partition, region, accountId, clusterName, clusterArn, queueArn, nodeRoleArn]) =>
                    JSON.stringify(karpenterControllerPolicy({ partition, region, accountId, clusterName, clusterArn, queueArn, nodeRoleArn })),
                ),
        },
        opts,
    );

    const onCluster = { parent: ctx.parent, provider: ctx.provider };
    // CRDs from their own chart, so that an upgrade updates them (Helm never upgrades a chart's crds/ directory).
    const crds = new k8s.helm.v3.Release(
        `${n}-crd`,
        { name: "karpenter-crd", chart: KARPENTER_CHARTS.crd.chart, version: KARPENTER_CHARTS.crd.version, namespace: KARPENTER_NAMESPACE, atomic: true },
        { ...onCluster, dependsOn: ctx.dependsOn },
    );
    const controller = new k8s.helm.v3.Release(
        n,
        {
            name: "karpenter",
            chart: KARPENTER_CHARTS.controller.chart,
            version: KARPENTER_CHARTS.controller.version,
            namespace: KARPENTER_NAMESPACE,
            skipCrds: true,
            atomic: true,
            values: karpenterValues({ clusterName: ctx.clusterName, queueName: queue.name, roleArn: controllerRole.arn }),
        },
        { ...onCluster, dependsOn: [...ctx.dependsOn, crds, controllerPolicy, ...targets] },
    );

    const nodeClassName = "modelship-gpu";
    const nodeClass = new k8s.apiextensions.CustomResource(
        `${n}-gpu-nodeclass`,
        {
            apiVersion: NODE_CLASS_API,
            kind: "EC2NodeClass",
            metadata: { name: nodeClassName },
            spec: pulumi
                .all([nodeRole.name, ctx.subnetIds, pulumi.all(ctx.securityGroupIds), ctx.volumeKmsKeyId])
                .apply(([nodeRoleName, subnetIds, securityGroupIds, volumeKmsKeyId]) =>
                    ec2NodeClassSpec({ nodeRoleName, subnetIds, securityGroupIds, diskSizeGb: ctx.diskSizeGb, volumeKmsKeyId, tags: ctx.tags }),
                ),
        },
        // Nodes it launches must be able to join: the access entry and the role's policies exist first.
        { ...onCluster, dependsOn: [crds, controller, accessEntry, workerPolicy, pullPolicy] },
    );
    const nodePools: Record<string, k8s.apiextensions.CustomResource> = {};
    for (const pool of pools) {
        nodePools[pool.name] = new k8s.apiextensions.CustomResource(
            `${n}-gpu-${pool.name}`,
            {
                apiVersion: NODE_POOL_API,
                kind: "NodePool",
                metadata: { name: `gpu-${pool.name}` },
                spec: nodePoolSpec(pool, { nodeClassName, consolidateAfter: ctx.consolidateAfter }),
            },
            { ...onCluster, dependsOn: [crds, controller, nodeClass] },
        );
    }
    return { nodeRole, controllerRole, queue, crds, controller, nodeClass, nodePools };
}
