import { GPU_CLUSTER_DEFAULTS, resolveGpuNodeGroup, validateGpuClusterArgs, type GpuClusterArgs } from "../../components/gpu-cluster";
import { clusterAutoscalerImageTag, clusterAutoscalerPolicy, nodeTemplateTags, nodegroupArnPattern } from "../../components/internal/capacity";
import { nodeBlockDevices, systemAmiType } from "../../components/internal/eks-nodes";
import { GPU_CLUSTER_CHARTS, devicePluginValues } from "../../components/internal/gpu-addons";
import { GPU_TAINT_KEY, gpuScheduling } from "../../components/internal/gpu-constants";
import { cpuArchitecture, defaultGpuAmiType, gpuInstanceInfo, isGpuAmiType, parseInstanceType } from "../../components/internal/gpu-instances";

describe("gpuInstanceInfo", () => {
    it.each([
        ["g4dn.xlarge", "x86_64", "nvidia-t4", 1],
        ["g4dn.12xlarge", "x86_64", "nvidia-t4", 4],
        ["g5.48xlarge", "x86_64", "nvidia-a10g", 8],
        ["g5g.16xlarge", "arm64", "nvidia-t4g", 2],
        ["g6.xlarge", "x86_64", "nvidia-l4", 1],
        ["g6e.12xlarge", "x86_64", "nvidia-l40s", 4],
        ["p4d.24xlarge", "x86_64", "nvidia-a100", 8],
        ["p5.48xlarge", "x86_64", "nvidia-h100", 8],
        ["p5e.48xlarge", "x86_64", "nvidia-h200", 8],
    ])("knows %s: %s, %s, %d GPU(s)", (type, arch, accelerator, gpus) => {
        expect(gpuInstanceInfo(type)).toMatchObject({ ok: true, arch, accelerator, gpus });
    });

    it("accepts an unlisted size of a known family but does not guess its GPU count", () => {
        expect(gpuInstanceInfo("g6.96xlarge")).toMatchObject({ ok: true, family: "g6", accelerator: "nvidia-l4", gpus: undefined });
    });

    it.each(["m5.xlarge", "c6i.large", "t3.medium", "r7g.2xlarge"])("rejects the CPU type %s", (type) => {
        const info = gpuInstanceInfo(type);
        expect(info.ok).toBe(false);
        if (!info.ok) expect(info.reason).toMatch(/has no NVIDIA GPU: use a GPU family such as g4dn, g5/);
    });

    it.each(["g6f.xlarge", "g7e.2xlarge", "p6-b200.48xlarge"])("refuses the newer NVIDIA type %s as unsupported, not as GPU-less", (type) => {
        const info = gpuInstanceInfo(type);
        expect(info.ok).toBe(false);
        if (!info.ok) expect(info.reason).toMatch(/has NVIDIA GPUs modelship does not support yet/);
    });

    it("says why non-NVIDIA accelerators are refused", () => {
        const info = gpuInstanceInfo("inf2.xlarge");
        expect(info.ok).toBe(false);
        if (!info.ok) expect(info.reason).toContain("AWS Inferentia2 chips, not NVIDIA GPUs");
    });

    it.each(["g6", "g6.", "G6.XLARGE", "g6.huge", ""])("rejects the malformed type %p", (type) => {
        expect(parseInstanceType(type)).toBeUndefined();
        expect(gpuInstanceInfo(type).ok).toBe(false);
    });
});

describe("AMI types and architectures", () => {
    it("defaults to AL2023 NVIDIA for the family's architecture", () => {
        expect(defaultGpuAmiType("x86_64")).toBe("AL2023_x86_64_NVIDIA");
        expect(defaultGpuAmiType("arm64")).toBe("AL2023_ARM_64_NVIDIA");
    });

    it("allows only NVIDIA AMI types", () => {
        expect(["AL2023_x86_64_NVIDIA", "AL2023_ARM_64_NVIDIA", "BOTTLEROCKET_x86_64_NVIDIA", "BOTTLEROCKET_ARM_64_NVIDIA"].every(isGpuAmiType)).toBe(true);
        expect(["AL2_x86_64_GPU", "AL2023_x86_64_STANDARD", "BOTTLEROCKET_x86_64", "toString"].some(isGpuAmiType)).toBe(false);
    });

    it("tells Graviton CPU types from x86 ones", () => {
        expect(["m7g.large", "c6gn.xlarge", "t4g.small", "r8gd.large", "a1.large"].map(cpuArchitecture)).toEqual(["arm64", "arm64", "arm64", "arm64", "arm64"]);
        expect(["m6i.large", "c5n.xlarge", "t3a.medium", "m7i-flex.large"].map(cpuArchitecture)).toEqual(["x86_64", "x86_64", "x86_64", "x86_64"]);
        expect(systemAmiType("arm64")).toBe("AL2023_ARM_64_STANDARD");
    });
});

