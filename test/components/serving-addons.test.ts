import { installMockRuntime, valueOf } from "../support/mocks";

const recorder = installMockRuntime();
import * as k8s from "@pulumi/kubernetes";
import {
    ADDON_POD_SECURITY,
    configHash,
    kedaPolicySpecs,
    KEDA_CHART,
    POD_SCRAPE_JOB,
    PROMETHEUS_CHART,
    prometheusPolicySpec,
    prometheusValues,
    scrapeConfigs,
    scrapeTimeout,
    ServingAddons,
    validateServingAddonsArgs,
} from "../../components/serving-addons";
import { toK8sObject, validateK8sObjects } from "../support/k8s-schema";

const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
};
const SERVER_LABELS = { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/component": "server", "app.kubernetes.io/instance": "serving-prometheus" };
const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });

let addons: ServingAddons;
beforeAll(async () => {
    addons = new ServingAddons("serving", {}, { provider });
    new ServingAddons("narrow", { kedaNamespace: "keda2", prometheusNamespace: "mon2", apiServerCidrs: ["10.0.0.0/16"], prometheusClients: [{ namespace: "grafana", podLabels: { app: "grafana" } }] }, { provider });
    await recorder.settle();
});

function values(name = "serving-prometheus"): any {
    return recorder.one(RELEASE, name).inputs.values;
}
function policy(name: string): any {
    return recorder.one(NETPOL, name).inputs;
}

