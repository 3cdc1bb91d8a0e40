import { createHash } from "crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ArgChecker, isDnsLabel } from "./internal/validation";
import { DNS1035_LABEL_RULE, HELM_RELEASE_NAME_MAX, isDns1035Label } from "./internal/k8s-names";
import { pinnedRelease } from "./internal/helm";
import { checkInput, checkInputs, checkPlain } from "./internal/inputs";
import { appLabels } from "./internal/k8s-constants";
import { labelledNamespace, type PodSecurityLevel } from "./internal/namespaces";
import { DCGM_EXPORTER_CHART, DCGM_EXPORTER_PORT, DCGM_POD_LABELS, dcgmExporterValues, GPU_TELEMETRY_NAMESPACE, GPU_TELEMETRY_POD_SECURITY, gpuAlertRules, servingDashboard } from "./internal/gpu-telemetry";
import {
    checkCidrs,
    checkPodPeer,
    cidrPeer,
    cidrProblem,
    DEFAULT_MONITORING_NAMESPACE,
    ingressRule,
    KEDA_PODS,
    podPeer,
    PROMETHEUS_POD_LABELS,
    type PodPeer,
} from "./internal/network-policy";

export const SERVING_ADDONS_TYPE = "modelship:index:ServingAddons";

/** KEDA Helm chart, pinned. */
// Checked to exist on 2026-11-26: https://github.com/kedacore/charts/releases/tag/v2.21.1 ("Chart: v2.21.1 | App: v2.21.1").
export const KEDA_CHART = { chart: "keda", version: "2.21.1", repo: "https://kedacore.github.io/charts" } as const;
/** prometheus-community `prometheus` Helm chart, pinned. */
// Checked to exist on 2026-11-26: tag prometheus-27.52.0 of github.com/prometheus-community/helm-charts,
// charts/prometheus/Chart.yaml version 27.52.0 (2025-12-17).
export const PROMETHEUS_CHART = { chart: "prometheus", version: "27.52.0", repo: "https://prometheus-community.github.io/helm-charts" } as const;

/**
 * Strictest Pod Security level each add-on's pods pass. KEDA's chart sets runAsNonRoot, drop ALL, no privilege
 * escalation and RuntimeDefault seccomp on all three Deployments; the Prometheus server passes with the security
 * contexts {@link prometheusValues} sets.
 */
export const ADDON_POD_SECURITY: Record<"keda" | "prometheus", PodSecurityLevel> = { keda: "restricted", prometheus: "restricted" };

/** Port the Prometheus server container listens on (the chart's Service maps 80 to it). */
export const PROMETHEUS_PORT = 9090;

