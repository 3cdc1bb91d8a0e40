/**
 * EKS and its nodes: secrets encryption, audit logging, endpoint exposure, IMDSv2 with hop limit 1, encrypted volumes.
 * Each rule reads both the AWS resource (`aws:eks/cluster:Cluster`, what a real preview shows as a child of
 * `eks.Cluster`) and the `eks.Cluster` component's own inputs (all a mock-based plan can see of it).
 */
import { arr, bool, obj, resourceRule, str } from "./rule";

export const AWS_EKS_CLUSTER = "aws:eks/cluster:Cluster";
export const EKS_CLUSTER = "eks:index:Cluster";
export const AWS_EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
export const EKS_MANAGED_NODE_GROUP = "eks:index:ManagedNodeGroup";
export const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
export const EC2_INSTANCE = "aws:ec2/instance:Instance";
export const EBS_VOLUME = "aws:ebs/volume:Volume";

/** CIDRs that open an endpoint to the whole internet. */
export const OPEN_CIDRS = ["0.0.0.0/0", "::/0"];

export const eksSecretsEncryption = resourceRule(
    {
        name: "eks-secrets-encryption",
        description: "EKS clusters encrypt Kubernetes secrets with a customer-managed KMS key",
        remediation: 'eks.Cluster: set encryptionConfigKeyArn; aws.eks.Cluster: set encryptionConfig { resources: ["secrets"], provider: { keyArn } } (GpuCluster does both)',
        cis: "5.3.1",
        enforcementLevel: "mandatory",
        severity: "high",
    },
    [AWS_EKS_CLUSTER, EKS_CLUSTER],
    (props, args, report) => {
        if (args.type === EKS_CLUSTER) {
            if (!str(props.encryptionConfigKeyArn)) report("encryptionConfigKeyArn is not set: Kubernetes secrets are not envelope-encrypted");
            return;
        }
        const enc = obj(props.encryptionConfig);
        if (!enc || !arr<string>(enc.resources).includes("secrets") || !str(obj(enc.provider)?.keyArn)) {
            report('encryptionConfig does not encrypt "secrets" with a KMS key');
        }
    },
);

export const eksAuditLogging = resourceRule(
    {
        name: "eks-audit-logging",
        description: "EKS clusters send the audit log (with api and authenticator) to CloudWatch",
        remediation: 'set enabledClusterLogTypes to include "audit" (GpuCluster enables api, audit, authenticator, controllerManager and scheduler)',
        cis: "2.1.1",
        enforcementLevel: "mandatory",
        severity: "high",
    },
    [AWS_EKS_CLUSTER, EKS_CLUSTER],
    (props, _args, report) => {
        const types = arr<string>(props.enabledClusterLogTypes);
        if (!types.includes("audit")) report(`enabledClusterLogTypes is [${types.join(", ")}]: the audit log is off`);
    },
);

export const eksEndpointExposure = resourceRule(
    {
        name: "eks-endpoint-exposure",
        description: "the EKS API endpoint is private, or public only to listed CIDRs (never 0.0.0.0/0)",
        remediation: "set publicAccessCidrs to your deployers' egress CIDRs, or endpointPublicAccess: false with private access (GpuCluster's publicAccessCidrs / endpointAccess)",
        cis: "5.4.1",
        enforcementLevel: "mandatory",
        severity: "critical",
    },
    [AWS_EKS_CLUSTER, EKS_CLUSTER],
    (props, args, report) => {
        const vpc = args.type === EKS_CLUSTER ? props : (obj(props.vpcConfig) ?? {});
        // Both APIs default to a public endpoint open to 0.0.0.0/0.
        if (bool(vpc.endpointPublicAccess) === false) return;
        const cidrs = arr<string>(vpc.publicAccessCidrs);
        if (cidrs.length === 0) report("the public endpoint is on with no publicAccessCidrs, which AWS opens to 0.0.0.0/0");
        else if (cidrs.some((c) => OPEN_CIDRS.includes(c))) report(`publicAccessCidrs includes ${cidrs.filter((c) => OPEN_CIDRS.includes(c)).join(", ")}`);
    },
);

/** Whether an `eks.Cluster` creates its own (self-managed) default node group. Pure. */
export function hasDefaultNodeGroup(props: Record<string, unknown>): boolean {
    return bool(props.skipDefaultNodeGroup) !== true && !props.fargate;
}

