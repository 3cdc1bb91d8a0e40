/** Every rule of the pack against a compliant fixture and one fixture per violation, through the engine's props proxy. */
import {
    defaultDenyEgress,
    ecrImmutableTags,
    ecrKmsEncryption,
    ecrLifecyclePolicy,
    ecrScanOnPush,
    eksAuditLogging,
    eksEndpointExposure,
    eksSecretsEncryption,
    encryptedNodeVolumes,
    enforcementLevelOf,
    gpuTolerations,
    iamNoWildcardResource,
    imagesPinnedByDigest,
    imdsv2HopLimit,
    noSecretLiteralsInEnv,
    policies,
    restrictedPodSecurity,
    runPolicies,
    signedImageEnforcement,
    validatePolicyConfig,
} from "../../policy";
import { res, stackViolations, unknownStringValue, violations } from "./harness";

const REPO = "aws:ecr/repository:Repository";
const goodRepo = {
    name: "app",
    imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
    imageScanningConfiguration: { scanOnPush: true },
    encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: "arn:aws:kms:us-west-2:123456789012:key/k" }],
};

describe("the pack", () => {
    it("has unique names, a remediation and a level for every rule, mandatory for the security-critical ones", () => {
        expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
        for (const p of policies) {
            expect(p.remediationSteps).toBeTruthy();
            expect(p.enforcementLevel).toMatch(/^(mandatory|advisory)$/);
        }
        const advisory = policies.filter((p) => p.enforcementLevel === "advisory").map((p) => p.name);
        expect(advisory).toEqual(["ecr-lifecycle-policy"]);
        expect(eksAuditLogging.framework).toEqual({ name: "CIS Amazon EKS Benchmark", version: "1.0.1", reference: "2.1.1", specification: expect.any(String) });
    });
});

describe("ECR", () => {
    it("immutable tags", async () => {
        expect(await violations(ecrImmutableTags, res(REPO, goodRepo))).toEqual([]);
        expect(await violations(ecrImmutableTags, res(REPO, { ...goodRepo, imageTagMutability: "IMMUTABLE" }))).toEqual([]);
        expect(await violations(ecrImmutableTags, res(REPO, { ...goodRepo, imageTagMutability: "MUTABLE" }))).toEqual([expect.stringMatching(/^\[mandatory\] imageTagMutability is MUTABLE\. Fix: set imageTagMutability to "IMMUTABLE"/)]);
        expect(await violations(ecrImmutableTags, res(REPO, { name: "x" }))).toEqual([expect.stringContaining("imageTagMutability is MUTABLE")]);
    });
    it("KMS encryption", async () => {
        expect(await violations(ecrKmsEncryption, res(REPO, goodRepo))).toEqual([]);
        expect(await violations(ecrKmsEncryption, res(REPO, { ...goodRepo, encryptionConfigurations: [{ encryptionType: "AES256" }] }))).toEqual([expect.stringContaining("not encrypted with KMS")]);
    });
    it("scan on push, by the repository or by a registry scanning rule matching it", async () => {
        const unscanned = res(REPO, { ...goodRepo, imageScanningConfiguration: { scanOnPush: false } }, { name: "repo" });
        expect(await stackViolations(ecrScanOnPush, [res(REPO, goodRepo)])).toEqual([]);
        expect(await stackViolations(ecrScanOnPush, [unscanned])).toEqual([expect.stringMatching(/repository app is not scanned on push\. Fix: .*\(repo\)$/)]);
        const registry = (filter: string) =>
            res("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", { scanType: "ENHANCED", rules: [{ scanFrequency: "SCAN_ON_PUSH", repositoryFilters: [{ filter, filterType: "WILDCARD" }] }] });
        expect(await stackViolations(ecrScanOnPush, [unscanned, registry("a*")])).toEqual([]);
        expect(await stackViolations(ecrScanOnPush, [unscanned, registry("other-*")])).toHaveLength(1);
    });
    it("lifecycle policy (advisory)", async () => {
        const repo = res(REPO, goodRepo);
        expect(await stackViolations(ecrLifecyclePolicy, [repo, res("aws:ecr/lifecyclePolicy:LifecyclePolicy", { repository: "app", policy: "{}" })])).toEqual([]);
        expect(await stackViolations(ecrLifecyclePolicy, [repo])).toEqual([expect.stringMatching(/^\[advisory\] repository app has no lifecycle policy/)]);
    });
});