/** Arguments of {@link ServingAddons}. Every field is optional. */
export interface ServingAddonsArgs {
    /** Install KEDA, which owns the HPAs of autoscaled InferenceServices. Default true. */
    keda?: boolean;
    /** Namespace of KEDA, created here (Pod Security "restricted") when KEDA is installed. Default "keda". */
    kedaNamespace?: string;
    /**
     * IPv4 CIDRs the Kubernetes API server connects from, to reach KEDA's metrics API (6443) and admission webhooks
     * (9443). Default none: those two TLS ports accept any source, because on EKS the control plane connects from ENIs
     * in the cluster's subnets, addresses no selector can name. Give them (e.g. the control plane subnets) to narrow it.
     */
    apiServerCidrs?: pulumi.Input<string>[];
    /** Install a minimal Prometheus (server only) scraping pods by their `prometheus.io/*` annotations. Default true. */
    prometheus?: boolean;
    /** Namespace of Prometheus, created here (Pod Security "restricted") when Prometheus is installed. Default "monitoring". */
    prometheusNamespace?: string;
    /** How long Prometheus keeps samples; autoscaling needs minutes, not weeks. Default "2d". */
    prometheusRetention?: string;
    /** Prometheus scrape interval. Default "15s". */
    scrapeInterval?: string;
    /** Pods, besides KEDA's operator, allowed to query the bundled Prometheus (e.g. Grafana). Default none. */
    prometheusClients?: PodPeer[];
    /** URL (http or https) of an existing Prometheus, when `prometheus` is false; becomes `prometheusUrl`. An Output is checked when it resolves. Default none. */
    existingPrometheusUrl?: pulumi.Input<string>;
    /**
     * Install NVIDIA's dcgm-exporter on the GPU nodes (its own namespace, Pod Security "privileged": it reads the
     * kubelet's pod-resources socket from the host and needs SYS_ADMIN for profiling counters), scraped by the
     * bundled Prometheus (and a dashboard ConfigMap for Grafana's sidecar). Runs only on GPU nodes. The GPU alert
     * rules ship with the bundled Prometheus either way. Default false; the cloud stack turns it on.
     */
    gpuTelemetry?: boolean;
    /** Namespace of dcgm-exporter, created here. Default "gpu-telemetry". */
    gpuTelemetryNamespace?: string;
    /**
     * The node groups the add-ons' pods can run on, when this program creates them (on a `GpuCluster`, its system node
     * group: `cluster.systemNodes`). Every Helm release waits for them: the installs are atomic and Helm gives up after
     * 300 s, which a release started while the nodes come up spends waiting for a node. Default none (the nodes exist).
     */
    nodesReady?: pulumi.Resource[];
}

/** Defaults, in one place. */
export const SERVING_ADDONS_DEFAULTS = {
    keda: true,
    kedaNamespace: "keda",
    prometheus: true,
    prometheusNamespace: DEFAULT_MONITORING_NAMESPACE,
    prometheusRetention: "2d",
    scrapeInterval: "15s",
    gpuTelemetry: false,
    gpuTelemetryNamespace: GPU_TELEMETRY_NAMESPACE,
} as const;

