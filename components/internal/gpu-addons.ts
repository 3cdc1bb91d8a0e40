/**
 * The third-party software a `GpuCluster` installs, pinned, and the Helm values it installs it with, written as typed
 * objects. Pure: no Pulumi calls, so each value can be asserted on directly.
 */
import {
    GPU_ACCELERATOR_LABEL,
    GPU_ACCELERATOR_VALUE,
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    NODE_OS_LABEL,
    NODE_ROLE_LABEL,
    NODE_ROLE_SYSTEM,
} from "./gpu-constants";

export interface PinnedChart {
    chart: string;
    repo: string;
    version: string;
}

/** Helm charts, each pinned to a version so that a `pulumi up` next month installs what was reviewed today. */
export const GPU_CLUSTER_CHARTS = {
    // Each version checked to exist on 2026-11-26 (the repository is published from these tags by chart-releaser):
    // 0.18.0: tag v0.18.0 of github.com/NVIDIA/k8s-device-plugin, deployments/helm/nvidia-device-plugin/Chart.yaml version "0.18.0" (2025-10-21).
    // 9.50.0: tag cluster-autoscaler-chart-9.50.0 of github.com/kubernetes/autoscaler, charts/cluster-autoscaler/Chart.yaml (2025-08-11).
    // 3.13.0: tag metrics-server-helm-chart-3.13.0 of github.com/kubernetes-sigs/metrics-server, charts/metrics-server/Chart.yaml (2025-07-22).
    nvidiaDevicePlugin: { chart: "nvidia-device-plugin", repo: "https://nvidia.github.io/k8s-device-plugin", version: "0.18.0" },
    clusterAutoscaler: { chart: "cluster-autoscaler", repo: "https://kubernetes.github.io/autoscaler", version: "9.50.0" },
    metricsServer: { chart: "metrics-server", repo: "https://kubernetes-sigs.github.io/metrics-server/", version: "3.13.0" },
} as const satisfies Record<string, PinnedChart>;

/** Where add-ons run: the system node group's label. */
export function systemNodeSelector(): Record<string, string> {
    return { [NODE_ROLE_LABEL]: NODE_ROLE_SYSTEM };
}

/**
 * Values for the NVIDIA device plugin. It must tolerate the GPU taint or its DaemonSet schedules nowhere. The chart's
 * default affinity (node-feature-discovery labels or `nvidia.com/gpu.present`) is replaced by our accelerator label so
 * that Bottlerocket NVIDIA nodes, which run their own device plugin, can be left out.
 */
export function devicePluginValues(): Record<string, unknown> {
    return {
        tolerations: [
            { key: GPU_TAINT_KEY, operator: "Exists", effect: GPU_TAINT_EFFECT },
            { key: "CriticalAddonsOnly", operator: "Exists" },
        ],
        affinity: {
            nodeAffinity: {
                requiredDuringSchedulingIgnoredDuringExecution: {
                    nodeSelectorTerms: [
                        {
                            matchExpressions: [
                                { key: GPU_ACCELERATOR_LABEL, operator: "In", values: [GPU_ACCELERATOR_VALUE] },
                                { key: NODE_OS_LABEL, operator: "NotIn", values: ["bottlerocket"] },
                            ],
                        },
                    ],
                },
            },
        },
        gfd: { enabled: false },
        nfd: { enabled: false },
    };
}

/** Values for metrics-server (HPA reads pod CPU and memory from it): two replicas on the system nodes. */
export function metricsServerValues(): Record<string, unknown> {
    return {
        replicas: 2,
        nodeSelector: systemNodeSelector(),
        podDisruptionBudget: { enabled: true, minAvailable: 1 },
    };
}
