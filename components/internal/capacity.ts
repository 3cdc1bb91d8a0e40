/**
 * How a `GpuCluster` gets GPU capacity when pods ask for it. The component creates the GPU node groups; a capacity
 * strategy decides who sizes them and installs what does the sizing. `ClusterAutoscalerCapacity` is the one strategy
 * today; a Karpenter strategy would implement the same interface (installing Karpenter and its NodePools instead of
 * tagging ASGs) without the component's constructor changing shape.
 */
import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy, policyDocument, type PolicyDocument } from "./iam";
import { GPU_CLUSTER_CHARTS, systemNodeSelector } from "./gpu-addons";
import { GPU_RESOURCE } from "./gpu-constants";
import { pinnedRelease } from "./helm";

/** What a strategy may build on: the cluster, its identity provider and where its children go. */
export interface CapacityContext {
    /** The component's name; children are named `${name}-...`. */
    name: string;
    /** The component; every child is parented to it. */
    parent: pulumi.Resource;
    /** Kubernetes provider for the cluster. */
    provider: k8s.Provider;
    clusterName: pulumi.Output<string>;
    clusterArn: pulumi.Output<string>;
    oidcProviderArn: pulumi.Output<string>;
    oidcProviderUrl: pulumi.Output<string>;
    region: pulumi.Output<string>;
    /** Kubernetes minor version of the control plane, e.g. "1.33". */
    kubernetesVersion: string;
    /** AWS tags for the strategy's AWS resources. */
    tags: Record<string, string>;
    /** What in-cluster controllers must wait for (the system node group they run on). */
    dependsOn: pulumi.Resource[];
}