/** What is wrong with `existingPrometheusUrl`, or undefined. Pure. */
export function prometheusUrlProblem(url: string): string | undefined {
    let parsed: URL | undefined;
    try {
        parsed = new URL(url);
    } catch {
        parsed = undefined;
    }
    return parsed !== undefined && (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname !== ""
        ? undefined
        : `"${url}" is not an http(s) URL such as "http://prometheus-server.monitoring.svc.cluster.local:80"`;
}

/** Suffix of the Prometheus release and server names. */
const PROMETHEUS_SUFFIX = "-prometheus";
/** Longest ServingAddons name: `<name>-prometheus` is a Helm release name. */
export const SERVING_ADDONS_NAME_MAX = HELM_RELEASE_NAME_MAX - PROMETHEUS_SUFFIX.length;

/** Validates the arguments; throws an error naming the field and the fix. Pure: no Pulumi calls. */
export function validateServingAddonsArgs(name: string, args: ServingAddonsArgs): void {
    const c = new ArgChecker("ServingAddons", name);
    c.check(
        isDns1035Label(name, SERVING_ADDONS_NAME_MAX),
        "name",
        `"${name}" must be a DNS-1035 label of at most ${SERVING_ADDONS_NAME_MAX} characters (${DNS1035_LABEL_RULE}): "<name>${PROMETHEUS_SUFFIX}" names the Prometheus Helm release (at most ${HELM_RELEASE_NAME_MAX}) and its Service`,
    );
    if (args.nodesReady !== undefined) c.check(Array.isArray(args.nodesReady) && args.nodesReady.every((r) => pulumi.Resource.isInstance(r)), "nodesReady", "must be a list of resources, e.g. [cluster.systemNodeGroup]");
    for (const field of ["kedaNamespace", "prometheusNamespace", "gpuTelemetryNamespace"] as const) {
        const v = args[field];
        if (v !== undefined) c.check(isDnsLabel(v), field, `"${v}" is not a valid namespace name`);
    }
    for (const field of ["prometheusRetention", "scrapeInterval"] as const) {
        const v = args[field];
        if (v !== undefined) c.check(/^\d+(ms|s|m|h|d|w|y)$/.test(v), field, `"${v}" is not a Prometheus duration such as "15s" or "2d"`);
    }
    const keda = args.keda ?? SERVING_ADDONS_DEFAULTS.keda;
    const prometheus = args.prometheus ?? SERVING_ADDONS_DEFAULTS.prometheus;
    const kedaNs = args.kedaNamespace ?? SERVING_ADDONS_DEFAULTS.kedaNamespace;
    const promNs = args.prometheusNamespace ?? SERVING_ADDONS_DEFAULTS.prometheusNamespace;
    const gpuNs = args.gpuTelemetryNamespace ?? SERVING_ADDONS_DEFAULTS.gpuTelemetryNamespace;
    if (args.gpuTelemetry ?? SERVING_ADDONS_DEFAULTS.gpuTelemetry)
        c.check(gpuNs !== kedaNs && gpuNs !== promNs, "gpuTelemetryNamespace", `"${gpuNs}" is KEDA's or Prometheus's namespace: dcgm-exporter needs the privileged Pod Security level, which must stay on its own namespace`);
    else c.check(args.gpuTelemetryNamespace === undefined, "gpuTelemetryNamespace", "has no effect with gpuTelemetry: false: remove it");
    if (keda && prometheus) c.check(kedaNs !== promNs, "prometheusNamespace", `is the same as kedaNamespace ("${kedaNs}"): each add-on gets its own namespace and NetworkPolicies; pick another`);
    if (args.apiServerCidrs !== undefined) {
        c.check(keda, "apiServerCidrs", "only narrows KEDA's ports and KEDA is not installed here: remove it");
        c.check(args.apiServerCidrs.length > 0, "apiServerCidrs", "is empty, which would lock the API server out of KEDA: give its CIDRs, or leave the field out");
        checkCidrs(c, "apiServerCidrs", args.apiServerCidrs);
    }
    for (const [i, peer] of (args.prometheusClients ?? []).entries()) checkPodPeer(c, `prometheusClients[${i}]`, peer);
    if (args.prometheusClients?.length) c.check(prometheus, "prometheusClients", "only applies to the bundled Prometheus: remove it, or set prometheus: true");
    if (prometheus) c.check(args.existingPrometheusUrl === undefined, "existingPrometheusUrl", "is only used with prometheus: false: remove it, or turn the bundled Prometheus off");
    else c.check(args.existingPrometheusUrl !== undefined, "existingPrometheusUrl", "is required with prometheus: false: give the URL KEDA should query");
    checkPlain(c, "existingPrometheusUrl", args.existingPrometheusUrl, prometheusUrlProblem);
    c.done();
}

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8, y: 3.1536e10 };
/** The chart's default scrape timeout. */
const CHART_SCRAPE_TIMEOUT = "10s";

/** Milliseconds of a Prometheus duration such as "15s". Pure. */
export function durationMs(duration: string): number {
    const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(duration);
    if (!m) throw new Error(`"${duration}" is not a Prometheus duration`);
    return Number(m[1]) * DURATION_UNIT_MS[m[2]];
}

/** The scrape timeout: the chart's 10s, or the interval itself when that is shorter. Pure. */
export function scrapeTimeout(scrapeInterval: string): string {
    return durationMs(scrapeInterval) < durationMs(CHART_SCRAPE_TIMEOUT) ? scrapeInterval : CHART_SCRAPE_TIMEOUT;
}

/** Name of the scrape job reading the inference pods (InferenceService's `prometheus.io/*` annotations). */
export const POD_SCRAPE_JOB = "kubernetes-pods";

