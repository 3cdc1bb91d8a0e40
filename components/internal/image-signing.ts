/**
 * ECR managed signing (the Notary Project format, signed by AWS Signer when an image is pushed): the signing profile,
 * the registry's signing configuration and the permissions around them. ImageRegistry calls {@link createImageSigning};
 * the pure helpers are tested directly.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { type PolicyStatement, policyDocument, policyJson } from "./iam";
import { checkInputs, checkPlain } from "./inputs";
import { type ArgChecker, isIntInRange, isPrincipal, principalArn } from "./validation";

/** The AWS Signer platform of container-image signatures (Notation, ECDSA P-384 with SHA-384). */
export const NOTATION_SIGNER_PLATFORM = "Notation-OCI-SHA384-ECDSA";

/** CloudFormation type of the registry's signing configuration, managed through the Cloud Control API. */
export const ECR_SIGNING_CONFIGURATION_TYPE = "AWS::ECR::SigningConfiguration";

/** The one action ECR managed signing needs from whoever pushes: ECR signs with the pusher's identity. */
export const SIGNER_PUSH_ACTIONS = ["signer:SignPayload"];

/**
 * What a verifier (the Notation AWS Signer plugin) calls during strict verification. GetRevocationStatus has no
 * resource-level permissions in IAM: `*` is the only valid resource.
 */
export const SIGNER_REVOCATION_ACTION = "signer:GetRevocationStatus";

/** Signature validity AWS Signer accepts, in months (its maximum, 135, is also its default). */
export const MAX_SIGNATURE_VALIDITY_MONTHS = 135;

/** Server-side signing of every pushed image, see {@link createImageSigning}. */
export interface ImageSigningArgs {
    /**
     * This registry writes the ECR signing configuration, of which there is one per account and region (like the
     * replication configuration): set true in exactly one ImageRegistry per account and region, false in the others
     * (then add their repositories to the owner's rules yourself). Required, so that the choice is explicit.
     */
    ownsRegistryConfiguration: boolean;
    /**
     * IAM principals (role ARNs or account IDs) that push to this repository, granted `signer:SignPayload` on the
     * profile (and nothing else) by a profile permission. Same-account pushers may instead attach
     * `ImageRegistry.signingPolicyJson` to their role. Default none.
     */
    pushPrincipals?: pulumi.Input<string>[];
    /** Validity of each signature, months (1-135); strict verification refuses an expired signature. Default 135. */
    signatureValidityMonths?: number;
}

/** Defaults of {@link ImageSigningArgs}, in one place. */
export const IMAGE_SIGNING_DEFAULTS = { signatureValidityMonths: MAX_SIGNATURE_VALIDITY_MONTHS } as const;

/** What is wrong with a `signing.pushPrincipals` entry, or undefined. Pure. */
export function signingPrincipalProblem(p: string): string | undefined {
    return isPrincipal(p) ? undefined : `"${p}" is not an IAM principal: give the pushing role's ARN (arn:aws:iam::123456789012:role/ci) or a 12-digit account ID`;
}

/** Records the problems of `signing` on `c`. Pure. */
export function validateImageSigning(c: ArgChecker, signing: ImageSigningArgs): void {
    c.check(
        typeof signing.ownsRegistryConfiguration === "boolean",
        "signing.ownsRegistryConfiguration",
        "is required: true when this registry writes the account's ECR signing configuration in this region (one registry per account and region), false when another one does",
    );
    (signing.pushPrincipals ?? []).forEach((p, i) => checkPlain(c, `signing.pushPrincipals[${i}]`, p, signingPrincipalProblem));
    if (signing.signatureValidityMonths !== undefined) {
        c.check(
            isIntInRange(signing.signatureValidityMonths, 1, MAX_SIGNATURE_VALIDITY_MONTHS),
            "signing.signatureValidityMonths",
            `must be a whole number of months from 1 to ${MAX_SIGNATURE_VALIDITY_MONTHS} (got ${signing.signatureValidityMonths})`,
        );
    }
}