describe("node volumes", () => {
    const key = "arn:aws:kms:us-west-2:123456789012:key/volumes";
    it("puts AL2023 images on a gp3 root volume encrypted with the given key", () => {
        expect(nodeBlockDevices("al2023", 80, key)).toEqual([{ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true", deleteOnTermination: "true", kmsKeyId: key, volumeSize: 80 } }]);
    });

    it("sizes Bottlerocket's data volume and encrypts its OS volume at the AMI's size", () => {
        const [os, data] = nodeBlockDevices("bottlerocket", 80, key);
        expect(os).toEqual({ deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true", deleteOnTermination: "true", kmsKeyId: key } });
        expect(data.ebs.kmsKeyId).toBe(key);
        expect(data.deviceName).toBe("/dev/xvdb");
        expect(data.ebs.volumeSize).toBe(80);
    });
});

describe("cluster-autoscaler helpers", () => {
    const shape = {
        name: "l4",
        labels: { "modelship.dev/accelerator": "nvidia", team: "a" },
        taints: [{ key: GPU_TAINT_KEY, value: "true", effect: "NoSchedule" as const }],
        gpusPerNode: 4,
    };

    it("describes a node as resources, label and taint tags", () => {
        expect(nodeTemplateTags(shape)).toEqual({
            "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": "4",
            "k8s.io/cluster-autoscaler/node-template/label/modelship.dev/accelerator": "nvidia",
            "k8s.io/cluster-autoscaler/node-template/label/team": "a",
            "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
        });
    });

    it("scopes eks:DescribeNodegroup to the cluster's node groups", () => {
        expect(nodegroupArnPattern("arn:aws:eks:eu-west-1:111122223333:cluster/prod")).toBe("arn:aws:eks:eu-west-1:111122223333:nodegroup/prod/*/*");
    });

    it("conditions every mutating action on the cluster's ownership tag", () => {
        const doc = clusterAutoscalerPolicy("prod", "arn:aws:eks:eu-west-1:111122223333:cluster/prod");
        for (const s of doc.Statement) {
            const actions = ([] as string[]).concat(s.Action);
            const mutating = actions.filter((a) => !/:(Describe|Get)/.test(a));
            if (mutating.length > 0) expect(s.Condition).toEqual({ StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/prod": "owned" } });
        }
        expect(doc.Statement.flatMap((s) => ([] as string[]).concat(s.Action))).toEqual(
            expect.arrayContaining(["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup", "eks:DescribeNodegroup"]),
        );
    });

    it("matches the autoscaler's minor version to the control plane's", () => {
        expect(clusterAutoscalerImageTag("1.33")).toBe("v1.33.0");
        // 1.27 has no .0 release.
        expect(clusterAutoscalerImageTag("1.27")).toBe("v1.27.1");
    });
});

describe("add-on values and scheduling", () => {
    it("pins every chart to an exact version", () => {
        expect(GPU_CLUSTER_CHARTS.nvidiaDevicePlugin.version).toBe("0.18.0");
        expect(GPU_CLUSTER_CHARTS.clusterAutoscaler.version).toBe("9.50.0");
        expect(GPU_CLUSTER_CHARTS.metricsServer.version).toBe("3.13.0");
        for (const c of Object.values(GPU_CLUSTER_CHARTS)) expect(c.version).toMatch(/^\d+\.\d+\.\d+$/);
    });

    it("makes the device plugin tolerate exactly what GPU pods tolerate", () => {
        const values = devicePluginValues() as { tolerations: unknown[]; gfd: unknown; nfd: unknown };
        for (const t of gpuScheduling().tolerations) expect(values.tolerations).toContainEqual(t);
        expect(values.gfd).toEqual({ enabled: false });
        expect(values.nfd).toEqual({ enabled: false });
    });

    it("returns a fresh scheduling object each time", () => {
        const a = gpuScheduling();
        a.nodeSelector.extra = "x";
        expect(gpuScheduling().nodeSelector).toEqual({ "modelship.dev/accelerator": "nvidia" });
    });
});

describe("resolveGpuNodeGroup", () => {
    it("applies the defaults and derives labels", () => {
        const g = resolveGpuNodeGroup({ name: "h100", instanceTypes: ["p5.48xlarge"], maxSize: 2 });
        expect(g).toMatchObject({ minSize: 0, desiredSize: 0, capacityType: "ON_DEMAND", amiType: "AL2023_x86_64_NVIDIA", diskSizeGb: 100, gpusPerNode: 8 });
        expect(g.labels["modelship.dev/gpu-model"]).toBe("nvidia-h100");
        expect(GPU_CLUSTER_DEFAULTS.gpuNodeGroup.minSize).toBe(0);
    });

    it("uses gpusPerNode for a size the table does not list", () => {
        expect(resolveGpuNodeGroup({ name: "big", instanceTypes: ["g6.96xlarge"], maxSize: 1, gpusPerNode: 8 }).gpusPerNode).toBe(8);
    });
});

describe("validateGpuClusterArgs", () => {
    const ok: GpuClusterArgs = { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }], publicAccessCidrs: ["203.0.113.0/24"] };
    const group = (extra: object) => ({ gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2, ...extra }] });
    const fails = (args: object) => () => validateGpuClusterArgs("c", { ...ok, ...args } as GpuClusterArgs);

    it("accepts the minimal args", () => {
        expect(() => validateGpuClusterArgs("c", ok)).not.toThrow();
    });

    it.each([
        ["a missing gpuNodeGroups", { gpuNodeGroups: undefined }, /gpuNodeGroups is empty: add at least one group/],
        ["mixed architectures", group({ instanceTypes: ["g6.xlarge", "g5g.xlarge"] }), /instanceTypes mixes x86_64 and arm64 families/],
        ["mixed GPU models", group({ instanceTypes: ["g6.xlarge", "g5.xlarge"] }), /mixes GPU models \(nvidia-l4, nvidia-a10g\)/],
        ["mixed GPU counts", group({ instanceTypes: ["g6.xlarge", "g6.12xlarge"] }), /mixes GPU counts per node/],
        ["an unlisted size without gpusPerNode", group({ instanceTypes: ["g6.96xlarge"] }), /gpuNodeGroups\[0\]\.gpusPerNode is needed/],
        ["a gpusPerNode contradicting the table", group({ gpusPerNode: 2 }), /gpusPerNode is 2 but g6\.xlarge has 1 GPUs per node/],
        ["desiredSize out of range", group({ desiredSize: 5 }), /desiredSize \(5\) must lie between minSize \(0\) and maxSize \(2\)/],
        ["a bad capacity type", group({ capacityType: "RESERVED" }), /capacityType "RESERVED" must be "ON_DEMAND" or "SPOT"/],
        ["a reserved label", group({ labels: { "modelship.dev/accelerator": "amd" } }), /labels "modelship\.dev\/accelerator" uses a prefix modelship or Kubernetes owns/],
        ["an invalid label", group({ labels: { "bad key": "v" } }), /labels key "bad key" has the name part "bad key": use letters/],
        ["a tiny disk", group({ diskSizeGb: 8 }), /diskSizeGb must be a whole number of GiB from 20/],
        ["an uppercase group name", group({ name: "L4" }), /gpuNodeGroups\[0\]\.name "L4" must be 1-20 lowercase/],
        ["a malformed version", { version: "1.33.2" }, /version "1\.33\.2" must be a Kubernetes minor version/],
        ["a VPC without subnets", { vpcId: "vpc-1" }, /privateSubnetIds is required with vpcId/],
        ["a single private subnet", { vpcId: "vpc-1", privateSubnetIds: ["subnet-a"] }, /privateSubnetIds must list subnets in at least two availability zones/],
        ["a bad CIDR", { publicAccessCidrs: ["10.0.0.0/33"] }, /publicAccessCidrs\[0\] "10\.0\.0\.0\/33" is not an IPv4 CIDR/],
        ["an account ID as admin", { admins: ["123456789012"] }, /admins\[0\] "123456789012" is not an IAM role or user ARN/],
        ["a GPU system group", { systemNodeGroup: { instanceTypes: ["g6.xlarge"] } }, /systemNodeGroup\.instanceTypes\[0\] "g6\.xlarge" is a GPU instance/],
        ["a system group that can reach zero", { systemNodeGroup: { minSize: 0 } }, /systemNodeGroup\.minSize must be a whole number >= 1/],
        ["a zero scale-down delay", { scaleDownDelay: "0m" }, /scaleDownDelay "0m" must be a non-zero duration/],
        ["a bare-number scale-down delay", { scaleDownDelay: "10" }, /scaleDownDelay "10" must be a non-zero duration/],
        ["a single-zone VPC", { availabilityZones: 1 }, /availabilityZones must be a whole number from 2 to 6/],
    ])("rejects %s", (_what, args, message) => {
        expect(fails(args)).toThrow(message);
    });

    it("lists every problem at once", () => {
        expect(fails(group({ minSize: 3, maxSize: 1, instanceTypes: ["m5.large"] }))).toThrow(/Also:\n {2}- .*maxSize \(1\) is less than minSize \(3\)/);
    });

    it("accepts an Output-typed subnet list without counting it", () => {
        expect(() => validateGpuClusterArgs("c", { ...ok, vpcId: "vpc-1", privateSubnetIds: { apply: () => undefined } as never })).not.toThrow();
    });
});
