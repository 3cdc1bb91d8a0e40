import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { ImageRegistry } from "./image-registry";
import { contextHash } from "./internal/context-hash";
import { ecrRefInRegion, registryHost } from "./internal/image-ref";
import { cacheTag, deployedTag } from "./internal/registry-tags";
import { ArgChecker } from "./internal/validation";

export const INFERENCE_IMAGE_TYPE = "modelship:index:InferenceImage";

/** Any OCI registry that is not an {@link ImageRegistry}. */
export interface ExternalRegistry {
    /** Repository URL without a tag, e.g. `ghcr.io/acme/model-server`. */
    repositoryUrl: pulumi.Input<string>;
    /** Registry user name, when the registry needs one. */
    username?: pulumi.Input<string>;
    /** Registry password or token; kept secret. */
    password?: pulumi.Input<string>;
    /** Repository (without tag) for BuildKit's registry cache, e.g. `ghcr.io/acme/model-server-cache`. Default none. */
    cacheRepositoryUrl?: pulumi.Input<string>;
}

/** Arguments of {@link InferenceImage}. */
export interface InferenceImageArgs {
    /** Build context directory (relative to the working directory or absolute). */
    context: string;
    /** Dockerfile path. Default `<context>/Dockerfile`. */
    dockerfile?: string;
    /** Build stage to produce, e.g. `cpu` or `gpu`. Default: the Dockerfile's last stage. */
    target?: string;
    /** Target platforms. Default `["linux/amd64"]`; edge devices add `linux/arm64`. */
    platforms?: string[];
    /** Build arguments (plain, non-secret values; they are part of the image tag hash). Default none. */
    buildArgs?: Record<string, string>;
    /** Build secrets (`RUN --mount=type=secret,id=<key>`); never stored in the image or in plain state. Default none. */
    secrets?: Record<string, pulumi.Input<string>>;
    /** Where to push: an {@link ImageRegistry} or any other registry. */
    registry: ImageRegistry | ExternalRegistry;
    /** Use the registry's build cache (`cacheFrom`/`cacheTo`). Default true when the registry has a cache repository. */
    cache?: boolean;
    /** Build during `pulumi preview` as a check (never pushed). Default false: previews stay fast and quiet. */
    buildOnPreview?: boolean;
    /** Any string; changing it changes the tag and forces a rebuild of unchanged sources. Default none. */
    rebuildTrigger?: string;
}

/** Defaults, in one place. */
export const INFERENCE_IMAGE_DEFAULTS = {
    platforms: ["linux/amd64"],
    dockerfile: "Dockerfile",
    buildOnPreview: false,
    /** Fixed build timestamp so that a rebuild of the same sources yields the same image config and digest. */
    sourceDateEpoch: "0",
    /** Hex characters of the content hash used in the tag. */
    tagHashLength: 16,
} as const;

/** Platforms BuildKit can build for that make sense for an inference server. */
export const SUPPORTED_PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le", "linux/s390x"];

/** Resolved paths, after validation. */
export interface ResolvedBuildPaths {
    context: string;
    dockerfile: string;
}

