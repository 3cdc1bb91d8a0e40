import * as fs from "fs";
import * as path from "path";
import { DCGM_EXPORTER_CHART, dcgmExporterValues, gpuAlertRules, GPU_TELEMETRY_POD_SECURITY, servingDashboard } from "../../components/internal/gpu-telemetry";

const root = path.resolve(__dirname, "..", "..");
/** The metrics the server exports (inference-image/src/metrics.ts) and the DCGM counters the exporter's default set has. */
const SERVER_METRICS = [...fs.readFileSync(path.join(root, "inference-image/src/metrics.ts"), "utf8").matchAll(/name: '([a-z_]+)'/g)].map((m) => m[1]);
const DCGM_DEFAULT_COUNTERS = ["DCGM_FI_PROF_GR_ENGINE_ACTIVE", "DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_POWER_USAGE"];
const metricNames = (expr: string) => [...expr.matchAll(/\b(modelship_[a-z_]+|DCGM_FI_[A-Z_]+)\b/g)].map((m) => m[1].replace(/_(bucket|sum|count)$/, ""));

describe("dcgm-exporter", () => {
    it("is pinned, runs on GPU nodes only (tolerating their taint) and attributes GPUs to pods by device name", () => {
        expect(DCGM_EXPORTER_CHART).toEqual({ chart: "dcgm-exporter", repo: "https://nvidia.github.io/dcgm-exporter/helm-charts", version: "4.8.2" });
        const v = dcgmExporterValues() as any;
        expect(v.tolerations).toEqual([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]);
        expect(v.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]).toEqual({ key: "modelship.dev/accelerator", operator: "In", values: ["nvidia"] });
        expect(v.extraEnv).toContainEqual({ name: "DCGM_EXPORTER_KUBERNETES_GPU_ID_TYPE", value: "device-name" });
        expect(v.podAnnotations).toEqual({ "prometheus.io/scrape": "true", "prometheus.io/port": "9400", "prometheus.io/path": "/metrics" });
        expect(v.serviceMonitor).toEqual({ enabled: false });
    });
    it("needs the privileged Pod Security level (hostPath pod-resources, SYS_ADMIN), on its own namespace only", () => {
        expect(GPU_TELEMETRY_POD_SECURITY).toBe("privileged");
    });
});

describe("alert rules and dashboard", () => {
    const rules = gpuAlertRules().groups[0].rules;
    it("alert on idle GPUs (engine activity) and on serving saturation (queue per pod), not on GPU utilisation for scaling", () => {
        expect(rules.map((r) => r.alert)).toEqual(["GpuIdle", "ServingSaturated"]);
        expect(rules[0].expr).toContain("DCGM_FI_PROF_GR_ENGINE_ACTIVE");
        expect(rules[0].expr).toMatch(/< 0.05$/);
        expect(rules[1].expr).toContain("modelship_inference_requests_in_flight");
    });
    it("reference only metrics that exist (the server's, and DCGM's default counters)", () => {
        const exprs = [...rules.map((r) => r.expr), ...(servingDashboard().panels as any[]).flatMap((p) => p.targets.map((t: any) => t.expr))];
        const unknown = exprs.flatMap(metricNames).filter((m) => !SERVER_METRICS.includes(m) && !DCGM_DEFAULT_COUNTERS.includes(m));
        expect(unknown).toEqual([]);
        expect(SERVER_METRICS).toContain("modelship_inference_requests_in_flight");
    });
    it("ships dashboards/modelship-serving.json equal to the builder (regenerate with npm run dashboards)", () => {
        const shipped = JSON.parse(fs.readFileSync(path.join(root, "dashboards/modelship-serving.json"), "utf8"));
        expect(shipped).toEqual(servingDashboard());
        expect((shipped.panels as any[]).length).toBeGreaterThanOrEqual(10);
        const ids = (shipped.panels as any[]).map((p) => p.id);
        expect(new Set(ids).size).toBe(ids.length);
    });
});
