import { installMockRuntime } from "../support/mocks";

const recorder = installMockRuntime();
import { EdgeDevice, deviceHostname, validateEdgeDeviceArgs } from "../../components/edge-device";

const REF = `123456789012.dkr.ecr.eu-central-1.amazonaws.com/m@sha256:${"a".repeat(64)}`;

describe("EdgeDevice", () => {
    it("pulls the image with the device's provider and runs it from the pulled image ID", async () => {
        new EdgeDevice("dev", { host: "tcp://10.0.0.5:2376", image: REF, memoryMb: 2048, env: { LOG_LEVEL: "debug" } });
        await recorder.settle();
        const pull = recorder.one("docker:index/remoteImage:RemoteImage", "dev-image");
        expect(pull.inputs).toMatchObject({ name: REF, keepLocally: true });
        expect(pull.provider).toContain("dev-docker");
        const c = recorder.one("docker:index/container:Container", "dev-container").inputs;
        expect(c.image).toBe(pull.state.imageId);
        expect(c.memory).toBe(2048);
        expect(c.securityOpts).toEqual(["no-new-privileges:true"]);
        expect(c.tmpfs).toEqual({ "/tmp": "rw,noexec,nosuid,size=256m" });
        expect(c.stopTimeout).toBeGreaterThan(25); // longer than the server's drain
        expect(c.envs).toEqual(["LOG_LEVEL=debug", "PORT=8080"]);
        expect(c.gpus).toBeUndefined();
    });

    it("keeps secret environment values secret", async () => {
        const { secret } = await import("@pulumi/pulumi");
        new EdgeDevice("sec", { host: "ssh://a@b.example.com", image: REF, env: { TOKEN: secret("t0ken") } });
        await recorder.settle();
        expect(recorder.one("docker:index/container:Container", "sec-container").secretPaths).toContain("envs");
    });

    it.each([
        [{ host: "jetson-01" }, /host "jetson-01" is not a Docker host: use ssh:\/\/user@device/],
        [{ image: "ghcr.io/acme/m:latest" }, /image "ghcr.io\/acme\/m:latest" is not pinned by digest/],
        [{ user: "0:0" }, /user "0:0" must be a numeric non-root uid/],
        [{ user: "root" }, /user "root" must be a numeric non-root uid/],
        [{ hostPort: 70000 }, /hostPort must be a port number 1-65535/],
        [{ platform: "windows/amd64" }, /platform "windows\/amd64" is not one of/],
    ])("rejects %o", (override, message) => {
        expect(() => validateEdgeDeviceArgs("dev", { host: "ssh://a@b", image: REF, ...override })).toThrow(message);
    });

    it("accepts a tag only when allowMutableTag is set", () => {
        expect(() => validateEdgeDeviceArgs("dev", { host: "ssh://a@b", image: "m:1", allowMutableTag: true })).not.toThrow();
    });

    it("derives the hostname clients reach", () => {
        expect(deviceHostname("ssh://deploy@jetson.example.com:2222")).toBe("jetson.example.com");
        expect(deviceHostname("tcp://10.0.0.5:2376")).toBe("10.0.0.5");
        expect(deviceHostname("unix:///var/run/docker.sock")).toBe("localhost");
    });
});
