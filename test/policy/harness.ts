/**
 * Calls single policies the way the engine does (props behind @pulumi/policy's unknown-checking proxy), never
 * constructing a PolicyPack (its constructor starts the analyzer's gRPC server).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { validateResourceWith, validateStackWith, type PolicyPackConfig, type PolicyTarget } from "../../policy";

import * as proxy from "@pulumi/policy/proxy";

/** The engine's sentinels for values not known during preview (internal to @pulumi/policy, hence untyped). */
export const unknownStringValue: string = (proxy as any).unknownStringValue;
export const unknownArrayValue: string = (proxy as any).unknownArrayValue;

let seq = 0;
/** A resource of `type` with these inputs (and outputs, for stack rules). */
export function res(type: string, props: Record<string, unknown>, extra: Partial<PolicyTarget> = {}): PolicyTarget {
    const name = extra.name ?? `r${++seq}`;
    return { type, name, urn: `urn:pulumi:test::p::${type}::${name}`, props, ...extra };
}

/** The violation messages of one resource rule on one resource. */
export async function violations(policy: ResourceValidationPolicy, target: PolicyTarget, config?: PolicyPackConfig): Promise<string[]> {
    return (await validateResourceWith(policy, target, config)).map((v) => `[${v.enforcementLevel}] ${v.message}`);
}

/** The violation messages of one stack rule on a stack. */
export async function stackViolations(policy: StackValidationPolicy, targets: PolicyTarget[], config?: PolicyPackConfig): Promise<string[]> {
    return (await validateStackWith(policy, targets, config)).map((v) => `[${v.enforcementLevel}] ${v.message}${v.resource ? ` (${v.resource})` : ""}`);
}
