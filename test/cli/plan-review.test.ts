/** `modelship plan` as a review tool: providers, secrets, placeholders, counts, outputs, --out, --diff, your own project. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freshRequire } from "../support/mocks";
import { changedPaths, diffPlans, plan as runPlan, PlanError, renderDiff, resolveProgram, transpileTypeScript, registerTypeScript, yamlFileName, countByType, type Plan, type PlanOptions } from "../../cli/plan";
import { markPlaceholders, MOCK_ACCOUNT_ID } from "../../cli/mock-runtime";

const root = path.resolve(__dirname, "..", "..");

/** Each plan reruns the program in a fresh module registry, as each `modelship plan` process does. */
const plan = (opts: PlanOptions) => runPlan({ load: freshRequire, ...opts });
const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

describe("plan of the hybrid stack, for review", () => {
    let result: Awaited<ReturnType<typeof runPlan>>;
    let tree: string;
    beforeAll(async () => {
        result = await plan({ stack: "hybrid", json: true, projectDir: root });
        tree = (await plan({ stack: "hybrid", json: false, projectDir: root })).text;
    });

    it("names the cluster (provider) each Kubernetes object goes to", () => {
        const deployments = result.plan.resources.filter((r) => r.type === "kubernetes:apps/v1:Deployment");
        const providers = new Set(deployments.map((d) => d.provider));
        expect(providers.size).toBe(2);
        for (const p of providers) expect(result.plan.resources.some((r) => r.type === "pulumi:providers:kubernetes" && r.name === p)).toBe(true);
        expect(tree).toMatch(/\(kubernetes:apps\/v1:Deployment\).*cluster=\S+/);
    });

    it("shows a Secret's key names with masked values", () => {
        const secrets = result.plan.resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
        expect(secrets.length).toBeGreaterThan(0);
        const data = { ...(secrets[0].inputs.stringData as object), ...(secrets[0].inputs.data as object) } as Record<string, string>;
        expect(Object.keys(data).length).toBeGreaterThan(0);
        for (const v of Object.values(data)) expect(v).toBe("[secret]");
        expect(tree).toMatch(/\(kubernetes:core\/v1:Secret\)\s+keys=\S+/);
    });

    it("marks the values the mock invented as placeholders, not as real digests or accounts", () => {
        const json = JSON.stringify(result.plan);
        expect(json).toContain("<placeholder:digest>");
        expect(json).not.toMatch(/sha256:[0-9a-f]{64}/);
        expect(json).not.toContain(MOCK_ACCOUNT_ID);
        const deployment = result.plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment");
        expect(JSON.stringify(deployment?.inputs)).toMatch(/<placeholder:account-id>\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/[^"@]+@<placeholder:digest>/);
    });

    it("counts resources by type and lists the stack outputs, secrets masked", () => {
        expect(result.plan.counts?.["kubernetes:apps/v1:Deployment"]).toBe(2);
        expect(Object.values(result.plan.counts ?? {}).reduce((a, b) => a + b, 0)).toBe(result.plan.resources.length);
        expect(result.plan.outputs).toMatchObject({ target: "hybrid" });
        expect(Object.keys(result.plan.outputs ?? {})).toEqual(expect.arrayContaining(["imageRef", "cloudEndpoint", "onPremEndpoint", "kubeconfig"]));
        expect(result.plan.outputs?.imageRef).toMatch(/@<placeholder:digest>$/);
        expect(tree).toMatch(/Resources by type:\n(.*\n)*\s+2\s+kubernetes:apps\/v1:Deployment\n/);
        expect(tree).toMatch(/Outputs:\n(.*\n)*\s+imageRef: \S+@<placeholder:digest>/);
    });
});

describe("--out", () => {
    it("names files by kind and name, replaces what the last run wrote, and refuses a directory it did not write", async () => {
        const out = path.join(tmp("modelship-out-"), "k8s");
        const first = await plan({ stack: "edge", json: true, projectDir: root, out });
        expect(first.written).toEqual([]); // edge has no Kubernetes objects
        fs.writeFileSync(path.join(out, "deployment-stale.yaml"), "stale");
        const cloud = await plan({ stack: "cloud", json: true, projectDir: root, out });
        const names = fs.readdirSync(out);
        expect(names).not.toContain("deployment-stale.yaml");
        const deployment = cloud.plan.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment");
        expect(names).toContain(`deployment-${deployment?.name}.yaml`);
        expect(names.filter((n) => n.endsWith(".yaml"))).toHaveLength(cloud.written.length);
        expect(names.some((n) => /^\d{3}-/.test(n))).toBe(false);
        const other = tmp("modelship-mine-");
        fs.writeFileSync(path.join(other, "notes.txt"), "mine");
        await expect(plan({ stack: "cloud", json: true, projectDir: root, out: other })).rejects.toThrow(/--out .*: the directory has files modelship plan did not write/);
        expect(fs.readFileSync(path.join(other, "notes.txt"), "utf8")).toBe("mine");
    });
    it("derives a stable file name from kind and name", () => {
        expect(yamlFileName("kubernetes:apps/v1:Deployment", "svc-deployment")).toBe("deployment-svc-deployment.yaml");
        expect(yamlFileName("kubernetes:helm.sh/v3:Release", "a/b")).toBe("release-a_b.yaml");
    });
});

describe("plan diff", () => {
    const before: Plan = {
        stack: "s",
        resources: [
            { type: "t:a", name: "kept", parent: null, provider: null, inputs: { spec: { replicas: 1, ports: [80, 81] }, same: "x" } },
            { type: "t:a", name: "gone", parent: null, inputs: {} },
            { type: "t:b", name: "moved", parent: null, provider: "p1", inputs: {} },
        ],
        outputs: { endpoint: "a", same: 1 },
    };
    const after: Plan = {
        stack: "s",
        resources: [
            { type: "t:a", name: "kept", parent: null, provider: null, inputs: { spec: { replicas: 2, ports: [80] }, same: "x", extra: true } },
            { type: "t:b", name: "moved", parent: null, provider: "p2", inputs: {} },
            { type: "t:c", name: "new", parent: "kept", inputs: {} },
        ],
        outputs: { endpoint: "b", same: 1 },
    };

    it("lists leaf paths that differ", () => {
        expect(changedPaths({ a: { b: [1, 2] }, c: 1 }, { a: { b: [1, 3] }, c: 1, d: 0 })).toEqual(["a.b[1]", "d"]);
        expect(changedPaths("x", "x")).toEqual([]);
    });

    it("finds added, removed and changed resources with their changed inputs, outputs and counts", () => {
        const d = diffPlans(before, after);
        expect(d.added).toEqual([{ type: "t:c", name: "new" }]);
        expect(d.removed).toEqual([{ type: "t:a", name: "gone" }]);
        expect(d.changed).toEqual([
            { type: "t:a", name: "kept", paths: ["extra", "spec.ports[1]", "spec.replicas"] },
            { type: "t:b", name: "moved", paths: ["(provider)"] },
        ]);
        expect(d.outputs).toEqual(["endpoint"]);
        expect(d.counts).toEqual({ "t:a": [2, 1], "t:c": [0, 1] });
        expect(diffPlans(after, after)).toEqual({ added: [], removed: [], changed: [], outputs: [], counts: {} });
    });

    it("renders Markdown for a pull request", () => {
        const md = renderDiff("cloud", diffPlans(before, after));
        expect(md).toContain("### modelship plan: stack cloud, 1 to add, 2 to change, 1 to remove");
        expect(md).toContain("+ new  (t:c)");
        expect(md).toContain("- gone  (t:a)");
        expect(md).toContain("~ kept  (t:a): extra, spec.ports[1], spec.replicas");
        expect(md).toContain("| t:a | 2 | 1 |");
        expect(md).toContain("Stack outputs changed: endpoint");
        expect(renderDiff("cloud", diffPlans(after, after))).toContain("No changes.");
    });

    it("compares a stack with a previous plan file, and refuses a file that is not a plan", async () => {
        const dir = tmp("modelship-diff-");
        const previous = await plan({ stack: "cloud", json: true, projectDir: root });
        const old = JSON.parse(previous.text) as Plan;
        const deployment = old.resources.find((r) => r.type === "kubernetes:apps/v1:Deployment");
        (deployment!.inputs as { spec: { replicas: number } }).spec.replicas = 99;
        old.resources.push({ type: "aws:s3/bucket:Bucket", name: "removed-bucket", parent: null, inputs: {} });
        fs.writeFileSync(path.join(dir, "old.json"), JSON.stringify(old));
        const result = await plan({ stack: "cloud", json: false, projectDir: root, diff: path.join(dir, "old.json") });
        expect(result.text).toContain("- removed-bucket  (aws:s3/bucket:Bucket)");
        expect(result.text).toMatch(new RegExp(`~ ${deployment!.name}  \\(kubernetes:apps/v1:Deployment\\): spec\\.replicas`));
        expect(result.diff?.added).toEqual([]);
        fs.writeFileSync(path.join(dir, "bad.json"), "{}");
        await expect(plan({ stack: "cloud", json: false, projectDir: root, diff: path.join(dir, "bad.json") })).rejects.toThrow(/--diff .*bad\.json: not a plan/);
    });
});

describe("markPlaceholders", () => {
    it("replaces invented values inside strings and leaves the rest", () => {
        const p = new Map([["sha256:abcdef", "digest"], ["123456789012", "account-id"]]);
        expect(markPlaceholders({ a: ["x@sha256:abcdef"], b: "arn:aws:iam::123456789012:role/r", n: 1 }, p)).toEqual({
            a: ["x@<placeholder:digest>"],
            b: "arn:aws:iam::<placeholder:account-id>:role/r",
            n: 1,
        });
    });
});

describe("countByType", () => {
    it("counts by type, sorted", () => {
        expect(Object.entries(countByType([{ type: "b" }, { type: "a" }, { type: "b" }]))).toEqual([["a", 1], ["b", 2]]);
    });
});

/** A project of a user's own: its Pulumi.yaml, its program, its stack file; modelship's components from this repo. */
function userProject(files: Record<string, string>): string {
    const dir = tmp("modelship-user-");
    for (const [f, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
        fs.writeFileSync(path.join(dir, f), text);
    }
    fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
    return dir;
}

describe("plan of your own project", () => {
    const program = [
        'import * as pulumi from "@pulumi/pulumi";',
        `import { ImageRegistry } from ${JSON.stringify(path.join(root, "components"))};`,
        'const config = new pulumi.Config();',
        'const registry = new ImageRegistry("my-app", { pullPrincipals: config.requireObject<string[]>("pullers") });',
        "export const repositoryUrl = registry.repositoryUrl;",
        'export const owner: string = config.require("owner");',
        "",
    ].join("\n");

    it("runs the program Pulumi.yaml names (default index.ts) with its own stack file, not modelship's stacks", async () => {
        const dir = userProject({
            "Pulumi.yaml": "name: my-app\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n",
            "index.ts": program,
            "Pulumi.dev.yaml": "config:\n  my-app:owner: team-a\n  my-app:pullers: ['arn:aws:iam::210987654321:role/puller']\n",
        });
        const result = await plan({ stack: "dev", json: true, projectDir: dir });
        expect(result.plan.program).toBe("index.ts");
        expect(result.plan.target).toBeUndefined();
        expect(result.plan.resources.find((r) => r.type === "modelship:index:ImageRegistry")?.name).toBe("my-app");
        expect(result.plan.resources.some((r) => r.type === "aws:ecr/repository:Repository")).toBe(true);
        expect(result.plan.outputs).toEqual({ repositoryUrl: expect.stringMatching(/^<placeholder:account-id>\.dkr\.ecr\./), owner: "team-a" });
        const tree = await plan({ stack: "dev", json: false, projectDir: dir });
        expect(tree.text).toMatch(/^Plan of stack "dev" \(program index\.ts, config Pulumi\.dev\.yaml\)/);
    });

    it("finds main in Pulumi.yaml and the stack file in stackConfigDir, and names the stacks there are", async () => {
        const dir = userProject({
            "Pulumi.yaml": "name: my-app\nruntime: nodejs\nmain: src/\nstackConfigDir: config\n",
            "src/index.ts": program,
            "config/Pulumi.prod.yaml": "config:\n  my-app:owner: team-b\n  my-app:pullers: []\n",
        });
        const result = await plan({ stack: "prod", json: true, projectDir: dir });
        expect(result.plan.program).toBe(path.join("src", "index.ts"));
        expect(result.plan.outputs?.owner).toBe("team-b");
        await expect(plan({ stack: "dev", json: true, projectDir: dir })).rejects.toThrow('unknown stack "dev": no config/Pulumi.dev.yaml (stacks: prod)');
    });

    it("reports a program error with the program's file, a config error with the stack file", async () => {
        const dir = userProject({
            "Pulumi.yaml": "name: my-app\nruntime: nodejs\n",
            "index.ts": program,
            "Pulumi.dev.yaml": "config:\n  my-app:pullers: []\n",
        });
        await expect(plan({ stack: "dev", json: true, projectDir: dir })).rejects.toThrow(/^Pulumi\.dev\.yaml: Missing required configuration variable 'my-app:owner'/);
        const broken = userProject({ "Pulumi.yaml": "name: my-app\nruntime: nodejs\n", "index.ts": 'throw new Error("boom");\n', "Pulumi.dev.yaml": "config: {}\n" });
        await expect(plan({ stack: "dev", json: true, projectDir: broken })).rejects.toThrow(/^index\.ts: boom$/);
    });

    it("resolves main as Pulumi's Node.js host does, and names a main that is not there", () => {
        const dir = userProject({ "Pulumi.yaml": "name: p\nruntime: nodejs\n", "package.json": '{ "main": "bin/app.js" }', "bin/app.js": "", "index.ts": "" });
        expect(resolveProgram(dir, { name: "p" })).toBe(path.join(dir, "bin", "app.js"));
        expect(resolveProgram(dir, { name: "p", main: "index.ts" })).toBe(path.join(dir, "index.ts"));
        expect(() => resolveProgram(dir, { name: "p", main: "nope.ts" })).toThrow(PlanError);
        expect(() => resolveProgram(dir, { name: "p", main: "nope.ts" })).toThrow("Pulumi.yaml main (nope.ts): nope.ts does not exist: fix Pulumi.yaml main");
    });
});

describe("the TypeScript loader", () => {
    it("compiles a program's TypeScript to CommonJS with the project's typescript", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const ts = require("typescript");
        const js = transpileTypeScript(ts, "import * as p from 'path';\nexport const x: number = 1;\nexport default p.sep;\n", "/p/index.ts");
        const mod = { exports: {} as Record<string, unknown> };
        new Function("exports", "require", "module", js)(mod.exports, require, mod);
        expect(mod.exports.x).toBe(1);
        expect(mod.exports.default).toBe(path.sep);
    });

    it("registers a .ts loader in Node's module system that compiles the file it is given", () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const extensions = (require("module") as { _extensions: Record<string, unknown> })._extensions;
        const had = extensions[".ts"];
        delete extensions[".ts"];
        try {
            const dir = tmp("modelship-ts-");
            fs.writeFileSync(path.join(dir, "a.ts"), "export const n: number = 41 + 1;\n");
            registerTypeScript(root);
            const hook = extensions[".ts"] as (m: { _compile(code: string, f: string): void }, f: string) => void;
            let compiled = "";
            hook({ _compile: (code) => (compiled = code) }, path.join(dir, "a.ts"));
            expect(compiled).toContain("exports.n = 41 + 1;");
        } finally {
            if (had) extensions[".ts"] = had;
            else delete extensions[".ts"];
        }
    });
});
