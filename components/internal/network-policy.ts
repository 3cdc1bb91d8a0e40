/**
 * NetworkPolicy building blocks shared by the components: who may connect (peers), checked at construction, and the
 * well-known labels of the pods the policies admit.
 */
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE_NAME_LABEL } from "./k8s-constants";
import type * as pulumi from "@pulumi/pulumi";
import { checkPlain } from "./inputs";
import { type ArgChecker, isCidr, isDnsLabel } from "./validation";
import { isLabelValue, isQualifiedName } from "./k8s-names";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type Rule = k8s.types.input.networking.v1.NetworkPolicyIngressRule;

/**
 * Pods allowed to connect. `namespace` or `namespaceLabels` picks the namespaces (at most one of the two), `podLabels`
 * the pods in them; with no namespace field, pods of the policy's own namespace. At least one field is required: an
 * empty peer would admit every pod.
 */
export interface PodPeer {
    /** Name of the namespace the pods run in (matched on its `kubernetes.io/metadata.name` label). */
    namespace?: string;
    /** Labels of the namespaces the pods run in. */
    namespaceLabels?: Record<string, string>;
    /** Labels of the pods. Default: every pod of the selected namespaces. */
    podLabels?: Record<string, string>;
}

/** Default namespace of the Prometheus that scrapes inference pods (ServingAddons' `prometheusNamespace`). */
export const DEFAULT_MONITORING_NAMESPACE = "monitoring";
/** Label every Prometheus server pod carries, from the prometheus-community chart and from the Prometheus Operator alike. */
export const PROMETHEUS_POD_LABELS = { "app.kubernetes.io/name": "prometheus" } as const;

/** Labels (`app`) the KEDA chart puts on its three Deployments' pods, and the ports they serve. */
export const KEDA_PODS = {
    operator: { labels: { app: "keda-operator" }, grpcPort: 9666 },
    metricsApiServer: { labels: { app: "keda-operator-metrics-apiserver" }, httpsPort: 6443 },
    webhooks: { labels: { app: "keda-admission-webhooks" }, httpsPort: 9443 },
} as const;

/** Selector of one namespace by name. Pure. */
export function namespaceByName(namespace: string): k8s.types.input.meta.v1.LabelSelector {
    return { matchLabels: { [NAMESPACE_NAME_LABEL]: namespace } };
}

/** The NetworkPolicy peer of a {@link PodPeer}. Pure. */
export function podPeer(peer: PodPeer): Peer {
    const out: Peer = {};
    if (peer.namespace !== undefined) out.namespaceSelector = namespaceByName(peer.namespace);
    else if (peer.namespaceLabels !== undefined) out.namespaceSelector = { matchLabels: peer.namespaceLabels };
    if (peer.podLabels !== undefined) out.podSelector = { matchLabels: peer.podLabels };
    return out;
}

/** The NetworkPolicy peer of an IPv4 CIDR. Pure. */
export function cidrPeer(cidr: pulumi.Input<string>): Peer {
    return { ipBlock: { cidr } };
}

/**
 * One ingress rule admitting `from` to TCP `ports`; `from: "anywhere"` leaves the rule's `from` out, which admits
 * every source (pods, nodes, the control plane) on those ports only. Pure.
 */
export function ingressRule(from: Peer[] | "anywhere", ports: number[]): Rule {
    const rule: Rule = { ports: ports.map((port) => ({ protocol: "TCP", port })) };
    if (from !== "anywhere") rule.from = from;
    return rule;
}

/** A Kubernetes label key: `[prefix/]name`, the prefix a DNS subdomain of at most 253 characters. Pure. */
export const isLabelKey = isQualifiedName;
export { isLabelValue };

/** Records a problem with each invalid key or value of a label map, and with an empty map (it would select everything). */
export function checkLabels(c: ArgChecker, field: string, labels: Record<string, string>): void {
    const entries = Object.entries(labels);
    c.check(entries.length > 0, field, "is empty, which selects everything: give at least one label, or leave the field out");
    for (const [key, value] of entries) {
        c.check(isLabelKey(key), field, `has "${key}", which is not a label key such as "app.kubernetes.io/name"`);
        c.check(typeof value === "string" && isLabelValue(value), `${field}.${key}`, `"${value}" is not a label value (at most 63 letters, digits, "-", "_", "." starting and ending with a letter or digit)`);
    }
}

/** Records the problems of one {@link PodPeer} under `field`. */
export function checkPodPeer(c: ArgChecker, field: string, peer: PodPeer): void {
    const { namespace, namespaceLabels, podLabels } = peer;
    c.check(namespace !== undefined || namespaceLabels !== undefined || podLabels !== undefined, field, "is empty, which would admit every pod: give namespace, namespaceLabels or podLabels");
    c.check(namespace === undefined || namespaceLabels === undefined, field, "has both namespace and namespaceLabels: keep one (a namespace name is matched on its kubernetes.io/metadata.name label)");
    if (namespace !== undefined) c.check(isDnsLabel(namespace), `${field}.namespace`, `"${namespace}" is not a valid namespace name`);
    if (namespaceLabels !== undefined) checkLabels(c, `${field}.namespaceLabels`, namespaceLabels);
    if (podLabels !== undefined) checkLabels(c, `${field}.podLabels`, podLabels);
}

/** What is wrong with a NetworkPolicy CIDR, or undefined. Pure. */
export function cidrProblem(cidr: string): string | undefined {
    return typeof cidr === "string" && isCidr(cidr) ? undefined : `"${cidr}" is not an IPv4 CIDR such as "10.0.0.0/16"`;
}

/** Records a problem with each plain entry of `cidrs` that is not an IPv4 CIDR (Outputs are checked when they resolve). */
export function checkCidrs(c: ArgChecker, field: string, cidrs: pulumi.Input<string>[]): void {
    cidrs.forEach((cidr, i) => checkPlain(c, `${field}[${i}]`, cidr, cidrProblem));
}
