import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ECR_PULL_ACTIONS, type PolicyDocument, type PolicyStatement, policyDocument, policyJson } from "./internal/iam";
import { keyArnOrCreate } from "./internal/kms";
import { componentTags } from "./internal/tags";
import { ArgChecker, isIntInRange, isPrincipal, isRegion, principalArn } from "./internal/validation";

export const IMAGE_REGISTRY_TYPE = "modelship:index:ImageRegistry";

/** Arguments of {@link ImageRegistry}. Every field is optional. */
export interface ImageRegistryArgs {
    /** ECR repository name (lowercase, may contain `/`, `.`, `_`, `-`). Default: the component's name. */
    repositoryName?: string;
    /** ARN of an existing KMS key for encryption at rest. Default: a key created for this registry, rotation on. */
    kmsKeyArn?: pulumi.Input<string>;
    /** Days after which untagged images expire. Default 7. */
    untaggedExpiryDays?: number;
    /** How many tagged images to keep; older ones expire. Default 50. */
    keepTaggedImages?: number;
    /** IAM principal ARNs (or 12-digit account IDs) granted pull-only access. Default none. */
    pullPrincipals?: string[];
    /**
     * Regions to replicate images to (edge locations near devices). ECR allows one replication configuration per
     * registry (account and region): this component owns it. Default none.
     */
    replicationRegions?: string[];
    /** Delete the repository even if it still holds images. Default false. */
    forceDelete?: boolean;
    /**
     * Create a companion `buildcache/<name>` repository (mutable tags, short lifecycle) for BuildKit's registry cache,
     * which must overwrite its cache tag and so cannot live in the immutable repository. Default true.
     */
    buildCache?: boolean;
    /**
     * Create an IAM role that can pull from this repository and its replicas and nothing else, for edge devices or
     * on-prem nodes. Trusted by IAM Roles Anywhere trust anchors (devices holding X.509 certificates) and/or by the
     * listed principals. Default: no role.
     */
    pullRole?: {
        /** IAM Roles Anywhere trust anchor ARNs whose certificates may assume the role. */
        trustAnchorArns?: string[];
        /** Principal ARNs (or account IDs) that may assume the role. */
        trustedPrincipals?: string[];
    };
    /** Tags merged onto the defaults, which name the component. */
    tags?: Record<string, string>;
}

/** Defaults, in one place. */
export const IMAGE_REGISTRY_DEFAULTS = {
    untaggedExpiryDays: 7,
    keepTaggedImages: 50,
    forceDelete: false,
    buildCache: true,
    /** Cache manifests kept in the build-cache repository. */
    keepCacheImages: 10,
} as const;

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** Validates the arguments; throws an error naming the field and the fix. Pure: no Pulumi calls. */
export function validateImageRegistryArgs(name: string, args: ImageRegistryArgs): void {
    const c = new ArgChecker("ImageRegistry", name);
    const repositoryName = args.repositoryName ?? name;
    c.check(
        repositoryName.length >= 2 && repositoryName.length <= 200 && REPOSITORY_NAME.test(repositoryName),
        "repositoryName",
        `"${repositoryName}" is not a valid ECR repository name: use 2-200 lowercase letters, digits and . _ - separators (e.g. "team/model-server")`,
    );
    if (args.untaggedExpiryDays !== undefined)
        c.check(isIntInRange(args.untaggedExpiryDays, 1), "untaggedExpiryDays", `must be a whole number of days >= 1 (got ${args.untaggedExpiryDays})`);
    if (args.keepTaggedImages !== undefined)
        c.check(isIntInRange(args.keepTaggedImages, 1), "keepTaggedImages", `must be a whole number >= 1 (got ${args.keepTaggedImages})`);
    for (const [i, p] of (args.pullPrincipals ?? []).entries()) {
        c.check(isPrincipal(p), `pullPrincipals[${i}]`, `"${p}" is not an IAM principal: give a role/user/root ARN (arn:aws:iam::123456789012:role/edge-device) or a 12-digit account ID`);
    }
    const regions = args.replicationRegions ?? [];
    for (const [i, r] of regions.entries()) {
        c.check(isRegion(r), `replicationRegions[${i}]`, `"${r}" is not an AWS region code such as "eu-central-1"`);
    }
    c.check(new Set(regions).size === regions.length, "replicationRegions", "lists a region twice: list each region once");
    if (args.pullRole) {
        const anchors = args.pullRole.trustAnchorArns ?? [];
        const principals = args.pullRole.trustedPrincipals ?? [];
        c.check(anchors.length + principals.length > 0, "pullRole", "trusts nobody: give trustAnchorArns (IAM Roles Anywhere) or trustedPrincipals");
        for (const [i, a] of anchors.entries()) {
            c.check(/^arn:aws[a-z-]*:rolesanywhere:[a-z0-9-]+:\d{12}:trust-anchor\/[0-9a-f-]+$/.test(a), `pullRole.trustAnchorArns[${i}]`, `"${a}" is not an IAM Roles Anywhere trust anchor ARN (arn:aws:rolesanywhere:<region>:<account>:trust-anchor/<id>)`);
        }
        for (const [i, p] of principals.entries()) {
            c.check(isPrincipal(p), `pullRole.trustedPrincipals[${i}]`, `"${p}" is not an IAM principal ARN or account ID`);
        }
    }
    c.done();
}