export const imdsv2HopLimit = resourceRule(
    {
        name: "ec2-imdsv2-hop-limit",
        description: "nodes require IMDSv2 tokens with a response hop limit of 1, so that pods cannot read the node role's credentials",
        remediation:
            'set metadataOptions { httpTokens: "required", httpPutResponseHopLimit: 1 } on the launch template (GpuCluster\'s node launch templates do); give node groups such a launch template, and eks.Cluster skipDefaultNodeGroup: true',
        enforcementLevel: "mandatory",
        severity: "high",
    },
    [LAUNCH_TEMPLATE, EC2_INSTANCE, AWS_EKS_NODE_GROUP, EKS_MANAGED_NODE_GROUP, EKS_CLUSTER],
    (props, args, report) => {
        if (args.type === EKS_CLUSTER) {
            // Its default node group's launch template is made inside the component, with no hop-limit option.
            if (hasDefaultNodeGroup(props)) report("eks.Cluster creates its default node group, whose IMDS hop limit cannot be set to 1 (skipDefaultNodeGroup is not true)");
            return;
        }
        if (args.type === AWS_EKS_NODE_GROUP || args.type === EKS_MANAGED_NODE_GROUP) {
            // Without a launch template EKS makes its own, with a hop limit of 2.
            if (!obj(props.launchTemplate)) report("the node group has no launch template: EKS's default one allows a hop limit of 2");
            return;
        }
        const md = obj(props.metadataOptions);
        if (str(md?.httpEndpoint) === "disabled") return;
        if (str(md?.httpTokens) !== "required") report(`metadataOptions.httpTokens is ${str(md?.httpTokens) ?? "unset (optional)"}: IMDSv1 is allowed`);
        const hops = md?.httpPutResponseHopLimit;
        if (hops !== 1) report(`metadataOptions.httpPutResponseHopLimit is ${hops ?? "unset (the AMI's default)"}, not 1`);
    },
);

export const encryptedNodeVolumes = resourceRule(
    {
        name: "ec2-encrypted-volumes",
        description: "node and instance EBS volumes are encrypted",
        remediation:
            'set ebs.encrypted: "true" on every blockDeviceMappings entry of the launch template (encrypted: true on volumes and root block devices; eks.Cluster: skipDefaultNodeGroup, or nodeRootVolumeEncrypted: true)',
        enforcementLevel: "mandatory",
        severity: "medium",
    },
    [LAUNCH_TEMPLATE, EC2_INSTANCE, EBS_VOLUME, AWS_EKS_NODE_GROUP, EKS_MANAGED_NODE_GROUP, EKS_CLUSTER],
    (props, args, report) => {
        switch (args.type) {
            case EKS_CLUSTER: {
                const encrypted = bool(props.nodeRootVolumeEncrypted) ?? bool(obj(props.nodeGroupOptions)?.nodeRootVolumeEncrypted);
                if (hasDefaultNodeGroup(props) && encrypted !== true) report("eks.Cluster creates its default node group with unencrypted root volumes (nodeRootVolumeEncrypted is not true)");
                return;
            }
            case LAUNCH_TEMPLATE: {
                const mappings = arr(props.blockDeviceMappings).filter((m) => obj(m.ebs));
                if (mappings.length === 0) report("the launch template maps no EBS volume: the root volume is as the AMI (unencrypted unless the account encrypts by default)");
                for (const m of mappings) if (bool(obj(m.ebs)?.encrypted) !== true) report(`block device ${str(m.deviceName) ?? "?"} is not encrypted`);
                return;
            }
            case EC2_INSTANCE:
                if (bool(obj(props.rootBlockDevice)?.encrypted) !== true) report("rootBlockDevice.encrypted is not true");
                for (const d of arr(props.ebsBlockDevices)) if (bool(d.encrypted) !== true) report(`EBS device ${str(d.deviceName) ?? "?"} is not encrypted`);
                return;
            case EBS_VOLUME:
                if (bool(props.encrypted) !== true) report("encrypted is not true");
                return;
            default:
                if (!obj(props.launchTemplate)) report("the node group has no launch template: its volumes are as the AMI (unencrypted unless the account encrypts by default)");
        }
    },
);

export const eksRules = [eksSecretsEncryption, eksAuditLogging, eksEndpointExposure, imdsv2HopLimit, encryptedNodeVolumes];
