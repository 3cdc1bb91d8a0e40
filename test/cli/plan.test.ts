import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freshRequire } from "../support/mocks";
import { maskSecrets, parsePlanArgs, plan as runPlan, PlanError, readStackConfig, SECRET_MASK, type PlanOptions } from "../../cli/plan";

/** Each plan reruns the program in a fresh module registry, as each `modelship plan` process does. */
const plan = (opts: PlanOptions) => runPlan({ load: freshRequire, ...opts });

const root = path.resolve(__dirname, "..", "..");

/** A throwaway project whose stack config a test controls, using the real programs and image context. */
function project(stackYaml: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-plan-"));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: modelship\nruntime: nodejs\nmain: ${path.join(root, "stacks", "index.ts")}\nstackConfigDir: stacks\n`);
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.t.yaml"), stackYaml);
    fs.symlinkSync(path.join(root, "inference-image"), path.join(dir, "inference-image"));
    return dir;
}

describe("plan arguments", () => {
    it("defaults to the cloud stack and reads every flag", () => {
        expect(parsePlanArgs([])).toEqual({ stack: "cloud", json: false });
        expect(parsePlanArgs(["--stack", "edge", "--json", "--out", "x", "--diff", "old.json", "--project-dir", "p"])).toEqual({
            stack: "edge",
            json: true,
            out: "x",
            diff: "old.json",
            projectDir: "p",
        });
        expect(parsePlanArgs(["--stack=hybrid"])).toMatchObject({ stack: "hybrid" });
        expect(parsePlanArgs(["-s", "edge"])).toMatchObject({ stack: "edge" });
    });
    it("asks for help with --help or -h", () => {
        expect(parsePlanArgs(["--help"])).toBe("help");
        expect(parsePlanArgs(["--stack", "edge", "-h"])).toBe("help");
    });
    it("refuses unknown flags, positionals and missing values in one line", () => {
        expect(() => parsePlanArgs(["--stak", "edge"])).toThrow(/^Unknown option '--stak': see modelship plan --help$/);
        expect(() => parsePlanArgs(["--stack"])).toThrow(/^Option '-s, --stack <value>' argument missing: see modelship plan --help$/);
        expect(() => parsePlanArgs(["cloud"])).toThrow(PlanError);
    });
});

describe("stack config files", () => {
    it("flattens structured values to JSON and masks secure values, marking them secret", () => {
        const c = readStackConfig(root, "hybrid");
        expect(c.file).toBe(path.join("stacks", "Pulumi.hybrid.yaml"));
        expect(c.config["modelship:target"]).toBe("hybrid");
        expect(JSON.parse(c.config["modelship:cluster"]).version).toBe("1.33");
        expect(c.config["modelship:onPremKubeconfig"]).toBe(SECRET_MASK);
        expect(c.secretKeys).toEqual(expect.arrayContaining(["modelship:onPremKubeconfig", "modelship:apiToken"]));
    });
    it("names the stacks there are when one is unknown", () => {
        // The stacks there are, discovered: adding one's own stack file must not break this test.
        const stacks = fs.readdirSync(path.join(root, "stacks")).flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? []).sort();
        expect(() => readStackConfig(root, "prod")).toThrow(`unknown stack "prod": no stacks/Pulumi.prod.yaml (stacks: ${stacks.join(", ")})`);
    });
});

describe("maskSecrets", () => {
    it("masks nested paths and leaves the rest", () => {
        expect(maskSecrets({ a: { b: [1, { c: "s" }] }, d: "x" }, ["a.b[1].c"])).toEqual({ a: { b: [1, { c: SECRET_MASK }] }, d: "x" });
    });
});

