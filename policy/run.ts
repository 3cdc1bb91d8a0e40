/**
 * Runs CrossGuard policies over plain resources the way the Pulumi engine's analyzer host does (server.js of
 * @pulumi/policy), without its gRPC server: the enforcement level from the policy config, props wrapped so that reading
 * an unknown value throws `UnknownValueError` (reported as an advisory "can't run during preview"), `notApplicable`
 * honoured. `modelship plan` runs the pack with it, and the tests call single policies through it.
 */
import {
    unknownCheckingProxy,
    UnknownValueError,
    type EnforcementLevel,
    type Policies,
    type Policy,
    type PolicyResource,
    type ResourceValidationArgs,
    type ResourceValidationPolicy,
    type StackValidationArgs,
    type StackValidationPolicy,
} from "@pulumi/policy";

/** One resource as the engine shows it to policies. */
export interface PolicyTarget {
    type: string;
    name: string;
    urn: string;
    /** Inputs: what resource policies see. */
    props: Record<string, unknown>;
    /** Outputs: what stack policies see. Default: `props`. */
    outputs?: Record<string, unknown>;
    /** URN of the parent, if any. */
    parent?: string;
    /** URNs of the resources it depends on. */
    dependencies?: string[];
    /** The explicit provider resource (which cluster a Kubernetes object goes to). */
    provider?: { type: string; name: string; urn: string; props: Record<string, unknown> };
}

/** A policy's entry in the policy config (`--policy-pack-config` JSON): a level, or a level with properties. */
export type PolicyConfigEntry = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
/** The policy config: by policy name; `all` sets every policy's level. */
export type PolicyPackConfig = Record<string, PolicyConfigEntry>;

export interface PolicyViolation {
    policy: string;
    /** "mandatory" or "advisory" (a remediate level reports as mandatory, as the engine does). */
    enforcementLevel: "mandatory" | "advisory";
    message: string;
    /** The resource in violation; absent for a violation of the whole stack. */
    urn?: string;
    /** Name of that resource. */
    resource?: string;
    /** Its type token. */
    type?: string;
}

export const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

function entry(config: PolicyPackConfig, name: string): { enforcementLevel?: EnforcementLevel } & Record<string, unknown> {
    const e = config[name];
    return typeof e === "string" ? { enforcementLevel: e } : (e ?? {});
}

/** Checks a policy config against the policies: known names, known levels. Throws naming the entry and the fix. */
export function validatePolicyConfig(config: PolicyPackConfig, policies: Policies): void {
    const names = new Set(policies.map((p) => p.name));
    for (const name of Object.keys(config)) {
        if (name !== "all" && !names.has(name)) throw new Error(`policy config: "${name}" is not a policy of the pack: use one of ${[...names].join(", ")} (or "all")`);
        const level = entry(config, name).enforcementLevel;
        if (level !== undefined && !ENFORCEMENT_LEVELS.includes(level)) throw new Error(`policy config: ${name}: enforcementLevel "${level}" is not one of ${ENFORCEMENT_LEVELS.join(", ")}`);
    }
}

/** The level a policy runs at: its config entry, else `all`, else its own, else the pack's. Pure. */
export function enforcementLevelOf(policy: Policy, config: PolicyPackConfig = {}, packLevel: EnforcementLevel = "advisory"): EnforcementLevel {
    return entry(config, policy.name).enforcementLevel ?? entry(config, "all").enforcementLevel ?? policy.enforcementLevel ?? packLevel;
}

/** A policy's configuration: its schema's defaults, overridden by its config entry (less the level). Pure. */
function configOf(policy: Policy, config: PolicyPackConfig): Record<string, unknown> {
    const defaults = Object.fromEntries(
        Object.entries(policy.configSchema?.properties ?? {})
            .filter(([, s]) => (s as { default?: unknown }).default !== undefined)
            .map(([k, s]) => [k, (s as { default?: unknown }).default]),
    );
    const { enforcementLevel: _level, ...props } = entry(config, policy.name);
    return { ...defaults, ...props };
}

class NotApplicable extends Error {}
const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

function isResourcePolicy(p: Policy): p is ResourceValidationPolicy {
    return typeof (p as ResourceValidationPolicy).validateResource === "function" || Array.isArray((p as ResourceValidationPolicy).validateResource);
}
function isStackPolicy(p: Policy): p is StackValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack === "function";
}

/** Runs `fn`, turning an unknown value into the engine's advisory and `notApplicable` into nothing. */
async function guarded(policy: Policy, fn: () => unknown, out: PolicyViolation[]): Promise<void> {
    try {
        await fn();
    } catch (err) {
        if (err instanceof UnknownValueError) {
            out.push({ policy: policy.name, enforcementLevel: "advisory", message: `can't run policy '${policy.name}' during preview: ${(err as Error).message}` });
        } else if (!(err instanceof NotApplicable)) {
            throw new Error(`policy ${policy.name}: ${(err as Error).message}`);
        }
    }
}

