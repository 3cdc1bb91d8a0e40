/**
 * Tags with a meaning to the registry's lifecycle and tag-mutability rules, shared by ImageRegistry (which protects
 * them) and InferenceImage (which pushes them).
 */
import { createHash } from "crypto";

/**
 * Prefix of the one mutable tag per stack and image that points at the digest the stack deploys. The lifecycle never
 * expires an image carrying it; deployments still pull by digest, never by this tag.
 */
export const DEPLOYED_TAG_PREFIX = "deployed-";

/** Prefix of BuildKit's registry-cache tags, the only tags the build-cache repository lets a push overwrite. */
export const CACHE_TAG_PREFIX = "cache-";

/** ECR and the OCI distribution spec: up to 128 characters of `[A-Za-z0-9_.-]`, starting with a letter or digit. */
const TAG_MAX = 128;

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