describe("plan of the edge stack", () => {
    let out: string;
    let result: Awaited<ReturnType<typeof plan>>;
    beforeAll(async () => {
        out = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-out-"));
        result = await plan({ stack: "edge", json: true, projectDir: root, out });
    });

    it("prints stack, target and every resource with type, name, parent and inputs", () => {
        const json = JSON.parse(result.text);
        expect(json.stack).toBe("edge");
        expect(json.target).toBe("edge");
        const container = json.resources.find((r: { type: string }) => r.type === "docker:index/container:Container");
        expect(container).toMatchObject({ name: "modelship-edge-jetson-01-container", parent: "modelship-edge-jetson-01" });
        // The sample builds the cpu stage: no --gpus, which would need the NVIDIA container toolkit.
        expect(container.inputs.gpus).toBeUndefined();
        const image = json.resources.find((r: { type: string }) => r.type === "docker-build:index:Image");
        expect(image.inputs.platforms).toEqual(["linux/amd64", "linux/arm64"]);
    });

    it("outputs the Roles Anywhere profile devices use and logs devices in through the pull role", () => {
        const profile = result.plan.resources.find((r) => r.type === "aws:rolesanywhere/profile:Profile");
        expect(profile?.name).toBe("modelship-edge-pull-profile");
        const login = result.plan.resources.find((r) => r.type === "pulumi:providers:aws" && r.name === "modelship-edge-device-login");
        expect(JSON.parse(String(login?.inputs.assumeRoles))[0].roleArn).toMatch(/:role\/modelship-edge-pull-role$/);
    });

    it("masks secrets", () => {
        const provider = result.plan.resources.find((r) => r.type === "pulumi:providers:docker");
        expect(provider?.inputs.registryAuth).toBe(SECRET_MASK);
        expect(result.text).not.toContain("mock-ecr-password");
    });

    it("renders a tree with key settings", async () => {
        const tree = await plan({ stack: "edge", json: false, projectDir: root });
        expect(tree.text).toMatch(/^Plan of stack "edge" \(target edge, program stacks\/index\.ts, config stacks\/Pulumi\.edge\.yaml\): \d+ resources/);
        expect(tree.text).toMatch(/└─ modelship-edge-jetson-01-container\s+\(docker:index\/container:Container\)\s+ports=5000->8080\s+user=10001:10001/);
        expect(tree.text).toMatch(/modelship-edge-image-image\s+\(docker-build:index:Image\)\s+target=cpu\s+platforms=linux\/amd64,linux\/arm64/);
    });
});

describe("plan errors name the key and the file", () => {
    it("a missing target", async () => {
        const dir = project("config:\n  aws:region: us-west-2\n  modelship:name: x\n");
        await expect(plan({ stack: "t", json: true, projectDir: dir })).rejects.toThrow(/^stacks\/Pulumi\.t\.yaml: modelship:target: is required/);
    });
    it("an unknown target", async () => {
        const dir = project("config:\n  aws:region: us-west-2\n  modelship:target: mars\n");
        await expect(plan({ stack: "t", json: true, projectDir: dir })).rejects.toThrow(/^stacks\/Pulumi\.t\.yaml: modelship:target: "mars" is not a target/);
    });
    it("a malformed value", async () => {
        const dir = project("config:\n  aws:region: us-west-2\n  modelship:target: edge\n  modelship:deviceRegion: europe\n  modelship:devicePrincipals: ['123456789012']\n");
        await expect(plan({ stack: "t", json: true, projectDir: dir })).rejects.toThrow(/^stacks\/Pulumi\.t\.yaml: modelship:deviceRegion: "europe" is not an AWS region/);
    });
    it("a secret key set in plaintext (not with --secret)", async () => {
        const dir = project(
            "config:\n  aws:region: us-west-2\n  modelship:target: edge\n  modelship:deviceRegion: eu-central-1\n  modelship:devicePrincipals: ['123456789012']\n  modelship:secrets: [apiToken]\n  modelship:apiToken: t0ken\n",
        );
        await expect(plan({ stack: "t", json: true, projectDir: dir })).rejects.toThrow(
            "stacks/Pulumi.t.yaml: modelship:apiToken: is a secret but is stored in plaintext in the stack's config file: run pulumi config set --secret modelship:apiToken <value>",
        );
    });
    it("a device's TLS key set in plaintext", async () => {
        const dir = project(
            [
                "config:",
                "  aws:region: us-west-2",
                "  modelship:target: edge",
                "  modelship:deviceRegion: eu-central-1",
                "  modelship:devicePrincipals: ['123456789012']",
                "  modelship:devices: [{ name: gw, host: 'tcp://gw:2376', tls: { caCert: gwCa, clientCert: gwCert, clientKey: gwKey } }]",
                "  modelship:gwCa: { secure: v1:AAAA:x }",
                "  modelship:gwCert: { secure: v1:AAAA:x }",
                "  modelship:gwKey: '-----BEGIN PRIVATE KEY-----'",
                "",
            ].join("\n"),
        );
        await expect(plan({ stack: "t", json: true, projectDir: dir })).rejects.toThrow(/modelship:gwKey: is a secret but is stored in plaintext.*pulumi config set --secret modelship:gwKey/);
    });
    it("a file that is not YAML", async () => {
        const dir = project("config: [\n");
        await expect(plan({ stack: "t", json: true, projectDir: dir })).rejects.toThrow(PlanError);
    });
});