/**
 * The whole `scrape_configs` list (Helm replaces lists, so this drops the chart's nine default jobs): Prometheus itself,
 * and pods annotated `prometheus.io/scrape: "true"`. `honor_labels: false` on both: a scraped pod exposing its own
 * `namespace` or `pod` label gets it renamed `exported_*`, so no pod can pose as an InferenceService and drive KEDA.
 * Pure.
 */
export function scrapeConfigs(): Record<string, unknown>[] {
    const annotation = (name: string) => `__meta_kubernetes_pod_annotation_prometheus_io_${name}`;
    return [
        { job_name: "prometheus", honor_labels: false, static_configs: [{ targets: [`localhost:${PROMETHEUS_PORT}`] }] },
        {
            job_name: POD_SCRAPE_JOB,
            honor_labels: false,
            kubernetes_sd_configs: [{ role: "pod" }],
            relabel_configs: [
                { source_labels: [annotation("scrape")], action: "keep", regex: "true" },
                { source_labels: [annotation("scheme")], action: "replace", regex: "(https?)", target_label: "__scheme__" },
                { source_labels: [annotation("path")], action: "replace", regex: "(.+)", target_label: "__metrics_path__" },
                // Scrape the annotated port on the pod IP (IPv6 needs brackets).
                { source_labels: [annotation("port"), "__meta_kubernetes_pod_ip"], action: "replace", regex: "(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})", replacement: "[$2]:$1", target_label: "__address__" },
                { source_labels: [annotation("port"), "__meta_kubernetes_pod_ip"], action: "replace", regex: "(\\d+);((([0-9]+?)(\\.|$)){4})", replacement: "$2:$1", target_label: "__address__" },
                // InferenceService's KEDA query selects on these two.
                { source_labels: ["__meta_kubernetes_namespace"], action: "replace", target_label: "namespace" },
                { source_labels: ["__meta_kubernetes_pod_name"], action: "replace", target_label: "pod" },
                { source_labels: ["__meta_kubernetes_pod_phase"], action: "drop", regex: "Pending|Succeeded|Failed|Completed" },
            ],
        },
    ];
}

/** Hash of the Prometheus configuration, set as a pod annotation so that a changed configuration rolls the pod. Pure. */
export function configHash(config: unknown): string {
    return createHash("sha256").update(JSON.stringify(config)).digest("hex").slice(0, 16);
}

/** Labels the chart puts on the Prometheus server pods (`prometheus.server.matchLabels`) of release `serverName`. Pure. */
export function prometheusServerLabels(serverName: string): Record<string, string> {
    return { ...PROMETHEUS_POD_LABELS, "app.kubernetes.io/component": "server", "app.kubernetes.io/instance": serverName };
}

/**
 * Typed values of the `prometheus` chart: the server only, no persistence, no lifecycle or admin API, honor_labels
 * off, passing the "restricted" Pod Security Standard. Pure.
 */
export function prometheusValues(serverName: string, retention: string, scrapeInterval: string): Record<string, unknown> {
    // The chart's default scrape_timeout (10s) survives Helm's merge; Prometheus refuses a timeout longer than the
    // interval, so a short interval gets a timeout equal to itself.
    const global = { scrape_interval: scrapeInterval, scrape_timeout: scrapeTimeout(scrapeInterval) };
    // The GPU and saturation alerts (no Alertmanager here: they show on /alerts and as the ALERTS series; route them
    // from your own Alertmanager by pointing it at this Prometheus or federating ALERTS).
    const serverFiles = {
        "prometheus.yml": { rule_files: ["/etc/config/alerting_rules.yml"], scrape_configs: scrapeConfigs() },
        "alerting_rules.yml": gpuAlertRules(),
    };
    return {
        alertmanager: { enabled: false },
        "prometheus-pushgateway": { enabled: false },
        "kube-state-metrics": { enabled: false },
        "prometheus-node-exporter": { enabled: false },
        // The reloader POSTs to /-/reload, which needs the lifecycle API: off with it; a config change rolls the pod instead.
        configmapReload: { prometheus: { enabled: false } },
        server: {
            fullnameOverride: serverName,
            retention,
            // Samples matter for minutes (autoscaling): losing them with the pod is acceptable.
            persistentVolume: { enabled: false },
            global,
            // Replaces the chart's ["web.enable-lifecycle"]: no unauthenticated /-/reload and /-/quit, no admin API.
            extraFlags: [],
            podAnnotations: { "modelship.io/config-hash": configHash({ global, serverFiles }) },
            securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: "RuntimeDefault" } },
            containerSecurityContext: { allowPrivilegeEscalation: false, privileged: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
        },
        serverFiles,
    };
}

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;