/** A GPU node group as a scheduler sees it: what a node of it will look like before one exists. */
export interface GpuNodeGroupShape {
    /** The group's name from the args. */
    name: string;
    /** Kubernetes labels on its nodes. */
    labels: Record<string, string>;
    /** Taints on its nodes, Kubernetes spelling of the effect. */
    taints: { key: string; value: string; effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute" }[];
    /** GPUs per node. */
    gpusPerNode: number;
    /** A spot group (with an on-demand twin): the strategy should prefer it. Default false. */
    spot?: boolean;
}

/** A way of scaling GPU capacity. */
export interface GpuCapacityStrategy {
    /** Short name, shown in docs and outputs. */
    readonly kind: string;
    /** True when the strategy changes node-group sizes at run time, so Pulumi must not reset them. */
    readonly ownsNodeGroupSize: boolean;
    /** Called once per GPU node group, with the name of the group's Auto Scaling group. */
    addNodeGroup(ctx: CapacityContext, shape: GpuNodeGroupShape, autoscalingGroupName: pulumi.Output<string>): void;
    /** Installs whatever does the scaling. Called once, after every node group was added. */
    install(ctx: CapacityContext): void;
}

// ---- cluster-autoscaler --------------------------------------------------------------------------------------------

export const CLUSTER_AUTOSCALER_NAMESPACE = "kube-system";
export const CLUSTER_AUTOSCALER_SERVICE_ACCOUNT = "cluster-autoscaler";
/** The tag prefix cluster-autoscaler reads a node template from when a group has no node to copy. */
export const NODE_TEMPLATE_TAG_PREFIX = "k8s.io/cluster-autoscaler/node-template";

/**
 * The tag EKS puts on every managed node group's Auto Scaling group, with the value "owned" (next to
 * `k8s.io/cluster-autoscaler/enabled`), which auto-discovery and the IAM condition both rely on.
 */
export function clusterOwnershipTagKey(clusterName: string): string {
    return `k8s.io/cluster-autoscaler/${clusterName}`;
}

/** Auto Scaling tag limits: keys of at most 128 characters, values of at most 256. */
export const ASG_TAG_KEY_MAX = 128;
export const ASG_TAG_VALUE_MAX = 256;

/** The node-template tag key cluster-autoscaler reads for one resource, label or taint key. Pure. */
export function nodeTemplateTagKey(kind: "resources" | "label" | "taint", key: string): string {
    return `${NODE_TEMPLATE_TAG_PREFIX}/${kind}/${key}`;
}

/**
 * ASG tags that describe a node of the group to cluster-autoscaler, so that a pending GPU pod scales a group up from
 * zero: its GPUs (`resources/`), labels (`label/`) and taints (`taint/`, written `value:Effect`).
 */
export function nodeTemplateTags(shape: GpuNodeGroupShape): Record<string, string> {
    const tags: Record<string, string> = { [nodeTemplateTagKey("resources", GPU_RESOURCE)]: String(shape.gpusPerNode) };
    for (const [key, value] of Object.entries(shape.labels)) tags[nodeTemplateTagKey("label", key)] = value;
    for (const t of shape.taints) tags[nodeTemplateTagKey("taint", t.key)] = `${t.value}:${t.effect}`;
    return tags;
}

/**
 * The node-template tags of a group that Auto Scaling would refuse (key over 128 characters, value over 256), each
 * said as a problem naming the label or taint and the most its key may have. Pure.
 */
export function nodeTemplateTagProblems(shape: Pick<GpuNodeGroupShape, "labels" | "taints">): string[] {
    const problems: string[] = [];
    const check = (kind: "label" | "taint", key: string, value: string) => {
        const tagKey = nodeTemplateTagKey(kind, key);
        const keyMax = ASG_TAG_KEY_MAX - nodeTemplateTagKey(kind, "").length;
        if (tagKey.length > ASG_TAG_KEY_MAX)
            problems.push(
                `${kind} "${key}" (${key.length} characters) makes the autoscaler tag "${tagKey}" longer than Auto Scaling's ${ASG_TAG_KEY_MAX} characters: ` +
                    `use a ${kind} key of at most ${keyMax} characters`,
            );
        if (value.length > ASG_TAG_VALUE_MAX)
            problems.push(`${kind} "${key}" has a value of ${value.length} characters; its autoscaler tag may hold at most ${ASG_TAG_VALUE_MAX}: shorten it`);
    };
    for (const [key, value] of Object.entries(shape.labels)) check("label", key, value);
    for (const t of shape.taints) check("taint", t.key, `${t.value}:${t.effect}`);
    return problems;
}

/** `arn:...:cluster/NAME` -> `arn:...:nodegroup/NAME/*\/*`, the node groups of that cluster only. */
export function nodegroupArnPattern(clusterArn: string): string {
    return `${clusterArn.replace(":cluster/", ":nodegroup/")}/*/*`;
}

/**
 * cluster-autoscaler's permissions. Describe calls do not support resource-level permissions and get `*`; the two
 * mutating calls are limited to Auto Scaling groups tagged as owned by this cluster.
 */
export function clusterAutoscalerPolicy(clusterName: string, clusterArn: string): PolicyDocument {
    return policyDocument(
        {
            Sid: "DiscoverGroupsAndInstanceTypes",
            Effect: "Allow",
            Action: [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
            ],
            Resource: "*",
        },
        { Sid: "DescribeThisClustersNodegroups", Effect: "Allow", Action: "eks:DescribeNodegroup", Resource: nodegroupArnPattern(clusterArn) },
        {
            Sid: "ScaleThisClustersGroupsOnly",
            Effect: "Allow",
            Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
            Resource: "*",
            Condition: { StringEquals: { [`aws:ResourceTag/${clusterOwnershipTagKey(clusterName)}`]: "owned" } },
        },
    );
}

/** Minor versions whose first cluster-autoscaler release is not `.0`. */
const CLUSTER_AUTOSCALER_FIRST_PATCH: Readonly<Record<string, number>> = { "1.27": 1 };

/** cluster-autoscaler's image tag: its minor version must match the control plane's (first release of that minor). */
export function clusterAutoscalerImageTag(kubernetesVersion: string): string {
    return `v${kubernetesVersion}.${CLUSTER_AUTOSCALER_FIRST_PATCH[kubernetesVersion] ?? 0}`;
}

export interface ClusterAutoscalerOptions {
    /** How long a GPU node must sit idle before it is removed (`10m`, `1h`). */
    scaleDownDelay: string;
}

/**
 * The priority expander's tiers: the spot groups' Auto Scaling groups, by exact name, first; every other group (the
 * on-demand twins among them) after them. A group matching several tiers gets the highest; ties fall through to
 * least-waste. Pure.
 */
export function spotFirstPriorities(spotAsgNames: string[]): Record<number, string[]> {
    return { 50: spotAsgNames.map((n) => `^${n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`), 10: [".*"] };
}

/** Helm values for cluster-autoscaler. Inputs may be Outputs; the release resolves them. */
export function clusterAutoscalerValues(args: {
    clusterName: pulumi.Input<string>;
    region: pulumi.Input<string>;
    roleArn: pulumi.Input<string>;
    kubernetesVersion: string;
    scaleDownDelay: string;
    /** The spot groups' ASG names: when any, the priority expander prefers them. */
    spotAsgNames?: pulumi.Input<string[]>;
}): Record<string, unknown> {
    const delay = args.scaleDownDelay;
    const spot = args.spotAsgNames;
    return {
        // Spot first, on-demand when spot has no capacity: the chart writes these tiers into the priority expander's ConfigMap.
        ...(spot !== undefined ? { expanderPriorities: pulumi.output(spot).apply(spotFirstPriorities) } : {}),
        cloudProvider: "aws",
        awsRegion: args.region,
        autoDiscovery: { clusterName: args.clusterName },
        image: { tag: clusterAutoscalerImageTag(args.kubernetesVersion) },
        rbac: {
            serviceAccount: {
                create: true,
                name: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
                annotations: { "eks.amazonaws.com/role-arn": args.roleArn },
            },
        },
        extraArgs: {
            "scale-down-unneeded-time": delay,
            "scale-down-delay-after-add": delay,
            expander: spot !== undefined ? "priority,least-waste" : "least-waste",
            "balance-similar-node-groups": true,
            // DaemonSet pods never block scale-down; this lets other kube-system pods (metrics-server, CoreDNS replicas
            // that land on a GPU node) be moved, so they do not keep an idle GPU node alive.
            "skip-nodes-with-system-pods": false,
        },
        nodeSelector: systemNodeSelector(),
    };
}

/** A valid Pulumi name fragment from a tag key (`label/modelship.dev/gpu-model` -> `label-modelship-dev-gpu-model`). */
function slug(value: string): string {
    return value.replace(/[^a-zA-Z0-9]+/g, "-").replace(/^-|-$/g, "").toLowerCase();
}

/** Scale-from-zero with the Kubernetes cluster-autoscaler, discovering the managed node groups' ASGs by tag. */
export class ClusterAutoscalerCapacity implements GpuCapacityStrategy {
    readonly kind = "cluster-autoscaler";
    readonly ownsNodeGroupSize = true;
    private readonly spotAsgNames: pulumi.Output<string>[] = [];

