import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** Days a deleted key stays recoverable: AWS's maximum, so a mistaken `pulumi destroy` can be undone. */
export const KMS_DELETION_WINDOW_DAYS = 30;

/**
 * The ARN of the user's key when given, else of a customer-managed key created as `<name>-<suffix>` under `parent`
 * with yearly rotation on.
 */
export function keyArnOrCreate(args: {
    given: pulumi.Input<string> | undefined;
    name: string;
    suffix: string;
    description: string;
    tags: Record<string, string>;
    parent: pulumi.Resource;
}): pulumi.Output<string> {
    if (args.given !== undefined) return pulumi.output(args.given);
    const key = new aws.kms.Key(
        `${args.name}-${args.suffix}`,
        { description: args.description, enableKeyRotation: true, deletionWindowInDays: KMS_DELETION_WINDOW_DAYS, tags: args.tags },
        { parent: args.parent },
    );
    return key.arn;
}
