import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, type PolicyDocument, type PolicyStatement } from "./iam";

/** Days a deleted key stays recoverable: AWS's maximum, so a mistaken `pulumi destroy` can be undone. */
export const KMS_DELETION_WINDOW_DAYS = 30;

/**
 * The ARN of the user's key when given, else of a customer-managed key created as `<name>-<suffix>` under `parent`
 * with yearly rotation on, and `policy` as its key policy when given (AWS's default key policy otherwise).
 */
export function keyArnOrCreate(args: {
    given: pulumi.Input<string> | undefined;
    name: string;
    suffix: string;
    description: string;
    tags: Record<string, string>;
    parent: pulumi.Resource;
    policy?: pulumi.Input<string>;
}): pulumi.Output<string> {
    if (args.given !== undefined) return pulumi.output(args.given);
    const key = new aws.kms.Key(
        `${args.name}-${args.suffix}`,
        {
            description: args.description,
            enableKeyRotation: true,
            deletionWindowInDays: KMS_DELETION_WINDOW_DAYS,
            ...(args.policy !== undefined ? { policy: args.policy } : {}),
            tags: args.tags,
        },
        { parent: args.parent },
    );
    return key.arn;
}

/** The statement every key policy here starts with: the account administers the key through IAM. Pure. */
function accountAdministersKey(partition: pulumi.Input<string>, accountId: pulumi.Input<string>): PolicyStatement {
    return { Sid: "AccountAdministersKeyThroughIam", Effect: "Allow", Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" };
}

/**
 * Key policy for a key that encrypts one CloudWatch Logs log group: the account administers the key through IAM (AWS's
 * default statement, without which nobody could manage it), and the regional CloudWatch Logs service may use it only
 * for that log group (the encryption context CloudWatch Logs sends names the log group's ARN).
 */
export function cloudWatchLogsKeyPolicy(args: {
    partition: pulumi.Input<string>;
    accountId: pulumi.Input<string>;
    region: pulumi.Input<string>;
    logGroupArn: pulumi.Input<string>;
}): PolicyDocument {
    return policyDocument(
        accountAdministersKey(args.partition, args.accountId),
        {
            Sid: "CloudWatchLogsEncryptsThisLogGroupOnly",
            Effect: "Allow",
            Principal: { Service: pulumi.interpolate`logs.${args.region}.amazonaws.com` },
            Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            Resource: "*",
            Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": args.logGroupArn } },
        },
    );
}

/** The service-linked role EC2 Auto Scaling launches every managed node group's instances with. */
export function autoScalingServiceLinkedRoleArn(partition: pulumi.Input<string>, accountId: pulumi.Input<string>): pulumi.Output<string> {
    return pulumi.interpolate`arn:${partition}:iam::${accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`;
}

/**
 * Key policy for a key that encrypts node EBS volumes: the account administers it through IAM, and the Auto Scaling
 * service-linked role may use it for volumes and grant it to the instances it launches (the two statements AWS
 * documents for encrypted volumes in Auto Scaling groups). The role is matched by `aws:PrincipalArn` rather than named
 * as the principal, because KMS refuses a policy naming a role that does not exist yet, and a fresh account gets the
 * service-linked role only when its first Auto Scaling group is created, after this key.
 */
export function autoScalingVolumeKeyPolicy(args: { partition: pulumi.Input<string>; accountId: pulumi.Input<string> }): PolicyDocument {
    const onlyAutoScaling = {
        StringEquals: { "aws:PrincipalArn": autoScalingServiceLinkedRoleArn(args.partition, args.accountId), "kms:CallerAccount": args.accountId },
    };
    return policyDocument(
        accountAdministersKey(args.partition, args.accountId),
        {
            Sid: "AutoScalingUsesKeyForNodeVolumes",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            Resource: "*",
            Condition: onlyAutoScaling,
        },
        {
            Sid: "AutoScalingGrantsKeyToItsInstances",
            Effect: "Allow",
            Principal: { AWS: "*" },
            Action: "kms:CreateGrant",
            Resource: "*",
            Condition: { ...onlyAutoScaling, Bool: { "kms:GrantIsForAWSResource": "true" } },
        },
    );
}