/** The ECR lifecycle policy: expire untagged images after N days, keep the newest M tagged images. Pure. */
export function lifecyclePolicy(untaggedExpiryDays: number, keepTaggedImages: number): string {
    return JSON.stringify({
        rules: [
            {
                rulePriority: 1,
                description: `Expire untagged images after ${untaggedExpiryDays} days`,
                selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedExpiryDays },
                action: { type: "expire" },
            },
            {
                rulePriority: 2,
                description: `Keep the newest ${keepTaggedImages} tagged images`,
                selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: keepTaggedImages },
                action: { type: "expire" },
            },
        ],
    });
}

/** Trust policy of the pull role: Roles Anywhere trust anchors (pinned by source ARN) and/or principals. Pure. */
export function pullRoleTrustPolicy(trustAnchorArns: string[], trustedPrincipals: string[]): PolicyDocument {
    const statements: PolicyStatement[] = [];
    if (trustAnchorArns.length > 0) {
        statements.push({
            Sid: "RolesAnywhere",
            Effect: "Allow",
            Principal: { Service: "rolesanywhere.amazonaws.com" },
            Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            Condition: { ArnEquals: { "aws:SourceArn": trustAnchorArns } },
        });
    }
    if (trustedPrincipals.length > 0) {
        statements.push({ Sid: "Principals", Effect: "Allow", Principal: { AWS: trustedPrincipals.map(principalArn) }, Action: "sts:AssumeRole" });
    }
    return policyDocument(...statements);
}

/**
 * A hardened ECR repository: immutable tags, scan on push, KMS encryption, a lifecycle policy, pull-only grants and
 * optional cross-region replication.
 */
