import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ECR_PULL_ACTIONS, irsaTrustPolicy, policyDocument, policyJson } from "./internal/iam";
import { signatureVerifierStatements } from "./internal/image-signing";
import { checkInput } from "./internal/inputs";
import { IRSA_ROLE_ANNOTATION } from "./internal/k8s-constants";
import { type PinnedChart, pinnedRelease } from "./internal/helm";
import { componentTags } from "./internal/tags";
import { ArgChecker, isDnsLabel } from "./internal/validation";
import type { OidcCluster } from "./secret-wiring";

export const IMAGE_VERIFICATION_TYPE = "modelship:index:ImageVerification";

/**
 * Gatekeeper, pinned: the release Ratify 1.4.4's chart is built and tested against (its `gatekeeper.version` default
 * and CI matrix are 3.18.0), at its last patch.
 */
export const GATEKEEPER_CHART: PinnedChart = { chart: "gatekeeper", version: "3.18.3", repo: "https://open-policy-agent.github.io/gatekeeper/charts" };
/** Ratify, pinned: chart 1.15.5 ships Ratify v1.4.4 (Notation verifier with plugins, ECR auth through IRSA). */
export const RATIFY_CHART: PinnedChart = { chart: "ratify", version: "1.15.5", repo: "https://notaryproject.github.io/ratify" };

/** The AWS Signer plugin's name, as the signature's `verificationPlugin` names it and Ratify looks it up. */
export const AWS_SIGNER_PLUGIN = "com.amazonaws.signer.notation.plugin";

/** Kind of the constraint (and name of its template, lowercased) that refuses unsigned images. */
export const SIGNED_IMAGES_KIND = "ModelshipSignedImages";

/** Workload kinds refused at admission: pods, and the controllers that create them (so `pulumi up` sees the refusal). */
export const VERIFIED_KINDS = [
    { apiGroups: [""], kinds: ["Pod"] },
    { apiGroups: ["apps"], kinds: ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] },
    { apiGroups: ["batch"], kinds: ["Job", "CronJob"] },
];

/** Namespaces the admission policy may never cover: the cluster's own, and the verifier's. */
export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease"];

/** Arguments of {@link ImageVerification}. */
export interface ImageVerificationArgs {
    /** The cluster's IAM OIDC provider (a GpuCluster), for Ratify's IRSA role. Required. */
    cluster: OidcCluster;
    /**
     * The node groups Gatekeeper and Ratify can run on, when this program creates them: both Helm installs wait for
     * them (atomic installs time out while nodes come up). Default: the cluster's `systemNodes` when it has them (a
     * GpuCluster), else none.
     */
    nodesReady?: pulumi.Resource[];
    /** The AWS Signer profile whose signatures are trusted (`ImageRegistry.signingProfileArn`). Required. */
    signingProfileArn: pulumi.Input<string>;
    /**
     * PEM of the AWS Signer Notation root certificate (commercial regions), the trust store's signing authority.
     * Download it from AWS (see docs/signing.md) and check its fingerprint; it is public, not a secret. Required.
     */
    signerRootCertificate: pulumi.Input<string>;
    /** Namespaces in which every pod must run images signed by the profile, e.g. the InferenceService's. Required. */
    namespaces: string[];
    /**
     * The repositories images may come from: their URLs (trust policy scopes; an image elsewhere matches no policy
     * and is refused) and ARNs (Ratify's ECR read access). Required.
     */
    repositories: { url: pulumi.Input<string>; arn: pulumi.Input<string> }[];
    /** Namespace of Gatekeeper and Ratify. Default `gatekeeper-system`. */
    namespace?: string;
    /**
     * Refuse admission when Gatekeeper cannot answer (webhook `failurePolicy: Fail`; kube-system is exempt so the
     * cluster can heal). False lets pods in unverified while Gatekeeper is down. Default true.
     */
    failClosed?: boolean;
    /**
     * OCI artifact of the AWS Signer Notation plugin Ratify downloads (linux/amd64 nodes). Pin it by digest
     * (`public.ecr.aws/aws-signer/notation-plugin@sha256:…`). Default AWS's published `linux-amd64-latest` tag.
     */
    signerPluginArtifact?: string;
}

