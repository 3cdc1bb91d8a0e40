import { installMockRuntime, valueOf } from "../support/mocks";

const recorder = installMockRuntime();
import { parseTargetConfig } from "../../stacks/config";
import { edgeTarget, type EdgeTargetOutputs } from "../../stacks/edge";

const ANCHOR = "arn:aws:rolesanywhere:eu-central-1:123456789012:trust-anchor/4f1c2b3a-0000-4000-8000-123456789abc";

describe("edge target", () => {
    let out: EdgeTargetOutputs;
    beforeAll(async () => {
        const config = parseTargetConfig("edge", (k) =>
            ({
                name: "edge",
                image: { context: "inference-image", target: "cpu" },
                deviceRegion: "eu-central-1",
                rolesAnywhereTrustAnchorArn: ANCHOR,
                devices: [
                    { name: "jetson-01", host: "ssh://deploy@jetson-01.example.com", platform: "linux/arm64", gpus: true },
                    { name: "gw-02", host: "ssh://deploy@gw-02.example.com", gpus: false, hostPort: 6000 },
                ],
            })[k],
        );
        out = edgeTarget(config);
        await recorder.settle();
    });

    it("replicates the registry to the devices' region", () => {
        const rc = recorder.one("aws:ecr/replicationConfiguration:ReplicationConfiguration").inputs.replicationConfiguration;
        expect(rc.rules[0].destinations.map((d: { region: string }) => d.region)).toEqual(["eu-central-1"]);
    });

    it("creates a pull-only role the devices assume through Roles Anywhere", () => {
        const trust = JSON.parse(recorder.one("aws:iam/role:Role", "edge-pull-role").inputs.assumeRolePolicy);
        expect(trust.Statement[0].Condition.ArnEquals["aws:SourceArn"]).toEqual([ANCHOR]);
    });

    it("builds the image for amd64 and arm64", () => {
        expect(recorder.one("docker-build:index:Image").inputs.platforms).toEqual(["linux/amd64", "linux/arm64"]);
    });

    it("pulls on each device by digest, from the replica in the devices' region", async () => {
        const ref = await valueOf(out.image.ref);
        const deviceRef = ref.replace(".us-west-2.", ".eu-central-1.");
        expect(deviceRef).toMatch(/^123456789012\.dkr\.ecr\.eu-central-1\.amazonaws\.com\/edge@sha256:[0-9a-f]{64}$/);
        const pulls = recorder.ofType("docker:index/remoteImage:RemoteImage");
        expect(pulls.map((p) => p.inputs.name)).toEqual([deviceRef, deviceRef]);
        expect(pulls.find((p) => p.name === "edge-jetson-01-image")?.inputs.platform).toBe("linux/arm64");
    });

    it("talks to each device's own Docker engine over SSH, logged in to the replica registry", () => {
        const providers = recorder.ofType("pulumi:providers:docker");
        expect(providers.map((p) => p.inputs.host).sort()).toEqual(["ssh://deploy@gw-02.example.com", "ssh://deploy@jetson-01.example.com"]);
        const jetson = recorder.one("pulumi:providers:docker", "edge-jetson-01-docker");
        // Provider config reaches the engine JSON-encoded; the ECR password makes the whole entry secret.
        const auth = JSON.parse(jetson.inputs.registryAuth);
        expect(auth).toEqual([{ address: "123456789012.dkr.ecr.eu-central-1.amazonaws.com", username: "AWS", password: "mock-ecr-password" }]);
        expect(jetson.secretPaths).toContain("registryAuth");
        const container = recorder.one("docker:index/container:Container", "edge-jetson-01-container");
        expect(container.provider).toContain("edge-jetson-01-docker");
    });

    it("runs the article's docker run as code: GPUs, published port, non-root, read-only, health check, restart", () => {
        const c = recorder.one("docker:index/container:Container", "edge-jetson-01-container").inputs;
        expect(c.gpus).toBe("all");
        expect(c.ports).toEqual([{ internal: 8080, external: 5000, protocol: "tcp" }]);
        expect(c.user).toBe("10001:10001");
        expect(c.readOnly).toBe(true);
        expect(c.capabilities).toEqual({ drops: ["ALL"] });
        expect(c.restart).toBe("unless-stopped");
        expect(c.healthcheck.tests.join(" ")).toContain("/v2/health/ready");
        expect(c.envs).toEqual(expect.arrayContaining(["MODEL_NAME=demo", "PORT=8080"]));
        const gw = recorder.one("docker:index/container:Container", "edge-gw-02-container").inputs;
        expect(gw.gpus).toBeUndefined();
        expect(gw.ports[0].external).toBe(6000);
    });

    it("exposes each device's endpoint", async () => {
        expect(await valueOf(out.devices[0].endpoint)).toBe("http://jetson-01.example.com:5000");
    });
});
