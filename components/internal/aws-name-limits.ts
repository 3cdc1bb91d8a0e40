/**
 * How long the physical names of AWS resources may be, by Pulumi type token, and what Pulumi's autonaming adds to a
 * logical name. A name that fits modelship's own rules can still overflow AWS's limit once the suffix is added, and
 * that fails only during `pulumi up`; components check their children's names against this table at construction,
 * and the mock runtime can check every recorded resource against it. Pure: no Pulumi calls.
 */

/**
 * Maximum length of the autonamed physical name (the `name` property, `nodeGroupName` for node groups), from the AWS
 * API references: IAM CreateRole/CreateInstanceProfile/CreatePolicy/PutRolePolicy, EC2 CreateLaunchTemplate and
 * CreateSecurityGroup, EKS CreateNodegroup/CreateCluster, CloudWatch Logs CreateLogGroup, KMS CreateAlias, ECR
 * CreateRepository, Secrets Manager CreateSecret, Auto Scaling CreateAutoScalingGroup.
 */
export const AWS_NAME_LIMITS: Record<string, number> = {
    "aws:iam/role:Role": 64,
    "aws:iam/user:User": 64,
    "aws:iam/instanceProfile:InstanceProfile": 128,
    "aws:iam/policy:Policy": 128,
    "aws:iam/rolePolicy:RolePolicy": 128,
    "aws:ec2/launchTemplate:LaunchTemplate": 128,
    "aws:ec2/securityGroup:SecurityGroup": 255,
    "aws:eks/nodeGroup:NodeGroup": 63,
    "aws:eks/cluster:Cluster": 100,
    "aws:cloudwatch/logGroup:LogGroup": 512,
    "aws:kms/alias:Alias": 256,
    "aws:ecr/repository:Repository": 256,
    "aws:secretsmanager/secret:Secret": 512,
    "aws:autoscaling/group:Group": 255,
    "aws:sqs/queue:Queue": 80,
    "aws:cloudwatch/eventRule:EventRule": 64,
};

/** What Pulumi's default autonaming appends to a logical name: `-` and 7 random hex characters. */
export const AUTONAME_SUFFIX_LENGTH = 8;

/** The longest logical name an autonamed resource of `type` may have, or undefined when the type has no known limit. Pure. */
export function maxLogicalNameLength(type: string): number | undefined {
    const max = AWS_NAME_LIMITS[type];
    return max === undefined ? undefined : max - AUTONAME_SUFFIX_LENGTH;
}

/** One autonamed child a component (or a component it uses) creates, by type and logical name. */
export interface AutonamedChild {
    type: string;
    logicalName: string;
}

/**
 * What is wrong with an autonamed child's logical name, or undefined when `name + suffix` fits the type's limit. The
 * message says by how many characters it overflows, so the caller can say which argument to shorten. Pure.
 */
export function autonameOverflow(child: AutonamedChild): { limit: number; length: number; over: number } | undefined {
    const max = AWS_NAME_LIMITS[child.type];
    if (max === undefined) return undefined;
    const length = child.logicalName.length + AUTONAME_SUFFIX_LENGTH;
    return length > max ? { limit: max, length, over: length - max } : undefined;
}
