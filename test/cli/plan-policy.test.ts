/**
 * `modelship plan` runs the policy pack over what it recorded: the ready stacks pass with --enforce, and a program that
 * breaks every checklist item is refused, each violation naming its resource and fix.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freshRequire } from "../support/mocks";
import { parsePlanArgs, plan as runPlan, PlanError, renderViolations, type PlanOptions } from "../../cli/plan";

const plan = (opts: PlanOptions) => runPlan({ load: freshRequire, ...opts });
const root = path.resolve(__dirname, "..", "..");
const fixture = path.join(root, "test", "fixtures", "policy-violations");

describe("plan --enforce of the ready stacks", () => {
    it.each(["cloud", "edge", "hybrid", "cloud-vllm", "cloud-triton", "cloud-karpenter"])("%s has no mandatory violation", async (stack) => {
        const r = await plan({ stack, json: false, projectDir: root, enforce: true });
        expect(r.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
        expect(r.refused).toBe(false);
        expect(r.text).toMatch(/\n\nPolicy pack modelship \(\d+ rules\): 0 mandatory, \d+ advisory violations?$/);
    });
});

describe("plan --enforce of a program breaking every checklist item", () => {
    let result: Awaited<ReturnType<typeof plan>>;
    beforeAll(async () => {
        result = await plan({ stack: "bad", json: false, projectDir: fixture, enforce: true });
    });

    it("is refused", () => {
        expect(result.refused).toBe(true);
        expect(result.text).toMatch(/--enforce: refused, \d+ mandatory violations\.$/);
    });

    it.each([
        ["ecr-immutable-tags", "mutable-repo", "imageTagMutability is MUTABLE. Fix: set imageTagMutability"],
        ["ecr-scan-on-push", "mutable-repo", "repository mutable is not scanned on push. Fix: set imageScanningConfiguration.scanOnPush to true"],
        ["ecr-kms-encryption", "mutable-repo", "not encrypted with KMS"],
        ["eks-secrets-encryption", "open-cluster", 'does not encrypt "secrets"'],
        ["eks-audit-logging", "open-cluster", "the audit log is off. Fix: set enabledClusterLogTypes"],
        ["eks-endpoint-exposure", "open-cluster", "publicAccessCidrs includes 0.0.0.0/0. Fix: set publicAccessCidrs"],
        ["ec2-imdsv2-hop-limit", "loose-nodes", "httpPutResponseHopLimit is 2, not 1"],
        ["ec2-encrypted-volumes", "loose-nodes", "block device /dev/xvda is not encrypted"],
        ["iam-no-wildcard-resource", "pull-anything", 'statement PullAll allows ecr:batchgetimage on Resource "*"'],
        ["k8s-restricted-pod-security", "bad-app", "container app: privileged is true"],
        ["k8s-image-digest", "bad-app", "image nginx:1.27 is not pinned by digest"],
        ["k8s-no-secret-literals-in-env", "bad-app", "env DB_PASSWORD has a literal value"],
        ["k8s-gpu-toleration", "bad-app", "does not tolerate the nvidia.com/gpu taint"],
        ["k8s-default-deny-egress", "bad-app", "namespace apps (of bad-app) has no default-deny egress NetworkPolicy"],
        ["signed-image-enforcement", "bad-app", "images are signed but the cluster of bad-app has no admission policy verifying signatures"],
    ])("%s: names %s and the fix", (rule, resource, message) => {
        const line = result.text.split("\n").find((l) => l.startsWith(`  [mandatory] ${rule}: `) && l.includes(message));
        expect(line).toBeDefined();
        expect(line).toMatch(new RegExp(`Fix: .+ \\(${resource}\\)$`));
    });

    it("prints advisory violations after mandatory ones, and reports them in the JSON plan", async () => {
        const lines = result.text.split("\n").filter((l) => /^ {2}\[(mandatory|advisory)\]/.test(l));
        const levels = lines.map((l) => (l.includes("[mandatory]") ? "m" : "a")).join("");
        expect(levels).toMatch(/^m+a+$/);
        expect(lines).toContainEqual(expect.stringMatching(/^ {2}\[advisory\] ecr-lifecycle-policy: repository mutable has no lifecycle policy/));
        const json = JSON.parse((await plan({ stack: "bad", json: true, projectDir: fixture })).text);
        expect(json.violations).toContainEqual(expect.objectContaining({ policy: "k8s-image-digest", enforcementLevel: "mandatory", resource: "bad-app", type: "kubernetes:apps/v1:Deployment" }));
    });
});

describe("policy config", () => {
    it("--policy-config sets levels: all advisory is not refused", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "modelship-policy-")), "config.json");
        fs.writeFileSync(file, JSON.stringify({ all: "advisory" }));
        const r = await plan({ stack: "bad", json: false, projectDir: fixture, enforce: true, policyConfig: file });
        expect(r.refused).toBe(false);
        expect(r.violations.length).toBeGreaterThan(10);
        expect(r.violations.every((v) => v.enforcementLevel === "advisory")).toBe(true);
    });
    it("a config naming an unknown rule fails before the program runs", async () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "modelship-policy-")), "config.json");
        fs.writeFileSync(file, JSON.stringify({ "no-such-rule": "advisory" }));
        await expect(plan({ stack: "bad", json: false, projectDir: fixture, policyConfig: file })).rejects.toThrow(PlanError);
        await expect(plan({ stack: "bad", json: false, projectDir: fixture, policyConfig: file })).rejects.toThrow(/"no-such-rule" is not a policy of the pack/);
    });
    it("reads --enforce and --policy-config", () => {
        expect(parsePlanArgs(["--enforce", "--policy-config", "p.json"])).toMatchObject({ enforce: true, policyConfig: "p.json" });
        expect(parsePlanArgs([])).not.toHaveProperty("enforce");
    });
    it("renders no refusal line without --enforce", () => {
        const v = [{ policy: "x", enforcementLevel: "mandatory" as const, message: "m", resource: "r" }];
        expect(renderViolations(v)).not.toContain("refused");
        expect(renderViolations(v, true)).toContain("--enforce: refused, 1 mandatory violation.");
    });
});
