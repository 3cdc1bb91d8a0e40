/**
 * Issue #12, GpuCluster under the mock runtime: what the component registers so that the first and the next real
 * `pulumi up` succeed (node groups following `version`, add-ons after the nodes that run them, names within AWS's
 * limits, node volumes on a key Auto Scaling can use).
 */
import { installMockRuntime, type RecordedResource } from "../support/mocks";

const recorder = installMockRuntime({
    outputs: { "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }) },
    calls: { "aws:eks/getAddonVersion:getAddonVersion": (inputs) => ({ ...inputs, version: `${inputs.addonName}-for-${inputs.kubernetesVersion}${inputs.mostRecent ? "-newest" : ""}` }) },
});
import { GpuCluster, gpuClusterAutonamedChildren } from "../../components/gpu-cluster";
import { AWS_NAME_LIMITS, autonameOverflow } from "../../components/internal/aws-name-limits";

const MNG = "eks:index:ManagedNodeGroup";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const KEY = "aws:kms/key:Key";

const group = (name: string) => ({ name, instanceTypes: ["g6.xlarge"], maxSize: 2 });
const base = { publicAccessCidrs: ["203.0.113.0/24"] };
const LONGEST = "a".repeat(37);
let clusters: Record<string, GpuCluster>;

beforeAll(async () => {
    clusters = {
        v132: new GpuCluster("v132", { ...base, version: "1.32", gpuNodeGroups: [group("l4"), group("l4b")] }),
        v133: new GpuCluster("v133", { ...base, version: "1.33", gpuNodeGroups: [group("l4")] }),
        longest: new GpuCluster(LONGEST, { ...base, gpuNodeGroups: [group("g".repeat(50 - LONGEST.length))] }),
    };
    await recorder.settle();
});

/** Every resource under a component, at any depth. */
function descendants(root: RecordedResource): RecordedResource[] {
    const children = recorder.childrenOf(root);
    return [...children, ...children.flatMap(descendants)];
}
const component = (name: string) => recorder.one("modelship:index:GpuCluster", name);

describe("node groups follow the cluster's version", () => {
    it("gives every node group (system and GPU) the control plane's version, although each has a launch template", () => {
        const groups = recorder.ofType(MNG).filter((g) => g.name.startsWith("v132-"));
        expect(groups.map((g) => g.name).sort()).toEqual(["v132-gpu-l4", "v132-gpu-l4b", "v132-system"]);
        for (const g of groups) {
            expect(g.inputs.launchTemplate).toBeDefined();
            expect(g.inputs.version).toBe("1.32");
        }
    });

    it("changes every group's version when `version` changes", () => {
        expect(recorder.one(MNG, "v133-system").inputs.version).toBe("1.33");
        expect(recorder.one(MNG, "v133-gpu-l4").inputs.version).toBe("1.33");
    });
});

describe("autonamed children fit AWS's limits with Pulumi's suffix", () => {
    it("lists every autonamed child it records, so the construction-time budget covers them all", () => {
        const listed = new Set(gpuClusterAutonamedChildren("v132", ["l4", "l4b"]).map((c) => `${c.type}::${c.logicalName}`));
        const recorded = descendants(component("v132")).filter((r) => r.custom && AWS_NAME_LIMITS[r.type] !== undefined && r.inputs.name === undefined);
        expect(recorded.length).toBeGreaterThan(5);
        for (const r of recorded) expect(listed).toContain(`${r.type}::${r.name}`);
        // Node groups are autonamed inside eks.ManagedNodeGroup, after its own name.
        for (const g of recorder.ofType(MNG).filter((m) => m.name.startsWith("v132-"))) expect(listed).toContain(`aws:eks/nodeGroup:NodeGroup::${g.name}`);
    });

    it("keeps the longest accepted names (37-character component, 50 with the group) within every limit", () => {
        const mine = descendants(component(LONGEST));
        const overflowing = mine
            .filter((r) => r.custom && r.inputs.name === undefined)
            .map((r) => ({ type: r.type, logicalName: r.name }))
            .concat(recorder.ofType(MNG).filter((g) => g.name.startsWith(LONGEST)).map((g) => ({ type: "aws:eks/nodeGroup:NodeGroup", logicalName: g.name })))
            .filter((c) => autonameOverflow(c) !== undefined);
        expect(overflowing).toEqual([]);
        expect(gpuClusterAutonamedChildren(LONGEST, ["g".repeat(13)]).filter((c) => autonameOverflow(c) !== undefined)).toEqual([]);
    });
});

describe("add-ons wait for a node group that can run them", () => {
    it("exposes the system node group as systemNodes, for workloads to wait on", () => {
        expect(clusters.v132.systemNodes).toEqual([clusters.v132.systemNodeGroup]);
    });

    it("orders every Helm release after the system node group", () => {
        const system = recorder.one(MNG, "v132-system");
        const releases = recorder.ofType(RELEASE).filter((r) => r.name.startsWith("v132-"));
        expect(releases.map((r) => r.inputs.name).sort()).toEqual(["cluster-autoscaler", "metrics-server", "nvidia-device-plugin"]);
        for (const r of releases) expect(recorder.dependsOn(r, system)).toBe(true);
    });

    it("installs only into kube-system, which every cluster has, and creates no custom resources", () => {
        const k8sObjects = descendants(component("v132")).filter((r) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes");
        expect(k8sObjects).toHaveLength(3);
        expect(k8sObjects.every((r) => r.type === RELEASE && r.inputs.namespace === "kube-system" && !r.inputs.createNamespace)).toBe(true);
    });
});

describe("CoreDNS follows the version too", () => {
    it("takes over CoreDNS as an EKS add-on at EKS's default build for `version`, after the system nodes", () => {
        for (const [name, version] of [["v132", "1.32"], ["v133", "1.33"]]) {
            const addon = recorder.one("aws:eks/addon:Addon", `${name}-coredns`);
            expect(addon.inputs).toMatchObject({ addonName: "coredns", resolveConflictsOnCreate: "OVERWRITE", resolveConflictsOnUpdate: "OVERWRITE", preserve: true });
            expect(addon.inputs.addonVersion).toBe(`coredns-for-${version}`);
            expect(recorder.dependsOn(addon, recorder.one(MNG, `${name}-system`))).toBe(true);
        }
    });
});

describe("node volumes on a key Auto Scaling can use", () => {
    it("creates a key with rotation and Auto Scaling's policy, and puts every launch template's volumes on it", () => {
        const key = recorder.one(KEY, "v132-node-volumes-key");
        expect(key.inputs.enableKeyRotation).toBe(true);
        expect(JSON.parse(key.inputs.policy).Statement.map((s: { Sid: string }) => s.Sid)).toEqual([
            "AccountAdministersKeyThroughIam",
            "AutoScalingUsesKeyForNodeVolumes",
            "AutoScalingGrantsKeyToItsInstances",
        ]);
        const templates = recorder.ofType(LT).filter((t) => t.name.startsWith("v132-"));
        expect(templates).toHaveLength(3);
        for (const t of templates) for (const d of t.inputs.blockDeviceMappings) expect(d.ebs.kmsKeyId).toBe(key.state.arn);
    });
});