export class ImageRegistry extends pulumi.ComponentResource {
    /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`. */
    readonly repositoryUrl: pulumi.Output<string>;
    readonly repositoryArn: pulumi.Output<string>;
    readonly repositoryName: pulumi.Output<string>;
    /** The AWS account ID that owns the registry. */
    readonly registryId: pulumi.Output<string>;
    /** ARN of the KMS key the repository is encrypted with. */
    readonly kmsKeyArn: pulumi.Output<string>;
    /** URL of the build-cache repository, when `buildCache` is on. */
    readonly cacheRepositoryUrl: pulumi.Output<string | undefined>;
    /** ARN of the pull-only role, when `pullRole` is set. */
    readonly pullRoleArn: pulumi.Output<string | undefined>;

    constructor(name: string, args: ImageRegistryArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        validateImageRegistryArgs(name, args);
        super(IMAGE_REGISTRY_TYPE, name, {}, opts);

        const d = IMAGE_REGISTRY_DEFAULTS;
        const repositoryName = args.repositoryName ?? name;
        const tags = componentTags("ImageRegistry", name, args.tags);
        const forceDelete = args.forceDelete ?? d.forceDelete;

        const kmsKeyArn = keyArnOrCreate({ given: args.kmsKeyArn, name, suffix: "key", description: `ECR encryption key for ${repositoryName}`, tags, parent: this });

        const lifecycle = lifecyclePolicy(args.untaggedExpiryDays ?? d.untaggedExpiryDays, args.keepTaggedImages ?? d.keepTaggedImages);
        const pullPrincipals = (args.pullPrincipals ?? []).map(principalArn);
        // One hardened repository: immutable, scanned, KMS-encrypted, expiring, pull grants. `region` undefined = the
        // provider's region.
        const hardenedRepository = (suffix: string, region: string | undefined, kmsKey: pulumi.Input<string> | undefined) => {
            const repo = new aws.ecr.Repository(
                `${name}-${suffix}`,
                {
                    name: repositoryName,
                    region,
                    imageTagMutability: "IMMUTABLE",
                    imageScanningConfiguration: { scanOnPush: true },
                    encryptionConfigurations: [{ encryptionType: "KMS", kmsKey }],
                    forceDelete,
                    tags,
                },
                { parent: this },
            );
            new aws.ecr.LifecyclePolicy(`${name}-${suffix === "repo" ? "" : `${suffix}-`}lifecycle`, { region, repository: repo.name, policy: lifecycle }, { parent: this });
            if (pullPrincipals.length > 0) {
                new aws.ecr.RepositoryPolicy(
                    `${name}-${suffix === "repo" ? "" : `${suffix}-`}pull`,
                    {
                        region,
                        repository: repo.name,
                        policy: policyJson(
                            policyDocument({ Sid: "PullOnly", Effect: "Allow", Principal: { AWS: pullPrincipals }, Action: ECR_PULL_ACTIONS }),
                        ),
                    },
                    { parent: this },
                );
            }
            return repo;
        };

        const repository = hardenedRepository("repo", undefined, kmsKeyArn);

        const regions = args.replicationRegions ?? [];
        const replicas: aws.ecr.Repository[] = [];
        if (regions.length > 0) {
            // Replication writes into an existing destination repository as it is, so creating each replica here keeps
            // it as hardened as the source (ECR would otherwise create it mutable). KMS keys are regional: replicas use
            // the region's AWS-managed ECR key.
            for (const region of regions) replicas.push(hardenedRepository(`replica-${region}`, region, undefined));
            new aws.ecr.ReplicationConfiguration(
                `${name}-replication`,
                {
                    replicationConfiguration: {
                        rules: [
                            {
                                destinations: regions.map((region) => ({ region, registryId: repository.registryId })),
                                repositoryFilters: [{ filter: repositoryName, filterType: "PREFIX_MATCH" }],
                            },
                        ],
                    },
                },
                { parent: this, dependsOn: replicas },
            );
        }

        let cacheRepositoryUrl: pulumi.Output<string | undefined> = pulumi.output(undefined);
        if (args.buildCache ?? d.buildCache) {
            const cache = new aws.ecr.Repository(
                `${name}-cache`,
                {
                    // Not under `<name>`: replication matches by name prefix, and the cache must stay home.
                    name: `buildcache/${repositoryName}`,
                    // BuildKit overwrites its cache tag on every build, so this repository alone keeps mutable tags.
                    imageTagMutability: "MUTABLE",
                    encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: kmsKeyArn }],
                    forceDelete: true,
                    tags,
                },
                { parent: this },
            );
            new aws.ecr.LifecyclePolicy(
                `${name}-cache-lifecycle`,
                { repository: cache.name, policy: lifecyclePolicy(1, d.keepCacheImages) },
                { parent: this },
            );
            cacheRepositoryUrl = cache.repositoryUrl;
        }

        let pullRoleArn: pulumi.Output<string | undefined> = pulumi.output(undefined);
        if (args.pullRole) {
            const role = new aws.iam.Role(
                `${name}-pull-role`,
                {
                    description: `Pull-only access to ECR repository ${repositoryName} and its replicas`,
                    assumeRolePolicy: policyJson(pullRoleTrustPolicy(args.pullRole.trustAnchorArns ?? [], args.pullRole.trustedPrincipals ?? [])),
                    maxSessionDuration: 3600,
                    tags,
                },
                { parent: this },
            );
            new aws.iam.RolePolicy(
                `${name}-pull-role-policy`,
                {
                    role: role.name,
                    policy: policyJson(
                        policyDocument(
                            // GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
                            { Sid: "Login", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
                            {
                                Sid: "PullThisRepository",
                                Effect: "Allow",
                                Action: ECR_PULL_ACTIONS,
                                Resource: [repository.arn, ...replicas.map((r) => r.arn)],
                            },
                        ),
                    ),
                },
                { parent: this },
            );
            pullRoleArn = role.arn;
        }

        this.repositoryUrl = repository.repositoryUrl;
        this.repositoryArn = repository.arn;
        this.repositoryName = repository.name;
        this.registryId = repository.registryId;
        this.kmsKeyArn = kmsKeyArn;
        this.cacheRepositoryUrl = cacheRepositoryUrl;
        this.pullRoleArn = pullRoleArn;
        this.registerOutputs({
            pullRoleArn: this.pullRoleArn,
            repositoryUrl: this.repositoryUrl,
            repositoryArn: this.repositoryArn,
            repositoryName: this.repositoryName,
            registryId: this.registryId,
            kmsKeyArn: this.kmsKeyArn,
            cacheRepositoryUrl: this.cacheRepositoryUrl,
        });
    }
}
