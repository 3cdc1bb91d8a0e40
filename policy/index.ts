/**
 * `modelship/policy`: the security checklist as a Pulumi CrossGuard policy pack. `policies` are plain
 * `ResourceValidationPolicy` / `StackValidationPolicy` objects; {@link createPolicyPack} serves them to the Pulumi CLI
 * (`pulumi preview --policy-pack <dir>`, or Pulumi Cloud); {@link runPolicies} runs them offline (`modelship plan`).
 */
import { PolicyPack, type EnforcementLevel, type PolicyPackArgs } from "@pulumi/policy";
import { ecrRules, eksRules, iamRules, kubernetesRules, signingRules, type ModelshipRule } from "./rules";

export * from "./rules";
export { runPolicies, validateResourceWith, validateStackWith, enforcementLevelOf, validatePolicyConfig, formatViolation, policyResources } from "./run";
export type { PolicyTarget, PolicyViolation, PolicyPackConfig, PolicyConfigEntry } from "./run";

/** The pack's name, as the Pulumi CLI and Pulumi Cloud show it. */
export const POLICY_PACK_NAME = "modelship";

/** Every rule of the pack, in checklist order. */
export const policies: ModelshipRule[] = [...ecrRules, ...eksRules, ...iamRules, ...kubernetesRules, ...signingRules];

/** The arguments of the pack: its policies and metadata. Levels per rule come from each rule, then the policy config. */
export function policyPackArgs(enforcementLevel: EnforcementLevel = "advisory"): PolicyPackArgs {
    return {
        policies,
        enforcementLevel,
        displayName: "modelship security checklist",
        description: "ECR, EKS, IAM and Kubernetes workload rules of the modelship checklist, with CIS Amazon EKS Benchmark ids",
        provider: "aws",
        tags: ["modelship", "cis-eks", "kubernetes", "aws"],
    };
}

/**
 * Serves the pack to the Pulumi CLI: call it from a policy pack program (a directory with PulumiPolicy.yaml). Starts
 * the analyzer's gRPC server, so never from a test or a stack program.
 */
export function createPolicyPack(name: string = POLICY_PACK_NAME): PolicyPack {
    return new PolicyPack(name, policyPackArgs());
}
