import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ECR_PULL_ACTIONS, type PolicyDocument, type PolicyStatement, policyDocument, policyJson } from "./internal/iam";
import { keyArnOrCreate } from "./internal/kms";
import { BUILD_TAG_PREFIX, CACHE_TAG_PREFIX, DEPLOYED_TAG_PREFIX, type TagMutabilitySettings } from "./internal/registry-tags";
import { componentTags } from "./internal/tags";
import { ArgChecker, InvalidArgumentError, isIntInRange, isPrincipal, isRegion, principalArn } from "./internal/validation";
import { checkInputs, checkPlain, isPlain, type InputField } from "./internal/inputs";
import { createImageSigning, type ImageSigning, type ImageSigningArgs, signatureVerifierStatements, validateImageSigning } from "./internal/image-signing";

export const IMAGE_REGISTRY_TYPE = "modelship:index:ImageRegistry";

/** Arguments of {@link ImageRegistry}. Every field is optional. */
export interface ImageRegistryArgs {
    /** ECR repository name (lowercase, may contain `/`, `.`, `_`, `-`). Default: the component's name. */
    repositoryName?: string;
    /** ARN of an existing KMS key for encryption at rest. Default: a key created for this registry, rotation on. */
    kmsKeyArn?: pulumi.Input<string>;
    /** Days after which untagged images expire. Default 7. */
    untaggedExpiryDays?: number;
    /**
     * How many tagged images to keep; older ones expire, except an image carrying a `deployed-…` tag (the digest a
     * stack deploys, see InferenceImage), which never expires while it carries it. Default 50.
     */
    keepTaggedImages?: number;
    /** IAM principal ARNs (or 12-digit account IDs) granted pull-only access, e.g. `role.arn`. Default none. */
    pullPrincipals?: pulumi.Input<string>[];
    /**
     * Regions that get a replica repository (edge locations near devices), as hardened as the source. An
     * {@link InferenceImage} pushes each build into every replica itself, in the same push as the source, so the digest
     * exists there before anything pulls it and a region added later gets the current digest (ECR replication would be
     * asynchronous, would skip images pushed before it existed, and is one configuration per account and region).
     * Default none.
     */
    replicationRegions?: string[];
    /**
     * Delete the source repository on destroy even if it still holds images. Replicas and the build cache hold only
     * copies a build re-pushes, so they are always deleted with their images. Default false.
     */
    forceDelete?: boolean;
    /**
     * Create a companion `buildcache/<name>` repository (scanned, short lifecycle) for BuildKit's registry cache, whose
     * `cache-*` tags alone may be overwritten (BuildKit rewrites its cache tag every build). Default true.
     */
    buildCache?: boolean;
    /**
     * Create an IAM role that can pull from this repository and its replicas and nothing else, for edge devices or
     * on-prem nodes. Trusted by IAM Roles Anywhere trust anchors (devices holding X.509 certificates whose subject is
     * allowed) and/or by the listed principals. Default: no role.
     */
    pullRole?: PullRoleArgs;
    /**
     * Sign every image pushed to the repository server-side (ECR managed signing): an AWS Signer profile
     * (`Notation-OCI-SHA384-ECDSA`) and a registry signing rule for this repository. Replicas receive the signatures
     * with the images. The pull role may then also check revocation (`signer:GetRevocationStatus`). Default: unsigned.
     */
    signing?: ImageSigningArgs;
    /** Tags merged onto the defaults, which name the component. */
    tags?: Record<string, string>;
}

/** The device pull role of {@link ImageRegistryArgs.pullRole}. */
export interface PullRoleArgs {
    /**
     * IAM Roles Anywhere trust anchor ARNs whose certificates may assume the role (with `allowedSubjects`), e.g.
     * `anchor.arn`; all in the provider's region. The list is plain (its emptiness decides whether a profile is made). Default none.
     */
    trustAnchorArns?: pulumi.Input<string>[];
    /**
     * Certificate subjects allowed through the trust anchors, matched against the session's
     * `aws:PrincipalTag/x509Subject/CN` and `/OU` (`StringLike`: `*` and `?` wildcards; a subject must match one `cn`
     * and one `ou` when both are given). Required with `trustAnchorArns`: a trust anchor alone accepts every
     * certificate its CA ever issued.
     */
    allowedSubjects?: { cn?: string[]; ou?: string[] };
    /** Principal ARNs (or account IDs) that may assume the role, e.g. the deployer that logs devices in. Default none. */
    trustedPrincipals?: pulumi.Input<string>[];
    /** Lifetime of the Roles Anywhere session credentials, seconds (900-3600, the role's maximum session). Default 3600. */
    sessionSeconds?: number;
}