describe("EKS", () => {
    const cluster = { encryptionConfigKeyArn: "arn:aws:kms:us-west-2:1:key/k", enabledClusterLogTypes: ["api", "audit"], endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] };
    const awsCluster = {
        encryptionConfig: { resources: ["secrets"], provider: { keyArn: "arn:aws:kms:us-west-2:1:key/k" } },
        enabledClusterLogTypes: ["audit"],
        vpcConfig: { endpointPublicAccess: false, endpointPrivateAccess: true },
    };
    it("secrets encryption, on eks.Cluster and aws.eks.Cluster", async () => {
        expect(await violations(eksSecretsEncryption, res("eks:index:Cluster", cluster))).toEqual([]);
        expect(await violations(eksSecretsEncryption, res("aws:eks/cluster:Cluster", awsCluster))).toEqual([]);
        expect(await violations(eksSecretsEncryption, res("eks:index:Cluster", { ...cluster, encryptionConfigKeyArn: undefined }))).toEqual([expect.stringContaining("encryptionConfigKeyArn is not set")]);
        expect(await violations(eksSecretsEncryption, res("aws:eks/cluster:Cluster", { ...awsCluster, encryptionConfig: undefined }))).toEqual([expect.stringContaining('does not encrypt "secrets"')]);
    });
    it("audit logging", async () => {
        expect(await violations(eksAuditLogging, res("aws:eks/cluster:Cluster", awsCluster))).toEqual([]);
        expect(await violations(eksAuditLogging, res("eks:index:Cluster", { ...cluster, enabledClusterLogTypes: ["api"] }))).toEqual([expect.stringContaining("enabledClusterLogTypes is [api]: the audit log is off")]);
    });
    it("endpoint exposure: never 0.0.0.0/0, and no public endpoint without CIDRs", async () => {
        expect(await violations(eksEndpointExposure, res("eks:index:Cluster", cluster))).toEqual([]);
        expect(await violations(eksEndpointExposure, res("aws:eks/cluster:Cluster", awsCluster))).toEqual([]);
        expect(await violations(eksEndpointExposure, res("eks:index:Cluster", { ...cluster, publicAccessCidrs: ["0.0.0.0/0"] }))).toEqual([expect.stringContaining("publicAccessCidrs includes 0.0.0.0/0")]);
        expect(await violations(eksEndpointExposure, res("aws:eks/cluster:Cluster", { vpcConfig: {} }))).toEqual([expect.stringContaining("AWS opens to 0.0.0.0/0")]);
    });
    const lt = {
        metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
        blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeSize: 50 } }],
    };
    it("IMDSv2 with hop limit 1", async () => {
        expect(await violations(imdsv2HopLimit, res("aws:ec2/launchTemplate:LaunchTemplate", lt))).toEqual([]);
        expect(await violations(imdsv2HopLimit, res("aws:ec2/launchTemplate:LaunchTemplate", { ...lt, metadataOptions: { httpTokens: "optional", httpPutResponseHopLimit: 2 } }))).toEqual([
            expect.stringContaining("httpTokens is optional"),
            expect.stringContaining("httpPutResponseHopLimit is 2, not 1"),
        ]);
        expect(await violations(imdsv2HopLimit, res("eks:index:ManagedNodeGroup", { launchTemplate: { id: "lt-1", version: "1" } }))).toEqual([]);
        expect(await violations(imdsv2HopLimit, res("aws:eks/nodeGroup:NodeGroup", {}))).toEqual([expect.stringContaining("has no launch template")]);
        expect(await violations(imdsv2HopLimit, res("eks:index:Cluster", { ...cluster, skipDefaultNodeGroup: true }))).toEqual([]);
        expect(await violations(imdsv2HopLimit, res("eks:index:Cluster", cluster))).toEqual([expect.stringContaining("eks.Cluster creates its default node group")]);
    });
    it("encrypted node volumes", async () => {
        expect(await violations(encryptedNodeVolumes, res("aws:ec2/launchTemplate:LaunchTemplate", lt))).toEqual([]);
        expect(await violations(encryptedNodeVolumes, res("aws:ec2/launchTemplate:LaunchTemplate", { ...lt, blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }] }))).toEqual([
            expect.stringContaining("block device /dev/xvda is not encrypted"),
        ]);
        expect(await violations(encryptedNodeVolumes, res("aws:ebs/volume:Volume", { encrypted: false }))).toEqual([expect.stringContaining("encrypted is not true")]);
        expect(await violations(encryptedNodeVolumes, res("eks:index:Cluster", { ...cluster, skipDefaultNodeGroup: true }))).toEqual([]);
        expect(await violations(encryptedNodeVolumes, res("eks:index:Cluster", { ...cluster, nodeRootVolumeEncrypted: true }))).toEqual([]);
        expect(await violations(encryptedNodeVolumes, res("eks:index:Cluster", cluster))).toEqual([expect.stringContaining("unencrypted root volumes")]);
    });
});

