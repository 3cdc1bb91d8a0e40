import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { installMockRuntime, valueOf, MOCK_ACCOUNT_ID } from "../support/mocks";

const recorder = installMockRuntime();
import { checkProfileRegion, ImageRegistry, IMAGE_REGISTRY_DEFAULTS, lifecyclePolicy, maxImageRegistryNameLength, validateImageRegistryArgs } from "../../components/image-registry";
import { cacheTag, deployedTag, refusedPushes, tagIsImmutable, wildcardMatches } from "../../components/internal/registry-tags";

const REPO = "aws:ecr/repository:Repository";

describe("ImageRegistry defaults", () => {
    let registry: ImageRegistry;
    beforeAll(async () => {
        registry = new ImageRegistry("models", {});
        await recorder.settle();
    });

    it("registers an immutable, scanned repository named after the component; only the build and deployed-pointer tags a push rewrites move", () => {
        const repo = recorder.one(REPO, "models-repo");
        expect(repo.inputs.name).toBe("models");
        expect(repo.inputs.imageTagMutability).toBe("IMMUTABLE_WITH_EXCLUSION");
        expect(repo.inputs.imageTagMutabilityExclusionFilters).toEqual([
            { filter: "build-*", filterType: "WILDCARD" },
            { filter: "deployed-*", filterType: "WILDCARD" },
        ]);
        expect(tagIsImmutable(repo.inputs, "v1.2.3")).toBe(true);
        expect(repo.inputs.imageScanningConfiguration).toEqual({ scanOnPush: true });
        expect(repo.inputs.forceDelete).toBe(false);
    });

    it("encrypts with a KMS key it creates, rotation on", () => {
        const key = recorder.one("aws:kms/key:Key", "models-key");
        expect(key.inputs.enableKeyRotation).toBe(true);
        const repo = recorder.one(REPO, "models-repo");
        expect(repo.inputs.encryptionConfigurations).toEqual([{ encryptionType: "KMS", kmsKey: key.state.arn }]);
    });

    it("attaches a lifecycle policy that never expires deployed images, expires untagged after 7 days, keeps 50 tagged", () => {
        const policy = JSON.parse(recorder.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "models-lifecycle").inputs.policy);
        expect(policy.rules[0].selection).toMatchObject({ tagStatus: "tagged", tagPrefixList: ["deployed-"], countType: "imageCountMoreThan", countNumber: 9999 });
        expect(policy.rules[1].selection).toMatchObject({ tagStatus: "untagged", countType: "sinceImagePushed", countNumber: 7 });
        expect(policy.rules[2].selection).toMatchObject({ tagStatus: "tagged", countType: "imageCountMoreThan", countNumber: 50 });
        expect(IMAGE_REGISTRY_DEFAULTS.untaggedExpiryDays).toBe(7);
    });

    it("grants no pull access and creates no replica unless asked", () => {
        expect(recorder.ofType("aws:ecr/repositoryPolicy:RepositoryPolicy")).toHaveLength(0);
        expect(recorder.ofType(REPO).filter((r) => r.name.includes("replica"))).toHaveLength(0);
    });

    it("tags resources with the component and instance names", () => {
        expect(recorder.one(REPO, "models-repo").inputs.tags).toMatchObject({ "modelship:component": "ImageRegistry", "modelship:name": "models" });
    });

    it("parents every child to the component", () => {
        const component = recorder.one("modelship:index:ImageRegistry", "models");
        const children = recorder.childrenOf(component).map((r) => r.name).sort();
        expect(children).toEqual(["models-cache", "models-cache-lifecycle", "models-key", "models-lifecycle", "models-repo"]);
    });

    it("keeps a build-cache repository apart: scanned, only cache-* tags may move, deleted with its (disposable) cache on destroy", () => {
        const cache = recorder.one(REPO, "models-cache");
        expect(cache.inputs.name).toBe("buildcache/models");
        expect(cache.inputs.imageTagMutability).toBe("IMMUTABLE_WITH_EXCLUSION");
        expect(cache.inputs.imageTagMutabilityExclusionFilters).toEqual([{ filter: "cache-*", filterType: "WILDCARD" }]);
        expect(cache.inputs.imageScanningConfiguration).toEqual({ scanOnPush: true });
        // A destroy must not stop at a repository of cache manifests, which nothing runs.
        expect(cache.inputs.forceDelete).toBe(true);
        expect(cache.inputs.encryptionConfigurations[0].encryptionType).toBe("KMS");
        const policy = JSON.parse(recorder.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "models-cache-lifecycle").inputs.policy);
        expect(policy.rules.map((r: { selection: { tagStatus: string } }) => r.selection.tagStatus)).toEqual(["untagged", "tagged"]);
        expect(policy.rules[1].selection.countNumber).toBe(IMAGE_REGISTRY_DEFAULTS.keepCacheImages);
    });

    it("exposes the repository outputs", async () => {
        expect(await valueOf(registry.repositoryUrl)).toBe(`${MOCK_ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com/models`);
        expect(await valueOf(registry.repositoryName)).toBe("models");
        expect(await valueOf(registry.registryId)).toBe(MOCK_ACCOUNT_ID);
        expect(await valueOf(registry.repositoryArn)).toMatch(/^arn:aws:ecr:.*:repository\/models$/);
        expect(await valueOf(registry.cacheRepositoryUrl)).toMatch(/\/buildcache\/models$/);
    });
});

