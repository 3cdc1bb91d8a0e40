import { installMockRuntime, valueOf } from "../support/mocks";

const recorder = installMockRuntime({ outputs: { "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }) } });
import * as pulumi from "@pulumi/pulumi";
import { GpuCluster, checkedPublicAccessCidrs, validateGpuClusterArgs, type GpuClusterArgs } from "../../components/gpu-cluster";
import { checkInputs } from "../../components/internal/inputs";
import { outputError } from "../support/output-error";

const CLUSTER = "eks:index:Cluster";
const MNG = "eks:index:ManagedNodeGroup";
const VPC_CNI = "eks:index:VpcCniAddon";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const ROLE = "aws:iam/role:Role";
const groups = [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }];

describe("GpuCluster endpoint choice: explicit, and private only when pulumi up reaches it", () => {
    const check = (args: Partial<GpuClusterArgs>) => () => validateGpuClusterArgs("ml", { gpuNodeGroups: groups, ...args });

    it("refuses the old silent default (no CIDRs, no choice): private-only while charts install through the endpoint", () => {
        expect(check({})).toThrow(
            'GpuCluster "ml": publicAccessCidrs is empty, so the API endpoint would be private-only, yet this program installs Helm charts through it from the machine running pulumi up',
        );
        expect(check({})).toThrow(/or set endpointAccess: "private" with privateEndpointReachable: true once you run pulumi up from inside the VPC \(a self-hosted runner in it, a VPN, a bastion or SSM tunnel\)/);
        expect(check({ publicAccessCidrs: [] })).toThrow(/publicAccessCidrs is empty/);
    });

    it("refuses a private endpoint without the confirmation, saying how to reach it", () => {
        expect(check({ endpointAccess: "private" })).toThrow(
            /privateEndpointReachable must be true with endpointAccess: "private": .*self-hosted runner in it, a VPN, a bastion or SSM tunnel/,
        );
        expect(check({ endpointAccess: "private", privateEndpointReachable: false })).toThrow(/privateEndpointReachable must be true/);
    });

    it("refuses contradictions", () => {
        expect(check({ endpointAccess: "private", privateEndpointReachable: true, publicAccessCidrs: ["203.0.113.0/24"] })).toThrow(
            /publicAccessCidrs is given with endpointAccess: "private"/,
        );
        expect(check({ endpointAccess: "public" })).toThrow(/publicAccessCidrs is empty with endpointAccess: "public"/);
        expect(check({ publicAccessCidrs: ["203.0.113.0/24"], privateEndpointReachable: true })).toThrow(/privateEndpointReachable only applies to endpointAccess: "private"/);
        expect(check({ endpointAccess: "both" as never, publicAccessCidrs: ["203.0.113.0/24"] })).toThrow(/endpointAccess "both" must be "public" or "private"/);
    });

    it("accepts a public endpoint from its CIDRs alone, and a confirmed private one", () => {
        expect(check({ publicAccessCidrs: ["203.0.113.0/24"] })).not.toThrow();
        expect(check({ endpointAccess: "private", privateEndpointReachable: true })).not.toThrow();
    });
});

describe("GpuCluster takes Outputs for admins and publicAccessCidrs", () => {
    let cluster: GpuCluster;
    const adminRole = "arn:aws:iam::123456789012:role/platform-admin";
    beforeAll(async () => {
        const args: GpuClusterArgs = {
            gpuNodeGroups: [...groups, { name: "a10", instanceTypes: ["g5.xlarge"], maxSize: 1 }],
            // What a Pulumi user writes: another resource's outputs, mixed with plain values.
            admins: [pulumi.output(adminRole), "arn:aws:iam::123456789012:user/ops"],
            publicAccessCidrs: [pulumi.output("203.0.113.0/24"), "198.51.100.7/32"],
        };
        cluster = new GpuCluster("out", args);
        await recorder.settle();
    });

    it("registers the resolved values: a public endpoint for those CIDRs, access entries for those principals", () => {
        const c = recorder.one(CLUSTER, "out-eks").inputs;
        expect(c.endpointPublicAccess).toBe(true);
        expect(c.publicAccessCidrs).toEqual(["203.0.113.0/24", "198.51.100.7/32"]);
        expect(c.accessEntries["admin-0"].principalArn).toBe(adminRole);
        expect(c.accessEntries["admin-1"].principalArn).toBe("arn:aws:iam::123456789012:user/ops");
        expect(cluster.endpointAccess).toBe("public");
    });

    it("still checks the plain elements at construction, by index", () => {
        expect(() => new GpuCluster("late", { gpuNodeGroups: groups, admins: [pulumi.output(adminRole), "123456789012"], publicAccessCidrs: ["203.0.113.0/24"] })).toThrow(
            'GpuCluster "late": admins[1] "123456789012" is not an IAM role or user ARN',
        );
        expect(() => new GpuCluster("late", { gpuNodeGroups: groups, publicAccessCidrs: [pulumi.output("203.0.113.0/24"), "10.0.0.1/8"] })).toThrow(
            /publicAccessCidrs\[1\] "10\.0\.0\.1\/8" has host bits set/,
        );
    });

    it("fails the update when an Output resolves to a bad value, with the construction-time message", async () => {
        const wide = await outputError(checkedPublicAccessCidrs("ml", [pulumi.output("0.0.0.0/1"), pulumi.output("128.0.0.0/1")]));
        expect(wide?.message).toMatch(/^GpuCluster "ml": publicAccessCidrs together cover 4,294,967,296 addresses/);
        const hostBits = await outputError(checkedPublicAccessCidrs("ml", ["203.0.113.0/24", pulumi.output("10.0.0.1/8")]));
        expect(hostBits?.message).toMatch(/^GpuCluster "ml": publicAccessCidrs\[1\] "10\.0\.0\.1\/8" has host bits set/);
        expect(await valueOf(checkedPublicAccessCidrs("ml", [pulumi.output("203.0.113.0/24")]))).toEqual(["203.0.113.0/24"]);
        const { adminProblem } = await import("../../components/gpu-cluster");
        const admin = await outputError(checkInputs({ component: "GpuCluster", name: "ml", field: "admins" }, [pulumi.output("123456789012")], adminProblem)[0]);
        expect(admin?.message).toBe('GpuCluster "ml": admins[0] "123456789012" is not an IAM role or user ARN (e.g. arn:aws:iam::123456789012:role/platform-admin)');
    });

    describe("exposes its children, the registered resources", () => {
        const urn = async (r: pulumi.Resource) => valueOf(r.urn);
        it("the eks.Cluster", async () => expect(await urn(cluster.cluster)).toBe(recorder.one(CLUSTER, "out-eks").urn));
        it("the node role", async () => expect(await urn(cluster.nodeRole)).toBe(recorder.one(ROLE, "out-node-role").urn));
        it("the node groups, GPU ones by group name", async () => {
            expect(Object.keys(cluster.gpuNodeGroups)).toEqual(["l4", "a10"]);
            expect(await urn(cluster.gpuNodeGroups.l4)).toBe(recorder.one(MNG, "out-gpu-l4").urn);
            expect(await urn(cluster.gpuNodeGroups.a10)).toBe(recorder.one(MNG, "out-gpu-a10").urn);
            expect(await urn(cluster.systemNodeGroup)).toBe(recorder.one(MNG, "out-system").urn);
        });
        it("the VPC CNI add-on, the created VPC and the add-on releases", async () => {
            expect(await urn(cluster.vpcCni)).toBe(recorder.one(VPC_CNI, "out-vpc-cni").urn);
            expect(await urn(cluster.vpc!)).toBe(recorder.one("awsx:ec2:Vpc", "out-vpc").urn);
            expect(await urn(cluster.addons.nvidiaDevicePlugin)).toBe(recorder.one(RELEASE, "out-nvidia-device-plugin").urn);
            expect(await urn(cluster.addons.metricsServer)).toBe(recorder.one(RELEASE, "out-metrics-server").urn);
        });
        it("the security groups, as pulumi-eks reports them, in the registered outputs", async () => {
            const outputs = recorder.one("modelship:index:GpuCluster", "out").outputs!;
            expect(outputs).toHaveProperty("clusterSecurityGroupId");
            expect(outputs).toHaveProperty("nodeSecurityGroupId");
            expect(outputs.endpointAccess).toBe("public");
            expect(await valueOf(cluster.clusterSecurityGroupId)).toBe("sg-0123456789abcdef0");
            expect(await valueOf(cluster.nodeSecurityGroupId)).toBe("sg-0fedcba9876543210");
            expect(outputs.clusterSecurityGroupId).toBe("sg-0123456789abcdef0");
        });
    });
});