describe("ServingAddons releases", () => {
    it("installs KEDA from its pinned chart into the namespace it created", () => {
        expect(recorder.one(RELEASE, "serving-keda").inputs).toMatchObject({
            name: "keda",
            chart: "keda",
            version: "2.21.1",
            repositoryOpts: { repo: "https://kedacore.github.io/charts" },
            namespace: "keda",
            createNamespace: false,
        });
        expect(KEDA_CHART.version).toBe("2.21.1");
    });

    it("installs a Prometheus server only, no persistence, from its pinned chart, into the namespace it created", () => {
        const prom = recorder.one(RELEASE, "serving-prometheus").inputs;
        expect(prom).toMatchObject({
            chart: "prometheus",
            version: PROMETHEUS_CHART.version,
            repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
            namespace: "monitoring",
            createNamespace: false,
        });
        expect(prom.values).toMatchObject({
            alertmanager: { enabled: false },
            "prometheus-pushgateway": { enabled: false },
            "kube-state-metrics": { enabled: false },
            "prometheus-node-exporter": { enabled: false },
            server: { fullnameOverride: "serving-prometheus", retention: "2d", persistentVolume: { enabled: false }, global: { scrape_interval: "15s", scrape_timeout: "10s" } },
        });
    });

    it("outputs the in-cluster Prometheus URL and the scraper InferenceService admits", async () => {
        expect(await valueOf(addons.prometheusUrl)).toBe("http://serving-prometheus.monitoring.svc.cluster.local:80");
        expect(addons.scraper).toEqual({ namespace: "monitoring", podLabels: SERVER_LABELS });
        expect(recorder.one("modelship:index:ServingAddons", "serving").outputs?.scraper).toEqual(addons.scraper);
    });

    it("parents every child to itself with the given provider", () => {
        const children = recorder.childrenOf(recorder.one("modelship:index:ServingAddons", "serving"));
        expect(children.map((r) => r.name).sort()).toEqual(
            [
                "serving-keda",
                "serving-keda-ns",
                "serving-keda-deny-ingress",
                "serving-keda-operator",
                "serving-keda-metrics-apiserver",
                "serving-keda-admission-webhooks",
                "serving-prometheus",
                "serving-monitoring-ns",
                "serving-monitoring-deny-ingress",
                "serving-prometheus-ingress",
            ].sort(),
        );
        for (const c of children) expect(c.provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
    });

    it("uses an existing Prometheus when told, and creates neither its namespace nor its policies", async () => {
        const byo = new ServingAddons("byo", { prometheus: false, existingPrometheusUrl: "http://prom.obs:9090", prometheusNamespace: "obs" }, { provider });
        await recorder.settle();
        const names = recorder.resources.filter((r) => r.name.startsWith("byo-")).map((r) => r.name);
        expect(names).not.toContain("byo-prometheus");
        expect(names).not.toContain("byo-monitoring-ns");
        expect(names).not.toContain("byo-prometheus-ingress");
        expect(await valueOf(byo.prometheusUrl)).toBe("http://prom.obs:9090");
        expect(byo.scraper).toEqual({ namespace: "obs", podLabels: { "app.kubernetes.io/name": "prometheus" } });
    });
});

describe("ServingAddons namespaces (Pod Security)", () => {
    it("creates keda and monitoring as typed Namespaces enforcing, warning and auditing restricted", () => {
        for (const [resource, name] of [
            ["serving-keda-ns", "keda"],
            ["serving-monitoring-ns", "monitoring"],
        ]) {
            const ns = recorder.one(NAMESPACE, resource).inputs;
            expect(ns.metadata.name).toBe(name);
            expect(ns.metadata.labels).toMatchObject(RESTRICTED);
        }
        expect(ADDON_POD_SECURITY).toEqual({ keda: "restricted", prometheus: "restricted" });
    });

    it("installs each release only after its namespace and its NetworkPolicies exist", () => {
        const keda = recorder.one(RELEASE, "serving-keda");
        for (const dep of ["serving-keda-deny-ingress", "serving-keda-operator", "serving-keda-metrics-apiserver", "serving-keda-admission-webhooks"]) {
            expect(recorder.dependsOn(keda, recorder.one(NETPOL, dep))).toBe(true);
        }
        expect(recorder.dependsOn(keda, recorder.one(NAMESPACE, "serving-keda-ns"))).toBe(true);
        const prom = recorder.one(RELEASE, "serving-prometheus");
        expect(recorder.dependsOn(prom, recorder.one(NAMESPACE, "serving-monitoring-ns"))).toBe(true);
        expect(recorder.dependsOn(prom, recorder.one(NETPOL, "serving-prometheus-ingress"))).toBe(true);
        expect(recorder.dependsOn(prom, recorder.one(NETPOL, "serving-monitoring-deny-ingress"))).toBe(true);
        for (const p of recorder.ofType(NETPOL).filter((r) => r.name.startsWith("serving-"))) {
            expect(recorder.dependsOn(p, recorder.one(NAMESPACE, p.inputs.metadata.namespace === "keda" ? "serving-keda-ns" : "serving-monitoring-ns"))).toBe(true);
        }
    });

    it("runs the Prometheus server within the restricted standard (no reloader sidecar, hardened contexts)", () => {
        const v = values();
        expect(v.configmapReload).toEqual({ prometheus: { enabled: false } });
        expect(v.server.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } });
        expect(v.server.containerSecurityContext).toEqual({ allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    });
});

describe("ServingAddons Prometheus hardening", () => {
    it("turns the lifecycle and admin APIs off: no flags beyond the chart's fixed ones", () => {
        const v = values();
        expect(v.server.extraFlags).toEqual([]);
        expect(JSON.stringify(v)).not.toMatch(/enable-lifecycle|enable-admin-api|enableAdminApi/);
        expect(v.server.extraArgs).toBeUndefined();
    });

    it("scrapes the inference pods with honor_labels off, keeping the namespace and pod labels the KEDA query selects on", () => {
        const jobs = values().serverFiles["prometheus.yml"].scrape_configs;
        expect(jobs.map((j: any) => j.job_name)).toEqual(["prometheus", POD_SCRAPE_JOB]);
        for (const j of jobs) expect(j.honor_labels).toBe(false);
        const pods = jobs[1];
        expect(pods.kubernetes_sd_configs).toEqual([{ role: "pod" }]);
        expect(pods.relabel_configs[0]).toEqual({ source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], action: "keep", regex: "true" });
        const targets = pods.relabel_configs.map((r: any) => r.target_label);
        expect(targets).toEqual(expect.arrayContaining(["__metrics_path__", "__address__", "namespace", "pod"]));
        expect(pods.relabel_configs.find((r: any) => r.target_label === "namespace").source_labels).toEqual(["__meta_kubernetes_namespace"]);
        expect(pods.relabel_configs.find((r: any) => r.target_label === "pod").source_labels).toEqual(["__meta_kubernetes_pod_name"]);
        expect(extraScrapeConfigs()).toBeUndefined();
    });

    it("rolls the server when its configuration changes (no reloader, no lifecycle API)", () => {
        const hash = values().server.podAnnotations["modelship.io/config-hash"];
        expect(hash).toMatch(/^[0-9a-f]{16}$/);
        const other = prometheusValues("serving-prometheus", "2d", "30s") as any;
        expect(other.server.podAnnotations["modelship.io/config-hash"]).not.toBe(hash);
        expect((prometheusValues("serving-prometheus", "2d", "15s") as any).server.podAnnotations["modelship.io/config-hash"]).toBe(hash);
        expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
    });
});

function extraScrapeConfigs(): unknown {
    return values().extraScrapeConfigs;
}