/** Defaults, in one place. */
export const IMAGE_VERIFICATION_DEFAULTS = {
    namespace: "gatekeeper-system",
    failClosed: true,
    signerPluginArtifact: "public.ecr.aws/aws-signer/notation-plugin:linux-amd64-latest",
    /** Gatekeeper's webhook timeout and Ratify's verify timeout, which must match (seconds). */
    timeoutSeconds: 5,
    /** Ratify's service account, which its IRSA role trusts. */
    serviceAccount: "ratify-admin",
    /** Name of the Ratify release; its Provider is always `ratify-provider`. */
    ratifyRelease: "ratify",
    provider: "ratify-provider",
} as const;

/** Validates the arguments; throws an error naming the field and the fix. Pure. */
export function validateImageVerificationArgs(name: string, args: ImageVerificationArgs): void {
    const c = new ArgChecker("ImageVerification", name);
    c.check(args.cluster !== undefined && args.cluster !== null, "cluster", "is required: pass the GpuCluster (its OIDC provider lets Ratify assume its IAM role)");
    c.check(args.signingProfileArn !== undefined && args.signingProfileArn !== "", "signingProfileArn", "is required: pass ImageRegistry.signingProfileArn (an ImageRegistry with signing)");
    if (typeof args.signingProfileArn === "string" && args.signingProfileArn !== "") c.check(signingProfileArnProblem(args.signingProfileArn) === undefined, "signingProfileArn", signingProfileArnProblem(args.signingProfileArn) ?? "");
    c.check(args.signerRootCertificate !== undefined && args.signerRootCertificate !== "", "signerRootCertificate", "is required: the PEM of AWS Signer's Notation root certificate (see docs/signing.md)");
    if (typeof args.signerRootCertificate === "string" && args.signerRootCertificate !== "") {
        c.check(certificateProblem(args.signerRootCertificate) === undefined, "signerRootCertificate", certificateProblem(args.signerRootCertificate) ?? "");
    }
    const namespaces = args.namespaces ?? [];
    c.check(namespaces.length > 0, "namespaces", "is empty: list the namespaces the library serves from, e.g. [\"inference\"]");
    for (const [i, ns] of namespaces.entries()) {
        c.check(isDnsLabel(ns), `namespaces[${i}]`, `"${ns}" is not a namespace name (lowercase letters, digits, -)`);
        const reserved = [...SYSTEM_NAMESPACES, args.namespace ?? IMAGE_VERIFICATION_DEFAULTS.namespace];
        c.check(!reserved.includes(ns), `namespaces[${i}]`, `"${ns}" runs the cluster's or the verifier's own pods, which are not signed by your profile: list only your workloads' namespaces`);
    }
    c.check(new Set(namespaces).size === namespaces.length, "namespaces", "lists a namespace twice");
    c.check((args.repositories ?? []).length > 0, "repositories", "is empty: pass the signing registry's { url: repositoryUrl, arn: repositoryArn }");
    if (args.namespace !== undefined) c.check(isDnsLabel(args.namespace), "namespace", `"${args.namespace}" is not a namespace name`);
    if (args.signerPluginArtifact !== undefined) {
        c.check(/^[a-z0-9.-]+(:\d+)?\/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/.test(args.signerPluginArtifact), "signerPluginArtifact", `"${args.signerPluginArtifact}" is not an OCI reference (registry/repository:tag or @sha256:…)`);
    }
    c.done();
}

/** What is wrong with a signing profile ARN, or undefined. Pure. */
export function signingProfileArnProblem(arn: string): string | undefined {
    return /^arn:aws[a-z-]*:signer:[a-z0-9-]+:\d{12}:\/signing-profiles\/[A-Za-z0-9_]{2,64}$/.test(arn)
        ? undefined
        : `"${arn}" is not an AWS Signer profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>, unversioned)`;
}

/** What is wrong with a PEM certificate, or undefined. Pure. */
export function certificateProblem(pem: string): string | undefined {
    return /-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(pem) ? undefined : "is not a PEM certificate: pass the file's content, not its path";
}