/** Deny-all ingress for every pod of a namespace; the other policies there admit what must come in. Pure. */
export function denyAllIngressSpec(): NetworkPolicySpec {
    return { podSelector: {}, policyTypes: ["Ingress"] };
}

/**
 * Ingress to KEDA's pods: the operator's gRPC metrics service from the metrics API server only; the metrics API and
 * the admission webhooks from the Kubernetes API server (`apiServerCidrs`, or any source on those TLS ports). Pure.
 */
export function kedaPolicySpecs(apiServerCidrs?: pulumi.Input<string>[]): Record<"operator" | "metricsApiServer" | "webhooks", NetworkPolicySpec> {
    const apiServer = apiServerCidrs === undefined ? "anywhere" : apiServerCidrs.map(cidrPeer);
    const only = (labels: Record<string, string>, rule: k8s.types.input.networking.v1.NetworkPolicyIngressRule): NetworkPolicySpec => ({
        podSelector: { matchLabels: labels },
        policyTypes: ["Ingress"],
        ingress: [rule],
    });
    return {
        operator: only(KEDA_PODS.operator.labels, ingressRule([podPeer({ podLabels: KEDA_PODS.metricsApiServer.labels })], [KEDA_PODS.operator.grpcPort])),
        metricsApiServer: only(KEDA_PODS.metricsApiServer.labels, ingressRule(apiServer, [KEDA_PODS.metricsApiServer.httpsPort])),
        webhooks: only(KEDA_PODS.webhooks.labels, ingressRule(apiServer, [KEDA_PODS.webhooks.httpsPort])),
    };
}

/** Ingress to the Prometheus server: its HTTP port from KEDA's operator (which runs the Prometheus scaler) and `clients`. Pure. */
export function prometheusPolicySpec(serverName: string, kedaNamespace: string, clients: PodPeer[] = []): NetworkPolicySpec {
    return {
        podSelector: { matchLabels: prometheusServerLabels(serverName) },
        policyTypes: ["Ingress"],
        ingress: [ingressRule([podPeer({ namespace: kedaNamespace, podLabels: KEDA_PODS.operator.labels }), ...clients.map(podPeer)], [PROMETHEUS_PORT])],
    };
}

/**
 * The cluster-wide pieces autoscaled InferenceServices need, once per cluster: KEDA and a minimal Prometheus, as
 * pinned Helm releases, each in a namespace created here with Pod Security labels and NetworkPolicies that deny all
 * ingress but what must come in. `prometheusUrl` resolves after both are installed, so a ScaledObject using it waits.
 */
export class ServingAddons extends pulumi.ComponentResource {
    /** In-cluster URL of Prometheus, for `InferenceService` `autoscaling.prometheusUrl`. */
    readonly prometheusUrl: pulumi.Output<string>;
    /**
     * The Prometheus that scrapes the inference pods, as `InferenceService` `ingressFrom.prometheus` takes it: its
     * namespace and pod labels. For an existing Prometheus: `prometheusNamespace` and `app.kubernetes.io/name: prometheus`.
     */
    readonly scraper: { namespace: string; podLabels: Record<string, string> };

