/** `modelship/stacks`: the targets called from one's own program with only the fields one cares about. */
import * as pulumi from "@pulumi/pulumi";
import { installMockRuntime } from "../support/mocks";

const recorder = installMockRuntime();
import { cloudTarget, edgeTarget, EDGE_PLATFORMS, TargetArgsError } from "../../stacks/programs";

const cluster = { version: "1.33", publicAccessCidrs: ["203.0.113.0/24"], gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] };

describe("cloudTarget from modelship/stacks", () => {
    it("takes only the fields one sets and fills the rest with the stack files' defaults", async () => {
        const out = cloudTarget({ name: "pa", cluster, secrets: ["HF_TOKEN"], secretValues: { HF_TOKEN: pulumi.secret("hf_x") } });
        await recorder.settle();
        expect(out.service).toBeDefined();
        const deployment = recorder.one("kubernetes:apps/v1:Deployment", "pa-server-deployment").inputs;
        // service.namespace defaults to "inference", service.port to 8080, service.gpusPerPod to 1.
        expect(deployment.metadata.namespace).toBe("inference");
        const container = deployment.spec.template.spec.containers[0];
        expect(container.ports.map((p: { containerPort: number }) => p.containerPort)).toContain(8080);
        expect(container.resources.limits["nvidia.com/gpu"]).toBe("1");
        // image.context defaults to the inference-image directory, built at the gpu stage.
        expect(recorder.one("docker-build:index:Image", "pa-image-image").inputs.target).toBe("gpu");
        // The secret values travel beside the config: the pods get HF_TOKEN through the cluster's secret store.
        expect(recorder.one("modelship:index:SecretWiring", "pa-secrets")).toBeDefined();
    });

    it("reports every invalid field at once, by path, before declaring anything", () => {
        const before = recorder.resources.length;
        let err: unknown;
        try {
            cloudTarget({ name: "pb", cluster: { version: "latest", gpuNodeGroups: [] }, servce: {} } as never);
        } catch (e) {
            err = e;
        }
        expect(err).toBeInstanceOf(TargetArgsError);
        const problems = (err as TargetArgsError).problems;
        expect(problems).toHaveLength(3);
        expect(problems.join("\n")).toMatch(/^cluster\.version: expected a Kubernetes minor version/m);
        expect(problems.join("\n")).toMatch(/^cluster\.gpuNodeGroups: list at least one GPU node group/m);
        expect(problems.join("\n")).toMatch(/^servce: /m);
        expect((err as Error).message).toContain("cloudTarget: 3 invalid arguments");
        expect(recorder.resources.length).toBe(before);
    });
});

describe("edgeTarget from modelship/stacks", () => {
    it("requires what has no default, naming it", () => {
        expect(() => edgeTarget({ devicePrincipals: ["123456789012"] } as never)).toThrow(/deviceRegion: /);
    });

    it("publishes the edge platforms", () => {
        expect(EDGE_PLATFORMS).toEqual(["linux/amd64", "linux/arm64"]);
    });
});
