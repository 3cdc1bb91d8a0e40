/**
 * `modelship/testing`: unit-test a program that uses modelship's components, offline, under Pulumi's mock runtime.
 *
 * Two ways in:
 * - `installMockRuntime()` installs mocks that record every resource (`recorder.one(type, name).inputs`) and answer
 *   with realistic provider outputs (EKS cluster kubeconfig/OIDC provider, managed node groups, image digests, ECR
 *   repository URLs, IAM role ARNs).
 * - `modelshipMocks(yourMocks)` wraps mocks you write as Pulumi's docs show (`newResource: (args) => ({ id, state })`)
 *   and fills in the provider outputs modelship's components read, which a plain echo of the inputs lacks.
 *
 * The recording runtime also knows the contracts the providers and the API server enforce (cli/contracts.ts): it
 * refuses a resource whose name overflows AWS's limit once autonamed or breaks Kubernetes' name and label rules, and
 * `recorder.checkContracts()` reports creation-order mistakes over the whole program. `secondRunChanges` compares two
 * runs of a program, to assert that a second `pulumi up` would change nothing.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ContractError, resourceContractProblems } from "./contracts";
import { DEFAULT_CALLS, DEFAULT_OUTPUTS, type OutputsFn } from "./mock-runtime";
export {
    checkContracts,
    graphContractViolations,
    resourceContractProblems,
    nameCollisions,
    formatViolations,
    tagIsImmutable,
    ContractError,
    CRD_INSTALLERS,
    type ContractName,
    type ContractResource,
    type ContractViolation,
} from "./contracts";
export { secondRunChanges, formatRunChanges, PROVIDER_IGNORED_CHANGES, type RunChange, type RunResource } from "./second-run";

export {
    installMockRuntime,
    MockRecorder,
    valueOf,
    isSecret,
    fakeSha256,
    markPlaceholders,
    DEFAULT_OUTPUTS,
    DEFAULT_CALLS,
    MOCK_ACCOUNT_ID,
    MOCK_REGION,
    type RecordedResource,
    type MockRuntimeOptions,
    type OutputsFn,
} from "./mock-runtime";

/** The provider outputs modelship's mocks give a resource of `type` (empty for a type they do not know). Pure. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- provider outputs are untyped, as in Pulumi's mocks
export function mockOutputs(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
    const fn: OutputsFn | undefined = DEFAULT_OUTPUTS[type];
    return fn ? fn(name, inputs) : {};
}

/**
 * Wraps your mocks: each resource gets modelship's provider outputs, overridden by the state your `newResource`
 * returns only where that state has a value of its own (an echo of the inputs does not hide `nodeGroup` or `digest`);
 * calls your `call` first and falls back to modelship's answers for the data sources its components invoke. Refuses,
 * as the provider would, a resource whose name or labels break a contract of AWS or the API server
 * (`enforceContracts: false` to accept it).
 */
export function modelshipMocks(mocks: Partial<pulumi.runtime.Mocks> = {}, options: { enforceContracts?: boolean } = {}): pulumi.runtime.Mocks {
    return {
        async newResource(args: pulumi.runtime.MockResourceArgs): Promise<pulumi.runtime.MockResourceResult> {
            // As the provider would: refuse a name or label AWS or the API server rejects (the URN is not known here).
            const problems = options.enforceContracts === false ? [] : resourceContractProblems({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? false });
            if (problems.length > 0) {
                const where = `${args.type}::${args.name}`;
                throw new ContractError(problems.map((p) => ({ ...p, urn: where, type: args.type, name: args.name, message: `${where}: ${p.message}` })));
            }
            const yours = mocks.newResource ? await mocks.newResource(args) : { id: `${args.name}_id`, state: args.inputs };
            const state = { ...args.inputs, ...mockOutputs(args.type, args.name, args.inputs) };
            for (const [k, v] of Object.entries(yours.state ?? {})) if (v !== undefined && v !== args.inputs[k]) state[k] = v;
            return { id: yours.id, state };
        },
        async call(args: pulumi.runtime.MockCallArgs): Promise<pulumi.runtime.MockCallResult> {
            const yours = mocks.call ? await mocks.call(args) : undefined;
            if (yours !== undefined && Object.keys(yours).length > 0 && yours !== args.inputs) return yours;
            return DEFAULT_CALLS[args.token]?.(args.inputs) ?? yours ?? args.inputs;
        },
    };
}