    // ---- the children, for extending rather than forking
    /** The KEDA Helm release, when installed. */
    readonly keda: k8s.helm.v3.Release | undefined;
    /** The Prometheus Helm release, when installed. */
    readonly prometheus: k8s.helm.v3.Release | undefined;
    /** The dcgm-exporter Helm release, when `gpuTelemetry`. */
    readonly dcgmExporter: k8s.helm.v3.Release | undefined;
    /**
     * The releases installed here (KEDA's carries the ScaledObject CRD): pass as InferenceService `addonsReady` so its
     * ScaledObject waits for them even when `autoscaling.prometheusUrl` is not `prometheusUrl`.
     */
    readonly ready: pulumi.Resource[];

    constructor(name: string, args: ServingAddonsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        validateServingAddonsArgs(name, args);
        super(SERVING_ADDONS_TYPE, name, {}, opts);

        const d = SERVING_ADDONS_DEFAULTS;
        const kedaNs = args.kedaNamespace ?? d.kedaNamespace;
        const promNs = args.prometheusNamespace ?? d.prometheusNamespace;
        const serverName = `${name}${PROMETHEUS_SUFFIX}`;
        const nodes = args.nodesReady ?? [];
        const apiServerCidrs = args.apiServerCidrs && checkInputs({ component: "ServingAddons", name, field: "apiServerCidrs" }, args.apiServerCidrs, cidrProblem);
        this.keda = args.keda ?? d.keda ? this.installKeda(name, kedaNs, nodes, apiServerCidrs) : undefined;

        let url: pulumi.Output<string>;
        if (args.prometheus ?? d.prometheus) {
            this.prometheus = this.installPrometheus(name, serverName, promNs, kedaNs, nodes, args);
            // The chart's server Service listens on port 80 under the server's full name.
            url = pulumi.output(`http://${serverName}.${promNs}.svc.cluster.local:80`);
            this.scraper = { namespace: promNs, podLabels: prometheusServerLabels(serverName) };
        } else {
            this.prometheus = undefined;
            url = checkInput({ component: "ServingAddons", name, field: "existingPrometheusUrl" }, args.existingPrometheusUrl!, prometheusUrlProblem);
            this.scraper = { namespace: promNs, podLabels: { ...PROMETHEUS_POD_LABELS } };
        }

        this.dcgmExporter = args.gpuTelemetry ?? d.gpuTelemetry ? this.installGpuTelemetry(name, args.gpuTelemetryNamespace ?? d.gpuTelemetryNamespace, this.scraper, args.nodesReady ?? []) : undefined;

        const releases = [this.keda, this.prometheus].filter((r): r is k8s.helm.v3.Release => r !== undefined);
        this.ready = releases;
        this.prometheusUrl = pulumi.all([url, ...releases.map((r) => r.status.status)]).apply(([u]) => u);
        this.registerOutputs({ prometheusUrl: this.prometheusUrl, scraper: this.scraper });
    }

    /** KEDA's namespace, its ingress policies, then the release. */
    private installKeda(name: string, namespace: string, nodes: pulumi.Resource[], apiServerCidrs?: pulumi.Input<string>[]): k8s.helm.v3.Release {
        const labels = appLabels("modelship-serving-addons", name);
        const ns = labelledNamespace(`${name}-keda-ns`, { name: namespace, level: ADDON_POD_SECURITY.keda, labels }, { parent: this });
        const policies: k8s.networking.v1.NetworkPolicy[] = [this.networkPolicy(`${name}-keda-deny-ingress`, "deny-ingress", namespace, labels, denyAllIngressSpec(), ns)];
        const specs = kedaPolicySpecs(apiServerCidrs);
        for (const [pod, suffix] of [
            ["operator", "operator"],
            ["metricsApiServer", "metrics-apiserver"],
            ["webhooks", "admission-webhooks"],
        ] as const) {
            policies.push(this.networkPolicy(`${name}-keda-${suffix}`, `keda-${suffix}`, namespace, labels, specs[pod], ns));
        }
        // Pods start isolated: the policies exist before the chart's Deployments.
        return pinnedRelease(`${name}-keda`, KEDA_CHART, { name: "keda", namespace, createNamespace: false }, { parent: this, dependsOn: [ns, ...policies, ...nodes] });
    }

