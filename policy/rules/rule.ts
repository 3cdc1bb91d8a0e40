/**
 * What every modelship rule shares: its remediation text, its CIS Amazon EKS Benchmark id where one exists, and the
 * CrossGuard metadata built from them. Pure data and small readers of resource props; nothing here starts a server.
 */
import type {
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";

/** The benchmark the `cis` ids refer to (the numbering of CIS Amazon EKS Benchmark v1.0.1). */
export const CIS_EKS_BENCHMARK = { name: "CIS Amazon EKS Benchmark", version: "1.0.1" } as const;

/** What a rule declares besides its check. */
export interface RuleMeta {
    /** Unique id, shown as `[level] name: message`. */
    name: string;
    /** One line: what the rule requires. */
    description: string;
    /** The fix, in words a user can act on; also appended to every violation message. */
    remediation: string;
    /** CIS Amazon EKS Benchmark v1.0.1 recommendation id(s), when the rule implements one. */
    cis?: string;
    /** Level when the policy config says nothing: "mandatory" for the security-critical rules. */
    enforcementLevel: EnforcementLevel;
    severity: Severity;
}

/** A modelship rule: a CrossGuard policy plus the metadata it was built from. */
export type ModelshipResourceRule = ResourceValidationPolicy & { meta: RuleMeta; resourceTypes: readonly string[] };
export type ModelshipStackRule = StackValidationPolicy & { meta: RuleMeta };
export type ModelshipRule = ModelshipResourceRule | ModelshipStackRule;

function policyFields(meta: RuleMeta) {
    const framework: PolicyComplianceFramework | undefined = meta.cis
        ? { name: CIS_EKS_BENCHMARK.name, version: CIS_EKS_BENCHMARK.version, reference: meta.cis, specification: meta.description }
        : undefined;
    return {
        name: meta.name,
        description: meta.cis ? `${meta.description} (CIS EKS ${meta.cis})` : meta.description,
        enforcementLevel: meta.enforcementLevel,
        severity: meta.severity,
        remediationSteps: meta.remediation,
        tags: ["modelship", ...(meta.cis ? ["cis-eks"] : [])],
        ...(framework ? { framework } : {}),
    };
}

/** Reports `problem` with the rule's fix appended, so that every message names what is wrong and how to fix it. */
export function reporter(meta: RuleMeta, report: ReportViolation): (problem: string, urn?: string) => void {
    return (problem, urn) => report(`${problem}. Fix: ${meta.remediation}`, urn);
}

/**
 * A resource rule over the given type tokens: `check` runs for those types only and reports problems (the fix is
 * appended). Other types are skipped, as a typed `validateResourceOfType` would.
 */
export function resourceRule(
    meta: RuleMeta,
    resourceTypes: readonly string[],
    check: (props: Record<string, unknown>, args: ResourceValidationArgs, report: (problem: string) => void) => void,
): ModelshipResourceRule {
    return {
        ...policyFields(meta),
        meta,
        resourceTypes,
        validateResource: (args, report) => {
            if (!resourceTypes.includes(args.type)) return;
            check(args.props, args, reporter(meta, report));
        },
    };
}

/** A stack rule: `check` sees every resource of the stack (their outputs) and reports problems against a URN. */
export function stackRule(meta: RuleMeta, check: (args: StackValidationArgs, report: (problem: string, urn?: string) => void) => void): ModelshipStackRule {
    return {
        ...policyFields(meta),
        meta,
        validateStack: (args, report) => check(args, reporter(meta, report)),
    };
}

/** A plain object, or undefined. */
export function obj(v: unknown): Record<string, unknown> | undefined {
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** An array (of objects, by default), or []. */
export function arr<T = Record<string, unknown>>(v: unknown): T[] {
    return Array.isArray(v) ? (v as T[]) : [];
}

/** A string, or undefined. */
export function str(v: unknown): string | undefined {
    return typeof v === "string" ? v : undefined;
}

/** A boolean as the AWS provider may carry it (`true` or `"true"`), or undefined. */
export function bool(v: unknown): boolean | undefined {
    if (v === true || v === "true") return true;
    if (v === false || v === "false") return false;
    return undefined;
}