/**
 * The Notation trust policy Ratify applies, as chart values: images of the listed repositories must carry a signature
 * from the profile (the trusted identity), chained to the AWS Signer root (signing authority), at level strict (integrity,
 * authenticity, expiry and revocation all enforced). Pure.
 */
export function trustPolicyValues(profileArn: string, repositoryUrls: string[]): Record<string, unknown> {
    return {
        name: "modelship-signed",
        registryScopes: repositoryUrls,
        // The chart's key is `level` (its default values spell another, ignored key).
        level: "strict",
        trustStores: ["signingAuthority:notationCerts[0]"],
        trustedIdentities: [profileArn],
    };
}

/**
 * Values of the Ratify chart. Pure. Only the Notation verifier (no cosign), no mutation (images are pinned by digest
 * already), ECR auth from the IRSA role, and dynamic plugins on so that the AWS Signer plugin can be installed.
 */
export function ratifyValues(args: { profileArn: string; repositoryUrls: string[]; rootCertificate: string; roleArn: string; gatekeeperNamespace: string }): Record<string, unknown> {
    const d = IMAGE_VERIFICATION_DEFAULTS;
    return {
        notationCerts: [args.rootCertificate],
        notation: { enabled: true, trustPolicies: [trustPolicyValues(args.profileArn, args.repositoryUrls)] },
        cosign: { enabled: false },
        serviceAccount: { create: true, name: d.serviceAccount, annotations: { [IRSA_ROLE_ANNOTATION]: args.roleArn } },
        oras: { authProviders: { awsEcrBasicEnabled: true } },
        featureFlags: { RATIFY_EXPERIMENTAL_DYNAMIC_PLUGINS: true },
        provider: { enableMutation: false, timeout: { validationTimeoutSeconds: d.timeoutSeconds } },
        gatekeeper: { version: GATEKEEPER_CHART.version, namespace: args.gatekeeperNamespace },
    };
}

/** Values of the Gatekeeper chart. Pure. */
export function gatekeeperValues(failClosed: boolean): Record<string, unknown> {
    return {
        enableExternalData: true,
        validatingWebhookTimeoutSeconds: IMAGE_VERIFICATION_DEFAULTS.timeoutSeconds,
        validatingWebhookFailurePolicy: failClosed ? "Fail" : "Ignore",
        // Exempt (and labelled so) the cluster's own namespace: with Fail, a Gatekeeper outage must not stop kube-system healing it.
        controllerManager: { exemptNamespaces: ["kube-system"] },
        postInstall: { labelNamespace: { enabled: true, extraNamespaces: ["kube-system"] } },
        // Only Ratify's external data is needed: no mutation webhook.
        disableMutation: true,
    };
}

/**
 * Gatekeeper's Rego for {@link SIGNED_IMAGES_KIND}: every image of the pod (or of the pod template of a workload)
 * goes to Ratify; anything but a successful verification of every image is a violation, including Ratify being
 * unreachable. Written for this library in Rego v0 syntax (Gatekeeper 3.18's default); `pod_spec` is defined
 * incrementally (`=`, not `:=`, which forbids a second definition).
 */
export const SIGNED_IMAGES_REGO = `package modelshipsignedimages

pod_spec = spec {
  input.review.kind.kind == "Pod"
  spec := input.review.object.spec
}

pod_spec = spec {
  input.review.kind.kind == "CronJob"
  spec := input.review.object.spec.jobTemplate.spec.template.spec
}

pod_spec = spec {
  not input.review.kind.kind == "Pod"
  not input.review.kind.kind == "CronJob"
  spec := input.review.object.spec.template.spec
}

images[image] { image := pod_spec.containers[_].image }
images[image] { image := pod_spec.initContainers[_].image }
images[image] { image := pod_spec.ephemeralContainers[_].image }

verification := external_data({"provider": input.parameters.provider, "keys": [image | images[image]]})

violation[{"msg": msg}] {
  count(images) > 0
  verification.system_error != ""
  msg := sprintf("image signatures could not be checked (%v): pods here run only images signed by %v", [verification.system_error, input.parameters.signingProfileArn])
}

violation[{"msg": msg}] {
  failure := verification.errors[_]
  msg := sprintf("image %v could not be verified (%v): pods here run only images signed by %v", [failure[0], failure[1], input.parameters.signingProfileArn])
}

violation[{"msg": msg}] {
  response := verification.responses[_]
  not response[1].isSuccess
  msg := sprintf("image %v is not signed by AWS Signer profile %v: push it to the signing ImageRegistry (ECR managed signing) and deploy it by digest", [response[0], input.parameters.signingProfileArn])
}
`;

