/**
 * Typed IAM policy documents. Policies are plain objects serialised with `pulumi.jsonStringify`, never built by
 * string concatenation, so that tests can assert on each statement and a reviewer can read them in one place.
 */
import * as pulumi from "@pulumi/pulumi";

export type Principal = { AWS: pulumi.Input<string> | pulumi.Input<string>[] } | { Federated: pulumi.Input<string> } | { Service: pulumi.Input<string> | string[] };

export interface PolicyStatement {
    Sid?: string;
    Effect: "Allow" | "Deny";
    Principal?: Principal;
    Action: string | string[];
    Resource?: pulumi.Input<string | string[]> | pulumi.Input<string>[];
    Condition?: Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/** Builds a policy document. */
export function policyDocument(...statements: PolicyStatement[]): PolicyDocument {
    return { Version: "2012-10-17", Statement: statements };
}

/** Serialises a policy document whose values may be Outputs. */
export function policyJson(doc: PolicyDocument): pulumi.Output<string> {
    return pulumi.jsonStringify(pulumi.output(doc as unknown as pulumi.Input<Record<string, unknown>>));
}

/** The exact actions a principal needs to pull an image from an ECR repository, and no more. */
export const ECR_PULL_ACTIONS = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/**
 * Trust policy letting exactly one Kubernetes service account assume a role through the cluster's OIDC provider
 * (IRSA). Both `sub` and `aud` are pinned so no other service account, and no other audience, can use it.
 */
export function irsaTrustPolicy(args: {
    oidcProviderArn: pulumi.Input<string>;
    oidcProviderUrl: pulumi.Input<string>;
    namespace: pulumi.Input<string>;
    serviceAccount: pulumi.Input<string>;
}): pulumi.Output<string> {
    return pulumi
        .all([args.oidcProviderArn, args.oidcProviderUrl, args.namespace, args.serviceAccount])
        .apply(([arn, url, ns, sa]) => {
            const issuer = url.replace(/^https:\/\//, "");
            return JSON.stringify(
                policyDocument({
                    Effect: "Allow",
                    Principal: { Federated: arn },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: {
                        StringEquals: {
                            [`${issuer}:sub`]: `system:serviceaccount:${ns}:${sa}`,
                            [`${issuer}:aud`]: "sts.amazonaws.com",
                        },
                    },
                }),
            );
        });
}
