import { installMockRuntime, valueOf } from "../support/mocks";

const recorder = installMockRuntime({ outputs: { "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }) } });
import * as pulumi from "@pulumi/pulumi";
import { GpuCluster, capacityWarnings, validateGpuClusterArgs, withOnDemandFallback, resolveGpuNodeGroup } from "../../components/gpu-cluster";
import { spotFirstPriorities } from "../../components/internal/capacity";
import { toK8sObject, validateK8sObjects } from "../support/k8s-schema";

const MNG = "eks:index:ManagedNodeGroup";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const base = { endpointAccess: "private" as const, privateEndpointReachable: true };

describe("GpuCluster capacity: karpenter", () => {
    let cluster: GpuCluster;
    beforeAll(async () => {
        cluster = new GpuCluster("kp", {
            ...base,
            capacity: "karpenter",
            gpuNodeGroups: [
                { name: "l4", instanceTypes: ["g6.xlarge", "g6.2xlarge"], maxSize: 4, diskSizeGb: 200 },
                { name: "a10g", instanceTypes: ["g5.xlarge", "g5.2xlarge"], maxSize: 2, capacityType: "SPOT" },
            ],
        });
        await recorder.settle();
    });

    it("creates no GPU node group and no cluster-autoscaler: Karpenter owns GPU capacity", () => {
        expect(recorder.ofType(MNG).map((r) => r.name)).toEqual(["kp-system"]);
        expect(recorder.ofType(RELEASE).map((r) => r.name)).not.toContain("kp-cluster-autoscaler");
        expect(cluster.capacityStrategy).toBe("karpenter");
        expect(Object.keys(cluster.karpenter!.nodePools).sort()).toEqual(["a10g", "l4"]);
    });

    it("runs the controller on the system nodes, after the system group exists", () => {
        const ctl = recorder.one(RELEASE, "kp-kp");
        expect(ctl.dependencies).toContain(recorder.one(MNG, "kp-system").urn);
        expect(ctl.inputs.values.nodeSelector).toEqual({ "modelship.dev/node-role": "system" });
        expect(ctl.inputs.values.settings.clusterName).toBe(recorder.one("eks:index:Cluster", "kp-eks").inputs.name);
    });

    it("pools carry the groups' labels (the device plugin's affinity matches), GPU taint, limits and spot fallback", () => {
        const pools = recorder.ofType("kubernetes:karpenter.sh/v1:NodePool");
        const l4 = pools.find((p) => p.name === "kp-kp-gpu-l4")!.inputs.spec;
        expect(l4.template.metadata.labels).toMatchObject({ "modelship.dev/accelerator": "nvidia", "modelship.dev/node-group": "l4" });
        expect(l4.limits).toEqual({ "nvidia.com/gpu": "4" });
        const a10g = pools.find((p) => p.name === "kp-kp-gpu-a10g")!.inputs.spec;
        expect(a10g.template.spec.requirements.find((r: any) => r.key === "karpenter.sh/capacity-type").values).toEqual(["spot", "on-demand"]);
        const nodeClass = recorder.one("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "kp-kp-gpu-nodeclass").inputs.spec;
        expect(nodeClass.blockDeviceMappings[0].ebs.volumeSize).toBe("200Gi");
        expect(nodeClass.securityGroupSelectorTerms).toHaveLength(1);
        expect(validateK8sObjects([...pools, recorder.one("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass", "kp-kp-gpu-nodeclass")].map(toK8sObject))).toEqual([null, null, null]);
    });

    it("scopes the controller's policy to this cluster's name and ARN", async () => {
        const policy = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "kp-kp-ctl").inputs.policy);
        const name = await valueOf(cluster.clusterName);
        const withTags = policy.Statement.find((s: any) => s.Sid === "AllowScopedEC2InstanceActionsWithTags");
        expect(Object.keys(withTags.Condition.StringEquals)).toEqual([`aws:RequestTag/kubernetes.io/cluster/${name}`]);
    });

    it("refuses what Karpenter pools cannot do", () => {
        const groups = [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2, minSize: 1, amiType: "BOTTLEROCKET_x86_64_NVIDIA" }];
        expect(() => validateGpuClusterArgs("kp", { ...base, capacity: "karpenter", gpuNodeGroups: groups })).toThrow(/amiType is BOTTLEROCKET_x86_64_NVIDIA: Karpenter's GPU pools boot AL2023[\s\S]*minSize must be 0 with capacity: karpenter/);
        expect(() => validateGpuClusterArgs("kp", { ...base, capacity: "fargate" as never, gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] })).toThrow(/capacity "fargate" must be "cluster-autoscaler" or "karpenter"/);
    });
});

describe("GpuCluster capacity: cluster-autoscaler with a SPOT group", () => {
    beforeAll(async () => {
        new GpuCluster("sp", { ...base, gpuNodeGroups: [{ name: "a10g", instanceTypes: ["g5.xlarge", "g5.2xlarge"], maxSize: 3, capacityType: "SPOT" }] });
        await recorder.settle();
    });

    it("adds an on-demand twin behind the spot group, from zero", () => {
        const spot = recorder.one(MNG, "sp-gpu-a10g").inputs;
        const od = recorder.one(MNG, "sp-gpu-a10g-od").inputs;
        expect([spot.capacityType, od.capacityType]).toEqual(["SPOT", "ON_DEMAND"]);
        expect(od.scalingConfig).toEqual({ minSize: 0, maxSize: 3, desiredSize: 0 });
        expect(od.labels).toEqual(spot.labels);
    });

    it("prefers the spot group through the priority expander, by its exact ASG name", () => {
        const v = recorder.one(RELEASE, "sp-cluster-autoscaler").inputs.values;
        expect(v.extraArgs.expander).toBe("priority,least-waste");
        const spotAsg = recorder.ofType("aws:autoscaling/tag:Tag").find((t) => t.name.startsWith("sp-gpu-a10g-ca-"))!.inputs.autoscalingGroupName;
        expect(v.expanderPriorities).toEqual({ 50: [`^${spotAsg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`], 10: [".*"] });
        expect(v.expanderPriorities[50][0]).not.toMatch(/-od/);
    });

    it("keeps the plain expander without spot groups, and warns about a one-type spot group", () => {
        expect(spotFirstPriorities(["eks-a.b-1"])).toEqual({ 50: ["^eks-a\\.b-1$"], 10: [".*"] });
        expect(withOnDemandFallback(resolveGpuNodeGroup({ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 1 }))).toHaveLength(1);
        expect(capacityWarnings({ gpuNodeGroups: [{ name: "x", instanceTypes: ["g5.xlarge"], maxSize: 1, capacityType: "SPOT" }] })[0]).toMatch(/SPOT with one instance type/);
        expect(pulumi).toBeDefined();
    });
});

describe("name budget with Karpenter and spot twins", () => {
    it("lists Karpenter's and the on-demand twins' autonamed children, and the longest accepted names fit", async () => {
        const { gpuClusterAutonamedChildren } = await import("../../components/gpu-cluster");
        const { autonameOverflow } = await import("../../components/internal/aws-name-limits");
        const longest = "k".repeat(37);
        const kp = gpuClusterAutonamedChildren(longest, ["l4"], { capacity: "karpenter" });
        expect(kp.map((c) => c.logicalName)).toContain(`${longest}-kp-ctl`);
        expect(kp.filter((c) => autonameOverflow(c) !== undefined)).toEqual([]);
        const ca = gpuClusterAutonamedChildren("ml", ["a10g"], { spotGroups: [true] });
        expect(ca.map((c) => c.logicalName)).toContain("ml-gpu-a10g-od");
        expect(() => validateGpuClusterArgs("x".repeat(30), { ...base, gpuNodeGroups: [{ name: "g".repeat(18), instanceTypes: ["g5.xlarge", "g5.2xlarge"], maxSize: 1, capacityType: "SPOT" }] })).toThrow(/gpuNodeGroups\[0\].name is too long for AWS/);
        // Every Karpenter child the cluster recorded is in the list the budget checks.
        const listed = new Set(gpuClusterAutonamedChildren("kp", ["l4", "a10g"], { capacity: "karpenter" }).map((c) => `${c.type}::${c.logicalName}`));
        const { AWS_NAME_LIMITS } = await import("../../components/internal/aws-name-limits");
        for (const r of recorder.resources.filter((r) => r.name.startsWith("kp-kp-") && AWS_NAME_LIMITS[r.type] !== undefined && r.inputs.name === undefined)) expect(listed).toContain(`${r.type}::${r.name}`);
    });
});
