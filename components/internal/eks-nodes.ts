/**
 * Launch-template and IAM settings shared by every EKS node group modelship creates. Pure: no Pulumi calls.
 */
import type * as pulumi from "@pulumi/pulumi";
import { type CpuArchitecture, type NodeOsFamily } from "./gpu-instances";
import { ECR_PULL_ACTIONS, policyDocument, type PolicyDocument, type PolicyStatement } from "./iam";

/**
 * Managed policies the node role carries: joining the cluster only. The VPC CNI's permissions go to the aws-node
 * service account (IRSA) and image pulls to {@link nodeImagePullPolicy}, so a pod that reaches the node's credentials
 * can neither rewire pod networking nor read every ECR repository in the account.
 */
export const NODE_ROLE_POLICY_ARNS = ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"] as const;

/** The VPC CNI's permissions for an IPv4 cluster, attached to the aws-node service account's IRSA role. */
export const VPC_CNI_POLICY_ARN = "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy";
/** The VPC CNI's service account, which EKS's vpc-cni add-on creates. */
export const VPC_CNI_NAMESPACE = "kube-system";
export const VPC_CNI_SERVICE_ACCOUNT = "aws-node";

/**
 * What the kubelet may pull from ECR with the node role: an authorization token (no resource-level permission exists
 * for it), the repositories listed in `repositoryArns`, and repositories in other accounts, as far as their repository
 * policies share them: that is how the AWS-owned registries of the EKS add-ons (vpc-cni, kube-proxy, CoreDNS), whose
 * account differs by region, are reached. No other repository of the node's own account is readable.
 */
export function nodeImagePullPolicy(args: { accountId: pulumi.Input<string>; repositoryArns: pulumi.Input<string>[] }): PolicyDocument {
    const statements: PolicyStatement[] = [{ Sid: "EcrAuthorizationToken", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" }];
    if (args.repositoryArns.length > 0) {
        statements.push({ Sid: "PullListedRepositories", Effect: "Allow", Action: ECR_PULL_ACTIONS, Resource: args.repositoryArns });
    }
    statements.push({
        Sid: "PullSharedRepositoriesOfOtherAccounts",
        Effect: "Allow",
        Action: ECR_PULL_ACTIONS,
        Resource: "*",
        Condition: { StringNotEquals: { "aws:ResourceAccount": args.accountId } },
    });
    return policyDocument(...statements);
}

/** The EKS access policy granted to `admins`. */
export const CLUSTER_ADMIN_POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

/**
 * IMDSv2 only, one network hop: pods (one hop further, behind the container network) cannot read the node role's
 * credentials from the metadata service; they get their own through IRSA.
 */
export const IMDSV2_METADATA_OPTIONS = {
    httpEndpoint: "enabled",
    httpTokens: "required",
    httpPutResponseHopLimit: 1,
    instanceMetadataTags: "disabled",
} as const;

export interface NodeBlockDevice {
    deviceName: string;
    ebs: { volumeType: "gp3"; encrypted: "true"; deleteOnTermination: "true"; kmsKeyId: pulumi.Input<string>; volumeSize?: number };
}

/**
 * Encrypted gp3 volumes for a node, with `kmsKeyId` (an explicit key: without it EC2 uses the account's default EBS
 * key, which may be a customer-managed key Auto Scaling cannot use). AL2023 keeps images and containers on its root
 * volume (`/dev/xvda`); Bottlerocket keeps a small OS volume on `/dev/xvda` (left at the AMI's size) and puts them on a
 * data volume, `/dev/xvdb`.
 */
export function nodeBlockDevices(os: NodeOsFamily, diskSizeGb: number, kmsKeyId: pulumi.Input<string>): NodeBlockDevice[] {
    const volume = (volumeSize?: number): NodeBlockDevice["ebs"] => ({
        volumeType: "gp3",
        encrypted: "true",
        deleteOnTermination: "true",
        kmsKeyId,
        ...(volumeSize === undefined ? {} : { volumeSize }),
    });
    if (os === "bottlerocket") {
        return [
            { deviceName: "/dev/xvda", ebs: volume() },
            { deviceName: "/dev/xvdb", ebs: volume(diskSizeGb) },
        ];
    }
    return [{ deviceName: "/dev/xvda", ebs: volume(diskSizeGb) }];
}

/** The standard (CPU) AL2023 AMI type for an architecture, for the system node group. */
export function systemAmiType(arch: CpuArchitecture): "AL2023_x86_64_STANDARD" | "AL2023_ARM_64_STANDARD" {
    return arch === "arm64" ? "AL2023_ARM_64_STANDARD" : "AL2023_x86_64_STANDARD";
}
