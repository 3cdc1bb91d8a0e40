/**
 * The name formats the Kubernetes API server enforces (k8s.io/apimachinery/pkg/util/validation), as pure checks, so
 * that a name the API server would refuse fails at construction instead of mid-`pulumi up`.
 */

/** Longest DNS-1123 / DNS-1035 label, and longest label value or label key name part. */
export const K8S_LABEL_MAX = 63;
/** Longest DNS-1123 subdomain (most object names, a label key's prefix). */
export const K8S_SUBDOMAIN_MAX = 253;
/** Longest Helm release name (Helm 3 refuses longer ones: the name ends up in labels with suffixes). */
export const HELM_RELEASE_NAME_MAX = 53;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** A DNS-1123 label (namespaces, most names): lowercase alphanumerics and "-", alphanumeric at both ends, <= 63. Pure. */
export function isDns1123Label(value: string, maxLength = K8S_LABEL_MAX): boolean {
    return typeof value === "string" && value.length <= Math.min(maxLength, K8S_LABEL_MAX) && DNS1123_LABEL.test(value);
}

/** A DNS-1035 label (Service names): a DNS-1123 label that starts with a letter. Pure. */
export function isDns1035Label(value: string, maxLength = K8S_LABEL_MAX): boolean {
    return typeof value === "string" && value.length <= Math.min(maxLength, K8S_LABEL_MAX) && DNS1035_LABEL.test(value);
}

/** A DNS-1123 subdomain (Deployments, ServiceAccounts, Secrets): dot-separated DNS-1123 labels, <= 253 in all. Pure. */
export function isDns1123Subdomain(value: string, maxLength = K8S_SUBDOMAIN_MAX): boolean {
    return typeof value === "string" && value.length > 0 && value.length <= Math.min(maxLength, K8S_SUBDOMAIN_MAX) && value.split(".").every((part) => DNS1123_LABEL.test(part));
}

/** A qualified name (a label or annotation key, a taint key): `[prefix/]name`, prefix a DNS-1123 subdomain, name <= 63. Pure. */
export function isQualifiedName(value: string): boolean {
    if (typeof value !== "string") return false;
    const parts = value.split("/");
    if (parts.length > 2) return false;
    const name = parts[parts.length - 1];
    if (parts.length === 2 && !isDns1123Subdomain(parts[0])) return false;
    return name.length <= K8S_LABEL_MAX && QUALIFIED_NAME_PART.test(name);
}

/** A label value: empty, or <= 63 alphanumerics, "-", "_", "." with an alphanumeric at both ends. Pure. */
export function isLabelValue(value: string): boolean {
    return typeof value === "string" && (value === "" || (value.length <= K8S_LABEL_MAX && QUALIFIED_NAME_PART.test(value)));
}

/** A Helm release name: a DNS-1123 label of at most 53 characters. Pure. */
export function isHelmReleaseName(value: string): boolean {
    return isDns1123Label(value, HELM_RELEASE_NAME_MAX);
}

/** What a DNS-1123 label must look like, for error messages. */
export const DNS1123_LABEL_RULE = 'lowercase letters, digits and "-", starting and ending with a letter or digit';
/** What a DNS-1035 label must look like, for error messages. */
export const DNS1035_LABEL_RULE = 'lowercase letters, digits and "-", starting with a letter and ending with a letter or digit';
