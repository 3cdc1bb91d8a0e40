/**
 * The NetworkPolicies an InferenceService emits are only as good as the CNI that enforces them. This runs the cloud and
 * hybrid stack programs offline and fails if any EKS cluster in a stack that serves an InferenceService leaves the VPC
 * CNI's network-policy agent off (AWS's default).
 */
import * as path from "path";
import { plan, type PlanResource } from "../../cli/plan";
import { freshRequire } from "../support/mocks";

/** Whether the VPC CNI of this eks:index:Cluster enforces NetworkPolicies, in either way @pulumi/eks offers. */
function enforcesNetworkPolicies(cluster: PlanResource, resources: PlanResource[]): boolean {
    const inputs = cluster.inputs as { name?: string; useDefaultVpcCni?: boolean; vpcCniOptions?: { enableNetworkPolicy?: boolean } };
    // The component's own vpc-cni add-on (created unless useDefaultVpcCni is set) carries vpcCniOptions.
    if (inputs.useDefaultVpcCni !== true) return inputs.vpcCniOptions?.enableNetworkPolicy === true;
    // Otherwise a separately managed vpc-cni add-on for this cluster must turn the agent on.
    const addons = resources.filter((r) => r.type === "eks:index:VpcCniAddon" && r.inputs.clusterName === inputs.name);
    return addons.length === 1 && addons[0].inputs.enableNetworkPolicy === true;
}

describe.each(["cloud", "hybrid"])("the %s stack program", (stack) => {
    let resources: PlanResource[];
    beforeAll(async () => {
        resources = (await plan({ stack, json: true, load: freshRequire, projectDir: path.resolve(__dirname, "..", "..") })).plan.resources;
    }, 60_000);

    it("serves an InferenceService on at least one EKS cluster", () => {
        expect(resources.filter((r) => r.type === "modelship:index:InferenceService").length).toBeGreaterThan(0);
        expect(resources.filter((r) => r.type === "eks:index:Cluster").length).toBeGreaterThan(0);
    });

    it("enforces NetworkPolicies on every EKS cluster it creates", () => {
        const clusters = resources.filter((r) => r.type === "eks:index:Cluster");
        expect(clusters.map((c) => [c.name, enforcesNetworkPolicies(c, resources)])).toEqual(clusters.map((c) => [c.name, true]));
    });

    it("sends every control-plane log type of every EKS cluster to CloudWatch", () => {
        for (const c of resources.filter((r) => r.type === "eks:index:Cluster")) {
            expect(c.inputs.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
        }
    });
});

describe("enforcesNetworkPolicies (the check itself)", () => {
    const cluster = (inputs: Record<string, unknown>): PlanResource => ({ type: "eks:index:Cluster", name: "c", parent: null, inputs });
    const addon = (inputs: Record<string, unknown>): PlanResource => ({ type: "eks:index:VpcCniAddon", name: "a", parent: null, inputs });

    it("fails a cluster on AWS's default (agent off)", () => {
        expect(enforcesNetworkPolicies(cluster({ name: "x" }), [])).toBe(false);
        expect(enforcesNetworkPolicies(cluster({ name: "x", vpcCniOptions: { enableNetworkPolicy: false } }), [])).toBe(false);
    });

    it("fails a cluster whose separate add-on leaves the agent off, or that has no add-on", () => {
        expect(enforcesNetworkPolicies(cluster({ name: "x", useDefaultVpcCni: true }), [])).toBe(false);
        expect(enforcesNetworkPolicies(cluster({ name: "x", useDefaultVpcCni: true }), [addon({ clusterName: "x" })])).toBe(false);
        expect(enforcesNetworkPolicies(cluster({ name: "x", useDefaultVpcCni: true }), [addon({ clusterName: "y", enableNetworkPolicy: true })])).toBe(false);
    });

    it("passes either way of turning it on", () => {
        expect(enforcesNetworkPolicies(cluster({ name: "x", vpcCniOptions: { enableNetworkPolicy: true } }), [])).toBe(true);
        expect(enforcesNetworkPolicies(cluster({ name: "x", useDefaultVpcCni: true }), [addon({ clusterName: "x", enableNetworkPolicy: true })])).toBe(true);
    });
});
