import { installMockRuntime } from "../support/mocks";

const recorder = installMockRuntime();
import { ServingAddons } from "../../components/serving-addons";
import { gpuAlertRules, servingDashboard } from "../../components/internal/gpu-telemetry";

describe("ServingAddons with gpuTelemetry", () => {
    beforeAll(async () => {
        new ServingAddons("obs", { gpuTelemetry: true });
        new ServingAddons("plain", {});
        await recorder.settle();
    });

    it("installs dcgm-exporter in its own privileged namespace, after the namespace and its ingress policies", () => {
        const ns = recorder.one("kubernetes:core/v1:Namespace", "obs-gpu-telemetry-ns").inputs;
        expect(ns.metadata.name).toBe("gpu-telemetry");
        expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("privileged");
        const release = recorder.one("kubernetes:helm.sh/v3:Release", "obs-dcgm-exporter");
        expect(release.inputs).toMatchObject({ chart: "dcgm-exporter", version: "4.8.2", namespace: "gpu-telemetry" });
        for (const dep of ["obs-gpu-telemetry-ns", "obs-gpu-telemetry-deny-ingress", "obs-dcgm-exporter-ingress"]) expect(recorder.dependsOn(release, recorder.resources.find((r) => r.name === dep)!)).toBe(true);
    });

    it("admits only the bundled Prometheus to the exporter's port", () => {
        const spec = recorder.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "obs-dcgm-exporter-ingress").inputs.spec;
        expect(spec.ingress[0].ports).toEqual([{ protocol: "TCP", port: 9400 }]);
        expect(spec.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": "monitoring" });
    });

    it("ships the alert rules with Prometheus and the dashboard as a Grafana sidecar ConfigMap", () => {
        const values = recorder.one("kubernetes:helm.sh/v3:Release", "obs-prometheus").inputs.values;
        expect(values.serverFiles["alerting_rules.yml"]).toEqual(gpuAlertRules());
        expect(values.serverFiles["prometheus.yml"].rule_files).toEqual(["/etc/config/alerting_rules.yml"]);
        const cm = recorder.one("kubernetes:core/v1:ConfigMap", "obs-dashboard").inputs;
        expect(cm.metadata.labels.grafana_dashboard).toBe("1");
        expect(JSON.parse(cm.data["modelship-serving.json"])).toEqual(servingDashboard());
    });

    it("is off by default", () => {
        expect(recorder.resources.filter((r) => r.name.startsWith("plain-") && /dcgm|gpu-telemetry|dashboard/.test(r.name))).toEqual([]);
    });
});
