/**
 * Launch-template and IAM settings shared by every EKS node group modelship creates. Pure: no Pulumi calls.
 */
import { type CpuArchitecture, type NodeOsFamily } from "./gpu-instances";

/** Managed policies every EKS worker node role needs: join the cluster, run the VPC CNI, pull from ECR. */
export const NODE_ROLE_POLICY_ARNS = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
] as const;

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
    ebs: { volumeType: "gp3"; encrypted: "true"; deleteOnTermination: "true"; volumeSize?: number };
}

/**
 * Encrypted gp3 volumes for a node. AL2023 keeps images and containers on its root volume (`/dev/xvda`); Bottlerocket
 * keeps a small OS volume on `/dev/xvda` (left at the AMI's size) and puts them on a data volume, `/dev/xvdb`.
 */
export function nodeBlockDevices(os: NodeOsFamily, diskSizeGb: number): NodeBlockDevice[] {
    const volume = (volumeSize?: number): NodeBlockDevice["ebs"] => ({
        volumeType: "gp3",
        encrypted: "true",
        deleteOnTermination: "true",
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
