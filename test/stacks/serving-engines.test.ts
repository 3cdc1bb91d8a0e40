import * as path from "path";
import { plan as runPlan, type PlanOptions, type PlanResource } from "../../cli/plan";
import { ConfigError, parseTargetConfig } from "../../stacks/config";
import { freshRequire } from "../support/mocks";

const plan = (opts: PlanOptions) => runPlan({ load: freshRequire, ...opts });
const root = path.resolve(__dirname, "..", "..");
const ofType = (rs: PlanResource[], type: string) => rs.filter((r) => r.type === type);
const deployment = (rs: PlanResource[]) => ofType(rs, "kubernetes:apps/v1:Deployment")[0].inputs as any;

describe.each([
    ["cloud-vllm", "vllm", "s3://example-models/llama-3-8b-instruct/", "sum(vllm:num_requests_waiting{"],
    ["cloud-triton", "triton", "s3://example-models/triton-repository/", "sum(nv_inference_pending_request_count{"],
])("the %s example stack", (stack, engine, s3Uri, query) => {
    let resources: PlanResource[];
    let outputs: Record<string, unknown>;
    let text: string;
    beforeAll(async () => {
        const result = await plan({ stack, json: false, projectDir: root });
        resources = result.plan.resources;
        outputs = result.plan.outputs ?? {};
        text = result.text;
    }, 120_000);

    it("builds no image and says so in the plan", () => {
        for (const type of ["modelship:index:InferenceImage", "modelship:index:ImageRegistry", "docker-build:index:Image", "aws:ecr/repository:Repository"]) expect([type, ofType(resources, type)]).toEqual([type, []]);
        expect(outputs.imageBuild).toMatch(new RegExp(`^skipped: service.server "${engine}" runs its published image .+@sha256:[0-9a-f]{64} as is$`));
        expect(text).toContain("imageBuild");
        expect(text).toContain("skipped");
    });

    it("runs the engine's published image by digest, with the engine's probes and the weights synced first", () => {
        const spec = deployment(resources).spec.template.spec;
        expect(spec.containers[0].image).toMatch(/@sha256:[0-9a-f]{64}$/);
        const ready = spec.containers[0].readinessProbe.httpGet.path;
        expect(ready).toBe(engine === "vllm" ? "/health" : "/v2/health/ready");
        expect(spec.initContainers[0].command.slice(0, 4)).toEqual(["aws", "s3", "sync", s3Uri]);
    });

    it("scales on the engine's own queue signal", () => {
        const scaler = ofType(resources, "kubernetes:keda.sh/v1alpha1:ScaledObject")[0].inputs as any;
        expect(scaler.spec.triggers.map((t: any) => t.type)).toEqual(["prometheus"]);
        expect(scaler.spec.triggers[0].metadata.query.startsWith(query)).toBe(true);
    });

    it("scopes the weights role to the bucket and prefix", () => {
        const policy = JSON.parse((ofType(resources, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name.endsWith("-weights"))!.inputs as any).policy);
        const [bucket, prefix] = s3Uri.replace("s3://", "").replace(/\/$/, "").split(/\/(.*)/);
        expect(policy.Statement.map((s: any) => [s.Action, s.Resource])).toEqual([
            ["s3:GetObject", `arn:aws:s3:::${bucket}/${prefix}/*`],
            ["s3:ListBucket", `arn:aws:s3:::${bucket}`],
        ]);
    });
});

describe("service.server in stack config", () => {
    const base = { cluster: { version: "1.33", gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] } };
    const problems = (target: "cloud" | "hybrid", values: Record<string, unknown>) => {
        try {
            parseTargetConfig(target, (k) => values[k]);
        } catch (err) {
            if (err instanceof ConfigError) return err.problems.map((p) => `${p.key}: ${p.problem}`).join("\n");
            throw err;
        }
        return "";
    };
    it("needs the engine's image by digest, and keeps the modelship path as it was", () => {
        expect(problems("cloud", { ...base, service: { server: "vllm" } })).toMatch(/modelship:service.serverImage: is required with server triton or vllm/);
        expect(problems("cloud", { ...base, service: { server: "vllm", serverImage: "vllm/vllm-openai:latest" } })).toMatch(/serverImage: expected an image pinned by digest/);
        expect(problems("cloud", { ...base, service: { serverImage: `a/b@sha256:${"1".repeat(64)}` } })).toMatch(/serverImage: applies to server triton or vllm only/);
        expect(problems("cloud", base)).toBe("");
    });
    it("the hybrid target serves the modelship server only", () => {
        expect(problems("hybrid", { ...base, service: { server: "triton", serverImage: `a/b@sha256:${"1".repeat(64)}` } })).toMatch(/service.server: must be modelship for the hybrid target/);
    });
});
