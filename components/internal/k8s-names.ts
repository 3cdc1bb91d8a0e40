/**
 * The Kubernetes API server's name rules (k8s.io/apimachinery/pkg/util/validation), as pure predicates that return
 * the reason a value is refused, or undefined when it is valid. Shared by the components' validation and by the mock
 * runtime's contract checks (cli/contracts.ts).
 */

/** `pulumi-kubernetes` autonames an object without `metadata.name`: the logical name, `-`, and 8 random characters. */
export const K8S_AUTONAME_SUFFIX_LENGTH = 9;

/** Helm refuses release names longer than 53 characters (the release name goes into 63-character labels). */
export const HELM_RELEASE_NAME_MAX = 53;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** DNS-1123 label (Namespaces, most label-named objects): up to 63 of `[a-z0-9-]`, alphanumeric at both ends. Pure. */
export function dns1123LabelProblem(value: string): string | undefined {
    if (value.length > 63) return `is ${value.length} characters, over the DNS-1123 label limit of 63`;
    if (!DNS1123_LABEL.test(value)) return "is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or digit)";
    return undefined;
}

/** DNS-1123 subdomain (most object names): up to 253 characters, dot-separated DNS-1123 labels. Pure. */
export function dns1123SubdomainProblem(value: string): string | undefined {
    if (value.length > 253) return `is ${value.length} characters, over the DNS-1123 subdomain limit of 253`;
    if (!DNS1123_SUBDOMAIN.test(value)) return "is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.', starting and ending with a letter or digit)";
    return undefined;
}

/** DNS-1035 label (Service names): a DNS-1123 label that starts with a letter. Pure. */
export function dns1035LabelProblem(value: string): string | undefined {
    if (value.length > 63) return `is ${value.length} characters, over the DNS-1035 label limit of 63`;
    if (!DNS1035_LABEL.test(value)) return "is not a DNS-1035 label (lowercase letters, digits and '-', starting with a letter, ending with a letter or digit)";
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
    if (!QUALIFIED_NAME.test(name)) return "has a name part that is not alphanumeric with '-', '_' or '.' inside";
    return undefined;
}

/** Label value: empty, or up to 63 characters, alphanumeric at both ends with `-`, `_` or `.` inside. Pure. */
export function labelValueProblem(value: string): string | undefined {
    if (value.length > 63) return `is ${value.length} characters, over the label value limit of 63`;
    if (value !== "" && !QUALIFIED_NAME.test(value)) return "is not a label value (alphanumeric at both ends, '-', '_' or '.' inside)";
    return undefined;
}

/** Which rule an object's `metadata.name` must pass: Services DNS-1035, Namespaces DNS-1123 label, others subdomain. Pure. */
export function objectNameProblem(kind: string, name: string): string | undefined {
    if (kind === "Service") return dns1035LabelProblem(name);
    if (kind === "Namespace") return dns1123LabelProblem(name);
    return dns1123SubdomainProblem(name);
}
