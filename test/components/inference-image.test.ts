import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { installMockRuntime, isSecret, valueOf } from "../support/mocks";

const recorder = installMockRuntime();
import { ImageRegistry } from "../../components/image-registry";
import { defaultModelName, InferenceImage, imageTag, sourceRefInRegion, useRegistryCache, validateInferenceImageArgs } from "../../components/inference-image";
import { refusedPushes } from "../../components/internal/registry-tags";
import { contextHash, listContextFiles, readIgnorePatterns } from "../../components/internal/context-hash";

const IMAGE = "docker-build:index:Image";

/** A throwaway build context: Dockerfile, .dockerignore, sources and an ignored folder. */
function makeContext(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-ctx-"));
    fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch AS cpu\nCOPY app.js /app.js\n");
    fs.writeFileSync(path.join(dir, ".dockerignore"), "node_modules\n*.log\n");
    fs.writeFileSync(path.join(dir, "app.js"), "console.log('hi')\n");
    fs.mkdirSync(path.join(dir, "node_modules", "dep"), { recursive: true });
    fs.writeFileSync(path.join(dir, "node_modules", "dep", "index.js"), "module.exports = 1\n");
    fs.writeFileSync(path.join(dir, "debug.log"), "noise\n");
    return dir;
}

const hashOf = (dir: string, extra: Partial<Parameters<typeof contextHash>[0]> = {}) =>
    contextHash({ context: dir, dockerfile: path.join(dir, "Dockerfile"), platforms: ["linux/amd64"], ...extra });