describe("plan of a stack serving your own model", () => {
    let dir: string;
    beforeAll(() => {
        dir = project(
            [
                "config:",
                "  aws:region: us-west-2",
                "  modelship:target: cloud",
                "  modelship:model: { path: models/vision/vit.onnx, name: vit-b16, externalData: [vit.onnx.data] }",
                "  modelship:cluster: { version: '1.33', publicAccessCidrs: [203.0.113.0/24], gpuNodeGroups: [{ name: l4, instanceTypes: [g6.xlarge], maxSize: 2 }] }",
                "",
            ].join("\n"),
        );
        fs.mkdirSync(path.join(dir, "models", "vision"), { recursive: true });
        fs.writeFileSync(path.join(dir, "models", "vision", "vit.onnx"), "graph");
        fs.writeFileSync(path.join(dir, "models", "vision", "vit.onnx.data"), "weights");
    });

    it("shows the model's named build context, served name and file on the image, and the name on the deployment", async () => {
        const result = await plan({ stack: "t", json: true, projectDir: dir });
        const image = result.plan.resources.find((r) => r.type === "docker-build:index:Image");
        expect((image?.inputs.context as { named: unknown }).named).toEqual({ model: { location: path.join("models", "vision") } });
        expect(image?.inputs.buildArgs).toMatchObject({ MODEL_NAME: "vit-b16", MODEL_FILE: "vit.onnx" });
        const deployment = result.plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment");
        const env = (deployment?.inputs as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } }).spec.template.spec.containers[0].env;
        expect(env).toContainEqual({ name: "MODEL_NAME", value: "vit-b16" });
        const tree = await plan({ stack: "t", json: false, projectDir: dir });
        expect(tree.text).toMatch(/\(docker-build:index:Image\)\s+target=gpu\s+platforms=linux\/amd64\s+tag=\S+:build-gpu-[0-9a-f]{16}\s+model=models\/vision\s+modelName=vit-b16\s+modelFile=vit\.onnx/);
    });

    it("gives a new tag when the model's bytes change and the same tag when they do not", async () => {
        const tagOf = async () => {
            const r = await plan({ stack: "t", json: true, projectDir: dir });
            return (r.plan.resources.find((x) => x.type === "docker-build:index:Image")?.inputs.tags as string[])[0];
        };
        const first = await tagOf();
        expect(await tagOf()).toBe(first);
        fs.writeFileSync(path.join(dir, "models", "vision", "vit.onnx.data"), "weights-2");
        expect(await tagOf()).not.toBe(first);
    });

    it("refuses a model file that is not there, naming the key", async () => {
        const missing = project("config:\n  aws:region: us-west-2\n  modelship:target: cloud\n  modelship:model: { path: models/none.onnx }\n  modelship:cluster: { version: '1.33', gpuNodeGroups: [{ name: l4, instanceTypes: [g6.xlarge], maxSize: 2 }] }\n");
        await expect(plan({ stack: "t", json: true, projectDir: missing })).rejects.toThrow(/^stacks\/Pulumi\.t\.yaml: modelship:model\.path: "models\/none\.onnx" \(.*\) is not a file/);
    });

    it("keeps the demo in the sample cloud stack: no named context, no model build args, served as demo", async () => {
        const result = await plan({ stack: "cloud", json: true, projectDir: root });
        const image = result.plan.resources.find((r) => r.type === "docker-build:index:Image");
        expect((image?.inputs.context as { named?: unknown }).named).toBeUndefined();
        expect(image?.inputs.buildArgs).toEqual({ SOURCE_DATE_EPOCH: "0" });
        const deployment = result.plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment");
        expect(JSON.stringify(deployment?.inputs)).toContain('{"name":"MODEL_NAME","value":"demo"}');
    });

    it("plans a private-only cluster endpoint only when the stack confirms pulumi up runs inside the network", async () => {
        const cluster = (extra: string) =>
            project(`config:\n  aws:region: us-west-2\n  modelship:target: cloud\n  modelship:cluster: { version: '1.33', publicAccessCidrs: [], ${extra}gpuNodeGroups: [{ name: l4, instanceTypes: [g6.xlarge], maxSize: 2 }] }\n`);
        await expect(plan({ stack: "t", json: true, projectDir: cluster("") })).rejects.toThrow(/endpointAccess/);
        const result = await plan({ stack: "t", json: true, projectDir: cluster("endpointAccess: private, privateEndpointReachable: true, ") });
        const eks = result.plan.resources.find((r) => r.type === "eks:index:Cluster");
        expect(eks?.inputs).toMatchObject({ endpointPublicAccess: false, endpointPrivateAccess: true });
    });
});

