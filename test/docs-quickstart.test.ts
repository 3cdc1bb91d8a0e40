/**
 * The README's quick start does not only typecheck (test/docs.test.ts): run under the mock runtime, it constructs
 * without a validation error and wires what it says it wires.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { installMockRuntime, valueOf } from "./support/mocks";
import { tsBlocks } from "./support/markdown";

// The quick start looks its admin role up by name; the mock runtime's default getRole answers it in the mock account.
const recorder = installMockRuntime();
const ROOT = path.resolve(__dirname, "..");

/** Runs a ```ts block as a CommonJS module whose `modelship` imports are this repository's components. */
function runBlock(code: string): Record<string, unknown> {
    const js = ts.transpileModule(code, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const load = (id: string): unknown => (id === "modelship" ? require("../components") : require(id));
    const exported: Record<string, unknown> = {};
    new Function("exports", "require", js)(exported, load);
    return exported;
}

describe("the README's quick start", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const quickStart = readme.slice(readme.indexOf("## Quick start"));
    const [block] = tsBlocks("README.md", quickStart);
    let exported: Record<string, unknown>;

    beforeAll(async () => {
        expect(block).toBeDefined();
        exported = runBlock(block.code);
        await recorder.settle();
    });

    it("serves the image it built, by digest, behind an in-cluster endpoint", async () => {
        const deployment = recorder.one("kubernetes:apps/v1:Deployment");
        const container = deployment.inputs.spec.template.spec.containers[0];
        expect(container.image).toMatch(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\/.+@sha256:[0-9a-f]{64}$/);
        expect(await valueOf(exported.endpoint as never)).toMatch(/^http:\/\/resnet\..+\.svc\.cluster\.local:\d+$/);
    });

    it("opens the API endpoint to the listed CIDR only", () => {
        const cluster = recorder.one("eks:index:Cluster").inputs;
        expect(cluster.publicAccessCidrs).toEqual(["203.0.113.0/24"]);
        expect(cluster.endpointPublicAccess).toBe(true);
        expect(cluster.accessEntries["admin-0"].principalArn).toBe("arn:aws:iam::123456789012:role/platform-admins");
    });

    it("autoscales the service with the addons' Prometheus", () => {
        const scaled = recorder.one("kubernetes:keda.sh/v1alpha1:ScaledObject");
        expect(JSON.stringify(scaled.inputs.spec.triggers)).toContain("prometheus");
    });
});