describe("InferenceImage on an ImageRegistry", () => {
    let ctx: string;
    let image: InferenceImage;
    beforeAll(async () => {
        ctx = makeContext();
        const registry = new ImageRegistry("models");
        image = new InferenceImage("server", { context: ctx, target: "cpu", registry });
        await recorder.settle();
    });

    it("builds with docker-build and pushes a content-hash tag, plus the stack's deployed pointer the lifecycle keeps", async () => {
        const img = recorder.one(IMAGE, "server-image");
        const tag = await valueOf(image.tag);
        expect(tag).toBe(imageTag("cpu", hashOf(ctx, { target: "cpu", buildArgs: { SOURCE_DATE_EPOCH: "0" } })));
        expect(tag).toMatch(/^build-cpu-[0-9a-f]{16}$/);
        expect(img.inputs.push).toBe(true);
        // The content tag first (it names the build); the second tag marks the digest this stack deploys.
        expect(img.inputs.tags).toEqual([`123456789012.dkr.ecr.us-west-2.amazonaws.com/models:${tag}`, "123456789012.dkr.ecr.us-west-2.amazonaws.com/models:deployed-test-server"]);
        expect(img.inputs.target).toBe("cpu");
        // Relative to the working directory, so the state is the same on every machine that checks the project out.
        expect(img.inputs.context).toEqual({ location: path.relative(process.cwd(), ctx) });
        expect(img.inputs.dockerfile).toEqual({ location: path.relative(process.cwd(), path.join(ctx, "Dockerfile")) });
        expect(path.isAbsolute(img.inputs.context.location)).toBe(false);
    });

    it("defaults to linux/amd64 and does not build on preview", () => {
        const img = recorder.one(IMAGE, "server-image");
        expect(img.inputs.platforms).toEqual(["linux/amd64"]);
        expect(img.inputs.buildOnPreview).toBe(false);
    });

    it("pins the build timestamp so a rebuild of the same sources gives the same digest", () => {
        expect(recorder.one(IMAGE, "server-image").inputs.buildArgs).toEqual({ SOURCE_DATE_EPOCH: "0" });
    });

    it("logs in to ECR with an authorization token scoped to the registry, keeping the password secret", async () => {
        const img = recorder.one(IMAGE, "server-image");
        expect(img.inputs.registries).toEqual([{ address: "123456789012.dkr.ecr.us-west-2.amazonaws.com", username: "AWS", password: expect.stringMatching(/^mock-ecr-password-\d+$/) }]);
        const call = recorder.invocations.find((i) => i.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken");
        expect(call?.inputs.registryId).toBe("123456789012");
        expect(img.secretPaths).toContain("registries");
    });

    it("caches to the registry's cache repository with image-manifest and OCI media types (required by ECR)", () => {
        const img = recorder.one(IMAGE, "server-image");
        const ref = "123456789012.dkr.ecr.us-west-2.amazonaws.com/buildcache/models:cache-cpu";
        expect(img.inputs.cacheFrom).toEqual([{ registry: { ref } }]);
        expect(img.inputs.cacheTo).toEqual([{ registry: { ref, mode: "max", imageManifest: true, ociMediaTypes: true } }]);
    });

    it("exposes ref as repository@digest", async () => {
        const img = recorder.one(IMAGE, "server-image");
        const digest = await valueOf(image.digest);
        expect(digest).toBe(img.state.digest);
        expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(await valueOf(image.ref)).toBe(`123456789012.dkr.ecr.us-west-2.amazonaws.com/models@${digest}`);
    });

    it("is parented to its component", () => {
        const component = recorder.one("modelship:index:InferenceImage", "server");
        expect(recorder.one(IMAGE, "server-image").parentUrn).toBe(component.urn);
    });
});

describe("InferenceImage on another registry", () => {
    let image: InferenceImage;
    beforeAll(async () => {
        image = new InferenceImage("edge", {
            context: makeContext(),
            platforms: ["linux/amd64", "linux/arm64"],
            buildArgs: { MODEL: "demo" },
            secrets: { HF_TOKEN: "s3cret" },
            registry: { repositoryUrl: "ghcr.io/acme/model-server", username: "bot", password: "token", cacheRepositoryUrl: "ghcr.io/acme/model-cache" },
        });
        await recorder.settle();
    });

    it("builds multi-arch and passes build args, without the registry cache BuildKit exports unreliably for several platforms", () => {
        const img = recorder.one(IMAGE, "edge-image");
        expect(img.inputs.platforms).toEqual(["linux/amd64", "linux/arm64"]);
        expect(img.inputs.buildArgs).toEqual({ SOURCE_DATE_EPOCH: "0", MODEL: "demo" });
        // docker-build warns that caching multi-platform builds is unreliable (docker/buildx#1382): off unless asked.
        expect(img.inputs.cacheFrom).toEqual([]);
        expect(img.inputs.cacheTo).toEqual([]);
        // Another registry's lifecycle is not ours: no deployed pointer is pushed there.
        expect(img.inputs.tags).toHaveLength(1);
    });

    it("logs in with the given credentials and keeps the password and build secrets secret", async () => {
        const img = recorder.one(IMAGE, "edge-image");
        expect(img.inputs.registries).toEqual([{ address: "ghcr.io", username: "bot", password: "token" }]);
        expect(img.inputs.secrets).toEqual({ HF_TOKEN: "s3cret" });
        expect(img.secretPaths).toEqual(expect.arrayContaining(["registries", "secrets"]));
        expect(await isSecret(image.ref)).toBe(false);
        expect(await valueOf(image.ref)).toMatch(/^ghcr\.io\/acme\/model-server@sha256:/);
    });

    it("uses the cache for a multi-platform build when told to", async () => {
        new InferenceImage("forced", { context: makeContext(), platforms: ["linux/amd64", "linux/arm64"], cache: true, registry: { repositoryUrl: "ghcr.io/acme/m", cacheRepositoryUrl: "ghcr.io/acme/c" } });
        await recorder.settle();
        expect(recorder.one(IMAGE, "forced-image").inputs.cacheFrom).toEqual([{ registry: { ref: "ghcr.io/acme/c:cache-default" } }]);
        expect(useRegistryCache(undefined, ["linux/amd64"])).toBe(true);
        expect(useRegistryCache(undefined, ["linux/amd64", "linux/arm64"])).toBe(false);
        expect(useRegistryCache(false, ["linux/amd64"])).toBe(false);
    });

    it("uses no cache when the registry has no cache repository", async () => {
        new InferenceImage("plain", { context: makeContext(), registry: { repositoryUrl: "registry.local:5000/model" } });
        await recorder.settle();
        const img = recorder.one(IMAGE, "plain-image");
        expect(img.inputs.cacheFrom).toEqual([]);
        expect(img.inputs.registries).toBeUndefined();
    });
});

/** The tags a recorded docker-build Image pushes into the repository at `url`. */
const tagsInto = (img: { inputs: Record<string, any> }, url: string): string[] =>
    (img.inputs.tags as string[]).filter((t) => t.startsWith(`${url}:`)).map((t) => t.slice(url.length + 1));

describe("InferenceImage re-pushes: a rebuild or a retried up never pushes a tag ECR refuses", () => {
    // docker-build rebuilds on its own hash (file modes, secrets, builder), unseen by our tag; a retried `up` re-pushes
    // tags whose state was never written. Both push every tag again, into repositories whose immutable tags refuse it.
    it("pushes only tags the repository (and each replica) lets a second push overwrite", async () => {
        const ctx = makeContext();
        const registry = new ImageRegistry("rerun", { replicationRegions: ["eu-central-1"] });
        new InferenceImage("rerun-first", { context: ctx, target: "cpu", registry });
        await recorder.settle();
        const first = recorder.one(IMAGE, "rerun-first-image");
        for (const repo of recorder.ofType("aws:ecr/repository:Repository").filter((r) => r.name === "rerun-repo" || r.name.startsWith("rerun-replica-"))) {
            const pushed = tagsInto(first, repo.state.repositoryUrl);
            expect(pushed).toHaveLength(2);
            // First run, then the rebuild: every tag pushed twice; ECR's rule must let each second push through.
            expect(refusedPushes(repo.inputs, [...pushed, ...pushed])).toEqual([]);
        }
    });

    it("would be refused with the old immutable content tag (the rule the test relies on bites)", () => {
        const settings = { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filter: "deployed-*", filterType: "WILDCARD" }] };
        expect(refusedPushes(settings, ["cpu-0123456789abcdef", "cpu-0123456789abcdef"])).toEqual(["cpu-0123456789abcdef"]);
    });
});