describe("ImageRegistry with every option", () => {
    let registry: ImageRegistry;
    beforeAll(async () => {
        registry = new ImageRegistry("edge", {
            repositoryName: "acme/edge-model",
            kmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/existing",
            untaggedExpiryDays: 3,
            keepTaggedImages: 20,
            pullPrincipals: ["arn:aws:iam::210987654321:role/jetson", "111122223333"],
            replicationRegions: ["eu-central-1", "ap-northeast-1"],
            forceDelete: true,
            buildCache: false,
            tags: { team: "ml" },
        });
        await recorder.settle();
    });

    it("uses the given key and creates none", () => {
        expect(recorder.ofType("aws:kms/key:Key").filter((k) => k.name.startsWith("edge"))).toHaveLength(0);
        expect(recorder.one(REPO, "edge-repo").inputs.encryptionConfigurations[0].kmsKey).toBe("arn:aws:kms:us-west-2:123456789012:key/existing");
    });

    it("grants exactly the pull actions to exactly the listed principals", () => {
        const doc = JSON.parse(recorder.one("aws:ecr/repositoryPolicy:RepositoryPolicy", "edge-pull").inputs.policy);
        expect(doc.Statement).toHaveLength(1);
        expect(doc.Statement[0].Effect).toBe("Allow");
        expect(doc.Statement[0].Principal.AWS).toEqual(["arn:aws:iam::210987654321:role/jetson", "arn:aws:iam::111122223333:root"]);
        expect([...doc.Statement[0].Action].sort()).toEqual(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]);
    });

    it("uses no ECR replication (asynchronous, blind to earlier pushes, one per account and region): the build pushes into each replica", () => {
        expect(recorder.ofType("aws:ecr/replicationConfiguration:ReplicationConfiguration")).toHaveLength(0);
        expect(Object.keys(registry.replicas)).toEqual(["eu-central-1", "ap-northeast-1"]);
    });

    it("creates each replica as hardened as the source, deleted with its images on destroy (copies a build pushes again)", () => {
        for (const region of ["eu-central-1", "ap-northeast-1"]) {
            const replica = recorder.one(REPO, `edge-replica-${region}`);
            // The build pushes the same tags into the replica: exactly those may move there too.
            expect(replica.inputs).toMatchObject({
                name: "acme/edge-model",
                region,
                imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
                imageTagMutabilityExclusionFilters: [
                    { filter: "build-*", filterType: "WILDCARD" },
                    { filter: "deployed-*", filterType: "WILDCARD" },
                ],
                imageScanningConfiguration: { scanOnPush: true },
                forceDelete: true,
            });
            const lifecycle = JSON.parse(recorder.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", `edge-replica-${region}-lifecycle`).inputs.policy);
            expect(lifecycle.rules[0].selection.tagPrefixList).toEqual(["deployed-"]);
            // KMS keys are regional: the replica uses the region's AWS-managed ECR key.
            expect(replica.inputs.encryptionConfigurations).toEqual([{ encryptionType: "KMS" }]);
            expect(recorder.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", `edge-replica-${region}-lifecycle`).inputs.region).toBe(region);
            const pull = JSON.parse(recorder.one("aws:ecr/repositoryPolicy:RepositoryPolicy", `edge-replica-${region}-pull`).inputs.policy);
            expect(pull.Statement[0].Principal.AWS).toEqual(["arn:aws:iam::210987654321:role/jetson", "arn:aws:iam::111122223333:root"]);
        }
    });

    it("applies the lifecycle numbers, forceDelete and merged tags", () => {
        const policy = JSON.parse(recorder.one("aws:ecr/lifecyclePolicy:LifecyclePolicy", "edge-lifecycle").inputs.policy);
        expect(policy.rules[1].selection.countNumber).toBe(3);
        expect(policy.rules[2].selection.countNumber).toBe(20);
        const repo = recorder.one(REPO, "edge-repo");
        expect(repo.inputs.forceDelete).toBe(true);
        expect(repo.inputs.tags).toMatchObject({ team: "ml", "modelship:component": "ImageRegistry" });
        expect(recorder.ofType(REPO).find((r) => r.name === "edge-cache")).toBeUndefined();
    });
});

describe("ImageRegistry validation", () => {
    const cases: [string, object, RegExp][] = [
        ["bad repository name", { repositoryName: "Models!" }, /repositoryName "Models!" is not a valid ECR repository name/],
        ["zero expiry", { untaggedExpiryDays: 0 }, /untaggedExpiryDays must be a whole number of days >= 1/],
        ["fractional keep count", { keepTaggedImages: 2.5 }, /keepTaggedImages must be a whole number >= 1/],
        ["bad principal", { pullPrincipals: ["jetson"] }, /pullPrincipals\[0\] "jetson" is not an IAM principal/],
        ["bad region", { replicationRegions: ["europe"] }, /replicationRegions\[0\] "europe" is not an AWS region/],
        ["duplicate region", { replicationRegions: ["eu-west-1", "eu-west-1"] }, /replicationRegions lists a region twice/],
    ];
    it.each(cases)("rejects %s with a message naming the field", (_label, args, message) => {
        expect(() => validateImageRegistryArgs("reg", args)).toThrow(message);
        expect(() => new ImageRegistry("reg", args)).toThrow(message);
    });

    it("reports every problem at once", () => {
        expect(() => validateImageRegistryArgs("reg", { untaggedExpiryDays: 0, keepTaggedImages: 0 })).toThrow(/untaggedExpiryDays[\s\S]*Also:[\s\S]*keepTaggedImages/);
    });
});

describe("lifecyclePolicy", () => {
    it("orders the untagged rule before the tagged one, as ECR requires for rule priorities", () => {
        const rules = JSON.parse(lifecyclePolicy(2, 5)).rules;
        expect(rules.map((r: { rulePriority: number }) => r.rulePriority)).toEqual([1, 2]);
        expect(rules[1].selection.tagPatternList).toEqual(["*"]);
    });

    it("matches protected images first, so the count rule (lower priority) can never expire them", () => {
        const rules = JSON.parse(lifecyclePolicy(2, 5, "deployed-")).rules;
        expect(rules.map((r: { rulePriority: number }) => r.rulePriority)).toEqual([1, 2, 3]);
        expect(rules[0]).toMatchObject({
            selection: { tagStatus: "tagged", tagPrefixList: ["deployed-"], countType: "imageCountMoreThan", countNumber: IMAGE_REGISTRY_DEFAULTS.protectedImageCount },
            action: { type: "expire" },
        });
        expect(rules[2].selection).toMatchObject({ tagStatus: "tagged", tagPatternList: ["*"], countNumber: 5 });
    });

    it("follows ECR's rule grammar: tagged rules name tags, untagged ones none, no 'any' rule, one untagged rule", () => {
        const rules = JSON.parse(lifecyclePolicy(1, 1, "deployed-")).rules as { selection: Record<string, unknown> }[];
        for (const { selection } of rules) {
            if (selection.tagStatus === "tagged") expect(Boolean(selection.tagPrefixList) !== Boolean(selection.tagPatternList)).toBe(true);
            if (selection.tagStatus === "untagged") expect(selection.tagPrefixList ?? selection.tagPatternList).toBeUndefined();
        }
        expect(rules.filter((r) => r.selection.tagStatus === "untagged")).toHaveLength(1);
        expect(rules.some((r) => r.selection.tagStatus === "any")).toBe(false);
    });
});

describe("ECR's tag-mutability rule (tagIsImmutable), for replaying pushes", () => {
    const settings = { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filter: "deployed-*", filterType: "WILDCARD" }] };
    it("matches WILDCARD filters with * as any run of characters, and nothing else special", () => {
        expect(wildcardMatches("deployed-*", "deployed-edge-x")).toBe(true);
        expect(wildcardMatches("deployed-*", "xdeployed-edge")).toBe(false);
        expect(wildcardMatches("*-rc.*", "v1-rc.2")).toBe(true);
        expect(wildcardMatches("v1.0", "v1x0")).toBe(false);
    });
    it("applies each mutability setting and its exclusions", () => {
        expect(tagIsImmutable(settings, "deployed-a")).toBe(false);
        expect(tagIsImmutable(settings, "cpu-3f2a")).toBe(true);
        expect(tagIsImmutable({ imageTagMutability: "IMMUTABLE" }, "deployed-a")).toBe(true);
        expect(tagIsImmutable({ imageTagMutability: "MUTABLE" }, "x")).toBe(false);
        expect(tagIsImmutable({}, "x")).toBe(false);
        expect(tagIsImmutable({ imageTagMutability: "MUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filter: "release-*", filterType: "WILDCARD" }] }, "release-1")).toBe(true);
    });
    it("refuses a second push of an immutable tag, even of the same digest, and only that", () => {
        expect(refusedPushes(settings, ["cpu-3f2a", "deployed-a", "cpu-3f2a", "deployed-a"])).toEqual(["cpu-3f2a"]);
        expect(refusedPushes(settings, ["cpu-3f2a"], ["cpu-3f2a"])).toEqual(["cpu-3f2a"]);
        expect(refusedPushes(settings, ["deployed-a"], ["deployed-a"])).toEqual([]);
    });
});

describe("ImageRegistry name budget: autonamed children must fit AWS's limits with Pulumi's 8-character suffix", () => {
    it("allows 46 characters with a pull role (IAM role names: 64 = name + \"-pull-role\" + \"-\" + 7)", () => {
        expect(maxImageRegistryNameLength()).toBe(46);
        expect(() => validateImageRegistryArgs("a".repeat(46), { pullRole: { trustedPrincipals: ["123456789012"] } })).not.toThrow();
    });
    it("refuses 47, naming the field, the child, the limit and the fix", () => {
        expect(() => validateImageRegistryArgs("a".repeat(47), { pullRole: { trustedPrincipals: ["123456789012"] } })).toThrow(
            /name "a{47}" is 47 characters: the pull role \(IAM role name\) "a{47}-pull-role-xxxxxxx" would exceed AWS's 64; use a component name of at most 46 characters/,
        );
    });
    it("refuses characters the role and profile names cannot hold", () => {
        expect(() => validateImageRegistryArgs("team/edge", { repositoryName: "team/edge", pullRole: { trustedPrincipals: ["123456789012"] } })).toThrow(/name "team\/edge" names the pull role/);
    });
    it("leaves a registry without a pull role unconstrained (its other children carry no autoname budget)", () => {
        expect(() => validateImageRegistryArgs("a".repeat(60), {})).not.toThrow();
    });
});

describe("registry tags", () => {
    it("names one deployed pointer per stack and image, within ECR's tag rules", () => {
        expect(deployedTag("edge", "modelship-edge-image")).toBe("deployed-edge-modelship-edge-image");
        expect(deployedTag("org/proj:prod", "x")).toBe("deployed-org-proj-prod-x");
        const long = deployedTag("s".repeat(100), "n".repeat(100));
        expect(long).toMatch(/^deployed-[A-Za-z0-9_.-]{1,119}$/);
        expect(long.length).toBeLessThanOrEqual(128);
        expect(long).not.toBe(deployedTag("s".repeat(100), `${"n".repeat(99)}m`));
        expect(cacheTag("cpu")).toBe("cache-cpu");
        expect(cacheTag(undefined)).toBe("cache-default");
    });
});

describe("ImageRegistry pull role", () => {
    const anchor = "arn:aws:rolesanywhere:us-west-2:123456789012:trust-anchor/0f1e2d3c-aaaa-bbbb-cccc-123456789abc";
    let registry: ImageRegistry;
    beforeAll(async () => {
        registry = new ImageRegistry("devices", {
            replicationRegions: ["eu-central-1"],
            pullRole: {
                trustAnchorArns: [anchor],
                allowedSubjects: { cn: ["jetson-*", "gw-02"], ou: ["edge-devices"] },
                trustedPrincipals: ["arn:aws:iam::123456789012:role/onprem-nodes", pulumi.output("arn:aws:iam::123456789012:role/deployer")],
                sessionSeconds: 1800,
            },
        });
        await recorder.settle();
    });

    it("trusts the Roles Anywhere anchor only for the allowed certificate subjects, and the listed principals", () => {
        const trust = JSON.parse(recorder.one("aws:iam/role:Role", "devices-pull-role").inputs.assumeRolePolicy);
        expect(trust.Statement).toEqual([
            {
                Sid: "RolesAnywhere",
                Effect: "Allow",
                Principal: { Service: "rolesanywhere.amazonaws.com" },
                // Roles Anywhere needs all three: it tags the session with the certificate's fields and sets the source identity to its CN.
                Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                Condition: {
                    ArnEquals: { "aws:SourceArn": [anchor] },
                    StringLike: { "aws:PrincipalTag/x509Subject/CN": ["jetson-*", "gw-02"], "aws:PrincipalTag/x509Subject/OU": ["edge-devices"] },
                },
            },
            {
                Sid: "Principals",
                Effect: "Allow",
                Principal: { AWS: ["arn:aws:iam::123456789012:role/onprem-nodes", "arn:aws:iam::123456789012:role/deployer"] },
                Action: "sts:AssumeRole",
            },
        ]);
    });

    it("creates the Roles Anywhere profile devices need to assume the role", async () => {
        const profile = recorder.one("aws:rolesanywhere/profile:Profile", "devices-pull-profile");
        const role = recorder.one("aws:iam/role:Role", "devices-pull-role");
        expect(profile.inputs).toMatchObject({ roleArns: [role.state.arn], durationSeconds: 1800, enabled: true });
        expect(profile.parentUrn).toBe(recorder.one("modelship:index:ImageRegistry", "devices").urn);
        expect(await valueOf(registry.rolesAnywhereProfileArn)).toBe(profile.state.arn);
    });

    it("may pull this repository and its replicas only, and log in", async () => {
        const policy = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "devices-pull-role-policy").inputs.policy);
        const arn = await valueOf(registry.repositoryArn);
        expect(policy.Statement[0]).toEqual({ Sid: "Login", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" });
        expect(policy.Statement[1].Action).toEqual(["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]);
        expect(policy.Statement[1].Resource).toEqual([arn, arn.replace(":us-west-2:", ":eu-central-1:")]);
        expect(await valueOf(registry.pullRoleArn)).toMatch(/^arn:aws:iam::123456789012:role\//);
    });

    it("resolves the role ARN only once its pull policy is attached", async () => {
        const probe = new ImageRegistry("probe", { buildCache: false, pullRole: { trustedPrincipals: ["123456789012"] } });
        new aws.iam.Role("probe-consumer", { assumeRolePolicy: probe.pullRoleArn.apply((a) => a ?? "") });
        await recorder.settle();
        const consumer = recorder.one("aws:iam/role:Role", "probe-consumer");
        expect(recorder.dependsOn(consumer, recorder.one("aws:iam/rolePolicy:RolePolicy", "probe-pull-role-policy"))).toBe(true);
        expect(recorder.ofType("aws:rolesanywhere/profile:Profile").map((p) => p.name)).not.toContain("probe-pull-profile");
    });

    it("refuses a profile outside the anchors' region, and anchors in two regions", () => {
        expect(() => checkProfileRegion("devices", "us-west-2", "us-west-2")).not.toThrow();
        expect(() => checkProfileRegion("devices", "eu-central-1", "us-west-2")).toThrow(
            'ImageRegistry "devices": pullRole.trustAnchorArns are in eu-central-1 but the Roles Anywhere profile would be created in us-west-2: create the trust anchor in us-west-2, or deploy with aws:region eu-central-1',
        );
        const other = anchor.replace(":us-west-2:", ":eu-central-1:");
        expect(() => validateImageRegistryArgs("reg", { pullRole: { trustAnchorArns: [anchor, other], allowedSubjects: { cn: ["a"] } } })).toThrow(
            /pullRole.trustAnchorArns span regions us-west-2, eu-central-1/,
        );
    });

    it.each([
        [{}, /pullRole trusts nobody/],
        [{ trustAnchorArns: ["anchor"], allowedSubjects: { cn: ["a"] } }, /pullRole.trustAnchorArns\[0\] "anchor" is not an IAM Roles Anywhere trust anchor ARN/],
        [{ trustAnchorArns: [anchor] }, /pullRole.allowedSubjects is required with trustAnchorArns: a trust anchor alone lets every certificate/],
        [{ trustAnchorArns: [anchor], allowedSubjects: { cn: [] } }, /pullRole.allowedSubjects is required with trustAnchorArns/],
        [{ trustAnchorArns: [anchor], allowedSubjects: { cn: ["*"] } }, /pullRole.allowedSubjects.cn\[0\] "\*" matches every certificate/],
        [{ trustAnchorArns: [anchor], allowedSubjects: { ou: ['a"b'] } }, /pullRole.allowedSubjects.ou\[0\] "a"b" is not a certificate subject value/],
        [{ trustedPrincipals: ["123456789012"], allowedSubjects: { cn: ["a"] } }, /pullRole.allowedSubjects only applies to trustAnchorArns/],
        [{ trustedPrincipals: ["someone"] }, /pullRole.trustedPrincipals\[0\] "someone" is not an IAM principal/],
        [{ trustedPrincipals: ["123456789012"], sessionSeconds: 43200 }, /pullRole.sessionSeconds must be a whole number of seconds from 900 to 3600/],
    ])("refuses pullRole %o", (pullRole, message) => {
        expect(() => validateImageRegistryArgs("reg", { pullRole })).toThrow(message);
    });
});