describe("IAM", () => {
    const policy = (statements: unknown[]) => res("aws:iam/rolePolicy:RolePolicy", { role: "r", policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }) });
    it('allows exact ARNs, account-level actions on "*", and "*" scoped by a resource condition', async () => {
        expect(
            await violations(
                iamNoWildcardResource,
                policy([
                    { Effect: "Allow", Action: ["ecr:BatchGetImage"], Resource: ["arn:aws:ecr:us-west-2:1:repository/app"] },
                    { Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
                    { Effect: "Allow", Action: ["autoscaling:SetDesiredCapacity"], Resource: "*", Condition: { StringEquals: { "aws:ResourceTag/owner": "me" } } },
                    { Effect: "Allow", Action: ["ecr:BatchGetImage"], Resource: "*", Condition: { StringNotEquals: { "aws:ResourceAccount": "1" } } },
                    { Effect: "Deny", Action: "s3:*", Resource: "*" },
                ]),
            ),
        ).toEqual([]);
    });
    it('refuses "*" on actions with a known ARN form, naming the form', async () => {
        const v = await violations(iamNoWildcardResource, policy([{ Sid: "Pull", Effect: "Allow", Action: ["ecr:BatchGetImage", "secretsmanager:GetSecretValue"], Resource: "*" }]));
        expect(v).toEqual([expect.stringContaining('statement Pull allows ecr:batchgetimage, secretsmanager:getsecretvalue on Resource "*" (name the ARNs: arn:aws:ecr:<region>:<account>:repository/<name>; arn:aws:secretsmanager:')]);
        expect(await violations(iamNoWildcardResource, res("aws:iam/role:Role", { inlinePolicies: [{ name: "p", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] }) }] }))).toHaveLength(1);
    });
});