describe("InferenceImage on an ImageRegistry with replicas: one push into every region", () => {
    let image: InferenceImage;
    let registry: ImageRegistry;
    beforeAll(async () => {
        registry = new ImageRegistry("fleet", { replicationRegions: ["eu-central-1", "ap-northeast-1"] });
        image = new InferenceImage("fleet-image", { context: makeContext(), target: "cpu", platforms: ["linux/amd64", "linux/arm64"], registry });
        await recorder.settle();
    });

    it("pushes the content tag and the deployed pointer into the source and each replica, in the same build", async () => {
        const img = recorder.one(IMAGE, "fleet-image-image");
        const tag = await valueOf(image.tag);
        const source = "123456789012.dkr.ecr.us-west-2.amazonaws.com/fleet";
        const tags = [source, source.replace("us-west-2", "eu-central-1"), source.replace("us-west-2", "ap-northeast-1")].flatMap((u) => [`${u}:${tag}`, `${u}:deployed-test-fleet-image`]);
        expect(img.inputs.tags).toEqual(tags);
        // The push depends on each replica repository: it never writes into one that does not exist yet.
        for (const region of ["eu-central-1", "ap-northeast-1"]) expect(recorder.dependsOn(img, recorder.one("aws:ecr/repository:Repository", `fleet-replica-${region}`))).toBe(true);
    });

    it("logs in to each region's registry with that region's ECR token, secret", () => {
        const img = recorder.one(IMAGE, "fleet-image-image");
        expect(img.inputs.registries.map((r: { address: string }) => r.address)).toEqual([
            "123456789012.dkr.ecr.us-west-2.amazonaws.com",
            "123456789012.dkr.ecr.eu-central-1.amazonaws.com",
            "123456789012.dkr.ecr.ap-northeast-1.amazonaws.com",
        ]);
        const regional = recorder.invocations.filter((i) => i.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken" && i.inputs.region !== undefined);
        expect(regional.map((i) => i.inputs.region)).toEqual(expect.arrayContaining(["ap-northeast-1", "eu-central-1"]));
        expect(img.secretPaths).toContain("registries");
    });

    it("gives each region's reference to the same digest, resolving only after the push", async () => {
        const digest = await valueOf(image.digest);
        expect(await valueOf(image.replicaRef("eu-central-1"))).toBe(`123456789012.dkr.ecr.eu-central-1.amazonaws.com/fleet@${digest}`);
        expect(await valueOf(image.replicaRef("us-west-2"))).toBe(await valueOf(image.ref));
        // A consumer of the replica reference is ordered after the push.
        new InferenceImage("fleet-consumer-probe", { context: makeContext(), buildArgs: { FROM: "x" }, registry: { repositoryUrl: image.replicaRef("ap-northeast-1") } });
        await recorder.settle();
        expect(recorder.dependsOn(recorder.one(IMAGE, "fleet-consumer-probe-image"), recorder.one(IMAGE, "fleet-image-image"))).toBe(true);
    });

    it("refuses a region without a replica, naming the fix", () => {
        const ref = `123456789012.dkr.ecr.us-west-2.amazonaws.com/fleet@sha256:${"a".repeat(64)}`;
        expect(sourceRefInRegion("fleet-image", ref, "us-west-2")).toBe(ref);
        expect(() => sourceRefInRegion("fleet-image", ref, "sa-east-1")).toThrow(
            'InferenceImage "fleet-image": no replica in sa-east-1 to pull from: add "sa-east-1" to the ImageRegistry\'s replicationRegions, so that the build pushes there',
        );
    });

    it("pushes the current digest into a region added later: the new region changes the push's tags (docker-build rebuilds and pushes on a tags diff)", async () => {
        const grown = new ImageRegistry("grown", { replicationRegions: ["eu-central-1", "sa-east-1"] });
        new InferenceImage("grown-image", { context: makeContext(), target: "cpu", registry: grown });
        await recorder.settle();
        const tags: string[] = recorder.one(IMAGE, "grown-image-image").inputs.tags;
        expect(tags.filter((t) => t.includes(".sa-east-1."))).toHaveLength(2);
    });
});

describe("content-hash tag", () => {
    it("does not change when nothing that reaches the build changed", () => {
        const ctx = makeContext();
        const before = hashOf(ctx);
        fs.writeFileSync(path.join(ctx, "debug.log"), "more noise\n");
        fs.writeFileSync(path.join(ctx, "node_modules", "dep", "index.js"), "module.exports = 2\n");
        fs.chmodSync(path.join(ctx, "app.js"), 0o664); // another umask, same source
        const later = new Date(Date.now() + 60_000);
        fs.utimesSync(path.join(ctx, "app.js"), later, later);
        expect(hashOf(ctx)).toBe(before);
    });

    it("is the same for two copies of the same sources in different places", () => {
        expect(hashOf(makeContext())).toBe(hashOf(makeContext()));
    });

    it("changes with a source file, the Dockerfile, the executable bit, target, platforms, build args and rebuildTrigger", () => {
        const ctx = makeContext();
        const base = hashOf(ctx);
        const seen = new Set([base]);
        const expectNew = (h: string) => {
            expect(seen.has(h)).toBe(false);
            seen.add(h);
        };
        expectNew(hashOf(ctx, { target: "gpu" }));
        expectNew(hashOf(ctx, { platforms: ["linux/amd64", "linux/arm64"] }));
        expectNew(hashOf(ctx, { buildArgs: { A: "1" } }));
        expectNew(hashOf(ctx, { rebuildTrigger: "2026-11-25" }));
        fs.chmodSync(path.join(ctx, "app.js"), 0o755);
        expectNew(hashOf(ctx));
        fs.writeFileSync(path.join(ctx, "app.js"), "console.log('bye')\n");
        expectNew(hashOf(ctx));
        fs.appendFileSync(path.join(ctx, "Dockerfile"), "USER 10001\n");
        expectNew(hashOf(ctx));
    });

    it("honours .dockerignore, including re-included files, and prefers <Dockerfile>.dockerignore", () => {
        const ctx = makeContext();
        expect(listContextFiles(ctx, readIgnorePatterns(ctx, path.join(ctx, "Dockerfile")))).toEqual([".dockerignore", "Dockerfile", "app.js"]);
        expect(listContextFiles(ctx, ["node_modules", "!node_modules/dep/index.js"])).toContain("node_modules/dep/index.js");
        fs.writeFileSync(path.join(ctx, "Dockerfile.dockerignore"), "app.js\n");
        expect(readIgnorePatterns(ctx, path.join(ctx, "Dockerfile"))).toEqual(["app.js"]);
    });
});

describe("InferenceImage validation", () => {
    const registry = { repositoryUrl: "ghcr.io/acme/m" };
    it("rejects a missing context directory", () => {
        expect(() => validateInferenceImageArgs("img", { context: "/nonexistent/ctx", registry })).toThrow(/InferenceImage "img": context "\/nonexistent\/ctx" is not a directory/);
    });
    it("rejects a missing Dockerfile", () => {
        const ctx = makeContext();
        expect(() => validateInferenceImageArgs("img", { context: ctx, dockerfile: path.join(ctx, "Nope"), registry })).toThrow(/dockerfile ".*Nope" does not exist/);
        fs.rmSync(path.join(ctx, "Dockerfile"));
        expect(() => new InferenceImage("img", { context: ctx, registry })).toThrow(/dockerfile ".*Dockerfile" does not exist/);
    });
    it("rejects an unknown or empty platform list", () => {
        expect(() => validateInferenceImageArgs("img", { context: makeContext(), platforms: ["linux/amd46"], registry })).toThrow(/platforms\[0\] "linux\/amd46" is not a supported platform/);
        expect(() => validateInferenceImageArgs("img", { context: makeContext(), platforms: [], registry })).toThrow(/platforms is empty/);
    });
    it("rejects an empty registry URL, and one carrying a tag", () => {
        expect(() => validateInferenceImageArgs("img", { context: makeContext(), registry: { repositoryUrl: "" } })).toThrow(/registry.repositoryUrl is empty/);
        expect(() => validateInferenceImageArgs("img", { context: makeContext(), registry: { repositoryUrl: "ghcr.io/acme/m:latest" } })).toThrow(/carries a tag or digest/);
        expect(() => validateInferenceImageArgs("img", { context: makeContext(), registry: { repositoryUrl: "localhost:5000/m" } })).not.toThrow();
    });
    it("rejects a missing registry", () => {
        expect(() => validateInferenceImageArgs("img", { context: makeContext() } as never)).toThrow(/registry is required/);
    });
});

/** A throwaway model directory: a fake .onnx (the component hashes and passes it, never parses it) and extra files. */
function makeModel(files: Record<string, string> = { "resnet.onnx": "onnx-bytes-v1" }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-model-"));
    for (const [rel, content] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), content);
    }
    return dir;
}