    constructor(private readonly options: ClusterAutoscalerOptions) {}

    addNodeGroup(ctx: CapacityContext, shape: GpuNodeGroupShape, autoscalingGroupName: pulumi.Output<string>): void {
        if (shape.spot) this.spotAsgNames.push(autoscalingGroupName);
        // Managed node groups do not copy labels and taints to their ASG; without these tags an empty group is invisible.
        for (const [key, value] of Object.entries(nodeTemplateTags(shape))) {
            new aws.autoscaling.Tag(
                `${ctx.name}-gpu-${shape.name}-ca-${slug(key.slice(NODE_TEMPLATE_TAG_PREFIX.length))}`,
                { autoscalingGroupName, tag: { key, value, propagateAtLaunch: false } },
                { parent: ctx.parent },
            );
        }
    }

    install(ctx: CapacityContext): void {
        const role = new aws.iam.Role(
            `${ctx.name}-cluster-autoscaler`,
            {
                description: "cluster-autoscaler (IRSA): scales this cluster's node groups only",
                assumeRolePolicy: irsaTrustPolicy({
                    oidcProviderArn: ctx.oidcProviderArn,
                    oidcProviderUrl: ctx.oidcProviderUrl,
                    namespace: CLUSTER_AUTOSCALER_NAMESPACE,
                    serviceAccount: CLUSTER_AUTOSCALER_SERVICE_ACCOUNT,
                }),
                tags: ctx.tags,
            },
            { parent: ctx.parent },
        );
        const policy = new aws.iam.RolePolicy(
            `${ctx.name}-cluster-autoscaler`,
            {
                role: role.name,
                policy: pulumi.all([ctx.clusterName, ctx.clusterArn]).apply(([n, arn]) => JSON.stringify(clusterAutoscalerPolicy(n, arn))),
            },
            { parent: ctx.parent },
        );
        const chart = GPU_CLUSTER_CHARTS.clusterAutoscaler;
        pinnedRelease(
            `${ctx.name}-cluster-autoscaler`,
            chart,
            {
                name: "cluster-autoscaler",
                namespace: CLUSTER_AUTOSCALER_NAMESPACE,
                values: clusterAutoscalerValues({
                    clusterName: ctx.clusterName,
                    region: ctx.region,
                    roleArn: role.arn,
                    kubernetesVersion: ctx.kubernetesVersion,
                    scaleDownDelay: this.options.scaleDownDelay,
                    spotAsgNames: this.spotAsgNames.length > 0 ? pulumi.all(this.spotAsgNames) : undefined,
                }),
            },
            { parent: ctx.parent, provider: ctx.provider, dependsOn: [...ctx.dependsOn, policy] },
        );
    }
}