/** What `kubectl`/`pulumi up` prints when a pod is refused: Gatekeeper's prefix, then the constraint's message. Pure. */
export function refusalMessage(constraintName: string, image: string, profileArn: string): string {
    return `admission webhook "validation.gatekeeper.sh" denied the request: [${constraintName}] image ${image} is not signed by AWS Signer profile ${profileArn}: push it to the signing ImageRegistry (ECR managed signing) and deploy it by digest`;
}

/**
 * Admission control that refuses, in the listed namespaces, any pod (or workload) whose image is not signed by the
 * configured AWS Signer profile: Gatekeeper as the admission webhook, Ratify as its external-data verifier with the
 * Notation AWS Signer plugin. Built in steps: IAM role, Gatekeeper, Ratify, the Signer plugin, the policy.
 */
export class ImageVerification extends pulumi.ComponentResource {
    /** ARN of Ratify's IAM role (ECR read of the repositories, revocation checks). */
    readonly roleArn: pulumi.Output<string>;
    /** Name of the constraint that refuses unsigned images. */
    readonly constraintName: string;
    /** The namespaces covered. */
    readonly namespaces: string[];

    // ---- the children, for extending rather than forking
    readonly role: aws.iam.Role;
    readonly gatekeeper: k8s.helm.v3.Release;
    readonly ratify: k8s.helm.v3.Release;
    /** Ratify's Verifier that downloads the AWS Signer plugin. */
    readonly signerPlugin: k8s.apiextensions.CustomResource;
    readonly constraintTemplate: k8s.apiextensions.CustomResource;
    readonly constraint: k8s.apiextensions.CustomResource;

    constructor(name: string, args: ImageVerificationArgs, opts?: pulumi.ComponentResourceOptions) {
        validateImageVerificationArgs(name, args);
        super(IMAGE_VERIFICATION_TYPE, name, {}, opts);
        const d = IMAGE_VERIFICATION_DEFAULTS;
        const ns = args.namespace ?? d.namespace;
        const profileArn = checkInput({ component: "ImageVerification", name, field: "signingProfileArn" }, args.signingProfileArn, signingProfileArnProblem);
        const rootCertificate = checkInput({ component: "ImageVerification", name, field: "signerRootCertificate" }, args.signerRootCertificate, certificateProblem);

        this.role = this.createRole(name, ns, args);
        const nodes = args.nodesReady ?? (args.cluster as { systemNodes?: pulumi.Resource[] }).systemNodes ?? [];
        this.gatekeeper = pinnedRelease(
            `${name}-gatekeeper`,
            GATEKEEPER_CHART,
            { name: "gatekeeper", namespace: ns, createNamespace: true, values: gatekeeperValues(args.failClosed ?? d.failClosed) },
            { parent: this, dependsOn: nodes },
        );
        const values = pulumi
            .all([profileArn, pulumi.all(args.repositories.map((r) => r.url)), rootCertificate, this.role.arn])
            .apply(([arn, urls, cert, roleArn]) => ratifyValues({ profileArn: arn, repositoryUrls: urls, rootCertificate: cert, roleArn, gatekeeperNamespace: ns }));
        // Ratify registers Gatekeeper CRs (its Provider): Gatekeeper's CRDs must exist first.
        this.ratify = pinnedRelease(`${name}-ratify`, RATIFY_CHART, { name: d.ratifyRelease, namespace: ns, values }, { parent: this, dependsOn: [this.gatekeeper] });
        this.signerPlugin = new k8s.apiextensions.CustomResource(
            `${name}-signer-plugin`,
            {
                apiVersion: "config.ratify.deislabs.io/v1beta1",
                kind: "Verifier",
                // Verifier is cluster-scoped.
                metadata: { name: "aws-signer-plugin" },
                spec: { name: `notation-${AWS_SIGNER_PLUGIN}`, artifactTypes: "application/vnd.oci.image.manifest.v1+json", source: { artifact: args.signerPluginArtifact ?? d.signerPluginArtifact } },
            },
            { parent: this, dependsOn: [this.ratify] },
        );
        const policy = this.createPolicy(name, args.namespaces, profileArn);
        this.constraintTemplate = policy.template;
        this.constraint = policy.constraint;
        this.constraintName = policy.constraintName;
        this.namespaces = [...args.namespaces];
        this.roleArn = this.role.arn;
        this.registerOutputs({ roleArn: this.roleArn, constraintName: this.constraintName, namespaces: this.namespaces });
    }