const POD = "kubernetes:core/v1:Pod";
const DIGEST = `sha256:${"a".repeat(64)}`;
function podSpec(over: { container?: Record<string, unknown>; pod?: Record<string, unknown> } = {}) {
    return {
        securityContext: { runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
            {
                name: "server",
                image: `1.dkr.ecr.us-west-2.amazonaws.com/app@${DIGEST}`,
                env: [{ name: "PORT", value: "8080" }, { name: "API_TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "t" } } }],
                securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true },
                ...over.container,
            },
        ],
        volumes: [{ name: "tmp", emptyDir: {} }],
        ...over.pod,
    };
}
const deployment = (spec: Record<string, unknown>) => res("kubernetes:apps/v1:Deployment", { metadata: { name: "d", namespace: "inference" }, spec: { template: { spec } } });

describe("Kubernetes workloads", () => {
    it("the restricted Pod Security Standard", async () => {
        expect(await violations(restrictedPodSecurity, deployment(podSpec()))).toEqual([]);
        expect(await violations(restrictedPodSecurity, res(POD, { spec: podSpec() }))).toEqual([]);
        const cases: [Parameters<typeof podSpec>[0], string][] = [
            [{ container: { securityContext: { capabilities: { drop: ["ALL"] } } } }, "container server: allowPrivilegeEscalation is not false"],
            [{ container: { securityContext: { allowPrivilegeEscalation: false } } }, "container server: capabilities.drop does not include ALL"],
            [{ container: { securityContext: { allowPrivilegeEscalation: false, privileged: true, capabilities: { drop: ["ALL"] } } } }, "container server: privileged is true"],
            [{ pod: { securityContext: { seccompProfile: { type: "RuntimeDefault" } } } }, "container server: runAsNonRoot is not true"],
            [{ pod: { securityContext: { runAsNonRoot: true } } }, "container server: seccompProfile.type is unset"],
            [{ pod: { hostNetwork: true } }, "hostNetwork is true"],
            [{ pod: { hostPID: true } }, "hostPID is true"],
            [{ pod: { hostIPC: true } }, "hostIPC is true"],
            [{ pod: { volumes: [{ name: "h", hostPath: { path: "/" } }] } }, "volume h is a hostPath volume"],
            [{ container: { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["SYS_ADMIN"] } } } }, "capabilities.add has SYS_ADMIN"],
        ];
        for (const [over, message] of cases) {
            expect(await violations(restrictedPodSecurity, deployment(podSpec(over)))).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
        }
    });
    it("checks the pod template of every workload kind, init containers included", async () => {
        const bad = podSpec({ pod: { hostPID: true } });
        for (const type of ["apps/v1:DaemonSet", "apps/v1:StatefulSet", "batch/v1:Job"]) {
            expect(await violations(restrictedPodSecurity, res(`kubernetes:${type}`, { spec: { template: { spec: bad } } }))).toHaveLength(1);
        }
        expect(await violations(restrictedPodSecurity, res("kubernetes:batch/v1:CronJob", { spec: { jobTemplate: { spec: { template: { spec: bad } } } } }))).toHaveLength(1);
        const init = { ...podSpec(), initContainers: [{ name: "init", image: `x@${DIGEST}` }] };
        expect(await violations(restrictedPodSecurity, deployment(init))).toEqual(expect.arrayContaining([expect.stringContaining("initContainer init: allowPrivilegeEscalation")]));
    });
    it("images pinned by digest", async () => {
        expect(await violations(imagesPinnedByDigest, deployment(podSpec()))).toEqual([]);
        expect(await violations(imagesPinnedByDigest, deployment(podSpec({ container: { image: "nginx:1.27" } })))).toEqual([expect.stringContaining("container server: image nginx:1.27 is not pinned by digest")]);
    });
    it("no secret literals in env", async () => {
        expect(await violations(noSecretLiteralsInEnv, deployment(podSpec()))).toEqual([]);
        for (const name of ["API_TOKEN", "DB_PASSWORD", "CLIENT_SECRET", "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY"]) {
            expect(await violations(noSecretLiteralsInEnv, deployment(podSpec({ container: { env: [{ name, value: "hunter2" }] } })))).toEqual([expect.stringContaining(`env ${name} has a literal value`)]);
        }
        expect(await violations(noSecretLiteralsInEnv, deployment(podSpec({ container: { env: [{ name: "KEYBOARD_LAYOUT", value: "us" }] } })))).toEqual([]);
    });
    it("GPU pods tolerate the GPU taint", async () => {
        const gpu = { resources: { limits: { "nvidia.com/gpu": "1" } } };
        expect(await violations(gpuTolerations, deployment(podSpec({ container: gpu, pod: { tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] } })))).toEqual([]);
        expect(await violations(gpuTolerations, deployment(podSpec()))).toEqual([]);
        expect(await violations(gpuTolerations, deployment(podSpec({ container: gpu })))).toEqual([expect.stringContaining("requests nvidia.com/gpu but does not tolerate the nvidia.com/gpu taint")]);
        expect(await violations(gpuTolerations, deployment(podSpec({ container: gpu, pod: { tolerations: [{ key: "nvidia.com/gpu", operator: "Equal", value: "false" }] } })))).toHaveLength(1);
    });
    it("a default-deny egress NetworkPolicy in every workload namespace, per cluster", async () => {
        const np = (namespace: string, spec: Record<string, unknown>, provider?: string) =>
            res("kubernetes:networking.k8s.io/v1:NetworkPolicy", { metadata: { namespace }, spec }, provider ? { provider: { type: "pulumi:providers:kubernetes", name: provider, urn: provider, props: {} } } : {});
        const deny = { podSelector: {}, policyTypes: ["Egress"] };
        const w = deployment(podSpec());
        expect(await stackViolations(defaultDenyEgress, [w, np("inference", deny)])).toEqual([]);
        expect(await stackViolations(defaultDenyEgress, [w])).toEqual([expect.stringMatching(/namespace inference \(of r\d+\) has no default-deny egress NetworkPolicy\. Fix: /)]);
        expect(await stackViolations(defaultDenyEgress, [w, np("other", deny)])).toHaveLength(1);
        expect(await stackViolations(defaultDenyEgress, [w, np("inference", deny, "other-cluster")])).toHaveLength(1);
        expect(await stackViolations(defaultDenyEgress, [w, np("inference", { podSelector: { matchLabels: { a: "b" } }, policyTypes: ["Egress"] })])).toHaveLength(1);
        expect(await stackViolations(defaultDenyEgress, [w, np("inference", { ...deny, egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }] })])).toHaveLength(1);
    });
});

