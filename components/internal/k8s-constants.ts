/** Kubernetes names and labels that carry meaning, defined once. */

export { GPU_RESOURCE } from "./gpu-constants";

/** Tells cluster-autoscaler a pod with local (emptyDir) storage may be evicted when it scales a node down. */
export const SAFE_TO_EVICT_ANNOTATION = "cluster-autoscaler.kubernetes.io/safe-to-evict";

/** IRSA: the annotation the EKS pod identity webhook reads to inject a role's web identity token. */
export const IRSA_ROLE_ANNOTATION = "eks.amazonaws.com/role-arn";

/** Pod Security Admission label that makes a namespace reject pods breaking the "restricted" standard. */
export const PSA_ENFORCE_LABEL = "pod-security.kubernetes.io/enforce";

/** Well-known label every namespace carries with its own name (Kubernetes >= 1.22), used to select kube-system. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** Label CoreDNS (and kube-dns, and k3s's CoreDNS) pods carry. */
export const CLUSTER_DNS_LABEL = { "k8s-app": "kube-dns" } as const;

/** Standard node labels topology spread constraints key on. */
export const ZONE_TOPOLOGY_KEY = "topology.kubernetes.io/zone";
export const HOST_TOPOLOGY_KEY = "kubernetes.io/hostname";

/** Standard app labels (https://kubernetes.io/docs/concepts/overview/working-with-objects/common-labels/). */
export function appLabels(component: string, instance: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/part-of": "modelship",
    };
}

/** The subset of {@link appLabels} stable enough to select pods by (a selector is immutable once created). */
export function selectorLabels(component: string, instance: string): Record<string, string> {
    return { "app.kubernetes.io/name": component, "app.kubernetes.io/instance": instance };
}
