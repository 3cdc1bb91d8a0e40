/** InferenceService's namespace-wide default-deny egress NetworkPolicy (`denyEgressByDefault`). */
import { installMockRuntime } from "../support/mocks";

const recorder = installMockRuntime();
import { InferenceService, validateInferenceServiceArgs } from "../../components/inference-service";
import { defaultDenyEgress, type PolicyTarget } from "../../policy";
import { toK8sObject, validateK8sObjects } from "../support/k8s-schema";
import { stackViolations } from "../policy/harness";

const IMAGE = `123456789012.dkr.ecr.us-west-2.amazonaws.com/models@sha256:${"a".repeat(64)}`;
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

beforeAll(async () => {
    new InferenceService("owned", { image: IMAGE, namespace: "owned", createNamespace: true });
    new InferenceService("shared", { image: IMAGE, namespace: "shared" });
    new InferenceService("closed", { image: IMAGE, namespace: "closed", denyEgressByDefault: true });
    new InferenceService("opted-out", { image: IMAGE, namespace: "open", createNamespace: true, denyEgressByDefault: false });
    await recorder.settle();
});

const denyOf = (name: string) => recorder.ofType(NETPOL).find((r) => r.name === `${name}-default-deny-egress`);

describe("denyEgressByDefault", () => {
    it("selects every pod of the namespace and allows no egress, after the namespace exists", () => {
        const np = denyOf("owned")!;
        expect(np.inputs.metadata).toMatchObject({ name: "default-deny-egress", namespace: "owned" });
        expect(np.inputs.spec).toEqual({ podSelector: {}, policyTypes: ["Egress"] });
        expect(recorder.dependsOn(np, recorder.one("kubernetes:core/v1:Namespace", "owned-ns"))).toBe(true);
        expect(validateK8sObjects([toK8sObject(np)])).toEqual([null]);
    });
    it("is on with createNamespace, off in a namespace made elsewhere, and follows the flag", () => {
        expect(denyOf("owned")).toBeDefined();
        expect(denyOf("shared")).toBeUndefined();
        expect(denyOf("closed")?.inputs.metadata.namespace).toBe("closed");
        expect(denyOf("opted-out")).toBeUndefined();
    });
    it("satisfies the policy pack's k8s-default-deny-egress rule", async () => {
        const targets: PolicyTarget[] = recorder.resources.filter((r) => r.custom).map((r) => ({ type: r.type, name: r.name, urn: r.urn, props: r.inputs }));
        const v = await stackViolations(defaultDenyEgress, targets);
        expect(v).toEqual([expect.stringContaining("namespace shared (of shared-deployment)"), expect.stringContaining("namespace open (of opted-out-deployment)")]);
    });
    it("needs the server's own NetworkPolicy", () => {
        expect(() => validateInferenceServiceArgs("svc", { image: IMAGE, networkPolicy: false, denyEgressByDefault: true })).toThrow(/InferenceService "svc": denyEgressByDefault needs the server's NetworkPolicy/);
    });
});