describe("InferenceImage with your own model", () => {
    const registry = { repositoryUrl: "ghcr.io/acme/model-server" };
    let ctx: string;
    let modelDir: string;
    let image: InferenceImage;
    beforeAll(async () => {
        ctx = makeContext();
        modelDir = makeModel({ "llm.onnx": "graph", "llm.onnx.data": "weights" });
        image = new InferenceImage("own", { context: ctx, target: "cpu", registry, model: { path: path.join(modelDir, "llm.onnx"), name: "llm-7b", externalData: ["llm.onnx.data"] } });
        await recorder.settle();
    });

    it("passes the model's directory as the named build context 'model', relative to the program's directory", () => {
        const img = recorder.one(IMAGE, "own-image");
        expect(img.inputs.context).toEqual({ location: path.relative(process.cwd(), ctx), named: { model: { location: path.relative(process.cwd(), modelDir) } } });
        expect(path.isAbsolute(img.inputs.context.named.model.location)).toBe(false);
    });

    it("sets MODEL_NAME and MODEL_FILE build args, and exposes the served name", () => {
        expect(recorder.one(IMAGE, "own-image").inputs.buildArgs).toEqual({ SOURCE_DATE_EPOCH: "0", MODEL_NAME: "llm-7b", MODEL_FILE: "llm.onnx" });
        expect(image.modelName).toBe("llm-7b");
    });

    it("tags with a hash that covers the model directory", async () => {
        const tag = await valueOf(image.tag);
        const withoutModel = imageTag("cpu", hashOf(ctx, { target: "cpu", buildArgs: { SOURCE_DATE_EPOCH: "0", MODEL_NAME: "llm-7b", MODEL_FILE: "llm.onnx" } }));
        const withModel = imageTag("cpu", hashOf(ctx, { target: "cpu", buildArgs: { SOURCE_DATE_EPOCH: "0", MODEL_NAME: "llm-7b", MODEL_FILE: "llm.onnx" }, namedContexts: { model: modelDir } }));
        expect(tag).toBe(withModel);
        expect(tag).not.toBe(withoutModel);
    });

    it("serves the model under its file name without .onnx by default", async () => {
        const dir = makeModel();
        const img = new InferenceImage("stem", { context: makeContext(), registry, model: { path: path.join(dir, "resnet.onnx") } });
        await recorder.settle();
        expect(img.modelName).toBe("resnet");
        expect(recorder.one(IMAGE, "stem-image").inputs.buildArgs).toMatchObject({ MODEL_NAME: "resnet", MODEL_FILE: "resnet.onnx" });
        expect(defaultModelName("/m/My.Model.ONNX")).toBe("My.Model");
    });

    it("keeps the demo build unchanged without a model: no named context, no model build args", () => {
        const img = recorder.one(IMAGE, "server-image");
        expect(img.inputs.context.named).toBeUndefined();
        expect(Object.keys(img.inputs.buildArgs)).toEqual(["SOURCE_DATE_EPOCH"]);
    });
});

