import { installMockRuntime, MOCK_ACCOUNT_ID } from "../support/mocks";

const recorder = installMockRuntime();
import {
    GATEKEEPER_CHART,
    ImageVerification,
    RATIFY_CHART,
    refusalMessage,
    SIGNED_IMAGES_KIND,
    SIGNED_IMAGES_REGO,
    trustPolicyValues,
    validateImageVerificationArgs,
    type ImageVerificationArgs,
} from "../../components/image-verification";

const PROFILE_ARN = `arn:aws:signer:us-west-2:${MOCK_ACCOUNT_ID}:/signing-profiles/models_abc`;
const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const REPO_URL = `${MOCK_ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com/models`;
const REPO_ARN = `arn:aws:ecr:us-west-2:${MOCK_ACCOUNT_ID}:repository/models`;
const CLUSTER = { oidcProviderArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC`, oidcProviderUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/ABC" };
const ARGS: ImageVerificationArgs = {
    cluster: CLUSTER,
    signingProfileArn: PROFILE_ARN,
    signerRootCertificate: CERT,
    namespaces: ["inference"],
    repositories: [{ url: REPO_URL, arn: REPO_ARN }],
};
const RELEASE = "kubernetes:helm.sh/v3:Release";

describe("ImageVerification: validation", () => {
    it("accepts the documented arguments", () => {
        expect(() => validateImageVerificationArgs("v", ARGS)).not.toThrow();
    });
    it("refuses system namespaces and the verifier's own: their pods are not signed by the profile", () => {
        expect(() => validateImageVerificationArgs("v", { ...ARGS, namespaces: ["kube-system"] })).toThrow(/namespaces\[0\].*"kube-system".*only your workloads' namespaces/);
        expect(() => validateImageVerificationArgs("v", { ...ARGS, namespaces: ["gatekeeper-system"] })).toThrow(/namespaces\[0\]/);
        expect(() => validateImageVerificationArgs("v", { ...ARGS, namespaces: [] })).toThrow(/namespaces.*is empty/);
    });
    it("refuses a versioned or non-Signer profile ARN, a certificate path, and no repositories", () => {
        expect(() => validateImageVerificationArgs("v", { ...ARGS, signingProfileArn: `${PROFILE_ARN}/AbCdEf` })).toThrow(/signingProfileArn.*unversioned/);
        expect(() => validateImageVerificationArgs("v", { ...ARGS, signerRootCertificate: "./aws-signer-notation-root.cert" })).toThrow(/signerRootCertificate.*not its path/);
        expect(() => validateImageVerificationArgs("v", { ...ARGS, repositories: [] })).toThrow(/repositories.*is empty/);
    });
});

describe("ImageVerification: the trust policy", () => {
    it("trusts only the profile ARN, through the AWS Signer root as signing authority, at level strict, for our repositories only", () => {
        expect(trustPolicyValues(PROFILE_ARN, [REPO_URL])).toEqual({
            name: "modelship-signed",
            registryScopes: [REPO_URL],
            level: "strict",
            trustStores: ["signingAuthority:notationCerts[0]"],
            trustedIdentities: [PROFILE_ARN],
        });
    });
});

describe("ImageVerification: resources", () => {
    beforeAll(async () => {
        new ImageVerification("verify", ARGS);
        await recorder.settle();
    });

    it("installs Gatekeeper and Ratify from pinned charts, Ratify after Gatekeeper", () => {
        const gk = recorder.one(RELEASE, "verify-gatekeeper");
        const ratify = recorder.one(RELEASE, "verify-ratify");
        expect(gk.inputs).toMatchObject({ chart: "gatekeeper", version: GATEKEEPER_CHART.version, repositoryOpts: { repo: GATEKEEPER_CHART.repo }, atomic: true });
        expect(ratify.inputs).toMatchObject({ chart: "ratify", version: "1.15.5", repositoryOpts: { repo: RATIFY_CHART.repo } });
        expect(recorder.dependsOn(ratify, gk)).toBe(true);
    });

    it("fails closed: Gatekeeper refuses when it cannot answer, kube-system exempt", () => {
        const values = recorder.one(RELEASE, "verify-gatekeeper").inputs.values;
        expect(values).toMatchObject({ enableExternalData: true, validatingWebhookFailurePolicy: "Fail", validatingWebhookTimeoutSeconds: 5, controllerManager: { exemptNamespaces: ["kube-system"] } });
    });

    it("configures Ratify's Notation verifier with the trust policy, the root certificate, IRSA and no cosign or mutation", () => {
        const values = recorder.one(RELEASE, "verify-ratify").inputs.values;
        const role = recorder.one("aws:iam/role:Role", "verify-ratify");
        expect(values.notation.trustPolicies).toEqual([trustPolicyValues(PROFILE_ARN, [REPO_URL])]);
        expect(values.notationCerts).toEqual([CERT]);
        expect(values.cosign).toEqual({ enabled: false });
        expect(values.provider).toMatchObject({ enableMutation: false, timeout: { validationTimeoutSeconds: 5 } });
        expect(values.serviceAccount).toEqual({ create: true, name: "ratify-admin", annotations: { "eks.amazonaws.com/role-arn": role.state.arn } });
        expect(values.oras.authProviders.awsEcrBasicEnabled).toBe(true);
    });

    it("scopes Ratify's IAM: its service account only; ECR read of our repository; Signer revocation checks", () => {
        const trust = JSON.parse(recorder.one("aws:iam/role:Role", "verify-ratify").inputs.assumeRolePolicy);
        expect(trust.Statement[0].Condition.StringEquals["oidc.eks.us-west-2.amazonaws.com/id/ABC:sub"]).toBe("system:serviceaccount:gatekeeper-system:ratify-admin");
        const policy = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "verify-ratify-policy").inputs.policy);
        const read = policy.Statement.find((s: { Sid: string }) => s.Sid === "ReadSignatures");
        expect(read.Resource).toEqual([REPO_ARN]);
        expect(read.Action).not.toContain("ecr:PutImage");
        const wildcard = policy.Statement.filter((s: { Resource: unknown }) => s.Resource === "*").map((s: { Action: string }) => s.Action);
        expect(wildcard.sort()).toEqual(["ecr:GetAuthorizationToken", "signer:GetRevocationStatus"]);
    });

    it("installs the AWS Signer Notation plugin into Ratify", () => {
        const plugin = recorder.one("kubernetes:config.ratify.deislabs.io/v1beta1:Verifier", "verify-signer-plugin");
        expect(plugin.inputs.spec).toMatchObject({ name: "notation-com.amazonaws.signer.notation.plugin", source: { artifact: expect.stringMatching(/^public\.ecr\.aws\/aws-signer\/notation-plugin/) } });
    });

    it("scopes the admission policy to our namespaces and to every pod there (and the workloads that create them)", () => {
        const constraint = recorder.one(`kubernetes:constraints.gatekeeper.sh/v1beta1:${SIGNED_IMAGES_KIND}`, "verify-constraint");
        expect(constraint.inputs.spec.match.namespaces).toEqual(["inference"]);
        expect(constraint.inputs.spec.match.kinds).toContainEqual({ apiGroups: [""], kinds: ["Pod"] });
        expect(constraint.inputs.spec.match.kinds).toContainEqual({ apiGroups: ["apps"], kinds: ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] });
        // No label or name selector narrows "every pod".
        expect(constraint.inputs.spec.match.labelSelector).toBeUndefined();
        expect(constraint.inputs.spec.enforcementAction).toBe("deny");
        expect(constraint.inputs.spec.parameters).toEqual({ provider: "ratify-provider", signingProfileArn: PROFILE_ARN });
    });

    it("enforces only once Ratify and its Signer plugin are there to answer", () => {
        const constraint = recorder.one(`kubernetes:constraints.gatekeeper.sh/v1beta1:${SIGNED_IMAGES_KIND}`, "verify-constraint");
        expect(recorder.dependsOn(constraint, recorder.one(RELEASE, "verify-ratify"))).toBe(true);
        expect(recorder.dependsOn(constraint, recorder.one("kubernetes:config.ratify.deislabs.io/v1beta1:Verifier", "verify-signer-plugin"))).toBe(true);
        expect(recorder.dependsOn(constraint, recorder.one("kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate", "verify-template"))).toBe(true);
    });

    it("the template's Rego sends every container image to Ratify and denies anything not verified, naming the profile", () => {
        const template = recorder.one("kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate", "verify-template");
        expect(template.inputs.spec.targets[0].rego).toBe(SIGNED_IMAGES_REGO);
        for (const field of ["containers", "initContainers", "ephemeralContainers"]) expect(SIGNED_IMAGES_REGO).toContain(`pod_spec.${field}[_].image`);
        expect(SIGNED_IMAGES_REGO).toContain("external_data({\"provider\": input.parameters.provider");
        expect(SIGNED_IMAGES_REGO).toContain("not response[1].isSuccess");
        // Ratify down or erroring is a violation too (fail closed at the policy level).
        expect(SIGNED_IMAGES_REGO).toMatch(/verification\.system_error != ""/);
        expect(SIGNED_IMAGES_REGO).toMatch(/failure := verification\.errors\[_\]/);
        expect(template.inputs.spec.crd.spec.names.kind).toBe(SIGNED_IMAGES_KIND);
    });

    it("the refusal a user sees names the image, the profile and the fix, as the Rego words it", () => {
        const msg = refusalMessage("verify-signed-images", `${REPO_URL}@sha256:${"a".repeat(64)}`, PROFILE_ARN);
        expect(msg).toMatch(/^admission webhook "validation.gatekeeper.sh" denied the request: \[verify-signed-images\] image .* is not signed by AWS Signer profile arn:aws:signer:/);
        // The Rego's sprintf produces the text after the constraint name.
        const rego = /msg := sprintf\("image %v is not signed by AWS Signer profile %v: ([^"]+)"/.exec(SIGNED_IMAGES_REGO);
        expect(rego).not.toBeNull();
        expect(msg.endsWith(rego![1])).toBe(true);
    });

    it("names the Gatekeeper objects as the API server requires (no @kubernetes-models package covers Gatekeeper or Ratify)", () => {
        for (const type of ["kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate", `kubernetes:constraints.gatekeeper.sh/v1beta1:${SIGNED_IMAGES_KIND}`]) {
            const r = recorder.ofType(type)[0];
            expect(r.inputs.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        }
        // Gatekeeper derives the constraint CRD from the template: the kind must match, lowercased, the template's name.
        expect(recorder.ofType("kubernetes:templates.gatekeeper.sh/v1:ConstraintTemplate")[0].inputs.metadata.name).toBe(SIGNED_IMAGES_KIND.toLowerCase());
    });
});