    /** Step 1: Ratify's IRSA role: read the listed repositories (signatures are OCI referrers there) and check revocation. */
    private createRole(name: string, ns: string, args: ImageVerificationArgs): aws.iam.Role {
        const role = new aws.iam.Role(
            `${name}-ratify`,
            {
                description: "Ratify: reads image signatures from the signing repositories and checks their revocation with AWS Signer",
                assumeRolePolicy: irsaTrustPolicy({ oidcProviderArn: args.cluster.oidcProviderArn, oidcProviderUrl: args.cluster.oidcProviderUrl, namespace: ns, serviceAccount: IMAGE_VERIFICATION_DEFAULTS.serviceAccount }),
                tags: componentTags("ImageVerification", name),
            },
            { parent: this },
        );
        new aws.iam.RolePolicy(
            `${name}-ratify-policy`,
            {
                role: role.name,
                policy: policyJson(
                    policyDocument(
                        // GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
                        { Sid: "Login", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
                        { Sid: "ReadSignatures", Effect: "Allow", Action: [...ECR_PULL_ACTIONS, "ecr:DescribeImages", "ecr:ListImages"], Resource: args.repositories.map((r) => r.arn) },
                        ...signatureVerifierStatements(),
                    ),
                ),
            },
            { parent: this },
        );
        return role;
    }

    /** Step 2: the ConstraintTemplate (Rego calling Ratify) and the constraint scoped to the namespaces. */
    private createPolicy(name: string, namespaces: string[], profileArn: pulumi.Output<string>) {
        const template = new k8s.apiextensions.CustomResource(
            `${name}-template`,
            {
                apiVersion: "templates.gatekeeper.sh/v1",
                kind: "ConstraintTemplate",
                metadata: { name: SIGNED_IMAGES_KIND.toLowerCase() },
                spec: {
                    crd: { spec: { names: { kind: SIGNED_IMAGES_KIND }, validation: { openAPIV3Schema: { type: "object", properties: { provider: { type: "string" }, signingProfileArn: { type: "string" } } } } } },
                    targets: [{ target: "admission.k8s.gatekeeper.sh", rego: SIGNED_IMAGES_REGO }],
                },
            },
            { parent: this, dependsOn: [this.gatekeeper] },
        );
        const constraintName = `${name}-signed-images`.toLowerCase().slice(0, 63).replace(/-+$/, "");
        const constraint = new k8s.apiextensions.CustomResource(
            `${name}-constraint`,
            {
                apiVersion: "constraints.gatekeeper.sh/v1beta1",
                kind: SIGNED_IMAGES_KIND,
                metadata: { name: constraintName },
                spec: {
                    enforcementAction: "deny",
                    match: { kinds: VERIFIED_KINDS, namespaces },
                    parameters: { provider: IMAGE_VERIFICATION_DEFAULTS.provider, signingProfileArn: profileArn },
                },
            },
            // The constraint's kind exists once Gatekeeper has compiled the template; Ratify must answer before it denies.
            { parent: this, dependsOn: [template, this.ratify, this.signerPlugin] },
        );
        return { template, constraint, constraintName };
    }
}