function reportLevel(level: EnforcementLevel): "mandatory" | "advisory" {
    return level === "advisory" ? "advisory" : "mandatory";
}

/** Runs one resource policy on one resource, as the engine's Analyze does. */
export async function validateResourceWith(policy: ResourceValidationPolicy, target: PolicyTarget, config: PolicyPackConfig = {}, packLevel: EnforcementLevel = "advisory"): Promise<PolicyViolation[]> {
    const level = enforcementLevelOf(policy, config, packLevel);
    const out: PolicyViolation[] = [];
    if (level === "disabled" || !policy.validateResource) return out;
    const props = unknownCheckingProxy(target.props) as Record<string, unknown>;
    const args: ResourceValidationArgs = {
        type: target.type,
        props,
        urn: target.urn,
        name: target.name,
        opts: { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [], customTimeouts: {} },
        stackTags: new Map(),
        isType: () => false,
        asType: () => undefined,
        getConfig: <T extends object>() => configOf(policy, config) as T,
        notApplicable,
    } as unknown as ResourceValidationArgs;
    if (target.provider) args.provider = { ...target.provider, props: unknownCheckingProxy(target.provider.props) as Record<string, unknown> };
    const report = (message: string) => out.push({ policy: policy.name, enforcementLevel: reportLevel(level), message, urn: target.urn, resource: target.name, type: target.type });
    for (const validate of Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource]) {
        await guarded(policy, () => validate(args, report), out);
    }
    return out;
}

/** The engine's view of the stack: resources with outputs, parents, dependencies and providers linked. */
export function policyResources(targets: PolicyTarget[]): PolicyResource[] {
    const byUrn = new Map<string, PolicyResource>();
    const resources = targets.map((t) => {
        const r = {
            type: t.type,
            props: unknownCheckingProxy(t.outputs ?? t.props) as Record<string, unknown>,
            urn: t.urn,
            name: t.name,
            opts: { protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [], customTimeouts: {} },
            dependencies: [],
            propertyDependencies: {},
            isType: () => false,
            asType: () => undefined,
            ...(t.provider ? { provider: { ...t.provider, props: unknownCheckingProxy(t.provider.props) as Record<string, unknown> } } : {}),
        } as unknown as PolicyResource;
        byUrn.set(t.urn, r);
        return r;
    });
    targets.forEach((t, i) => {
        const parent = t.parent ? byUrn.get(t.parent) : undefined;
        if (parent) resources[i].parent = parent;
        resources[i].dependencies = (t.dependencies ?? []).flatMap((d) => byUrn.get(d) ?? []);
    });
    return resources;
}

/** Runs one stack policy over the stack, as the engine's AnalyzeStack does. */
export async function validateStackWith(policy: StackValidationPolicy, targets: PolicyTarget[], config: PolicyPackConfig = {}, packLevel: EnforcementLevel = "advisory"): Promise<PolicyViolation[]> {
    const level = enforcementLevelOf(policy, config, packLevel);
    const out: PolicyViolation[] = [];
    if (level === "disabled") return out;
    const resources = policyResources(targets);
    const byUrn = new Map(targets.map((t) => [t.urn, t]));
    const args: StackValidationArgs = { resources, stackTags: new Map(), getConfig: <T extends object>() => configOf(policy, config) as T, notApplicable };
    const report = (message: string, urn?: string) => {
        const t = urn ? byUrn.get(urn) : undefined;
        out.push({ policy: policy.name, enforcementLevel: reportLevel(level), message, ...(urn ? { urn } : {}), ...(t ? { resource: t.name, type: t.type } : {}) });
    };
    await guarded(policy, () => policy.validateStack(args, report), out);
    return out;
}

/** Runs every policy: resource policies on each resource, stack policies once over all. */
export async function runPolicies(policies: Policies, targets: PolicyTarget[], config: PolicyPackConfig = {}, packLevel: EnforcementLevel = "advisory"): Promise<PolicyViolation[]> {
    validatePolicyConfig(config, policies);
    const out: PolicyViolation[] = [];
    for (const p of policies) {
        if (isResourcePolicy(p)) for (const t of targets) out.push(...(await validateResourceWith(p, t, config, packLevel)));
        else if (isStackPolicy(p)) out.push(...(await validateStackWith(p, targets, config, packLevel)));
    }
    return out;
}

/** One violation as the Pulumi CLI prints it: `[mandatory] rule: message (resource)`. Pure. */
export function formatViolation(v: PolicyViolation): string {
    return `[${v.enforcementLevel}] ${v.policy}: ${v.message}${v.resource ? ` (${v.resource})` : ""}`;
}
