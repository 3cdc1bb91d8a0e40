import { installMockRuntime } from "../support/mocks";

const recorder = installMockRuntime();
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    doNotDisruptValue,
    ec2NodeClassSpec,
    installKarpenter,
    INTERRUPTION_RULES,
    interruptionQueuePolicy,
    KARPENTER_AMI_ALIAS,
    KARPENTER_CHARTS,
    karpenterControllerPolicy,
    karpenterPoolProblems,
    nodePoolSpec,
    type KarpenterPoolShape,
} from "../../components/internal/karpenter";
import { devicePluginValues } from "../../components/internal/gpu-addons";
import { toK8sObject, validateK8sObjects } from "../support/k8s-schema";

const CLUSTER = "ml-dev-abc123";
const CLUSTER_ARN = `arn:aws:eks:us-west-2:123456789012:cluster/${CLUSTER}`;
const QUEUE = "arn:aws:sqs:us-west-2:123456789012:ml-kp-irq";
const NODE_ROLE = "arn:aws:iam::123456789012:role/ml-kp-node";
const L4: KarpenterPoolShape = {
    name: "l4",
    instanceTypes: ["g6.xlarge", "g6.2xlarge"],
    gpusPerNode: 1,
    maxSize: 4,
    capacityType: "ON_DEMAND",
    arch: "amd64",
    labels: { "modelship.dev/accelerator": "nvidia", "modelship.dev/node-group": "l4" },
};
const policy = karpenterControllerPolicy({ partition: "aws", region: "us-west-2", accountId: "123456789012", clusterName: CLUSTER, clusterArn: CLUSTER_ARN, queueArn: QUEUE, nodeRoleArn: NODE_ROLE });
const stmt = (sid: string) => policy.Statement.find((s) => s.Sid === sid)!;

describe("Karpenter controller policy (upstream's CloudFormation scoping)", () => {
    it("launches only with this cluster's ownership tag and a NodePool tag on what it creates", () => {
        const s = stmt("AllowScopedEC2InstanceActionsWithTags");
        expect(s.Condition).toEqual({ StringEquals: { [`aws:RequestTag/kubernetes.io/cluster/${CLUSTER}`]: "owned" }, StringLike: { "aws:RequestTag/karpenter.sh/nodepool": "*" } });
        expect(s.Resource).toContain("arn:aws:ec2:us-west-2:*:instance/*");
    });
    it("terminates only this cluster's Karpenter instances", () => {
        expect(stmt("AllowScopedDeletion").Condition).toEqual({ StringEquals: { [`aws:ResourceTag/kubernetes.io/cluster/${CLUSTER}`]: "owned" }, StringLike: { "aws:ResourceTag/karpenter.sh/nodepool": "*" } });
    });
    it("names the queue, the node role (passed to EC2 only) and the cluster by ARN", () => {
        expect(stmt("AllowInterruptionQueueActions").Resource).toBe(QUEUE);
        expect(stmt("AllowPassingInstanceRole")).toMatchObject({ Resource: NODE_ROLE, Condition: { StringEquals: { "iam:PassedToService": "ec2.amazonaws.com" } } });
        expect(stmt("AllowAPIServerEndpointDiscovery").Resource).toBe(CLUSTER_ARN);
    });
    it("uses * only where AWS has no resource-level permission (region-conditioned describes, pricing)", () => {
        const star = policy.Statement.filter((s) => s.Resource === "*").map((s) => s.Sid);
        expect(star).toEqual(["AllowRegionalReadActions", "AllowPricingReadActions"]);
        expect(stmt("AllowRegionalReadActions").Condition).toEqual({ StringEquals: { "aws:RequestedRegion": "us-west-2" } });
        // Instance profiles: ARN-scoped to the account's profiles, and tag-conditioned.
        expect(stmt("AllowScopedInstanceProfileActions").Resource).toBe("arn:aws:iam::123456789012:instance-profile/*");
    });
    it("the queue takes messages from EventBridge over HTTPS only", () => {
        const q = interruptionQueuePolicy(QUEUE);
        expect(q.Statement[0]).toMatchObject({ Principal: { Service: ["events.amazonaws.com", "sqs.amazonaws.com"] }, Action: "sqs:SendMessage", Resource: QUEUE });
        expect(q.Statement[1]).toMatchObject({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } });
        expect(INTERRUPTION_RULES.map((r) => r.detailType)).toEqual([
            "AWS Health Event",
            "EC2 Spot Instance Interruption Warning",
            "EC2 Instance Rebalance Recommendation",
            "EC2 Instance State-change Notification",
        ]);
    });
});