describe("signed-image enforcement", () => {
    const signer = res("aws:signer/signingProfile:SigningProfile", { platformId: "Notation-OCI-SHA384-ECDSA" });
    const w = deployment(podSpec());
    it("does not apply when nothing is signed", async () => {
        expect(await stackViolations(signedImageEnforcement, [w])).toEqual([]);
    });
    it("asks for a verifying admission policy when images are signed", async () => {
        expect(await stackViolations(signedImageEnforcement, [signer, w])).toEqual([expect.stringContaining("has no admission policy verifying signatures")]);
        const kyverno = res("kubernetes:kyverno.io/v1:ClusterPolicy", { spec: { rules: [{ name: "verify", verifyImages: [{ imageReferences: ["*"] }] }] } });
        expect(await stackViolations(signedImageEnforcement, [signer, w, kyverno])).toEqual([]);
        const noVerify = res("kubernetes:kyverno.io/v1:ClusterPolicy", { spec: { rules: [{ name: "other", validate: {} }] } });
        expect(await stackViolations(signedImageEnforcement, [signer, w, noVerify])).toHaveLength(1);
        const ratify = [res("kubernetes:config.ratify.deislabs.io/v1beta1:Verifier", {}), res("kubernetes:constraints.gatekeeper.sh/v1beta1:RatifyVerification", {})];
        expect(await stackViolations(signedImageEnforcement, [res("aws-native:ecr:SigningConfiguration", {}), w, ...ratify])).toEqual([]);
        expect(await stackViolations(signedImageEnforcement, [signer, w, ratify[0]])).toHaveLength(1);
    });
    it("asks Docker containers to depend on a verification step", async () => {
        const verify = res("command:remote:Command", { create: "notation verify 1.dkr.ecr.us-west-2.amazonaws.com/app@sha256:x" });
        const container = (deps: string[]) => res("docker:index/container:Container", { image: "x" }, { dependencies: deps });
        expect(await stackViolations(signedImageEnforcement, [signer, verify, container([verify.urn])])).toEqual([]);
        expect(await stackViolations(signedImageEnforcement, [signer, verify, container([])])).toEqual([expect.stringContaining("does not wait for a signature verification step")]);
    });
});

describe("as the engine runs them", () => {
    it("an unknown value makes the rule an advisory 'can't run during preview', as the engine does", async () => {
        const v = await violations(ecrImmutableTags, res(REPO, { ...goodRepo, imageTagMutability: unknownStringValue }));
        expect(v).toEqual([expect.stringMatching(/^\[advisory\] can't run policy 'ecr-immutable-tags' during preview: string value at \.imageTagMutability can't be known during preview$/)]);
    });
    it("enforcement levels come from the policy config, per rule or for all", async () => {
        expect(enforcementLevelOf(ecrImmutableTags)).toBe("mandatory");
        expect(enforcementLevelOf(ecrImmutableTags, { all: "advisory" })).toBe("advisory");
        expect(enforcementLevelOf(ecrImmutableTags, { all: "advisory", "ecr-immutable-tags": { enforcementLevel: "mandatory" } })).toBe("mandatory");
        const bad = res(REPO, { ...goodRepo, imageTagMutability: "MUTABLE" });
        expect(await violations(ecrImmutableTags, bad, { "ecr-immutable-tags": "advisory" })).toEqual([expect.stringMatching(/^\[advisory\]/)]);
        expect(await violations(ecrImmutableTags, bad, { "ecr-immutable-tags": "disabled" })).toEqual([]);
        expect(await violations(ecrImmutableTags, bad, { "ecr-immutable-tags": "remediate" })).toEqual([expect.stringMatching(/^\[mandatory\]/)]);
    });
    it("refuses a config naming an unknown rule or level", () => {
        expect(() => validatePolicyConfig({ "ecr-immutable": "mandatory" }, policies)).toThrow(/"ecr-immutable" is not a policy of the pack: use one of ecr-immutable-tags/);
        expect(() => validatePolicyConfig({ all: "strict" as never }, policies)).toThrow(/all: enforcementLevel "strict" is not one of advisory, mandatory, remediate, disabled/);
    });
    it("runPolicies runs resource rules per resource and stack rules once", async () => {
        const v = await runPolicies(policies, [res(REPO, { name: "app" }, { name: "repo" })]);
        expect(v.map((x) => `${x.policy}:${x.resource}`).sort()).toEqual(["ecr-immutable-tags:repo", "ecr-kms-encryption:repo", "ecr-lifecycle-policy:repo", "ecr-scan-on-push:repo"]);
    });
});