/** Validates the arguments against the filesystem; throws an error naming the field and the fix. */
export function validateInferenceImageArgs(name: string, args: InferenceImageArgs): ResolvedBuildPaths {
    const c = new ArgChecker("InferenceImage", name);
    const context = path.resolve(args.context ?? "");
    const contextOk = typeof args.context === "string" && args.context.length > 0 && fs.existsSync(context) && fs.statSync(context).isDirectory();
    c.check(contextOk, "context", `"${args.context}" is not a directory: point it at the folder that holds your Dockerfile and sources`);
    const dockerfile = args.dockerfile ? path.resolve(args.dockerfile) : path.join(context, INFERENCE_IMAGE_DEFAULTS.dockerfile);
    if (contextOk || args.dockerfile) {
        c.check(
            fs.existsSync(dockerfile) && fs.statSync(dockerfile).isFile(),
            "dockerfile",
            `"${dockerfile}" does not exist: create it or set dockerfile to its path`,
        );
    }
    const platforms = args.platforms ?? INFERENCE_IMAGE_DEFAULTS.platforms;
    c.check(platforms.length > 0, "platforms", "is empty: list at least one platform, e.g. [\"linux/amd64\"]");
    for (const [i, p] of platforms.entries()) {
        c.check(SUPPORTED_PLATFORMS.includes(p), `platforms[${i}]`, `"${p}" is not a supported platform: use one of ${SUPPORTED_PLATFORMS.join(", ")}`);
    }
    c.check(new Set(platforms).size === platforms.length, "platforms", "lists a platform twice");
    if (args.target !== undefined) c.check(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(args.target), "target", `"${args.target}" is not a valid build stage name`);
    c.check(args.registry !== undefined && args.registry !== null, "registry", "is required: pass an ImageRegistry or { repositoryUrl } of another registry");
    if (args.registry && !(args.registry instanceof ImageRegistry)) {
        const url = args.registry.repositoryUrl;
        c.check(url !== undefined && url !== "", "registry.repositoryUrl", "is empty: give the repository URL without a tag, e.g. ghcr.io/acme/model-server");
        if (typeof url === "string" && url !== "") {
            c.check(!/[@]|:[^/]*$/.test(url.replace(/^[^/]*\//, "")), "registry.repositoryUrl", `"${url}" carries a tag or digest: give the repository only`);
        }
    }
    c.done();
    return { context, dockerfile };
}

/** The tag for a build: an optional stage prefix and a content hash of the inputs. Pure given the files. */
export function imageTag(target: string | undefined, hash: string): string {
    const short = hash.slice(0, INFERENCE_IMAGE_DEFAULTS.tagHashLength);
    return target ? `${target}-${short}` : short;
}

/**
 * Builds the inference image with BuildKit (`@pulumi/docker-build`), pushes it and exposes it pinned by digest.
 *
 * The tag is a content hash of the build context (honouring `.dockerignore`), the Dockerfile and the build settings,
 * so an unchanged source gives an unchanged tag and no diff in `pulumi preview`.
 */
export class InferenceImage extends pulumi.ComponentResource {
    /** `repository@sha256:…`: what every deployment must use. */
    readonly ref: pulumi.Output<string>;
    /** `sha256:…` of the pushed image (the manifest list for multi-platform builds). */
    readonly digest: pulumi.Output<string>;
    /** The content-hash tag, e.g. `gpu-3f2a…`. */
    readonly tag: pulumi.Output<string>;
    /** `repository:tag`, for humans; deploy `ref` instead. */
    readonly taggedName: pulumi.Output<string>;
    /** The repository the image was pushed to. */
    readonly repositoryUrl: pulumi.Output<string>;
    /** The platforms built. */
    readonly platforms: string[];

    /**
     * The same digest in an ECR replica region (see `ImageRegistry.replicationRegions`): what devices near that region
     * pull. References outside ECR come back unchanged.
     */
    replicaRef(region: string): pulumi.Output<string> {
        return this.ref.apply((ref) => ecrRefInRegion(ref, region));
    }

    constructor(name: string, args: InferenceImageArgs, opts?: pulumi.ComponentResourceOptions) {
        const paths = validateInferenceImageArgs(name, args);
        super(INFERENCE_IMAGE_TYPE, name, {}, opts);

        const d = INFERENCE_IMAGE_DEFAULTS;
        const platforms = args.platforms ?? [...d.platforms];
        const buildArgs = { SOURCE_DATE_EPOCH: d.sourceDateEpoch, ...(args.buildArgs ?? {}) };
        const tag = imageTag(
            args.target,
            contextHash({ context: paths.context, dockerfile: paths.dockerfile, target: args.target, platforms, buildArgs, rebuildTrigger: args.rebuildTrigger }),
        );

        const registry = args.registry;
        let repositoryUrl: pulumi.Output<string>;
        let credentials: { username: pulumi.Input<string>; password: pulumi.Input<string> } | undefined;
        let cacheRepositoryUrl: pulumi.Input<string | undefined>;
        if (registry instanceof ImageRegistry) {
            repositoryUrl = registry.repositoryUrl;
            const token = aws.ecr.getAuthorizationTokenOutput({ registryId: registry.registryId }, { parent: this });
            credentials = { username: token.userName, password: pulumi.secret(token.password) };
            cacheRepositoryUrl = registry.cacheRepositoryUrl;
        } else {
            repositoryUrl = pulumi.output(registry.repositoryUrl).apply((url) => {
                if (!url) throw new Error(`InferenceImage "${name}": registry.repositoryUrl resolved to an empty string: pass the repository URL`);
                return url;
            });
            credentials =
                registry.username !== undefined && registry.password !== undefined
                    ? { username: registry.username, password: pulumi.secret(registry.password) }
                    : undefined;
            cacheRepositoryUrl = registry.cacheRepositoryUrl;
        }

        const useCache = args.cache ?? true;
        const cacheRef = pulumi
            .output(cacheRepositoryUrl)
            .apply((url) => (useCache && url ? `${url}:${cacheTag(args.target)}` : undefined));
        // In an ImageRegistry, a second, movable tag marks the digest this stack deploys, which its lifecycle keeps.
        const tags = [pulumi.interpolate`${repositoryUrl}:${tag}`];
        if (registry instanceof ImageRegistry) tags.push(pulumi.interpolate`${repositoryUrl}:${deployedTag(pulumi.getStack(), name)}`);

        const image = new dockerBuild.Image(
            `${name}-image`,
            {
                // Relative to the program's directory: an absolute path differs between machines and would diff.
                context: { location: path.relative(process.cwd(), paths.context) || "." },
                dockerfile: { location: path.relative(process.cwd(), paths.dockerfile) },
                target: args.target,
                platforms: platforms as dockerBuild.Platform[],
                buildArgs,
                secrets: args.secrets ? pulumi.secret(args.secrets) : undefined,
                push: true,
                tags,
                registries: credentials
                    ? [{ address: repositoryUrl.apply(registryHost), username: credentials.username, password: credentials.password }]
                    : undefined,
                cacheFrom: cacheRef.apply((ref) => (ref ? [{ registry: { ref } }] : [])),
                // ECR only accepts cache manifests as an image manifest with OCI media types.
                cacheTo: cacheRef.apply((ref) => (ref ? [{ registry: { ref, mode: dockerBuild.CacheMode.Max, imageManifest: true, ociMediaTypes: true } }] : [])),
                buildOnPreview: args.buildOnPreview ?? d.buildOnPreview,
            },
            { parent: this },
        );

        this.repositoryUrl = repositoryUrl;
        this.tag = pulumi.output(tag);
        this.taggedName = pulumi.interpolate`${repositoryUrl}:${tag}`;
        this.digest = image.digest;
        this.ref = pulumi.interpolate`${repositoryUrl}@${image.digest}`;
        this.platforms = platforms;
        this.registerOutputs({ ref: this.ref, digest: this.digest, tag: this.tag, taggedName: this.taggedName, repositoryUrl: this.repositoryUrl });
    }
}