/** Defaults, in one place. */
export const IMAGE_REGISTRY_DEFAULTS = {
    untaggedExpiryDays: 7,
    keepTaggedImages: 50,
    forceDelete: false,
    buildCache: true,
    /** Cache manifests kept in the build-cache repository. */
    keepCacheImages: 10,
    /** Roles Anywhere session lifetime, seconds; also the pull role's maximum session. */
    sessionSeconds: 3600,
    /** Count the protecting lifecycle rule never reaches (one `deployed-` tag per stack and image). */
    protectedImageCount: 9999,
} as const;

/**
 * The tags any push may overwrite in our repositories: the content-hash tag (re-pushed by a rebuild or a retried
 * `up`) and the deployed pointer (moved by every deploy). Every other tag stays immutable; what runs is pinned by digest.
 */
export const REPUSHABLE_TAG_FILTERS = [`${BUILD_TAG_PREFIX}*`, `${DEPLOYED_TAG_PREFIX}*`].map((filter) => ({ filter, filterType: "WILDCARD" }));

/** The tag-mutability settings of the source repository and of every replica. */
export const REPOSITORY_TAG_MUTABILITY: TagMutabilitySettings = {
    imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
    imageTagMutabilityExclusionFilters: REPUSHABLE_TAG_FILTERS,
};

/** The tag-mutability settings of the build-cache repository: BuildKit rewrites its cache tag on every build. */
export const CACHE_TAG_MUTABILITY: TagMutabilitySettings = {
    imageTagMutability: "IMMUTABLE_WITH_EXCLUSION",
    imageTagMutabilityExclusionFilters: [{ filter: `${CACHE_TAG_PREFIX}*`, filterType: "WILDCARD" }],
};

/** Characters Pulumi appends to an autonamed resource: `-` and 7 random hex characters. */
export const AUTONAME_SUFFIX_LENGTH = 8;

/**
 * The pull role's children whose AWS names start with the component's name: the suffix after it, AWS's limit on the
 * whole, and whether Pulumi autonames it (appending {@link AUTONAME_SUFFIX_LENGTH} more characters).
 */
export const IMAGE_REGISTRY_NAME_BUDGETS = [
    { child: "pull role (IAM role name)", suffix: "-pull-role", limit: 64, autonamed: true },
    { child: "pull role policy (IAM inline policy name)", suffix: "-pull-role-policy", limit: 128, autonamed: true },
    { child: "Roles Anywhere profile name", suffix: "-pull", limit: 255, autonamed: false },
] as const;

/** The longest component name a budget allows. Pure. */
function budgetMax(b: (typeof IMAGE_REGISTRY_NAME_BUDGETS)[number]): number {
    return b.limit - b.suffix.length - (b.autonamed ? AUTONAME_SUFFIX_LENGTH : 0);
}

/** The longest component name every child of the pull role fits with. Pure. */
export function maxImageRegistryNameLength(): number {
    return Math.min(...IMAGE_REGISTRY_NAME_BUDGETS.map(budgetMax));
}

/** What is wrong with a `pullPrincipals` entry, or undefined. Pure. */
export function pullPrincipalProblem(p: string): string | undefined {
    return isPrincipal(p) ? undefined : `"${p}" is not an IAM principal: give a role/user/root ARN (arn:aws:iam::123456789012:role/edge-device) or a 12-digit account ID`;
}

/** What is wrong with a `pullRole.trustAnchorArns` entry, or undefined. Pure. */
export function trustAnchorProblem(a: string): string | undefined {
    return /^arn:aws[a-z-]*:rolesanywhere:[a-z0-9-]+:\d{12}:trust-anchor\/[0-9a-f-]+$/.test(a)
        ? undefined
        : `"${a}" is not an IAM Roles Anywhere trust anchor ARN (arn:aws:rolesanywhere:<region>:<account>:trust-anchor/<id>)`;
}

/** What is wrong with a `pullRole.trustedPrincipals` entry, or undefined. Pure. */
export function trustedPrincipalProblem(p: string): string | undefined {
    return isPrincipal(p) ? undefined : `"${p}" is not an IAM principal ARN or account ID`;
}

