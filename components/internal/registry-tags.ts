/**
 * Tags with a meaning to the registry's lifecycle and tag-mutability rules, shared by ImageRegistry (which protects
 * them) and InferenceImage (which pushes them), and ECR's tag-mutability rule as a pure function, so that tests (and
 * the mock runtime) can replay a sequence of pushes against a repository's settings.
 */
import { createHash } from "crypto";

/**
 * Prefix of the content-hash tag every build pushes (`build-<target>-<hash>`). Re-pushable: docker-build rebuilds on
 * its own hash (file modes, secrets, builder settings), and a retried `up` re-pushes a tag whose state was never
 * written, so an immutable content tag would be refused by ECR even for an identical digest. What runs is pinned by
 * digest, which no tag can move.
 */
export const BUILD_TAG_PREFIX = "build-";

/**
 * Prefix of the one mutable tag per stack and image that points at the digest the stack deploys. The lifecycle never
 * expires an image carrying it; deployments still pull by digest, never by this tag.
 */
export const DEPLOYED_TAG_PREFIX = "deployed-";

/** Prefix of BuildKit's registry-cache tags, the only tags the build-cache repository lets a push overwrite. */
export const CACHE_TAG_PREFIX = "cache-";

/** ECR and the OCI distribution spec: up to 128 characters of `[A-Za-z0-9_.-]`, starting with a letter or digit. */
const TAG_MAX = 128;

/** ECR's tag-mutability settings of a repository, as `aws.ecr.Repository` takes them. */
export interface TagMutabilitySettings {
    /** `MUTABLE` (ECR's default), `IMMUTABLE`, `IMMUTABLE_WITH_EXCLUSION` or `MUTABLE_WITH_EXCLUSION`. */
    imageTagMutability?: string;
    /** `WILDCARD` filters (`*` matches any run of characters) naming the exceptions to the setting. */
    imageTagMutabilityExclusionFilters?: { filter: string; filterType: string }[];
}

/** Whether an ECR `WILDCARD` exclusion filter matches a tag: `*` stands for any run of characters, nothing else is special. Pure. */
export function wildcardMatches(filter: string, tag: string): boolean {
    const pattern = filter
        .split("*")
        .map((part) => part.replace(/[.+?^${}()|[\]\\-]/g, "\\$&"))
        .join(".*");
    return new RegExp(`^${pattern}$`).test(tag);
}

/**
 * ECR's rule: whether a tag, once it exists in a repository with these settings, refuses to be pushed again (ECR
 * answers `ImageTagAlreadyExistsException`, even for the identical digest). `IMMUTABLE_WITH_EXCLUSION` exempts the
 * tags a filter matches; `MUTABLE_WITH_EXCLUSION` makes exactly those immutable. Pure.
 */
export function tagIsImmutable(settings: TagMutabilitySettings, tag: string): boolean {
    const matched = (settings.imageTagMutabilityExclusionFilters ?? []).some((f) => f.filterType === "WILDCARD" && wildcardMatches(f.filter, tag));
    switch (settings.imageTagMutability ?? "MUTABLE") {
        case "IMMUTABLE":
            return true;
        case "IMMUTABLE_WITH_EXCLUSION":
            return !matched;
        case "MUTABLE_WITH_EXCLUSION":
            return matched;
        default:
            return false;
    }
}

/**
 * Replays pushes of tags into one repository, in order, and returns each push ECR would refuse: a tag that is
 * immutable under `settings` and already exists (pushed before in the sequence, or in `existing`). Pure.
 */
export function refusedPushes(settings: TagMutabilitySettings, pushes: string[], existing: Iterable<string> = []): string[] {
    const present = new Set(existing);
    const refused: string[] = [];
    for (const tag of pushes) {
        if (present.has(tag) && tagIsImmutable(settings, tag)) refused.push(tag);
        present.add(tag);
    }
    return refused;
}

/**
 * The deployed-pointer tag of one image in one stack: `deployed-<stack>-<name>`, with characters a tag cannot hold
 * replaced and over-long names shortened with a hash, so two stacks or components never share a pointer. Pure.
 */
export function deployedTag(stack: string, name: string): string {
    const raw = `${DEPLOYED_TAG_PREFIX}${stack}-${name}`.replace(/[^A-Za-z0-9_.-]/g, "-");
    if (raw.length <= TAG_MAX) return raw;
    const hash = createHash("sha256").update(`${stack}\0${name}`).digest("hex").slice(0, 12);
    return `${raw.slice(0, TAG_MAX - hash.length - 1)}-${hash}`;
}

/** The build-cache tag of a build stage. Pure. */
export function cacheTag(target: string | undefined): string {
    return `${CACHE_TAG_PREFIX}${target ?? "default"}`;
}
