import * as path from "path";
import { plan as runPlan, type PlanOptions, type PlanResource } from "../../cli/plan";
import { freshRequire } from "../support/mocks";
import { validateK8sObjects, type K8sObject } from "../support/k8s-schema";

const plan = (opts: PlanOptions) => runPlan({ load: freshRequire, ...opts });
const root = path.resolve(__dirname, "..", "..");

/**
 * A planned Kubernetes object as the API server would get it (its inputs, typed by its token). The plan shows the
 * mock's invented IDs as `<placeholder:…>`; a security group ID goes back to the mock's own `sg-…` form.
 */
function k8sObject(r: PlanResource): K8sObject {
    const inputs = JSON.parse(JSON.stringify(r.inputs).split("<placeholder:security-group-id>").join("sg-0123456789abcdef0")) as K8sObject;
    if (inputs.apiVersion === undefined) {
        const [, groupVersion, kind] = r.type.split(":");
        inputs.apiVersion = groupVersion.startsWith("core/") ? groupVersion.slice(5) : groupVersion;
        inputs.kind = kind;
    }
    return inputs;
}

describe("the cloud-karpenter example stack (capacity: karpenter)", () => {
    let resources: PlanResource[];
    beforeAll(async () => {
        resources = (await plan({ stack: "cloud-karpenter", json: true, projectDir: root })).plan.resources;
    }, 120_000);

    it("plans with every Kubernetes object valid against its schema, Karpenter's CRDs included", () => {
        const objects = resources.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh") && r.type !== "pulumi:providers:kubernetes");
        const types = new Set(objects.map((r) => r.type));
        expect(types).toContain("kubernetes:karpenter.sh/v1:NodePool");
        expect(types).toContain("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass");
        expect(validateK8sObjects(objects.map(k8sObject)).filter((e) => e !== null)).toEqual([]);
    });

    it("has no GPU node group and no cluster-autoscaler, and one NodePool per GPU group", () => {
        const groups = resources.filter((r) => r.type === "eks:index:ManagedNodeGroup").map((r) => r.name);
        expect(groups).toEqual(["gpu-kp-cluster-system"]);
        expect(resources.some((r) => r.name.endsWith("cluster-autoscaler"))).toBe(false);
        const pools = resources.filter((r) => r.type === "kubernetes:karpenter.sh/v1:NodePool").map((r) => (r.inputs as any).metadata.name);
        expect(pools.sort()).toEqual(["gpu-a10g", "gpu-l4"]);
    });
});