describe("ServingAddons NetworkPolicies", () => {
    it("denies all ingress in both namespaces by default", () => {
        for (const [name, ns] of [
            ["serving-keda-deny-ingress", "keda"],
            ["serving-monitoring-deny-ingress", "monitoring"],
        ]) {
            const p = policy(name);
            expect(p.metadata.namespace).toBe(ns);
            expect(p.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
        }
    });

    it("lets only KEDA's operator reach Prometheus, on its HTTP port", () => {
        const p = policy("serving-prometheus-ingress");
        expect(p.metadata).toMatchObject({ name: "serving-prometheus", namespace: "monitoring" });
        expect(p.spec).toEqual({
            podSelector: { matchLabels: SERVER_LABELS },
            policyTypes: ["Ingress"],
            ingress: [
                {
                    from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "keda" } }, podSelector: { matchLabels: { app: "keda-operator" } } }],
                    ports: [{ protocol: "TCP", port: 9090 }],
                },
            ],
        });
    });

    it("admits extra Prometheus clients and follows a custom KEDA namespace", () => {
        const from = policy("narrow-prometheus-ingress").spec.ingress[0].from;
        expect(from).toEqual([
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "keda2" } }, podSelector: { matchLabels: { app: "keda-operator" } } },
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "grafana" } }, podSelector: { matchLabels: { app: "grafana" } } },
        ]);
        expect(policy("narrow-prometheus-ingress").metadata.namespace).toBe("mon2");
    });

    it("lets only the metrics API server reach the KEDA operator's gRPC port", () => {
        expect(policy("serving-keda-operator").spec).toEqual({
            podSelector: { matchLabels: { app: "keda-operator" } },
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ podSelector: { matchLabels: { app: "keda-operator-metrics-apiserver" } } }], ports: [{ protocol: "TCP", port: 9666 }] }],
        });
    });

    it("opens the metrics API (6443) and webhooks (9443) to the API server: any source by default, the given CIDRs when known", () => {
        expect(policy("serving-keda-metrics-apiserver").spec).toEqual({
            podSelector: { matchLabels: { app: "keda-operator-metrics-apiserver" } },
            policyTypes: ["Ingress"],
            ingress: [{ ports: [{ protocol: "TCP", port: 6443 }] }],
        });
        expect(policy("serving-keda-admission-webhooks").spec.ingress).toEqual([{ ports: [{ protocol: "TCP", port: 9443 }] }]);
        expect(policy("serving-keda-admission-webhooks").spec.podSelector).toEqual({ matchLabels: { app: "keda-admission-webhooks" } });
        expect(policy("narrow-keda-metrics-apiserver").spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: "10.0.0.0/16" } }], ports: [{ protocol: "TCP", port: 6443 }] }]);
        expect(policy("narrow-keda-admission-webhooks").spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: "10.0.0.0/16" } }], ports: [{ protocol: "TCP", port: 9443 }] }]);
    });

    it("pure specs match what is registered", () => {
        expect(kedaPolicySpecs().operator).toEqual(policy("serving-keda-operator").spec);
        expect(prometheusPolicySpec("serving-prometheus", "keda")).toEqual(policy("serving-prometheus-ingress").spec);
        expect(scrapeConfigs()).toEqual(values().serverFiles["prometheus.yml"].scrape_configs);
    });

    it("creates no KEDA namespace or policies when KEDA is not installed here", async () => {
        new ServingAddons("bare", { keda: false }, { provider });
        await recorder.settle();
        const names = recorder.resources.filter((r) => r.name.startsWith("bare-")).map((r) => r.name);
        expect(names.sort()).toEqual(["bare-monitoring-deny-ingress", "bare-monitoring-ns", "bare-prometheus", "bare-prometheus-ingress"]);
    });
});

describe("ServingAddons Kubernetes objects", () => {
    it("validate against the Kubernetes API schemas", () => {
        const objects = recorder.resources.filter((r) => r.custom && (r.type === NETPOL || r.type === NAMESPACE));
        expect(objects.length).toBeGreaterThanOrEqual(16);
        expect(validateK8sObjects(objects.map(toK8sObject))).toEqual(objects.map(() => null));
    });
});

describe("validateServingAddonsArgs", () => {
    const cases: [string, Parameters<typeof validateServingAddonsArgs>[1], string][] = [
        ["no Prometheus and no URL", { prometheus: false }, "existingPrometheusUrl is required with prometheus: false"],
        ["a bad retention", { prometheusRetention: "2 days" }, 'prometheusRetention "2 days" is not a Prometheus duration'],
        ["a bad API server CIDR", { apiServerCidrs: ["10.0.0.0/8", "10.0.0/8"] }, 'apiServerCidrs[1] "10.0.0/8" is not an IPv4 CIDR'],
        ["an empty API server CIDR list", { apiServerCidrs: [] }, "apiServerCidrs is empty, which would lock the API server out of KEDA"],
        ["API server CIDRs without KEDA", { keda: false, apiServerCidrs: ["10.0.0.0/8"] }, "apiServerCidrs only narrows KEDA's ports"],
        ["an empty Prometheus client", { prometheusClients: [{}] }, "prometheusClients[0] is empty, which would admit every pod"],
        ["an empty client label map", { prometheusClients: [{ podLabels: {} }] }, "prometheusClients[0].podLabels is empty, which selects everything"],
        ["a bad client label value", { prometheusClients: [{ podLabels: { app: "gra fana" } }] }, 'prometheusClients[0].podLabels.app "gra fana" is not a label value'],
        ["both add-ons in one namespace", { kedaNamespace: "addons", prometheusNamespace: "addons" }, 'prometheusNamespace is the same as kedaNamespace ("addons")'],
    ];
    it.each(cases)("rejects %s", (_label, args, message) => {
        expect(() => validateServingAddonsArgs("a", args)).toThrow(message);
    });
    it("accepts the defaults", () => {
        expect(() => validateServingAddonsArgs("a", {})).not.toThrow();
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
