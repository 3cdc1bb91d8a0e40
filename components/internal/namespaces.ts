/**
 * Namespaces the components create, each labelled for Pod Security Admission
 * (https://kubernetes.io/docs/concepts/security/pod-security-admission/).
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { PSA_ENFORCE_LABEL } from "./k8s-constants";

/** A Pod Security Standard level, from least to most strict. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** Pod Security Admission labels that warn the user and record an audit annotation for a pod breaking the level. */
export const PSA_WARN_LABEL = "pod-security.kubernetes.io/warn";
export const PSA_AUDIT_LABEL = "pod-security.kubernetes.io/audit";

/**
 * The Pod Security Admission labels for one level: enforce, warn and audit alike. No `-version` labels: the level
 * follows the cluster's own version of the standard, so an upgrade tightens checks rather than freezing old ones. Pure.
 */
export function podSecurityLabels(level: PodSecurityLevel): Record<string, string> {
    return { [PSA_ENFORCE_LABEL]: level, [PSA_WARN_LABEL]: level, [PSA_AUDIT_LABEL]: level };
}

/** A namespace created with the Pod Security Admission labels of `level` (plus `labels`). */
export function labelledNamespace(
    resourceName: string,
    ns: { name: string; level: PodSecurityLevel; labels?: Record<string, string> },
    opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Namespace {
    return new k8s.core.v1.Namespace(resourceName, { metadata: { name: ns.name, labels: { ...(ns.labels ?? {}), ...podSecurityLabels(ns.level) } } }, opts);
}
