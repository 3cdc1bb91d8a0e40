/**
 * GPU telemetry for `ServingAddons`: NVIDIA's dcgm-exporter on every GPU node, scraped by the add-ons' Prometheus,
 * alert rules for GPU spend and serving saturation, and a Grafana dashboard of the serving and DCGM metrics. Pure
 * builders: values, rules and the dashboard are plain objects, tested directly.
 *
 * Facts, checked 2026-11-26 against NVIDIA/dcgm-exporter (deployment/Chart.yaml 4.8.2, tag 4.5.3-4.8.2, 2026-05-12;
 * deployment/values.yaml; etc/default-counters.csv): the chart mounts the kubelet's pod-resources directory from the
 * host (hostPath) to attribute GPUs to pods, and its container runs as root with SYS_ADMIN for the profiling
 * counters (DCGM_FI_PROF_*). `DCGM_EXPORTER_KUBERNETES_GPU_ID_TYPE=device-name` maps GPUs to pods by device name,
 * which the NVIDIA device plugin reports.
 */
import { GPU_ACCELERATOR_LABEL, GPU_ACCELERATOR_VALUE, GPU_TAINT_EFFECT, GPU_TAINT_KEY } from "./gpu-constants";

export const DCGM_EXPORTER_CHART = { chart: "dcgm-exporter", repo: "https://nvidia.github.io/dcgm-exporter/helm-charts", version: "4.8.2" } as const;
export const DCGM_EXPORTER_PORT = 9400;
export const GPU_TELEMETRY_NAMESPACE = "gpu-telemetry";
/**
 * The Pod Security level the exporter needs, enforced on its namespace alone: hostPath (the kubelet's pod-resources
 * socket, for pod attribution) and the SYS_ADMIN capability (profiling counters such as engine activity) are beyond
 * "baseline". Warn and audit stay "restricted", so anything else landing there is reported.
 */
export const GPU_TELEMETRY_POD_SECURITY = "privileged";
export const DCGM_POD_LABELS = { "app.kubernetes.io/name": "dcgm-exporter" } as const;

/** Alert thresholds, in one place. */
export const GPU_ALERT_DEFAULTS = {
    /** Engine activity (0-1) below which a GPU counts as idle. */
    idleEngineActivity: 0.05,
    /** How long a GPU must be idle before the alert fires. */
    idleFor: "30m",
    /** Queued + running requests per pod above which serving counts as saturated (2x the default autoscaling target). */
    saturationPerPod: 8,
    saturationFor: "10m",
} as const;

/** Helm values of dcgm-exporter: GPU nodes only (tolerating their taint), device-name pod attribution, scraped by annotation. Pure. */
export function dcgmExporterValues(): Record<string, unknown> {
    return {
        tolerations: [{ key: GPU_TAINT_KEY, operator: "Exists", effect: GPU_TAINT_EFFECT }],
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [{ matchExpressions: [{ key: GPU_ACCELERATOR_LABEL, operator: "In", values: [GPU_ACCELERATOR_VALUE] }] }],
                },
            },
        },
        extraEnv: [{ name: "DCGM_EXPORTER_KUBERNETES_GPU_ID_TYPE", value: "device-name" }],
        // No Prometheus Operator here: the add-ons' Prometheus scrapes annotated pods.
        serviceMonitor: { enabled: false },
        podAnnotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(DCGM_EXPORTER_PORT), "prometheus.io/path": "/metrics" },
        podLabels: { ...DCGM_POD_LABELS },
    };
}

/** One Prometheus alerting rule. */
export interface AlertRule {
    alert: string;
    expr: string;
    for: string;
    labels: Record<string, string>;
    annotations: { summary: string; description: string };
}

/**
 * The alert rules shipped with the add-ons: GPU idle (engine activity near zero on a GPU that exists, for 30 min: a
 * GPU node that should have been given back) and serving saturation (queued + running requests per pod above twice
 * the scaling target for 10 min: scaling has no room left, or nodes are not coming). Autoscaling itself stays on
 * queue depth: GPU utilisation saturates once batching is on. Pure.
 */
