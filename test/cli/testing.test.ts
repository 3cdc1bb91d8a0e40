/**
 * `modelship/testing` (cli/testing.ts) as a user's jest test would use it: mocks written as Pulumi's docs show
 * (`newResource: (args) => ({ id, state: args.inputs })`), wrapped by `modelshipMocks`, serve modelship's components.
 */
import * as pulumi from "@pulumi/pulumi";
import { modelshipMocks, mockOutputs, installMockRuntime, valueOf, MOCK_ACCOUNT_ID } from "../../cli/testing";
import type * as components from "../../components";

const registered: pulumi.runtime.MockResourceArgs[] = [];

// The user's own mocks, as in Pulumi's unit-testing guide; one resource type gets a state of the user's choosing.
pulumi.runtime.setMocks(
    modelshipMocks({
        newResource: (args) => {
            registered.push(args);
            if (args.type === "aws:kms/key:Key") return { id: `${args.name}_id`, state: { ...args.inputs, arn: "arn:aws:kms:us-west-2:111111111111:key/mine" } };
            return { id: `${args.name}_id`, state: args.inputs };
        },
        call: (args) => (args.token === "aws:index/getRegion:getRegion" ? { name: "eu-west-1", region: "eu-west-1", id: "eu-west-1" } : args.inputs),
    }),
    "my-app",
    "test",
);

// Imported after setMocks, as Pulumi's guide says.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { GpuCluster, ImageRegistry, InferenceImage } = require("../../components") as typeof components;

describe("modelshipMocks around mocks written as Pulumi's docs show", () => {
    const cluster = new GpuCluster("ml", { publicAccessCidrs: ["203.0.113.0/24"], gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] });
    const registry = new ImageRegistry("reg", {});
    const image = new InferenceImage("img", { registry, context: "inference-image" } as ConstructorParameters<typeof InferenceImage>[1]);

    it("gives the EKS cluster a kubeconfig", async () => {
        const kubeconfig = (await valueOf(cluster.kubeconfig)) as unknown as { clusters: { cluster: { server: string } }[] } | string;
        const parsed = typeof kubeconfig === "string" ? JSON.parse(kubeconfig) : kubeconfig;
        expect(parsed.clusters[0].cluster.server).toMatch(/^https:\/\/[0-9A-F]{32}\.gr7\.us-west-2\.eks\.amazonaws\.com$/);
    });

    it("gives the ECR repository its URL and the image a digest-pinned ref", async () => {
        expect(await valueOf(registry.repositoryUrl)).toMatch(new RegExp(`^${MOCK_ACCOUNT_ID}\\.dkr\\.ecr\\.us-west-2\\.amazonaws\\.com/`));
        expect(await valueOf(image.ref)).toMatch(/\.amazonaws\.com\/[^@]+@sha256:[0-9a-f]{64}$/);
    });

    it("gives managed node groups their Auto Scaling group, which the cluster tags for scale-from-zero", async () => {
        await valueOf(cluster.kubeconfig);
        await new Promise((r) => setTimeout(r, 200));
        const tags = registered.filter((a) => a.type === "aws:autoscaling/tag:Tag");
        expect(tags.length).toBeGreaterThan(0);
        expect(tags.map((t) => t.inputs.autoscalingGroupName)).toContain(mockOutputs("eks:index:ManagedNodeGroup", "ml-gpu-l4", {}).nodeGroup.resources[0].autoscalingGroups[0].name);
    });

    it("keeps the state and call answers the user's mocks give", async () => {
        // The user's KMS key ARN, not modelship's mock one, reaches the cluster's secrets encryption.
        const eksCluster = registered.find((a) => a.type === "eks:index:Cluster");
        expect(JSON.stringify(eksCluster?.inputs)).toContain("arn:aws:kms:us-west-2:111111111111:key/mine");
        const region = await pulumi.runtime.invoke("aws:index/getRegion:getRegion", {});
        expect(region).toMatchObject({ name: "eu-west-1" });
        const identity = await pulumi.runtime.invoke("aws:index/getCallerIdentity:getCallerIdentity", {});
        expect(identity).toMatchObject({ accountId: MOCK_ACCOUNT_ID });
    });
});

describe("modelshipMocks refuses what the provider would", () => {
    it("rejects a resource whose autonamed IAM name overflows 64 characters, naming it and the fix; accepts it when asked", async () => {
        const args = { type: "aws:iam/role:Role", name: "r".repeat(60), inputs: {}, custom: true } as pulumi.runtime.MockResourceArgs;
        await expect(modelshipMocks().newResource(args)).rejects.toThrow(/aws:iam\/role:Role::r{60}: aws:iam\/role:Role: AWS allows 64 characters/);
        await expect(modelshipMocks({}, { enforceContracts: false }).newResource(args)).resolves.toMatchObject({ id: `${"r".repeat(60)}_id` });
        await expect(modelshipMocks().newResource({ ...args, name: "r" })).resolves.toMatchObject({ id: "r_id" });
    });
});

describe("mockOutputs", () => {
    it("returns modelship's provider outputs for a type, and nothing for an unknown type", () => {
        expect(mockOutputs("aws:iam/role:Role", "r", { name: "runner" }).arn).toBe(`arn:aws:iam::${MOCK_ACCOUNT_ID}:role/runner`);
        expect(mockOutputs("aws:ecr/repository:Repository", "x", { name: "repo" })).toMatchObject({ repositoryUrl: `${MOCK_ACCOUNT_ID}.dkr.ecr.us-west-2.amazonaws.com/repo`, arn: expect.stringContaining(":repository/repo") });
        expect(mockOutputs("custom:index:Thing", "x", {})).toEqual({});
    });
    it("exports the recording runtime too", () => {
        expect(typeof installMockRuntime).toBe("function");
    });
});