    /** Prometheus's namespace, its ingress policies, then the release. */
    private installPrometheus(name: string, serverName: string, namespace: string, kedaNamespace: string, nodes: pulumi.Resource[], args: ServingAddonsArgs): k8s.helm.v3.Release {
        const d = SERVING_ADDONS_DEFAULTS;
        const labels = appLabels("modelship-serving-addons", name);
        const ns = labelledNamespace(`${name}-monitoring-ns`, { name: namespace, level: ADDON_POD_SECURITY.prometheus, labels }, { parent: this });
        const policies = [
            this.networkPolicy(`${name}-monitoring-deny-ingress`, "deny-ingress", namespace, labels, denyAllIngressSpec(), ns),
            this.networkPolicy(`${name}-prometheus-ingress`, serverName, namespace, labels, prometheusPolicySpec(serverName, kedaNamespace, args.prometheusClients), ns),
        ];
        return pinnedRelease(
            `${name}-prometheus`,
            PROMETHEUS_CHART,
            {
                name: serverName,
                namespace,
                createNamespace: false,
                values: prometheusValues(serverName, args.prometheusRetention ?? d.prometheusRetention, args.scrapeInterval ?? d.scrapeInterval),
            },
            { parent: this, dependsOn: [ns, ...policies, ...nodes] },
        );
    }

    /**
     * dcgm-exporter's namespace (privileged: see GPU_TELEMETRY_POD_SECURITY), ingress denied but the scraping
     * Prometheus to the exporter's port, then the release; and the dashboard as a ConfigMap Grafana's sidecar picks up.
     */
    private installGpuTelemetry(name: string, namespace: string, scraper: { namespace: string; podLabels: Record<string, string> }, nodesReady: pulumi.Resource[]): k8s.helm.v3.Release {
        const labels = appLabels("modelship-serving-addons", name);
        const ns = labelledNamespace(`${name}-gpu-telemetry-ns`, { name: namespace, level: GPU_TELEMETRY_POD_SECURITY, labels }, { parent: this });
        const policies = [
            this.networkPolicy(`${name}-gpu-telemetry-deny-ingress`, "deny-ingress", namespace, labels, denyAllIngressSpec(), ns),
            this.networkPolicy(
                `${name}-dcgm-exporter-ingress`,
                "dcgm-exporter",
                namespace,
                labels,
                { podSelector: { matchLabels: { ...DCGM_POD_LABELS } }, policyTypes: ["Ingress"], ingress: [ingressRule([podPeer(scraper)], [DCGM_EXPORTER_PORT])] },
                ns,
            ),
        ];
        new k8s.core.v1.ConfigMap(
            `${name}-dashboard`,
            {
                metadata: { name: "modelship-serving-dashboard", namespace, labels: { ...labels, grafana_dashboard: "1" } },
                data: { "modelship-serving.json": JSON.stringify(servingDashboard()) },
            },
            { parent: this, dependsOn: [ns] },
        );
        return pinnedRelease(
            `${name}-dcgm-exporter`,
            DCGM_EXPORTER_CHART,
            { name: "dcgm-exporter", namespace, createNamespace: false, values: dcgmExporterValues() },
            { parent: this, dependsOn: [ns, ...policies, ...nodesReady] },
        );
    }

    private networkPolicy(resourceName: string, policyName: string, namespace: string, labels: Record<string, string>, spec: NetworkPolicySpec, ns: k8s.core.v1.Namespace) {
        return new k8s.networking.v1.NetworkPolicy(resourceName, { metadata: { name: policyName, namespace, labels }, spec }, { parent: this, dependsOn: [ns] });
    }
}
