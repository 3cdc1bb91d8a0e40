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

// ---- the same rules as reasons, for the mock runtime's contract checks (cli/contracts.ts) ----------------------------

/** `pulumi-kubernetes` autonames an object without `metadata.name`: the logical name, `-`, and 8 random characters. */
export const K8S_AUTONAME_SUFFIX_LENGTH = 9;

const PROBLEM_DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PROBLEM_DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const PROBLEM_DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const PROBLEM_QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** DNS-1123 label (Namespaces, most label-named objects): up to 63 of `[a-z0-9-]`, alphanumeric at both ends. Pure. */
export function dns1123LabelProblem(value: string): string | undefined {
    if (value.length > 63) return `is ${value.length} characters, over the DNS-1123 label limit of 63`;
    if (!PROBLEM_DNS1123_LABEL.test(value)) return "is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)";
    return undefined;
}

/** DNS-1123 subdomain (most object names): up to 253 characters, dot-separated DNS-1123 labels. Pure. */
export function dns1123SubdomainProblem(value: string): string | undefined {
    if (value.length > 253) return `is ${value.length} characters, over the DNS-1123 subdomain limit of 253`;
    if (!PROBLEM_DNS1123_SUBDOMAIN.test(value)) return "is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)";
    return undefined;
}

/** DNS-1035 label (Service names): a DNS-1123 label that starts with a letter. Pure. */
export function dns1035LabelProblem(value: string): string | undefined {
    if (value.length > 63) return `is ${value.length} characters, over the DNS-1035 label limit of 63`;
    if (!PROBLEM_DNS1035_LABEL.test(value)) return "is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, ending with a letter or digit)";
    return undefined;
}

/** Label or annotation key: an optional DNS-1123 subdomain prefix and `/`, then a name of up to 63 characters. Pure. */
export function qualifiedNameProblem(key: string): string | undefined {
    const parts = key.split("/");
    if (parts.length > 2) return "has more than one '/'";
    const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
    if (prefix !== undefined) {
        const p = dns1123SubdomainProblem(prefix);
        if (p) return `has a prefix that ${p}`;
    }
    if (name.length === 0) return "has an empty name part";
    if (name.length > 63) return `has a name part of ${name.length} characters, over the limit of 63`;
    if (!PROBLEM_QUALIFIED_NAME.test(name)) return "has a name part that is not alphanumeric with '-', '_' or '.' inside";
    return undefined;
}

/** Label value: empty, or up to 63 characters, alphanumeric at both ends with `-`, `_` or `.` inside. Pure. */
export function labelValueProblem(value: string): string | undefined {
    if (value.length > 63) return `is ${value.length} characters, over the label value limit of 63`;
    if (value !== "" && !PROBLEM_QUALIFIED_NAME.test(value)) return "is not a label value (alphanumeric at both ends, '-', '_' or '.' inside)";
    return undefined;
}

/** Which rule an object's `metadata.name` must pass: Services DNS-1035, Namespaces DNS-1123 label, others subdomain. Pure. */
export function objectNameProblem(kind: string, name: string): string | undefined {
    if (kind === "Service") return dns1035LabelProblem(name);
    if (kind === "Namespace") return dns1123LabelProblem(name);
    return dns1123SubdomainProblem(name);
}
