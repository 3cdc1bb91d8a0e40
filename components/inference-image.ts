import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as dockerBuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import { ImageRegistry } from "./image-registry";
import { contextHash, listAllFiles } from "./internal/context-hash";
import { ecrRefInRegion, registryHost } from "./internal/image-ref";
import { BUILD_TAG_PREFIX, cacheTag, deployedTag } from "./internal/registry-tags";
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

/** Your own ONNX model, baked into the image in place of the demo. */
export interface ModelArgs {
    /**
     * The `.onnx` file (relative to the working directory or absolute). Its directory is sent whole to BuildKit as the
     * named build context `model` and baked into `/app/model/`, so it must hold this file and its `externalData` only.
     */
    path: string;
    /** Name it is served under (`/v2/models/<name>`), `^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$`. Default: the file name without `.onnx`. */
    name?: string;
    /**
     * External-data files the model reads (`model.onnx.data`, the usual form above 2 GB), relative to its directory.
     * Default none.
     */
    externalData?: string[];
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
    /**
     * Use the registry's build cache (`cacheFrom`/`cacheTo`). Default: on for a single-platform build when the registry
     * has a cache repository; off for a multi-platform one, whose registry cache BuildKit exports unreliably
     * (docker/buildx#1382; docker-build warns) — there the build stages run natively on the build platform instead.
     */
    cache?: boolean;
    /** Build during `pulumi preview` as a check (never pushed). Default false: previews stay fast and quiet. */
    buildOnPreview?: boolean;
    /** Any string; changing it changes the tag and forces a rebuild of unchanged sources. Default none. */
    rebuildTrigger?: string;
    /** The model to serve; its bytes are part of the tag hash. Default: the Dockerfile's demo model (served as `demo`). */
    model?: ModelArgs;
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
    /** Whether a multi-platform build uses the registry cache unless `cache` says otherwise. */
    multiPlatformCache: false,
} as const;

/** The Dockerfile's contract for a model: a named build context and two build arguments. */
export const MODEL_BUILD = {
    /** Named build context holding the model directory. */
    context: "model",
    /** Build argument: the served name. */
    nameArg: "MODEL_NAME",
    /** Build argument: the `.onnx` file's name inside the directory. */
    fileArg: "MODEL_FILE",
} as const;

/** Served model names the inference server accepts (its `MODEL_NAME`). */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** The served name of a model file when none is given: its file name without `.onnx`. Pure. */
export function defaultModelName(modelPath: string): string {
    return path.basename(modelPath).replace(/\.onnx$/i, "");
}

/** Platforms BuildKit can build for that make sense for an inference server. */
export const SUPPORTED_PLATFORMS = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/ppc64le", "linux/s390x"];

/** A model after validation. */
export interface ResolvedModel {
    /** Absolute directory sent as the named build context. */
    dir: string;
    /** The `.onnx` file's name inside `dir`. */
    file: string;
    /** Served name. */
    name: string;
}

/** Resolved paths, after validation. */
export interface ResolvedBuildPaths {
    context: string;
    dockerfile: string;
    model?: ResolvedModel;
}

