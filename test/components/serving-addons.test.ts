import { installMockRuntime, valueOf } from "../support/mocks";

const recorder = installMockRuntime();
import * as k8s from "@pulumi/kubernetes";
import { KEDA_CHART, PROMETHEUS_CHART, prometheusValues, scrapeTimeout, ServingAddons, validateServingAddonsArgs } from "../../components/serving-addons";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });

let addons: ServingAddons;
beforeAll(async () => {
    addons = new ServingAddons("serving", {}, { provider });
    await recorder.settle();
});

describe("ServingAddons", () => {
    it("installs KEDA from its pinned chart in its own namespace", () => {
        expect(recorder.one(RELEASE, "serving-keda").inputs).toMatchObject({
            name: "keda",
            chart: "keda",
            version: "2.21.1",
            repositoryOpts: { repo: "https://kedacore.github.io/charts" },
            namespace: "keda",
            createNamespace: true,
        });
        expect(KEDA_CHART.version).toBe("2.21.1");
    });

    it("installs a Prometheus server only, no persistence, from its pinned chart", () => {
        const prom = recorder.one(RELEASE, "serving-prometheus").inputs;
        expect(prom).toMatchObject({ chart: "prometheus", version: PROMETHEUS_CHART.version, repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" }, namespace: "monitoring" });
        expect(prom.values).toEqual({
            alertmanager: { enabled: false },
            "prometheus-pushgateway": { enabled: false },
            "kube-state-metrics": { enabled: false },
            "prometheus-node-exporter": { enabled: false },
            server: { fullnameOverride: "serving-prometheus", retention: "2d", persistentVolume: { enabled: false }, global: { scrape_interval: "15s", scrape_timeout: "10s" } },
        });
    });

    it("outputs the in-cluster Prometheus URL", async () => {
        expect(await valueOf(addons.prometheusUrl)).toBe("http://serving-prometheus.monitoring.svc.cluster.local:80");
    });

    it("parents both releases to itself with the given provider", () => {
        const children = recorder.childrenOf(recorder.one("modelship:index:ServingAddons", "serving"));
        expect(children.map((r) => r.name).sort()).toEqual(["serving-keda", "serving-prometheus"]);
        for (const c of children) expect(c.provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
    });

    it("uses an existing Prometheus when told", async () => {
        const byo = new ServingAddons("byo", { prometheus: false, existingPrometheusUrl: "http://prom.obs:9090" }, { provider });
        await recorder.settle();
        expect(recorder.ofType(RELEASE).map((r) => r.name)).not.toContain("byo-prometheus");
        expect(await valueOf(byo.prometheusUrl)).toBe("http://prom.obs:9090");
    });

    it("validates its arguments", () => {
        expect(() => validateServingAddonsArgs("a", { prometheus: false })).toThrow("existingPrometheusUrl is required with prometheus: false");
        expect(() => validateServingAddonsArgs("a", { prometheusRetention: "2 days" })).toThrow('prometheusRetention "2 days" is not a Prometheus duration');
    });
});

describe("scrape timeout", () => {
    it("never exceeds the scrape interval (Prometheus refuses to start otherwise)", () => {
        expect(scrapeTimeout("15s")).toBe("10s");
        expect(scrapeTimeout("1m")).toBe("10s");
        expect(scrapeTimeout("5s")).toBe("5s");
        expect(scrapeTimeout("500ms")).toBe("500ms");
        expect(prometheusValues("p", "2d", "5s")).toMatchObject({ server: { global: { scrape_interval: "5s", scrape_timeout: "5s" } } });
    });
});