/** What is wrong with the anchors' regions together, or undefined: the profile lives in one region with its anchors. Pure. */
export function anchorRegionsProblem(anchors: string[]): string | undefined {
    const regions = new Set(anchors.map(arnRegion));
    return regions.size <= 1 ? undefined : `span regions ${[...regions].join(", ")}: the profile lives in one region with its anchors; use one ImageRegistry pull role per region`;
}

const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** Validates the arguments; throws an error naming the field and the fix. Pure: no Pulumi calls. */
export function validateImageRegistryArgs(name: string, args: ImageRegistryArgs): void {
    const c = new ArgChecker("ImageRegistry", name);
    if (args.pullRole) {
        // Pulumi appends "-" and 7 characters to each autonamed child: check the whole against AWS's limit here, not at deploy.
        for (const b of IMAGE_REGISTRY_NAME_BUDGETS) {
            const max = budgetMax(b);
            c.check(
                name.length <= max,
                "name",
                `"${name}" is ${name.length} characters: the ${b.child} "${name}${b.suffix}${b.autonamed ? "-xxxxxxx" : ""}" would exceed AWS's ${b.limit}; use a component name of at most ${max} characters`,
            );
        }
        c.check(/^[A-Za-z0-9_-]+$/.test(name), "name", `"${name}" names the pull role and its Roles Anywhere profile, which take letters, digits, _ and - only: rename the component`);
    }
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
    (args.pullPrincipals ?? []).forEach((p, i) => checkPlain(c, `pullPrincipals[${i}]`, p, pullPrincipalProblem));
    const regions = args.replicationRegions ?? [];
    for (const [i, r] of regions.entries()) {
        c.check(isRegion(r), `replicationRegions[${i}]`, `"${r}" is not an AWS region code such as "eu-central-1"`);
    }
    c.check(new Set(regions).size === regions.length, "replicationRegions", "lists a region twice: list each region once");
    if (args.pullRole) validatePullRole(c, args.pullRole);
    if (args.signing !== undefined) validateImageSigning(c, args.signing);
    c.done();
}

/**
 * Roles Anywhere trust anchors and profiles are regional and a session names both: the profile, created in the
 * provider's region, must sit with the anchors. Throws naming the field and the fix. Pure.
 */
export function checkProfileRegion(name: string, anchorRegion: string, providerRegion: string): void {
    if (anchorRegion !== providerRegion) {
        throw new Error(
            `ImageRegistry "${name}": pullRole.trustAnchorArns are in ${anchorRegion} but the Roles Anywhere profile would be created in ${providerRegion}: create the trust anchor in ${providerRegion}, or deploy with aws:region ${anchorRegion}`,
        );
    }
}

/**
 * A replica in the provider's own region would be the source repository itself (same name, same registry): refuses the
 * provider's region among `replicationRegions`, once it is known. Pure.
 */
export function checkReplicationRegions(name: string, regions: readonly string[], providerRegion: string): void {
    if (regions.includes(providerRegion)) {
        throw new Error(
            `ImageRegistry "${name}": replicationRegions lists ${providerRegion}, the AWS provider's own region, where the source repository already is: remove it (pulls there use the source repository)`,
        );
    }
}

/** The region field of an ARN. Pure. */
function arnRegion(arn: string): string {
    return arn.split(":")[3] ?? "";
}