/** Checks `args.model` against the filesystem, recording problems on `c`; returns the resolved model when sound. */
function validateModel(c: ArgChecker, model: ModelArgs, buildArgs: Record<string, string> | undefined): ResolvedModel | undefined {
    for (const arg of [MODEL_BUILD.nameArg, MODEL_BUILD.fileArg]) {
        c.check(buildArgs?.[arg] === undefined, `buildArgs.${arg}`, `is set from model: remove it from buildArgs (set model.name / model.path instead)`);
    }
    if (typeof model.path !== "string" || model.path === "") {
        c.check(false, "model.path", "is empty: give the path of your .onnx file");
        return undefined;
    }
    const file = path.resolve(model.path);
    const name = model.name ?? defaultModelName(file);
    c.check(
        MODEL_NAME_PATTERN.test(name),
        "model.name",
        model.name === undefined
            ? `is not set and the file name "${path.basename(file)}" does not make a valid served name: set model.name (letters, digits, _ . -; up to 128, starting with a letter or digit)`
            : `"${name}" is not a valid served name: use letters, digits, _ . - (up to 128, starting with a letter or digit)`,
    );
    c.check(/\.onnx$/i.test(file), "model.path", `"${model.path}" is not an .onnx file: export your model to ONNX (torch.onnx.export, tf2onnx) and point model.path at it`);
    const lst = fs.existsSync(file) ? fs.lstatSync(file) : undefined;
    if (!lst || !(lst.isFile() || lst.isSymbolicLink())) {
        c.check(false, "model.path", `"${model.path}" does not exist: export the model there or fix the path`);
        return undefined;
    }
    // BuildKit copies a symbolic link as a link, so the image would hold a dangling one.
    c.check(!lst.isSymbolicLink(), "model.path", `"${model.path}" is a symbolic link, which BuildKit copies as a link: copy the file itself into the directory`);
    c.check(lst.size > 0, "model.path", `"${model.path}" is empty: export the model again`);
    const dir = path.dirname(file);
    const externalData = model.externalData ?? [];
    const declared = new Set([path.basename(file)]);
    for (const [i, rel] of externalData.entries()) {
        const field = `model.externalData[${i}]`;
        const inside = typeof rel === "string" && rel !== "" && !path.isAbsolute(rel) && !path.normalize(rel).split(path.sep).includes("..");
        c.check(inside, field, `"${rel}" must be a path relative to the model's directory, inside it (e.g. "model.onnx.data")`);
        if (!inside) continue;
        const full = path.join(dir, rel);
        const st = fs.existsSync(full) ? fs.lstatSync(full) : undefined;
        c.check(st !== undefined && st.isFile(), field, `"${rel}" is not a file in ${dir}: export the external data there, or remove it from the list`);
        declared.add(path.normalize(rel).split(path.sep).join("/"));
    }
    // The whole directory is baked into the image and covered by the tag: refuse anything the model does not read.
    const strays = listAllFiles(dir).filter((rel) => !declared.has(rel));
    const hint = (rel: string) => (/\.(data|bin|weights?)$|_data$/i.test(rel) ? ` (if the model reads it, list it: externalData: ["${rel}"])` : "");
    c.check(
        strays.length === 0,
        "model.path",
        `"${model.path}": its directory ${dir} is baked whole into the image, but holds files the model does not declare: ${strays
            .slice(0, 5)
            .map((r) => `${r}${hint(r)}`)
            .join(", ")}${strays.length > 5 ? `, and ${strays.length - 5} more` : ""}. Move the model (and its external data) into a directory of its own, or list its external-data files in model.externalData`,
    );
    return { dir, file: path.basename(file), name };
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
    const model = args.model !== undefined ? validateModel(c, args.model, args.buildArgs) : undefined;
    c.check(args.registry !== undefined && args.registry !== null, "registry", "is required: pass an ImageRegistry or { repositoryUrl } of another registry");
    if (args.registry && !(args.registry instanceof ImageRegistry)) {
        const url = args.registry.repositoryUrl;
        c.check(url !== undefined && url !== "", "registry.repositoryUrl", "is empty: give the repository URL without a tag, e.g. ghcr.io/acme/model-server");
        if (typeof url === "string" && url !== "") {
            c.check(!/[@]|:[^/]*$/.test(url.replace(/^[^/]*\//, "")), "registry.repositoryUrl", `"${url}" carries a tag or digest: give the repository only`);
        }
    }
    c.done();
    return { context, dockerfile, model };
}

/** A path as the build sees it: relative to the program's directory, since an absolute one differs between machines and would diff. */
function relativeLocation(p: string): string {
    return path.relative(process.cwd(), p) || ".";
}

/**
 * The tag for a build: `build-`, an optional stage and a content hash of the inputs. The `build-` prefix is one the
 * registry lets a push overwrite (a rebuild or a retried `up` pushes it again); deployments pin the digest. Pure.
 */
export function imageTag(target: string | undefined, hash: string): string {
    const short = hash.slice(0, INFERENCE_IMAGE_DEFAULTS.tagHashLength);
    return `${BUILD_TAG_PREFIX}${target ? `${target}-` : ""}${short}`;
}

/** Whether a build uses the registry cache: `cache` when given, else on for one platform only. Pure. */
export function useRegistryCache(cache: boolean | undefined, platforms: readonly string[]): boolean {
    return cache ?? (platforms.length === 1 || INFERENCE_IMAGE_DEFAULTS.multiPlatformCache);
}

/**
 * `ref` when it is in `region` (the source repository's region); otherwise an error naming the fix, since only a replica
 * the build pushed into holds the digest elsewhere. Pure.
 */
export function sourceRefInRegion(name: string, ref: string, region: string): string {
    if (ecrRefInRegion(ref, region) === ref) return ref;
    throw new Error(`InferenceImage "${name}": no replica in ${region} to pull from: add "${region}" to the ImageRegistry's replicationRegions, so that the build pushes there`);
}

/**
 * Builds the inference image with BuildKit (`@pulumi/docker-build`), pushes it and exposes it pinned by digest.
 * BuildKit attaches its default SLSA provenance attestation (`mode=min`) to the pushed image index; an SBOM
 * attestation needs an input `@pulumi/docker-build` 0.0.22 does not have (see docs/signing.md).
 *
 * The tag is a content hash of the build context (honouring `.dockerignore`), the Dockerfile and the build settings,
 * so an unchanged source gives an unchanged tag and no diff in `pulumi preview`. On an {@link ImageRegistry} with
 * replicas, the one push writes the same digest into the source and every replica, so a replica holds the digest
 * before anything pulls it.
 */
export class InferenceImage extends pulumi.ComponentResource {
    /** `repository@sha256:…`: what every deployment must use. */
    readonly ref: pulumi.Output<string>;
    /** `sha256:…` of the pushed image (the manifest list for multi-platform builds). */
    readonly digest: pulumi.Output<string>;
    /** The content-hash tag, e.g. `build-gpu-3f2a…`. */
    readonly tag: pulumi.Output<string>;
    /** `repository:tag`, for humans; deploy `ref` instead. */
    readonly taggedName: pulumi.Output<string>;
    /** The repository the image was pushed to. */
    readonly repositoryUrl: pulumi.Output<string>;
    /** The platforms built. */
    readonly platforms: string[];
    /** The served name of `model`; undefined for the demo (served as `demo` unless the deployment renames it). */
    readonly modelName: string | undefined;
    /** The build and push. */
    readonly image: dockerBuild.Image;

    private readonly replicaUrls: Record<string, pulumi.Output<string>>;
    private readonly onImageRegistry: boolean;
    private readonly componentName: string;

    /**
     * The digest in an ECR replica region (see `ImageRegistry.replicationRegions`), pulled by devices near that region.
     * It resolves once the push into that replica is done, so whatever uses it is created after the digest exists there.
     * The source region gives `ref`; another region of an ImageRegistry without a replica there fails, naming the fix.
     * References outside an ImageRegistry come back unchanged.
     */
    replicaRef(region: string): pulumi.Output<string> {
        const url = this.replicaUrls[region];
        if (url !== undefined) return pulumi.interpolate`${url}@${this.digest}`;
        if (!this.onImageRegistry) return this.ref;
        return this.ref.apply((ref) => sourceRefInRegion(this.componentName, ref, region));
    }

    constructor(name: string, args: InferenceImageArgs, opts?: pulumi.ComponentResourceOptions) {
        const paths = validateInferenceImageArgs(name, args);
        super(INFERENCE_IMAGE_TYPE, name, {}, opts);

        const d = INFERENCE_IMAGE_DEFAULTS;
        const platforms = args.platforms ?? [...d.platforms];
        const model = paths.model;
        // No model: no named context and no model build args, so the demo image keeps the tag it always had.
        const buildArgs: Record<string, string> = {
            SOURCE_DATE_EPOCH: d.sourceDateEpoch,
            ...(args.buildArgs ?? {}),
            ...(model ? { [MODEL_BUILD.nameArg]: model.name, [MODEL_BUILD.fileArg]: model.file } : {}),
        };
        const namedContexts = model ? { [MODEL_BUILD.context]: model.dir } : undefined;
        const tag = imageTag(
            args.target,
            contextHash({ context: paths.context, dockerfile: paths.dockerfile, target: args.target, platforms, buildArgs, rebuildTrigger: args.rebuildTrigger, namedContexts }),
        );

        const registry = args.registry;
        let repositoryUrl: pulumi.Output<string>;
        let cacheRepositoryUrl: pulumi.Input<string | undefined>;
        const logins: dockerBuild.types.input.RegistryArgs[] = [];
        const replicaUrls: Record<string, pulumi.Output<string>> = {};
        if (registry instanceof ImageRegistry) {
            repositoryUrl = registry.repositoryUrl;
            const token = aws.ecr.getAuthorizationTokenOutput({ registryId: registry.registryId }, { parent: this });
            logins.push({ address: repositoryUrl.apply(registryHost), username: token.userName, password: pulumi.secret(token.password) });
            // An ECR token is regional: one login per replica region, for the same push.
            for (const [region, replica] of Object.entries(registry.replicas)) {
                replicaUrls[region] = replica.repositoryUrl;
                const regional = aws.ecr.getAuthorizationTokenOutput({ registryId: replica.registryId, region }, { parent: this });
                logins.push({ address: replica.repositoryUrl.apply(registryHost), username: regional.userName, password: pulumi.secret(regional.password) });
            }
            cacheRepositoryUrl = registry.cacheRepositoryUrl;
        } else {
            repositoryUrl = pulumi.output(registry.repositoryUrl).apply((url) => {
                if (!url) throw new Error(`InferenceImage "${name}": registry.repositoryUrl resolved to an empty string: pass the repository URL`);
                return url;
            });
            if (registry.username !== undefined && registry.password !== undefined) {
                logins.push({ address: repositoryUrl.apply(registryHost), username: registry.username, password: pulumi.secret(registry.password) });
            }
            cacheRepositoryUrl = registry.cacheRepositoryUrl;
        }

        const useCache = useRegistryCache(args.cache, platforms);
        const cacheRef = pulumi
            .output(cacheRepositoryUrl)
            .apply((url) => (useCache && url ? `${url}:${cacheTag(args.target)}` : undefined));
        // In an ImageRegistry, a second, movable tag marks the digest this stack deploys, which its lifecycle keeps; the
        // same two tags go to every replica, in the same push.
        const tags = [pulumi.interpolate`${repositoryUrl}:${tag}`];
        if (registry instanceof ImageRegistry) {
            const pointer = deployedTag(pulumi.getStack(), name);
            tags.push(pulumi.interpolate`${repositoryUrl}:${pointer}`);
            for (const url of Object.values(replicaUrls)) tags.push(pulumi.interpolate`${url}:${tag}`, pulumi.interpolate`${url}:${pointer}`);
        }

        const image = new dockerBuild.Image(
            `${name}-image`,
            {
                context: {
                    location: relativeLocation(paths.context),
                    named: model ? { [MODEL_BUILD.context]: { location: relativeLocation(model.dir) } } : undefined,
                },
                dockerfile: { location: relativeLocation(paths.dockerfile) },
                target: args.target,
                platforms: platforms as dockerBuild.Platform[],
                buildArgs,
                secrets: args.secrets ? pulumi.secret(args.secrets) : undefined,
                push: true,
                tags,
                registries: logins.length > 0 ? logins : undefined,
                cacheFrom: cacheRef.apply((ref) => (ref ? [{ registry: { ref } }] : [])),
                // ECR only accepts cache manifests as an image manifest with OCI media types.
                cacheTo: cacheRef.apply((ref) => (ref ? [{ registry: { ref, mode: dockerBuild.CacheMode.Max, imageManifest: true, ociMediaTypes: true } }] : [])),
                buildOnPreview: args.buildOnPreview ?? d.buildOnPreview,
            },
            { parent: this, dependsOn: signingPrerequisites(registry) },
        );

        this.image = image;
        this.replicaUrls = replicaUrls;
        this.onImageRegistry = registry instanceof ImageRegistry;
        this.componentName = name;
        this.repositoryUrl = repositoryUrl;
        this.tag = pulumi.output(tag);
        this.taggedName = pulumi.interpolate`${repositoryUrl}:${tag}`;
        this.digest = image.digest;
        this.ref = pulumi.interpolate`${repositoryUrl}@${image.digest}`;
        this.platforms = platforms;
        this.modelName = model?.name;
        this.registerOutputs({ ref: this.ref, digest: this.digest, tag: this.tag, taggedName: this.taggedName, repositoryUrl: this.repositoryUrl, modelName: this.modelName });
    }
}

/**
 * What must exist before the first push to a signing ImageRegistry: the registry's signing rule and the pushers'
 * Signer permissions, or ECR stores that push unsigned. Pure.
 */
export function signingPrerequisites(registry: ImageRegistry | ExternalRegistry): pulumi.Resource[] {
    if (!(registry instanceof ImageRegistry) || registry.signing === undefined) return [];
    const { configuration, permissions } = registry.signing;
    return [...(configuration ? [configuration] : []), ...permissions];
}