/**
 * Prefix of the signing profile's name: AWS Signer names allow only letters, digits and `_` (2-64), and the provider
 * appends a 26-character unique suffix (a cancelled profile's name can never be used again). Pure.
 */
export function signingProfileNamePrefix(repositoryName: string): string {
    return `${repositoryName.replace(/[^A-Za-z0-9]+/g, "_").slice(0, 37)}_`;
}

/**
 * The `AWS::ECR::SigningConfiguration` desired state: one rule signing this repository (exact name: a filter without
 * `*` matches only itself) with the profile. Pure.
 */
export function signingConfigurationState(profileArn: string, repositoryName: string): Record<string, unknown> {
    return { Rules: [{ SigningProfileArn: profileArn, RepositoryFilters: [{ Filter: repositoryName, FilterType: "WILDCARD_MATCH" }] }] };
}

/** The identity-policy statement a pusher needs to get its pushes signed: SignPayload on this profile only. Pure. */
export function signPayloadStatement(profileArn: pulumi.Input<string>): PolicyStatement {
    return { Sid: "SignPushedImages", Effect: "Allow", Action: SIGNER_PUSH_ACTIONS, Resource: profileArn };
}

/** The statements a verifier (device pull role, admission controller) needs beyond pulling. Pure. */
export function signatureVerifierStatements(): PolicyStatement[] {
    return [{ Sid: "SignatureRevocation", Effect: "Allow", Action: SIGNER_REVOCATION_ACTION, Resource: "*" }];
}

/** The resources of managed signing. */
export interface ImageSigning {
    profile: aws.signer.SigningProfile;
    /** The signing configuration, when this registry owns it. */
    configuration: aws.cloudcontrol.Resource | undefined;
    permissions: aws.signer.SigningProfilePermission[];
    /** Identity policy (JSON) granting exactly the Signer action pushers need. */
    pushPolicyJson: pulumi.Output<string>;
}

/**
 * Creates the signing profile, the registry's signing configuration (when owned) and the pushers' profile permissions.
 * `@pulumi/aws` has no resource for the signing configuration: it is written through the Cloud Control API
 * (`aws.cloudcontrol.Resource`), with the same provider, credentials and region as the repository.
 */
export function createImageSigning(
    name: string,
    repositoryName: string,
    signing: ImageSigningArgs,
    tags: Record<string, string>,
    parent: pulumi.Resource,
): ImageSigning {
    const profile = new aws.signer.SigningProfile(
        `${name}-signing-profile`,
        {
            namePrefix: signingProfileNamePrefix(repositoryName),
            platformId: NOTATION_SIGNER_PLATFORM,
            signatureValidityPeriod: { type: "MONTHS", value: signing.signatureValidityMonths ?? IMAGE_SIGNING_DEFAULTS.signatureValidityMonths },
            tags,
        },
        { parent },
    );
    const configuration = signing.ownsRegistryConfiguration
        ? new aws.cloudcontrol.Resource(
              `${name}-signing-configuration`,
              { typeName: ECR_SIGNING_CONFIGURATION_TYPE, desiredState: profile.arn.apply((arn) => JSON.stringify(signingConfigurationState(arn, repositoryName))) },
              { parent },
          )
        : undefined;
    const principals = checkInputs({ component: "ImageRegistry", name, field: "signing.pushPrincipals" }, signing.pushPrincipals ?? [], signingPrincipalProblem);
    const permissions = principals.map(
        (principal, i) =>
            new aws.signer.SigningProfilePermission(
                `${name}-signing-push-${i}`,
                { profileName: profile.name, action: SIGNER_PUSH_ACTIONS[0], principal: principal.apply(principalArn), statementIdPrefix: "modelship_push_" },
                { parent },
            ),
    );
    return { profile, configuration, permissions, pushPolicyJson: policyJson(policyDocument(signPayloadStatement(profile.arn))) };
}
