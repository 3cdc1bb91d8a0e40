/**
 * AWS name limits, by Pulumi type token, and the name Pulumi gives a resource whose name input is left out. Shared by
 * the components' validation and by the mock runtime's contract checks (cli/contracts.ts), so that a name that passes
 * our validation but overflows AWS's limit once Pulumi's autoname suffix is added fails a test, not a deploy.
 */

/**
 * Longest name AWS accepts, by resource type (the AWS API references: IAM CreateRole 64, CreatePolicy 128,
 * CreateInstanceProfile 128, PutRolePolicy 128; EKS CreateNodegroup 63, CreateCluster 100; ECR 256; Secrets Manager
 * 512; CloudWatch Logs 512; KMS alias 256; SQS 80; EC2 security group 255, launch template 128; EventBridge rule 64).
 */
export const AWS_NAME_LIMITS: Record<string, number> = {
    "aws:iam/role:Role": 64,
    "aws:iam/policy:Policy": 128,
    "aws:iam/instanceProfile:InstanceProfile": 128,
    "aws:iam/rolePolicy:RolePolicy": 128,
    "aws:eks/nodeGroup:NodeGroup": 63,
    "aws:eks/cluster:Cluster": 100,
    "aws:ecr/repository:Repository": 256,
    "aws:secretsmanager/secret:Secret": 512,
    "aws:cloudwatch/logGroup:LogGroup": 512,
    "aws:kms/alias:Alias": 256,
    "aws:sqs/queue:Queue": 80,
    "aws:ec2/securityGroup:SecurityGroup": 255,
    "aws:ec2/launchTemplate:LaunchTemplate": 128,
    "aws:cloudwatch/eventRule:EventRule": 64,
    "aws:iam/user:User": 64,
    "aws:autoscaling/group:Group": 255,
};

/** The input holding the name (and the prefix alternative) of each type in {@link AWS_NAME_LIMITS}; default `name` / `namePrefix`. */
export const AWS_NAME_INPUTS: Record<string, { name: string; prefix?: string }> = {
    "aws:eks/nodeGroup:NodeGroup": { name: "nodeGroupName", prefix: "nodeGroupNamePrefix" },
    "aws:ecr/repository:Repository": { name: "name" },
    "aws:eks/cluster:Cluster": { name: "name" },
};

/** Pulumi's autoname: the logical name, `-`, and 7 random characters (pulumi-aws). */
export const AWS_AUTONAME_SUFFIX_LENGTH = 8;

/** The Terraform-generated part of a `namePrefix` name: a 26-character timestamp and counter. */
export const AWS_PREFIX_SUFFIX_LENGTH = 26;

/** The name inputs of an AWS type (`name`/`namePrefix` unless listed in {@link AWS_NAME_INPUTS}). Pure. */
export function awsNameInputs(type: string): { name: string; prefix?: string } {
    return AWS_NAME_INPUTS[type] ?? { name: "name", prefix: "namePrefix" };
}

/** Longest logical name a resource of `type` can have when Pulumi autonames it; undefined for an unlisted type. Pure. */
export function maxAutonamedLogicalName(type: string): number | undefined {
    const limit = AWS_NAME_LIMITS[type];
    return limit === undefined ? undefined : limit - AWS_AUTONAME_SUFFIX_LENGTH;
}

/**
 * Length of the name AWS will see for a resource of a listed type: the explicit name, the prefix plus Terraform's
 * suffix, or the logical name plus Pulumi's autoname suffix. Undefined when the name is not a plain string yet. Pure.
 */
export function effectiveAwsNameLength(type: string, logicalName: string, inputs: Record<string, unknown>): { length: number; how: "name" | "prefix" | "autoname" } | undefined {
    const { name, prefix } = awsNameInputs(type);
    const explicit = inputs[name];
    if (explicit !== undefined && explicit !== null) return typeof explicit === "string" ? { length: explicit.length, how: "name" } : undefined;
    const pre = prefix ? inputs[prefix] : undefined;
    if (pre !== undefined && pre !== null) return typeof pre === "string" ? { length: pre.length + AWS_PREFIX_SUFFIX_LENGTH, how: "prefix" } : undefined;
    return { length: logicalName.length + AWS_AUTONAME_SUFFIX_LENGTH, how: "autoname" };
}

/** What Pulumi's default autonaming appends to a logical name: `-` and 7 random hex characters. */
export const AUTONAME_SUFFIX_LENGTH = AWS_AUTONAME_SUFFIX_LENGTH;

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
