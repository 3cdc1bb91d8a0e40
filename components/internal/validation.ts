/**
 * Construction-time validation shared by the components. Every error names the component, the instance, the field
 * and the fix, so that a bad argument fails at `new ...()` and not deep inside a provider during `pulumi up`.
 */

/** Thrown for an invalid component argument. */
export class InvalidArgumentError extends Error {
    constructor(
        readonly component: string,
        readonly resourceName: string,
        readonly field: string,
        problem: string,
    ) {
        super(`${component} "${resourceName}": ${field} ${problem}`);
        this.name = "InvalidArgumentError";
    }
}

/** Collects argument errors for one component instance and throws them together. */
export class ArgChecker {
    private readonly problems: InvalidArgumentError[] = [];

    constructor(
        private readonly component: string,
        private readonly resourceName: string,
    ) {}

    /** Records a problem with `field` unless `ok`. `problem` reads after the field name and says the fix. */
    check(ok: boolean, field: string, problem: string): this {
        if (!ok) this.problems.push(new InvalidArgumentError(this.component, this.resourceName, field, problem));
        return this;
    }

    /** Throws the first problem (with the others listed after it), if any. */
    done(): void {
        if (this.problems.length === 0) return;
        if (this.problems.length === 1) throw this.problems[0];
        const first = this.problems[0];
        const rest = this.problems.slice(1).map((p) => `  - ${p.message}`);
        first.message = [first.message, "Also:", ...rest].join("\n");
        throw first;
    }
}

/** True when `value` is a whole number within [min, max]. */
export function isIntInRange(value: number, min: number, max = Number.MAX_SAFE_INTEGER): boolean {
    return Number.isInteger(value) && value >= min && value <= max;
}

const AWS_ACCOUNT_ID = /^\d{12}$/;
const IAM_PRINCIPAL_ARN = /^arn:aws(-[a-z]+)*:(iam|sts)::\d{12}:(root|role\/.+|user\/.+|assumed-role\/.+)$/;

/** An IAM principal ARN (account root, role or user) or a bare 12-digit account ID. */
export function isPrincipal(value: string): boolean {
    return AWS_ACCOUNT_ID.test(value) || IAM_PRINCIPAL_ARN.test(value);
}

/** Turns a bare account ID into its root principal ARN; leaves ARNs as they are. */
export function principalArn(value: string): string {
    return AWS_ACCOUNT_ID.test(value) ? `arn:aws:iam::${value}:root` : value;
}

const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$/;

/** An AWS region code such as `eu-central-1`. */
export function isRegion(value: string): boolean {
    return AWS_REGION.test(value);
}

/** A DNS-1123 label, the rule for Kubernetes namespaces and most object names. */
export function isDnsLabel(value: string, maxLength = 63): boolean {
    return value.length <= maxLength && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value);
}

const CIDR_V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** An IPv4 CIDR block such as `203.0.113.0/24`. */
export function isCidr(value: string): boolean {
    const m = CIDR_V4.exec(value);
    if (!m) return false;
    const octets = m.slice(1, 5).map(Number);
    return octets.every((o) => o <= 255) && Number(m[5]) <= 32;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * What is wrong with a Kubernetes label key (a qualified name: an optional DNS-subdomain prefix of at most 253
 * characters and `/`, then a name of 1-63 letters, digits, `-`, `_`, `.`, alphanumeric at both ends), or undefined.
 * Said after the key. Pure.
 */
export function labelKeyProblem(key: string): string | undefined {
    const parts = key.split("/");
    if (parts.length > 2) return "has more than one \"/\": a label key is an optional DNS prefix, \"/\" and a name (e.g. \"example.com/team\")";
    const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
    if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)))
        return `has the prefix "${prefix}", which is not a DNS subdomain of at most 253 characters (lowercase letters, digits, "-", ".")`;
    if (name.length === 0 || name.length > 63) return `has a name part of ${name.length} characters after the prefix: it must be 1-63`;
    if (!LABEL_NAME.test(name)) return `has the name part "${name}": use letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
    return undefined;
}

/**
 * What is wrong with a node label value, or undefined. Kubernetes allows an empty value, but the EKS node group API
 * takes 1-63 characters, so an empty one fails only at `pulumi up`. Pure.
 */
export function nodeLabelValueProblem(value: string): string | undefined {
    if (typeof value !== "string" || value.length === 0) return "is empty: EKS node group labels need a value of 1-63 characters";
    if (value.length > 63) return `has ${value.length} characters: a label value has at most 63`;
    if (!LABEL_NAME.test(value)) return `is not a label value: use letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
    return undefined;
}