describe("content-hash tag with a model", () => {
    const registry = { repositoryUrl: "ghcr.io/acme/m" };
    const tagFor = async (name: string, ctx: string, model: { path: string; externalData?: string[] }) => {
        const img = new InferenceImage(name, { context: ctx, registry, model });
        return valueOf(img.tag);
    };

    it("changes when the model's bytes or its external data change, and stays when nothing changed", async () => {
        const ctx = makeContext();
        const dir = makeModel({ "m.onnx": "graph-v1", "m.onnx.data": "weights-v1" });
        const model = { path: path.join(dir, "m.onnx"), externalData: ["m.onnx.data"] };
        const first = await tagFor("h1", ctx, model);
        expect(await tagFor("h2", ctx, model)).toBe(first);
        fs.writeFileSync(path.join(dir, "m.onnx.data"), "weights-v2");
        const second = await tagFor("h3", ctx, model);
        expect(second).not.toBe(first);
        fs.writeFileSync(path.join(dir, "m.onnx"), "graph-v2");
        const third = await tagFor("h4", ctx, model);
        expect(new Set([first, second, third]).size).toBe(3);
    });

    it("is the same for the same model bytes in two places (paths outside the directory do not count)", () => {
        const ctx = makeContext();
        const a = makeModel({ "m.onnx": "same" });
        const b = makeModel({ "m.onnx": "same" });
        expect(hashOf(ctx, { namedContexts: { model: a } })).toBe(hashOf(ctx, { namedContexts: { model: b } }));
        expect(hashOf(ctx, { namedContexts: { model: a } })).not.toBe(hashOf(ctx, { namedContexts: { model: makeModel({ "m.onnx": "other" }) } }));
    });

    it("changes with the served name", () => {
        const ctx = makeContext();
        const dir = makeModel({ "m.onnx": "same" });
        expect(hashOf(ctx, { buildArgs: { MODEL_NAME: "a" }, namedContexts: { model: dir } })).not.toBe(hashOf(ctx, { buildArgs: { MODEL_NAME: "b" }, namedContexts: { model: dir } }));
    });
});