describe("GPU NodePools and the EC2NodeClass", () => {
    const pool = nodePoolSpec(L4, { nodeClassName: "modelship-gpu", consolidateAfter: "10m" }) as any;
    it("asks for NVIDIA instances of the listed types with exactly the group's GPU count, tainted and labelled", () => {
        const req = Object.fromEntries(pool.template.spec.requirements.map((r: any) => [r.key, r.values]));
        expect(req["karpenter.k8s.aws/instance-gpu-manufacturer"]).toEqual(["nvidia"]);
        expect(req["karpenter.k8s.aws/instance-gpu-count"]).toEqual(["1"]);
        expect(req["node.kubernetes.io/instance-type"]).toEqual(["g6.xlarge", "g6.2xlarge"]);
        expect(req["karpenter.sh/capacity-type"]).toEqual(["on-demand"]);
        expect(pool.template.spec.taints).toEqual([{ key: "nvidia.com/gpu", value: "true", effect: "NoSchedule" }]);
        expect(pool.template.metadata.labels).toEqual(L4.labels);
    });
    it("limits GPUs to maxSize x gpusPerNode, so the pool's last node still fits (karpenter#8068)", () => {
        expect(pool.limits).toEqual({ "nvidia.com/gpu": "4" });
        const big = nodePoolSpec({ ...L4, gpusPerNode: 4, maxSize: 2 }, { nodeClassName: "x", consolidateAfter: "5m" }) as any;
        expect(big.limits).toEqual({ "nvidia.com/gpu": "8" });
    });
    it("a 1-GPU pod fits what the pool allows: some allowed node has at least one GPU (karpenter#7038)", () => {
        const count = pool.template.spec.requirements.find((r: any) => r.key === "karpenter.k8s.aws/instance-gpu-count").values.map(Number);
        expect(Math.max(...count)).toBeGreaterThanOrEqual(1);
    });
    it("consolidates empty or underused nodes after the delay, one node at a time, and expires nodes", () => {
        expect(pool.disruption).toEqual({ consolidationPolicy: "WhenEmptyOrUnderutilized", consolidateAfter: "10m", budgets: [{ nodes: "1" }] });
        expect(pool.template.spec.expireAfter).toBe("720h");
    });
    it("a spot pool allows spot and on-demand (the fallback), and needs more than one instance type", () => {
        const spot = nodePoolSpec({ ...L4, capacityType: "SPOT" }, { nodeClassName: "x", consolidateAfter: "5m" }) as any;
        expect(spot.template.spec.requirements.find((r: any) => r.key === "karpenter.sh/capacity-type").values).toEqual(["spot", "on-demand"]);
        expect(karpenterPoolProblems({ ...L4, capacityType: "SPOT", instanceTypes: ["g6.xlarge"] }, "gpuNodeGroups[0]")[0][1]).toMatch(/at least 2/);
        expect(karpenterPoolProblems(L4, "gpuNodeGroups[0]")).toEqual([]);
    });
    it("the node class pins a dated AL2023 AMI, IMDSv2 with hop limit 1, an encrypted gp3 root and RAID0 instance store", () => {
        const nc = ec2NodeClassSpec({ nodeRoleName: "ml-kp-node", subnetIds: ["subnet-1"], securityGroupIds: ["sg-1"], diskSizeGb: 200, tags: {} }) as any;
        expect(nc.amiSelectorTerms).toEqual([{ alias: KARPENTER_AMI_ALIAS }]);
        expect(KARPENTER_AMI_ALIAS).toMatch(/^al2023@v\d{8}$/);
        expect(nc.metadataOptions).toMatchObject({ httpTokens: "required", httpPutResponseHopLimit: 1 });
        expect(nc.blockDeviceMappings[0].ebs).toMatchObject({ volumeSize: "200Gi", volumeType: "gp3", encrypted: true });
        expect(nc.instanceStorePolicy).toBe("RAID0");
    });
    it("the device plugin tolerates the GPU taint and GFD/NFD stay off, so Karpenter's nodes become initialised (karpenter#1914, #3862; k8s-device-plugin#1934)", () => {
        const v = devicePluginValues() as any;
        expect(v.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
        expect([v.gfd.enabled, v.nfd.enabled]).toEqual([false, false]);
    });
    it("inference pods are protected from consolidation for their load window, in the duration form", () => {
        expect(doNotDisruptValue(600)).toBe("10m");
        expect(doNotDisruptValue(601)).toBe("11m");
    });
});

describe("installKarpenter", () => {
    beforeAll(async () => {
        const parent = new pulumi.ComponentResource("test:index:Parent", "ml");
        const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
        installKarpenter(
            {
                name: "ml",
                parent,
                provider,
                clusterName: pulumi.output(CLUSTER),
                clusterArn: pulumi.output(CLUSTER_ARN),
                oidcProviderArn: pulumi.output("arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/X"),
                oidcProviderUrl: pulumi.output("https://oidc.eks.us-west-2.amazonaws.com/id/X"),
                partition: "aws",
                region: "us-west-2",
                accountId: "123456789012",
                subnetIds: ["subnet-a", "subnet-b"],
                securityGroupIds: ["sg-cluster"],
                imagePullPolicy: "{}",
                diskSizeGb: 200,
                consolidateAfter: "10m",
                tags: { app: "modelship" },
                dependsOn: [],
            },
            [L4, { ...L4, name: "a10g", instanceTypes: ["g5.xlarge", "g5.2xlarge"], capacityType: "SPOT" }],
        );
        await recorder.settle();
    });

    it("installs the CRD chart, then the controller chart without CRDs, both pinned from their OCI location", () => {
        const crd = recorder.one("kubernetes:helm.sh/v3:Release", "ml-kp-crd");
        const ctl = recorder.one("kubernetes:helm.sh/v3:Release", "ml-kp");
        expect(crd.inputs).toMatchObject({ chart: KARPENTER_CHARTS.crd.chart, version: "1.12.1", namespace: "kube-system" });
        expect(ctl.inputs).toMatchObject({ chart: "oci://public.ecr.aws/karpenter/karpenter", version: "1.12.1", skipCrds: true });
        expect(ctl.dependencies).toContain(crd.urn);
        expect(ctl.inputs.values.settings.clusterName).toBe(CLUSTER);
        expect(ctl.inputs.values.nodeSelector).toEqual({ "modelship.dev/node-role": "system" });
    });

    it("gives the node role an EC2_LINUX access entry, and the queue SSE with four EventBridge rules targeting it", () => {
        expect(recorder.one("aws:eks/accessEntry:AccessEntry", "ml-kp-node").inputs).toMatchObject({ type: "EC2_LINUX", clusterName: CLUSTER });
        expect(recorder.one("aws:sqs/queue:Queue", "ml-kp-irq").inputs).toMatchObject({ sqsManagedSseEnabled: true, messageRetentionSeconds: 300 });
        expect(recorder.ofType("aws:cloudwatch/eventRule:EventRule")).toHaveLength(4);
        expect(recorder.ofType("aws:cloudwatch/eventTarget:EventTarget")).toHaveLength(4);
    });

    it("declares the node class and a pool per shape after the controller, valid against Karpenter's CRD schemas", () => {
        const crs = [...recorder.ofType("kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"), ...recorder.ofType("kubernetes:karpenter.sh/v1:NodePool")];
        expect(crs.map((r) => r.name).sort()).toEqual(["ml-kp-gpu-a10g", "ml-kp-gpu-l4", "ml-kp-gpu-nodeclass"]);
        const ctl = recorder.one("kubernetes:helm.sh/v3:Release", "ml-kp");
        for (const r of crs) expect(r.dependencies).toContain(ctl.urn);
        expect(validateK8sObjects(crs.map(toK8sObject))).toEqual([null, null, null]);
        const broken = { ...toK8sObject(crs[1]), spec: { ...(crs[1].inputs.spec as object), disruption: { consolidationPolicy: "Sometimes" } } };
        expect(validateK8sObjects([broken])[0]).toMatch(/NodePool/);
    });
});
