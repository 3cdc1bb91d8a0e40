/**
 * Names that carry meaning for GPU scheduling, defined once. `GpuCluster` puts them on nodes; `InferenceService` and
 * anything else that runs GPU pods select and tolerate them. Pure: no Pulumi calls.
 */

/** The extended resource the NVIDIA device plugin advertises, and the key of the taint every GPU node carries. */
export const GPU_RESOURCE = "nvidia.com/gpu";
export const GPU_TAINT_KEY = "nvidia.com/gpu";
export const GPU_TAINT_VALUE = "true";
/** The taint effect as Kubernetes writes it (pod tolerations)... */
export const GPU_TAINT_EFFECT = "NoSchedule";
/** ...and as the EKS node group API writes it. */
export const GPU_TAINT_EFFECT_EKS = "NO_SCHEDULE";

/** Label every GPU node carries; GPU pods select on it. */
export const GPU_ACCELERATOR_LABEL = "modelship.dev/accelerator";
export const GPU_ACCELERATOR_VALUE = "nvidia";
/** Label naming the GPU model (`nvidia-l4`, `nvidia-a10g`...), for pods that need a specific card. */
export const GPU_MODEL_LABEL = "modelship.dev/gpu-model";
/** Label naming the modelship node group a node belongs to. */
export const NODE_GROUP_LABEL = "modelship.dev/node-group";
/** Label naming the node's OS family (`al2023`, `bottlerocket`); Bottlerocket ships its own device plugin. */
export const NODE_OS_LABEL = "modelship.dev/os";
/** Label of the CPU nodes that run cluster add-ons. */
export const NODE_ROLE_LABEL = "modelship.dev/node-role";
export const NODE_ROLE_SYSTEM = "system";
export const NODE_ROLE_GPU = "gpu";
/** The label the NVIDIA device plugin chart's default affinity looks for; set so that the default would match too. */
export const NVIDIA_GPU_PRESENT_LABEL = "nvidia.com/gpu.present";
/**
 * The label cluster-autoscaler's AWS provider reads to know a node has GPUs: without it, it keeps adding nodes while a
 * new node's device plugin has not yet advertised `nvidia.com/gpu`.
 */
export const AWS_GPU_LABEL = "k8s.amazonaws.com/accelerator";

/** Label prefixes users may not set on a GPU group: modelship owns them. */
export const RESERVED_LABEL_PREFIXES = ["modelship.dev/", "nvidia.com/", "eks.amazonaws.com/", "kubernetes.io/", "k8s.io/"];

/** A toleration as a pod spec writes it. */
export interface GpuToleration {
    key: string;
    operator: "Exists" | "Equal";
    value?: string;
    effect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
}

/** What a pod needs to land on a GPU node of a `GpuCluster`: a nodeSelector and the GPU taint's toleration. */
export interface GpuScheduling {
    nodeSelector: Record<string, string>;
    tolerations: GpuToleration[];
}

/** The scheduling constraints for GPU pods. A fresh object each call so that callers may extend it safely. */
export function gpuScheduling(): GpuScheduling {
    return {
        nodeSelector: { [GPU_ACCELERATOR_LABEL]: GPU_ACCELERATOR_VALUE },
        tolerations: [{ key: GPU_TAINT_KEY, operator: "Exists", effect: GPU_TAINT_EFFECT }],
    };
}
