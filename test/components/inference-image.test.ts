import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { installMockRuntime, isSecret, valueOf } from "../support/mocks";

const recorder = installMockRuntime();
import { ImageRegistry } from "../../components/image-registry";
import { InferenceImage, imageTag, validateInferenceImageArgs } from "../../components/inference-image";
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
        expect(tag).toMatch(/^cpu-[0-9a-f]{16}$/);
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
        expect(img.inputs.registries).toEqual([{ address: "123456789012.dkr.ecr.us-west-2.amazonaws.com", username: "AWS", password: "mock-ecr-password" }]);
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

    it("builds multi-arch and passes build args", () => {
        const img = recorder.one(IMAGE, "edge-image");
        expect(img.inputs.platforms).toEqual(["linux/amd64", "linux/arm64"]);
        expect(img.inputs.buildArgs).toEqual({ SOURCE_DATE_EPOCH: "0", MODEL: "demo" });
        expect(img.inputs.cacheFrom).toEqual([{ registry: { ref: "ghcr.io/acme/model-cache:cache-default" } }]);
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

    it("uses no cache when the registry has no cache repository", async () => {
        new InferenceImage("plain", { context: makeContext(), registry: { repositoryUrl: "registry.local:5000/model" } });
        await recorder.settle();
        const img = recorder.one(IMAGE, "plain-image");
        expect(img.inputs.cacheFrom).toEqual([]);
        expect(img.inputs.registries).toBeUndefined();
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