export function gpuAlertRules(): { groups: { name: string; rules: AlertRule[] }[] } {
    const a = GPU_ALERT_DEFAULTS;
    return {
        groups: [
            {
                name: "modelship-gpu",
                rules: [
                    {
                        alert: "GpuIdle",
                        expr: `avg by (Hostname, gpu, modelName) (DCGM_FI_PROF_GR_ENGINE_ACTIVE) < ${a.idleEngineActivity}`,
                        for: a.idleFor,
                        labels: { severity: "warning" },
                        annotations: {
                            summary: "GPU {{ $labels.gpu }} on {{ $labels.Hostname }} idle for 30 minutes",
                            description: "Engine activity under 5% while the GPU node exists: it costs money and serves nothing. Check scale-down (cluster-autoscaler scaleDownDelay, Karpenter consolidation) and pods pinning the node.",
                        },
                    },
                    {
                        alert: "ServingSaturated",
                        expr: `sum by (namespace) (modelship_inference_requests_in_flight) / count by (namespace) (modelship_inference_requests_in_flight) > ${a.saturationPerPod}`,
                        for: a.saturationFor,
                        labels: { severity: "critical" },
                        annotations: {
                            summary: "Inference in {{ $labels.namespace }} saturated for 10 minutes",
                            description: "Requests in flight per pod stay above twice the autoscaling target: replicas are at their maximum, or GPU capacity is not arriving (node group maxSize, NodePool limits, quota). Raise replicas.max or the GPU pool's limit.",
                        },
                    },
                ],
            },
        ],
    };
}

/** One Grafana time-series panel. */
function panel(id: number, title: string, expr: string, unit: string, x: number, y: number): Record<string, unknown> {
    return {
        id,
        type: "timeseries",
        title,
        datasource: { type: "prometheus", uid: "${datasource}" },
        gridPos: { h: 8, w: 12, x, y },
        fieldConfig: { defaults: { unit }, overrides: [] },
        targets: [{ refId: "A", expr, legendFormat: "__auto" }],
    };
}

/** The Grafana dashboard of serving and GPU metrics (`dashboards/modelship-serving.json`). Pure. */
export function servingDashboard(): Record<string, unknown> {
    const panels = [
        panel(1, "Requests in flight per pod", "sum by (namespace, pod) (modelship_inference_requests_in_flight)", "short", 0, 0),
        panel(2, "Request rate by status", "sum by (namespace, status) (rate(modelship_http_requests_total[5m]))", "reqps", 12, 0),
        panel(3, "Request latency p99", "histogram_quantile(0.99, sum by (le, namespace) (rate(modelship_http_request_duration_seconds_bucket[5m])))", "s", 0, 8),
        panel(4, "Queue wait p99", "histogram_quantile(0.99, sum by (le, namespace) (rate(modelship_inference_queue_wait_seconds_bucket[5m])))", "s", 12, 8),
        panel(5, "Rejected requests", "sum by (namespace, reason) (rate(modelship_inference_rejected_total[5m]))", "reqps", 0, 16),
        panel(6, "Batch size (mean)", "sum by (namespace) (rate(modelship_inference_batch_size_sum[5m])) / sum by (namespace) (rate(modelship_inference_batch_size_count[5m]))", "short", 12, 16),
        panel(7, "GPU engine activity", "avg by (Hostname, gpu) (DCGM_FI_PROF_GR_ENGINE_ACTIVE)", "percentunit", 0, 24),
        panel(8, "GPU utilisation", "avg by (Hostname, gpu) (DCGM_FI_DEV_GPU_UTIL)", "percent", 12, 24),
        panel(9, "GPU memory used", "sum by (Hostname, gpu) (DCGM_FI_DEV_FB_USED)", "decmbytes", 0, 32),
        panel(10, "GPU power", "sum by (Hostname, gpu) (DCGM_FI_DEV_POWER_USAGE)", "watt", 12, 32),
        // The exporter's own pod labels come from the scrape; the GPUs' pods arrive renamed exported_* (honor_labels: false).
        panel(11, "GPUs by pod", "count by (exported_namespace, exported_pod) (DCGM_FI_DEV_GPU_UTIL{exported_pod!=\"\"})", "short", 0, 40),
        panel(12, "Idle GPUs (engine activity < 5%)", `count(avg by (Hostname, gpu) (DCGM_FI_PROF_GR_ENGINE_ACTIVE) < ${GPU_ALERT_DEFAULTS.idleEngineActivity})`, "short", 12, 40),
    ];
    return {
        title: "modelship serving and GPUs",
        uid: "modelship-serving",
        schemaVersion: 39,
        version: 1,
        editable: true,
        time: { from: "now-6h", to: "now" },
        refresh: "30s",
        tags: ["modelship", "inference", "gpu", "dcgm"],
        templating: { list: [{ name: "datasource", type: "datasource", query: "prometheus", label: "Prometheus" }] },
        panels,
    };
}
