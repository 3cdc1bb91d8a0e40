import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { installMockRuntime, type RecordedResource } from "../support/mocks";

const recorder = installMockRuntime();
import { parseTargetConfig, servedModel } from "../../stacks/config";
import { edgeTarget } from "../../stacks/edge";
import { hybridTarget } from "../../stacks/hybrid";

const IMAGE = "docker-build:index:Image";
const cluster = { version: "1.33", publicAccessCidrs: ["203.0.113.0/24"], gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] };
const envOf = (d: RecordedResource): Record<string, string> =>
    Object.fromEntries((d.inputs.spec.template.spec.containers[0].env ?? []).filter((e: { value?: string }) => e.value !== undefined).map((e: { name: string; value: string }) => [e.name, e.value]));

/** A fake model (the stacks hash and pass it, never parse it) in a directory of its own. */
function fakeModel(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-stack-model-"));
    for (const [rel, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, rel), content);
    return dir;
}

describe("servedModel: one served name for the image and every deployment", () => {
    const dir = fakeModel({ "resnet50.onnx": "graph" });
    const file = path.join(dir, "resnet50.onnx");

    it("serves the demo as demo, or as modelName, without a model", () => {
        expect(servedModel({})).toEqual({ modelName: "demo" });
        expect(servedModel({ modelName: "classifier" })).toEqual({ modelName: "classifier" });
    });

    it("names a model by model.name, else modelName, else its file name", () => {
        expect(servedModel({ model: { path: file } })).toEqual({ model: { path: file, name: "resnet50", externalData: undefined }, modelName: "resnet50" });
        expect(servedModel({ model: { path: file }, modelName: "rn" }).modelName).toBe("rn");
        expect(servedModel({ model: { path: file, name: "vision", externalData: ["x.data"] } })).toEqual({ model: { path: file, name: "vision", externalData: ["x.data"] }, modelName: "vision" });
    });

    it("refuses a missing model file and two different names, naming the key and the fix", () => {
        expect(() => servedModel({ model: { path: path.join(dir, "nope.onnx") } })).toThrow(/^modelship:model\.path: ".*nope\.onnx" \(.*\) is not a file: export your model to ONNX there, or fix the path \(relative to the project root\)/);
        expect(() => servedModel({ model: { path: file, name: "a" }, modelName: "b" })).toThrow('modelship:modelName: "b" differs from modelship:model.name "a": remove modelship:modelName');
        expect(servedModel({ model: { path: file, name: "a" }, modelName: "a" }).modelName).toBe("a");
    });

    it("resolves a relative model path against the project root", () => {
        const root = path.resolve(__dirname, "..", "..");
        const cwd = process.cwd();
        process.chdir(path.join(root, "stacks"));
        try {
            expect(servedModel({ model: { path: "package.json", name: "x" } }).model?.path).toBe(path.join(root, "package.json"));
        } finally {
            process.chdir(cwd);
        }
    });

    it("parses modelship:model strictly and checks the served name like the server does", () => {
        const parse = (extra: Record<string, unknown>) => parseTargetConfig("cloud", (k) => ({ cluster, ...extra })[k]);
        expect(parse({ model: { path: "m/x.onnx", name: "x", externalData: ["x.onnx.data"] } }).model).toEqual({ path: "m/x.onnx", name: "x", externalData: ["x.onnx.data"] });
        expect(parse({}).model).toBeUndefined();
        expect(() => parse({ model: { path: "m/x.onnx", nam: "x" } })).toThrow(/^modelship:model\.nam: is not a known key: did you mean modelship:model\.name\?/);
        expect(() => parse({ model: { path: "m/x.onnx", name: "bad name" } })).toThrow(/^modelship:model\.name: expected a served model name/);
        expect(() => parse({ modelName: "-x" })).toThrow(/^modelship:modelName: expected a served model name/);
        expect(() => parse({ model: {} })).toThrow(/^modelship:model\.path: /);
    });
});

describe("hybrid target with your own model", () => {
    let modelDir: string;
    beforeAll(async () => {
        modelDir = fakeModel({ "llm.onnx": "graph", "llm.onnx.data": "weights" });
        const config = parseTargetConfig("hybrid", (k) =>
            ({ name: "own", cluster, model: { path: path.join(modelDir, "llm.onnx"), name: "llm", externalData: ["llm.onnx.data"] }, onPrem: { namespace: "edge-ml" } })[k],
        );
        hybridTarget({ ...config, secretValues: {}, onPremKubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n") });
        await recorder.settle();
    });

    it("bakes the model through the named build context with its served name and file", () => {
        const img = recorder.one(IMAGE, "own-image-image").inputs;
        expect(img.context.named).toEqual({ model: { location: path.relative(process.cwd(), modelDir) } });
        expect(img.buildArgs).toMatchObject({ MODEL_NAME: "llm", MODEL_FILE: "llm.onnx" });
    });

    it("serves it under the same name on both clusters", () => {
        const ds = recorder.ofType("kubernetes:apps/v1:Deployment").filter((d) => d.name.startsWith("own-"));
        expect(ds).toHaveLength(2);
        for (const d of ds) expect(envOf(d).MODEL_NAME).toBe("llm");
    });
});

describe("edge target with your own model", () => {
    beforeAll(async () => {
        const dir = fakeModel({ "detector.onnx": "graph" });
        const config = parseTargetConfig("edge", (k) =>
            ({
                name: "edgem",
                model: { path: path.join(dir, "detector.onnx") },
                deviceRegion: "eu-central-1",
                devicePrincipals: ["123456789012"],
                devices: [{ name: "jetson-01", host: "ssh://deploy@jetson-01.example.com", platform: "linux/arm64" }],
            })[k],
        );
        edgeTarget({ ...config, secretValues: {} });
        await recorder.settle();
    });

    it("builds both platforms with the model, served under its file name on every device", () => {
        const img = recorder.one(IMAGE, "edgem-image-image").inputs;
        expect(img.platforms).toEqual(["linux/amd64", "linux/arm64"]);
        expect(img.buildArgs).toMatchObject({ MODEL_NAME: "detector", MODEL_FILE: "detector.onnx" });
        const container = recorder.one("docker:index/container:Container", "edgem-jetson-01-container").inputs;
        expect(container.envs).toContain("MODEL_NAME=detector");
    });
});