const SUBJECT_PATTERN = /^(?=.{1,64}$)[^"\\\s](?:[^"\\]*[^"\\\s])?$/;

function validatePullRole(c: ArgChecker, role: PullRoleArgs): void {
    const anchors = role.trustAnchorArns ?? [];
    const principals = role.trustedPrincipals ?? [];
    c.check(anchors.length + principals.length > 0, "pullRole", "trusts nobody: give trustAnchorArns (IAM Roles Anywhere) or trustedPrincipals");
    anchors.forEach((a, i) => checkPlain(c, `pullRole.trustAnchorArns[${i}]`, a, trustAnchorProblem));
    const plainAnchors = anchors.filter((a): a is string => isPlain(a) && typeof a === "string");
    checkPlain(c, "pullRole.trustAnchorArns", plainAnchors, anchorRegionsProblem);
    const subjects = role.allowedSubjects ?? {};
    const cn = subjects.cn ?? [];
    const ou = subjects.ou ?? [];
    if (anchors.length > 0) {
        c.check(
            cn.length + ou.length > 0,
            "pullRole.allowedSubjects",
            "is required with trustAnchorArns: a trust anchor alone lets every certificate its CA issued pull; list the devices' certificate subjects, e.g. { cn: [\"jetson-*\"] } or { ou: [\"edge-devices\"] }",
        );
    } else {
        c.check(cn.length + ou.length === 0, "pullRole.allowedSubjects", "only applies to trustAnchorArns: add the trust anchor, or remove allowedSubjects");
    }
    for (const [field, values] of [["cn", cn], ["ou", ou]] as const) {
        for (const [i, v] of values.entries()) {
            const f = `pullRole.allowedSubjects.${field}[${i}]`;
            c.check(typeof v === "string" && SUBJECT_PATTERN.test(v), f, `"${v}" is not a certificate subject value: 1-64 characters, no quotes, backslashes or surrounding spaces`);
            c.check(typeof v !== "string" || /[^*?]/.test(v), f, `"${v}" matches every certificate: name the devices' subject, e.g. "jetson-*"`);
        }
    }
    principals.forEach((p, i) => checkPlain(c, `pullRole.trustedPrincipals[${i}]`, p, trustedPrincipalProblem));
    if (role.sessionSeconds !== undefined) {
        c.check(isIntInRange(role.sessionSeconds, 900, 3600), "pullRole.sessionSeconds", `must be a whole number of seconds from 900 to 3600 (got ${role.sessionSeconds})`);
    }
}

/**
 * The ECR lifecycle policy. Pure.
 * 1. An image carrying a `protectedTagPrefix` tag matches a rule that never expires it, and ECR never lets a lower
 *    priority rule expire an image a higher one matched: the digest a stack deploys stays however many builds follow.
 * 2. Untagged images expire after N days (ECR never expires a manifest an image index still references).
 * 3. Of the other tagged images, the newest M are kept.
 */
export function lifecyclePolicy(untaggedExpiryDays: number, keepTaggedImages: number, protectedTagPrefix?: string): string {
    const rules: object[] = [];
    if (protectedTagPrefix !== undefined) {
        rules.push({
            description: `Never expire images tagged ${protectedTagPrefix}* (deployed digests)`,
            selection: { tagStatus: "tagged", tagPrefixList: [protectedTagPrefix], countType: "imageCountMoreThan", countNumber: IMAGE_REGISTRY_DEFAULTS.protectedImageCount },
            action: { type: "expire" },
        });
    }
    rules.push(
        {
            description: `Expire untagged images after ${untaggedExpiryDays} days`,
            selection: { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: untaggedExpiryDays },
            action: { type: "expire" },
        },
        {
            description: `Keep the newest ${keepTaggedImages} tagged images`,
            selection: { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: keepTaggedImages },
            action: { type: "expire" },
        },
    );
    return JSON.stringify({ rules: rules.map((rule, i) => ({ rulePriority: i + 1, ...rule })) });
}

/**
 * Trust policy of the pull role. Pure. Roles Anywhere: pinned to the trust anchors (`aws:SourceArn`) and to the
 * allowed certificate subjects (the CN and OU principal tags Roles Anywhere maps from the certificate by default; a
 * certificate without them matches no `StringLike` and is refused), with the three actions Roles Anywhere requires.
 * Principals: `sts:AssumeRole` only.
 */
export function pullRoleTrustPolicy(
    trustAnchorArns: pulumi.Input<string>[],
    trustedPrincipals: pulumi.Input<string>[],
    allowedSubjects: { cn?: string[]; ou?: string[] } = {},
): PolicyDocument {
    const statements: PolicyStatement[] = [];
    if (trustAnchorArns.length > 0) {
        const subject: Record<string, string[]> = {};
        if (allowedSubjects.cn?.length) subject["aws:PrincipalTag/x509Subject/CN"] = allowedSubjects.cn;
        if (allowedSubjects.ou?.length) subject["aws:PrincipalTag/x509Subject/OU"] = allowedSubjects.ou;
        statements.push({
            Sid: "RolesAnywhere",
            Effect: "Allow",
            Principal: { Service: "rolesanywhere.amazonaws.com" },
            Action: ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
            Condition: { ArnEquals: { "aws:SourceArn": trustAnchorArns }, StringLike: subject },
        });
    }
    if (trustedPrincipals.length > 0) {
        const principals = trustedPrincipals.map((p, i) =>
            pulumi.output(p).apply((v) => {
                if (!isPrincipal(v)) throw new Error(`ImageRegistry: pullRole.trustedPrincipals[${i}] "${v}" is not an IAM principal ARN or account ID`);
                return principalArn(v);
            }),
        );
        statements.push({ Sid: "Principals", Effect: "Allow", Principal: { AWS: principals }, Action: "sts:AssumeRole" });
    }
    return policyDocument(...statements);
}

/**
 * A hardened ECR repository: immutable tags, scan on push, KMS encryption, a lifecycle policy, pull-only grants and
 * optional replica repositories in other regions. Built in steps, each a method: repository, replicas, build cache, pull role.
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
    /** ARN of the IAM Roles Anywhere profile devices name to assume the pull role, when `pullRole.trustAnchorArns` is set. */
    readonly rolesAnywhereProfileArn: pulumi.Output<string | undefined>;

    // ---- the children, for extending rather than forking
    /** The ECR repository. */
    readonly repository: aws.ecr.Repository;
    /** The replica repositories, by region. */
    readonly replicas: Record<string, aws.ecr.Repository>;
    /** The build-cache repository, when `buildCache` is on. */
    readonly cacheRepository: aws.ecr.Repository | undefined;
    /** The pull-only IAM role, when `pullRole` is set. */
    readonly pullRole: aws.iam.Role | undefined;
    /** The Roles Anywhere profile, when `pullRole.trustAnchorArns` is set. */
    readonly rolesAnywhereProfile: aws.rolesanywhere.Profile | undefined;
    /** ARN of the AWS Signer profile that signs pushed images (the verifiers' trusted identity), when `signing` is set. */
    readonly signingProfileArn: pulumi.Output<string | undefined>;
    /** Identity policy (JSON) granting exactly `signer:SignPayload` on the profile, for pushers' roles, when `signing` is set. */
    readonly signingPolicyJson: pulumi.Output<string | undefined>;
    /** The signing profile, configuration and permissions, when `signing` is set. */
    readonly signing: ImageSigning | undefined;

    constructor(name: string, args: ImageRegistryArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        validateImageRegistryArgs(name, args);
        super(IMAGE_REGISTRY_TYPE, name, {}, opts);

        const repositoryName = args.repositoryName ?? name;
        const tags = componentTags("ImageRegistry", name, args.tags);
        const kmsKeyArn = keyArnOrCreate({ given: args.kmsKeyArn, name, suffix: "key", description: `ECR encryption key for ${repositoryName}`, tags, parent: this });
        const pullPrincipals = checkInputs({ component: "ImageRegistry", name, field: "pullPrincipals" }, args.pullPrincipals ?? [], pullPrincipalProblem).map((p) =>
            p.apply(principalArn),
        );

        const repository = this.hardenedRepository(name, "repo", repositoryName, undefined, kmsKeyArn, args.forceDelete ?? IMAGE_REGISTRY_DEFAULTS.forceDelete, pullPrincipals, args, tags);
        const replicas = this.createReplicas(name, repositoryName, pullPrincipals, args, tags);
        const cache = args.buildCache ?? IMAGE_REGISTRY_DEFAULTS.buildCache ? this.createBuildCache(name, repositoryName, kmsKeyArn, tags) : undefined;
        const signing = args.signing ? createImageSigning(name, repositoryName, args.signing, tags, this) : undefined;
        const pull = args.pullRole ? this.createPullRole(name, repositoryName, args.pullRole, [repository, ...Object.values(replicas)], tags, signing !== undefined) : undefined;

        this.repository = repository;
        this.replicas = replicas;
        this.cacheRepository = cache;
        this.pullRole = pull?.role;
        this.rolesAnywhereProfile = pull?.profile;
        this.repositoryUrl = repository.repositoryUrl;
        this.repositoryArn = repository.arn;
        this.repositoryName = repository.name;
        this.registryId = repository.registryId;
        this.kmsKeyArn = kmsKeyArn;
        this.cacheRepositoryUrl = cache ? cache.repositoryUrl : pulumi.output(undefined);
        this.pullRoleArn = pull ? pull.arn : pulumi.output(undefined);
        this.rolesAnywhereProfileArn = pull?.profile ? pull.profile.arn : pulumi.output(undefined);
        this.signing = signing;
        this.signingProfileArn = signing ? signingReady(signing) : pulumi.output(undefined);
        this.signingPolicyJson = signing ? signing.pushPolicyJson : pulumi.output(undefined);
        this.registerOutputs({
            signingProfileArn: this.signingProfileArn,
            signingPolicyJson: this.signingPolicyJson,
            pullRoleArn: this.pullRoleArn,
            rolesAnywhereProfileArn: this.rolesAnywhereProfileArn,
            repositoryUrl: this.repositoryUrl,
            repositoryArn: this.repositoryArn,
            repositoryName: this.repositoryName,
            registryId: this.registryId,
            kmsKeyArn: this.kmsKeyArn,
            cacheRepositoryUrl: this.cacheRepositoryUrl,
        });
    }

    /**
     * Step 1 (and for each replica): one hardened repository, immutable but for the tags a build re-pushes (see
     * {@link REPUSHABLE_TAG_FILTERS}), scanned, KMS-encrypted, expiring, with the pull grants. `region` undefined = the
     * provider's.
     */
    private hardenedRepository(
        name: string,
        suffix: string,
        repositoryName: string,
        region: pulumi.Input<string> | undefined,
        kmsKey: pulumi.Input<string> | undefined,
        forceDelete: boolean,
        pullPrincipals: pulumi.Output<string>[],
        args: ImageRegistryArgs,
        tags: Record<string, string>,
    ): aws.ecr.Repository {
        const d = IMAGE_REGISTRY_DEFAULTS;
        const repo = new aws.ecr.Repository(
            `${name}-${suffix}`,
            {
                name: repositoryName,
                region,
                imageTagMutability: REPOSITORY_TAG_MUTABILITY.imageTagMutability,
                imageTagMutabilityExclusionFilters: REPOSITORY_TAG_MUTABILITY.imageTagMutabilityExclusionFilters,
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "KMS", kmsKey }],
                forceDelete,
                tags,
            },
            { parent: this },
        );
        const lifecycle = lifecyclePolicy(args.untaggedExpiryDays ?? d.untaggedExpiryDays, args.keepTaggedImages ?? d.keepTaggedImages, DEPLOYED_TAG_PREFIX);
        const prefix = suffix === "repo" ? "" : `${suffix}-`;
        new aws.ecr.LifecyclePolicy(`${name}-${prefix}lifecycle`, { region, repository: repo.name, policy: lifecycle }, { parent: this });
        if (pullPrincipals.length > 0) {
            new aws.ecr.RepositoryPolicy(
                `${name}-${prefix}pull`,
                {
                    region,
                    repository: repo.name,
                    policy: policyJson(policyDocument({ Sid: "PullOnly", Effect: "Allow", Principal: { AWS: pullPrincipals }, Action: ECR_PULL_ACTIONS })),
                },
                { parent: this },
            );
        }
        return repo;
    }

    /**
     * Step 2, replicas: one hardened repository per region, which InferenceImage pushes into directly (no ECR
     * replication: it is asynchronous, ignores images pushed before it exists, and is one configuration per account and
     * region). KMS keys are regional: replicas use the region's AWS-managed ECR key. A replica holds only copies a build
     * pushes again, so it is deleted with its images: a destroy never stops at a replica.
     */
    private createReplicas(
        name: string,
        repositoryName: string,
        pullPrincipals: pulumi.Output<string>[],
        args: ImageRegistryArgs,
        tags: Record<string, string>,
    ): Record<string, aws.ecr.Repository> {
        const regions = args.replicationRegions ?? [];
        const replicas: Record<string, aws.ecr.Repository> = {};
        if (regions.length === 0) return replicas;
        const own = aws.getRegionOutput({}, { parent: this }).region;
        for (const region of regions) {
            const checked = own.apply((providerRegion) => {
                checkReplicationRegions(name, regions, providerRegion);
                return region;
            });
            replicas[region] = this.hardenedRepository(name, `replica-${region}`, repositoryName, checked, undefined, true, pullPrincipals, args, tags);
        }
        return replicas;
    }

    /** Step 3, build cache: `buildcache/<name>`, scanned, short-lived, whose `cache-*` tags alone may move. */
    private createBuildCache(name: string, repositoryName: string, kmsKeyArn: pulumi.Input<string>, tags: Record<string, string>): aws.ecr.Repository {
        const d = IMAGE_REGISTRY_DEFAULTS;
        const cache = new aws.ecr.Repository(
            `${name}-cache`,
            {
                name: `buildcache/${repositoryName}`,
                // BuildKit overwrites its cache tag on every build: only those tags may move.
                imageTagMutability: CACHE_TAG_MUTABILITY.imageTagMutability,
                imageTagMutabilityExclusionFilters: CACHE_TAG_MUTABILITY.imageTagMutabilityExclusionFilters,
                imageScanningConfiguration: { scanOnPush: true },
                encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: kmsKeyArn }],
                // Cache manifests are disposable: a destroy never stops here.
                forceDelete: true,
                tags,
            },
            { parent: this },
        );
        new aws.ecr.LifecyclePolicy(`${name}-cache-lifecycle`, { repository: cache.name, policy: lifecyclePolicy(1, d.keepCacheImages) }, { parent: this });
        return cache;
    }

    /** Step 4: the pull-only role, and the Roles Anywhere profile devices use to assume it when trust anchors are given. */
    private createPullRole(name: string, repositoryName: string, args: PullRoleArgs, repositories: aws.ecr.Repository[], tags: Record<string, string>, signed = false) {
        const at = (field: string): InputField => ({ component: "ImageRegistry", name, field });
        const anchors = checkInputs(at("pullRole.trustAnchorArns"), args.trustAnchorArns ?? [], trustAnchorProblem);
        const principals = checkInputs(at("pullRole.trustedPrincipals"), args.trustedPrincipals ?? [], trustedPrincipalProblem);
        const sessionSeconds = args.sessionSeconds ?? IMAGE_REGISTRY_DEFAULTS.sessionSeconds;
        const role = new aws.iam.Role(
            `${name}-pull-role`,
            {
                description: `Pull-only access to ECR repository ${repositoryName} and its replicas`,
                assumeRolePolicy: policyJson(pullRoleTrustPolicy(anchors, principals, args.allowedSubjects)),
                maxSessionDuration: 3600,
                tags,
            },
            { parent: this },
        );
        const policy = new aws.iam.RolePolicy(
            `${name}-pull-role-policy`,
            {
                role: role.name,
                policy: policyJson(
                    policyDocument(
                        // GetAuthorizationToken has no resource-level permissions: "*" is the only valid resource.
                        { Sid: "Login", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
                        { Sid: "PullThisRepository", Effect: "Allow", Action: ECR_PULL_ACTIONS, Resource: repositories.map((r) => r.arn) },
                        // Strict signature verification on a device asks AWS Signer whether the signature was revoked.
                        ...(signed ? signatureVerifierStatements() : []),
                    ),
                ),
            },
            { parent: this },
        );
        // Without a profile the trust anchors cannot vend a session for the role: devices name this profile's ARN. It is
        // created in the provider's region, where CreateSession must find it beside the anchors.
        let profile: aws.rolesanywhere.Profile | undefined;
        if (anchors.length > 0) {
            const region = aws.getRegionOutput({}, { parent: this }).region;
            const profileName = pulumi.all([pulumi.all(anchors), region]).apply(([resolved, providerRegion]) => {
                const problem = anchorRegionsProblem(resolved);
                if (problem !== undefined) throw new InvalidArgumentError("ImageRegistry", name, "pullRole.trustAnchorArns", problem);
                checkProfileRegion(name, arnRegion(resolved[0]), providerRegion);
                return `${name}-pull`;
            });
            profile = new aws.rolesanywhere.Profile(
                `${name}-pull-profile`,
                { name: profileName, roleArns: [role.arn], durationSeconds: sessionSeconds, enabled: true, tags },
                { parent: this },
            );
        }
        // The ARN resolves once the policy is attached, so a caller assuming the role right away (the edge stack's
        // login) already has its permissions.
        const arn = pulumi.all([role.arn, policy.id]).apply(([a]) => a);
        return { arn, role, profile };
    }
}

/**
 * The signing profile's ARN once the signing configuration (when owned) and the pushers' permissions exist, so that a
 * build waiting on it pushes an image that gets signed.
 */
function signingReady(signing: ImageSigning): pulumi.Output<string> {
    const ready = [signing.configuration?.id, ...signing.permissions.map((p) => p.id)].filter((x) => x !== undefined);
    return pulumi.all([signing.profile.arn, ...ready]).apply(([arn]) => arn);
}
