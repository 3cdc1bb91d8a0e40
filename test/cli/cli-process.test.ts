/**
 * The `modelship` command as a process, in a user's own TypeScript project: Node's own module loader, modelship's
 * `.ts` loader (the project's typescript), exit codes. The CLI is compiled from cli/*.ts for the test (no build needed).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as ts from "typescript";
import { transpileTypeScript } from "../../cli/plan";

const root = path.resolve(__dirname, "..", "..");
// Inside the repository's node_modules, so that the compiled CLI resolves @pulumi/pulumi and yaml as the package does.
const cliDir = path.join(root, "node_modules", ".cache", "modelship-cli-test");
const cli = path.join(cliDir, "cli", "modelship.js");

function run(args: string[], cwd: string) {
    return spawnSync(process.execPath, [cli, ...args], { cwd, encoding: "utf8", timeout: 120_000 });
}

let project: string;

beforeAll(() => {
    fs.mkdirSync(cliDir, { recursive: true });
    // The CLI and what it imports (the policy pack, and the constants its rules share), laid out as in the package.
    const sources = ["cli/modelship.ts", "cli/plan.ts", "cli/mock-runtime.ts", "cli/signing-check.ts", "cli/cost.ts", "cli/contracts.ts", "components/internal/aws-name-limits.ts", "components/internal/k8s-names.ts", "components/internal/gpu-instances.ts", "components/internal/gpu-constants.ts", ...fs.readdirSync(path.join(root, "policy"), { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => `policy/${f}`)];
    for (const rel of sources) {
        const file = path.join(root, rel);
        fs.mkdirSync(path.dirname(path.join(cliDir, rel)), { recursive: true });
        fs.writeFileSync(path.join(cliDir, rel.replace(/\.ts$/, ".js")), transpileTypeScript(ts, fs.readFileSync(file, "utf8"), file));
    }
    // The price table ships beside the compiled CLI, as tsc emits it into dist/cli/prices.
    fs.mkdirSync(path.join(cliDir, "cli", "prices"), { recursive: true });
    fs.copyFileSync(path.join(root, "cli", "prices", "aws-on-demand.json"), path.join(cliDir, "cli", "prices", "aws-on-demand.json"));
    project = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-cli-"));
    fs.symlinkSync(path.join(root, "node_modules"), path.join(project, "node_modules"));
    fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: shop\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
    fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), "config:\n  shop:replicas: '2'\n");
    fs.writeFileSync(
        path.join(project, "index.ts"),
        [
            'import * as pulumi from "@pulumi/pulumi";',
            `import { ImageRegistry } from ${JSON.stringify(path.join(root, "components"))};`,
            "const config = new pulumi.Config();",
            'const registry = new ImageRegistry("shop", {});',
            "export const repositoryUrl: pulumi.Output<string> = registry.repositoryUrl;",
            'export const replicas: number = config.requireNumber("replicas");',
            "",
        ].join("\n"),
    );
});

describe("modelship (the process)", () => {
    it("--help prints usage and exits 0", () => {
        for (const args of [["--help"], ["plan", "--help"], ["plan", "-h"]]) {
            const r = run(args, project);
            expect(r.status).toBe(0);
            expect(r.stdout).toMatch(/^usage: modelship plan \[options\]/);
            expect(r.stdout).toContain("--diff FILE");
        }
    });

    it("a bad flag or command: one line on stderr, exit 1", () => {
        const r = run(["plan", "--stak", "dev"], project);
        expect(r.status).toBe(1);
        expect(r.stderr).toBe("modelship: Unknown option '--stak': see modelship plan --help\n");
        expect(run(["apply"], project).stderr).toBe('modelship: unknown command "apply": the only command is plan (modelship --help)\n');
    });

    it("plans the TypeScript program of the project it is run in, then diffs a later plan against it", () => {
        const r = run(["plan", "--stack", "dev", "--json"], project);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        const planned = JSON.parse(r.stdout);
        expect(planned).toMatchObject({ stack: "dev", program: "index.ts", outputs: { replicas: 2, repositoryUrl: expect.stringContaining("<placeholder:account-id>") } });
        expect(planned.resources.map((x: { type: string }) => x.type)).toContain("aws:ecr/repository:Repository");
        fs.writeFileSync(path.join(project, "before.json"), r.stdout);
        fs.writeFileSync(path.join(project, "Pulumi.dev.yaml"), "config:\n  shop:replicas: '3'\n");
        const diff = execFileSync(process.execPath, [cli, "plan", "--stack", "dev", "--diff", "before.json"], { cwd: project, encoding: "utf8" });
        expect(diff).toContain("### modelship plan: stack dev, 0 to add, 0 to change, 0 to remove");
        expect(diff).toContain("Stack outputs changed: replicas");
    });

    it("--enforce: prints the violations, then exits 1 on a mandatory one", () => {
        const fixture = path.join(root, "test", "fixtures", "policy-violations");
        const r = run(["plan", "--stack", "bad", "--enforce", "--project-dir", fixture], project);
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("[mandatory] k8s-image-digest: container app: image nginx:1.27 is not pinned by digest");
        expect(r.stderr).toMatch(/^modelship: plan refused \(--enforce\): \d+ mandatory policy violations, listed above\n$/);
        expect(run(["plan", "--stack", "bad", "--project-dir", fixture], project).status).toBe(0);
    });

    it("--max-monthly: prints the plan, then fails with exit 1 naming the ceiling and the limit when the ceiling exceeds it", () => {
        // The registry's one KMS key: $1.00 a month, floor and ceiling.
        const over = run(["plan", "--stack", "dev", "--max-monthly", "0.50"], project);
        expect(over.status).toBe(1);
        expect(over.stdout).toContain("full-scale ceiling  $1.00");
        expect(over.stderr).toBe("modelship: full-scale ceiling $1.00/month exceeds --max-monthly $0.50: lower the pools' maxSize or raise the limit\n");
        const under = run(["plan", "--stack", "dev", "--max-monthly", "5"], project);
        expect(under.stderr).toBe("");
        expect(under.status).toBe(0);
        expect(run(["plan", "--stack", "dev", "--max-monthly", "lots"], project).stderr).toBe('modelship: --max-monthly: "lots" is not an amount in USD: give a positive number such as 2500\n');
    });

    it("fails, naming the resource's URN and the fix, when the program breaks a contract the provider enforces", () => {
        const bad = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-cli-bad-"));
        fs.symlinkSync(path.join(root, "node_modules"), path.join(bad, "node_modules"));
        fs.writeFileSync(path.join(bad, "Pulumi.yaml"), "name: shop\nruntime:\n  name: nodejs\n  options:\n    typescript: true\n");
        fs.writeFileSync(path.join(bad, "Pulumi.dev.yaml"), "config: {}\n");
        // 60 characters + Pulumi's "-xxxxxxx" overflows IAM's 64; the second program declares a Service after a
        // Namespace it does not depend on.
        fs.writeFileSync(path.join(bad, "index.ts"), ['import * as aws from "@pulumi/aws";', `new aws.iam.Role("${"r".repeat(60)}", { assumeRolePolicy: "{}" });`, ""].join("\n"));
        const r = run(["plan", "--stack", "dev"], bad);
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`urn:pulumi:dev::shop::aws:iam/role:Role::r{60}: aws:iam/role:Role: AWS allows 64 characters, .*shorten the component name by 4 characters`));
        fs.writeFileSync(
            path.join(bad, "index.ts"),
            ['import * as k8s from "@pulumi/kubernetes";', 'new k8s.core.v1.Namespace("ns", { metadata: { name: "ml" } });', 'new k8s.core.v1.Service("svc", { metadata: { name: "svc", namespace: "ml" }, spec: { ports: [{ port: 80 }] } });', ""].join("\n"),
        );
        const order = run(["plan", "--stack", "dev"], bad);
        expect(order.status).toBe(1);
        expect(order.stdout).toContain("svc");
        expect(order.stderr).toMatch(/1 contract violation: .*\n {2}- \[namespace-order\] urn:pulumi:dev::shop::kubernetes:core\/v1:Service::svc: is created in namespace "ml", which this program creates \(urn:pulumi:dev::shop::kubernetes:core\/v1:Namespace::ns\)/);
    });
});