describe("InferenceImage model validation", () => {
    const registry = { repositoryUrl: "ghcr.io/acme/m" };
    const check = (model: Parameters<typeof validateInferenceImageArgs>[1]["model"], extra: object = {}) => () => validateInferenceImageArgs("img", { context: makeContext(), registry, model, ...extra });

    it("refuses a missing file, one that is not .onnx, an empty one and a symbolic link", () => {
        const dir = makeModel({ "m.onnx": "x", "empty.onnx": "", "m.pt": "torch" });
        expect(check({ path: path.join(dir, "nope.onnx") })).toThrow(/InferenceImage "img": model.path ".*nope.onnx" does not exist: export the model there or fix the path/);
        expect(check({ path: path.join(dir, "m.pt"), name: "m" })).toThrow(/model.path ".*m.pt" is not an .onnx file: export your model to ONNX/);
        const emptyDir = makeModel({ "empty.onnx": "" });
        expect(check({ path: path.join(emptyDir, "empty.onnx") })).toThrow(/model.path ".*empty.onnx" is empty/);
        const linkDir = makeModel({});
        fs.symlinkSync(path.join(dir, "m.onnx"), path.join(linkDir, "m.onnx"));
        expect(check({ path: path.join(linkDir, "m.onnx") })).toThrow(/is a symbolic link, which BuildKit copies as a link: copy the file itself/);
        expect(check({ path: "" })).toThrow(/model.path is empty: give the path of your .onnx file/);
    });

    it("refuses a directory holding files the model does not declare, suggesting externalData for data files", () => {
        const dir = makeModel({ "m.onnx": "x", "m.onnx.data": "w", "notes.txt": "n", ".env": "SECRET=1" });
        expect(check({ path: path.join(dir, "m.onnx") })).toThrow(
            /model.path ".*m.onnx": its directory .* is baked whole into the image, but holds files the model does not declare: \.env, m\.onnx\.data \(if the model reads it, list it: externalData: \["m\.onnx\.data"\]\), notes\.txt\. Move the model/,
        );
        fs.rmSync(path.join(dir, "notes.txt"));
        fs.rmSync(path.join(dir, ".env"));
        expect(check({ path: path.join(dir, "m.onnx"), externalData: ["m.onnx.data"] })).not.toThrow();
    });

    it("accepts external data in a subdirectory and refuses a missing one or one outside the directory", () => {
        const dir = makeModel({ "m.onnx": "x", "weights/w0.bin": "w" });
        expect(check({ path: path.join(dir, "m.onnx"), externalData: ["weights/w0.bin"] })).not.toThrow();
        expect(check({ path: path.join(dir, "m.onnx"), externalData: ["weights/w0.bin", "w1.bin"] })).toThrow(/model.externalData\[1\] "w1.bin" is not a file in .*: export the external data there, or remove it from the list/);
        expect(check({ path: path.join(dir, "m.onnx"), externalData: ["weights/w0.bin", "../x.bin"] })).toThrow(/model.externalData\[1\] "..\/x.bin" must be a path relative to the model's directory, inside it/);
        expect(check({ path: path.join(dir, "m.onnx"), externalData: ["weights/w0.bin", "/etc/passwd"] })).toThrow(/model.externalData\[1\]/);
    });

    it("refuses a served name the server would refuse, and a file name that makes none", () => {
        const dir = makeModel({ "my model.onnx": "x" });
        expect(check({ path: path.join(dir, "my model.onnx") })).toThrow(/model.name is not set and the file name "my model.onnx" does not make a valid served name: set model.name/);
        expect(check({ path: path.join(dir, "my model.onnx"), name: "-bad" })).toThrow(/model.name "-bad" is not a valid served name/);
        expect(check({ path: path.join(dir, "my model.onnx"), name: "x".repeat(129) })).toThrow(/model.name "x+" is not a valid served name/);
        expect(check({ path: path.join(dir, "my model.onnx"), name: "my_model-1.0" })).not.toThrow();
    });

    it("refuses MODEL_NAME / MODEL_FILE in buildArgs beside a model", () => {
        const dir = makeModel({ "m.onnx": "x" });
        expect(check({ path: path.join(dir, "m.onnx") }, { buildArgs: { MODEL_NAME: "other" } })).toThrow(/buildArgs.MODEL_NAME is set from model: remove it from buildArgs/);
    });
});
