import { installMockRuntime } from "../support/mocks";

const recorder = installMockRuntime();
import * as pulumi from "@pulumi/pulumi";
import { createHmac } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    EDGE_DEVICE_DEFAULTS,
    EdgeDevice,
    deviceHostname,
    hostWarnings,
    insecureSshOpts,
    knownHostsHasKey,
    knownHostsName,
    knownHostsProblem,
    previewIgnoredProviderInputs,
    validateEdgeDeviceArgs,
} from "../../components/edge-device";

const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
const TLS = { caCert: PEM_CERT, clientCert: PEM_CERT, clientKey: PEM_KEY };

const REF = `123456789012.dkr.ecr.eu-central-1.amazonaws.com/m@sha256:${"a".repeat(64)}`;

describe("EdgeDevice", () => {
    it("pulls the image with the device's provider and runs it from the pulled image ID", async () => {
        new EdgeDevice("dev", { host: "tcp://10.0.0.5:2376", tls: TLS, image: REF, memoryMb: 3072, env: { LOG_LEVEL: "debug" } });
        await recorder.settle();
        const pull = recorder.one("docker:index/remoteImage:RemoteImage", "dev-image");
        expect(pull.inputs).toMatchObject({ name: REF, keepLocally: true });
        expect(pull.provider).toContain("dev-docker");
        const c = recorder.one("docker:index/container:Container", "dev-container").inputs;
        expect(c.image).toBe(pull.state.imageId);
        expect(c.memory).toBe(3072);
        expect(c.memorySwap).toBe(3072);
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

    it("gives a tcp:// engine mutual TLS, every piece of it secret", () => {
        const provider = recorder.one("pulumi:providers:docker", "dev-docker");
        expect(provider.inputs).toMatchObject({ host: "tcp://10.0.0.5:2376", caMaterial: PEM_CERT, certMaterial: PEM_CERT, keyMaterial: PEM_KEY });
        expect(provider.secretPaths).toEqual(expect.arrayContaining(["caMaterial", "certMaterial", "keyMaterial"]));
    });

    it("limits memory by default (a device has no scheduler to protect it), swap included", async () => {
        new EdgeDevice("lim", { host: "ssh://deploy@b.example.com", image: REF });
        await recorder.settle();
        const c = recorder.one("docker:index/container:Container", "lim-container").inputs;
        expect(c.memory).toBe(EDGE_DEVICE_DEFAULTS.memoryMb);
        expect(c.memory).toBe(2048);
        expect(c.memorySwap).toBe(c.memory);
    });

    it("warns, naming the resource, when it connects as root", async () => {
        const warn = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
        try {
            const device = new EdgeDevice("rooted", { host: "ssh://root@jetson-09.example.com", image: REF });
            new EdgeDevice("unrooted", { host: "ssh://deploy@jetson-10.example.com", image: REF });
            await recorder.settle();
            expect(warn).toHaveBeenCalledTimes(1);
            expect(warn.mock.calls[0][0]).toMatch(/^EdgeDevice "rooted": host "ssh:\/\/root@jetson-09.example.com" connects as root over SSH: use a user in the device's docker group/);
            expect(warn.mock.calls[0][1]).toBe(device);
        } finally {
            warn.mockRestore();
        }
        expect(hostWarnings("ssh://rooter@x")).toEqual([]);
    });

    it("ignores the rotating registry token in previews only, and only when there is one", () => {
        expect(previewIgnoredProviderInputs(true, true)).toEqual(["registryAuth"]);
        expect(previewIgnoredProviderInputs(false, true)).toBeUndefined();
        expect(previewIgnoredProviderInputs(true, false)).toBeUndefined();
        // The mock runtime runs an update: the fresh token is written.
        expect(recorder.one("pulumi:providers:docker", "dev-docker").ignoreChanges).toEqual([]);
    });

    it("finds the ssh options that turn host-key checking off, in each form ssh takes", () => {
        expect(insecureSshOpts(["-o", "StrictHostKeyChecking=no", "-oUserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5"])).toEqual([
            "StrictHostKeyChecking=no",
            "-oUserKnownHostsFile=/dev/null",
        ]);
        expect(insecureSshOpts(["-o", "StrictHostKeyChecking no"])).toEqual(["StrictHostKeyChecking no"]);
        expect(insecureSshOpts(["-o", "StrictHostKeyChecking=yes", "-o", "StrictHostKeyChecking=accept-new"])).toEqual([]);
    });

    it("accepts disabled host-key checking only with insecureHostKey", () => {
        const args = { host: "ssh://a@b", image: REF, sshOpts: ["-o", "StrictHostKeyChecking=no"] };
        expect(() => validateEdgeDeviceArgs("dev", args)).toThrow(/sshOpts \["StrictHostKeyChecking=no"\] turns off SSH host-key checking[\s\S]*or set insecureHostKey: true/);
        expect(() => validateEdgeDeviceArgs("dev", { ...args, insecureHostKey: true })).not.toThrow();
    });

    it.each([
        [{ host: "tcp://10.0.0.5:2375" }, /tls is required for "tcp:\/\/10.0.0.5:2375": plain TCP gives anyone on the network root on the device/],
        [{ host: "ssh://a@b", tls: TLS }, /tls only applies to a tcp:\/\/ host/],
        [{ host: "tcp://h:2376", tls: { ...TLS, clientKey: "/etc/docker/key.pem" } }, /tls.clientKey is not PEM private key content: pass the file's content, not its path/],
        [{ host: "tcp://h:2376", tls: { ...TLS, caCert: "" } }, /tls.caCert is empty/],
        [{ memoryMb: 32 }, /memoryMb must be a whole number of MiB from 64/],
        [{ memoryMb: 1.5e3 + 0.5 }, /memoryMb must be a whole number/],
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
        expect(deviceHostname("ssh://root@jetson.example.com")).toBe("jetson.example.com");
        expect(deviceHostname("unix:///var/run/docker.sock")).toBe("localhost");
    });
});

describe("EdgeDevice knownHostsFile: ssh checks the device against a shipped, verified key", () => {
    const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMnf99zPdd2iuHEvJe4JK4n/uC6L1Wb2odsQjm5jkwHR";
    const hashed = (name: string) => {
        const salt = Buffer.from("0123456789abcdef0123");
        return `|1|${salt.toString("base64")}|${createHmac("sha1", salt).update(name).digest("base64")}`;
    };
    const file = (text: string) => {
        const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "modelship-kh-")), "known_hosts");
        fs.writeFileSync(f, text);
        return f;
    };

    it("looks a host up as ssh does: host on port 22, [host]:port elsewhere", () => {
        expect(knownHostsName("ssh://deploy@jetson-01.example.com")).toBe("jetson-01.example.com");
        expect(knownHostsName("ssh://deploy@jetson-01.example.com:22")).toBe("jetson-01.example.com");
        expect(knownHostsName("ssh://deploy@jetson-01.example.com:2222")).toBe("[jetson-01.example.com]:2222");
    });

    it("finds plain, listed, wildcard and hashed entries; skips @revoked, negated and malformed ones", () => {
        expect(knownHostsHasKey(`a.example.com,b.example.com ${KEY}\n`, "b.example.com")).toBe(true);
        expect(knownHostsHasKey(`*.factory.example.com ${KEY}\n`, "jetson-01.factory.example.com")).toBe(true);
        expect(knownHostsHasKey(`[j.example.com]:2222 ${KEY}\n`, "[j.example.com]:2222")).toBe(true);
        expect(knownHostsHasKey(`[j.example.com]:2222 ${KEY}\n`, "j.example.com")).toBe(false);
        expect(knownHostsHasKey(`${hashed("j.example.com")} ${KEY}\n`, "j.example.com")).toBe(true);
        expect(knownHostsHasKey(`${hashed("j.example.com")} ${KEY}\n`, "k.example.com")).toBe(false);
        expect(knownHostsHasKey(`@revoked j.example.com ${KEY}\n`, "j.example.com")).toBe(false);
        expect(knownHostsHasKey(`*.example.com,!j.example.com ${KEY}\n`, "j.example.com")).toBe(false);
        expect(knownHostsHasKey(`# j.example.com ${KEY}\nj.example.com\n`, "j.example.com")).toBe(false);
    });

    it("refuses, at construction, a device the file does not know, naming the ssh-keyscan and the fingerprint check", () => {
        const f = file(`other.example.com ${KEY}\n`);
        expect(() => validateEdgeDeviceArgs("dev", { host: "ssh://deploy@j.example.com:2222", image: REF, knownHostsFile: f })).toThrow(
            new RegExp(`knownHostsFile "${f}" holds no host key for \\[j.example.com\\]:2222, so ssh would refuse the device \\("Host key verification failed"\\): run ssh-keyscan -p 2222 j.example.com >> ${f}, and check the fingerprint`),
        );
        expect(knownHostsProblem("/nonexistent/known_hosts", "ssh://a@b.example.com")).toMatch(/does not exist: create it with the device's verified host key/);
        expect(knownHostsProblem(f, "tcp://b.example.com:2376")).toMatch(/only applies to an ssh:\/\/ host/);
        expect(() => validateEdgeDeviceArgs("dev", { host: "ssh://a@other.example.com", image: REF, knownHostsFile: f, insecureHostKey: true })).toThrow(/knownHostsFile and insecureHostKey contradict/);
        expect(() => validateEdgeDeviceArgs("dev", { host: "ssh://a@other.example.com", image: REF, knownHostsFile: f, sshOpts: ["-o", "StrictHostKeyChecking=accept-new"] })).toThrow(/sshOpts sets UserKnownHostsFile or StrictHostKeyChecking/);
    });

    it("points ssh at the file alone, strictly, after the user's own options", async () => {
        const f = file(`j.example.com ${KEY}\n`);
        new EdgeDevice("kh", { host: "ssh://deploy@j.example.com", image: REF, knownHostsFile: f, sshOpts: ["-o", "ConnectTimeout=10"] });
        await recorder.settle();
        const provider = recorder.one("pulumi:providers:docker", "kh-docker");
        expect(JSON.parse(provider.inputs.sshOpts)).toEqual(["-o", "ConnectTimeout=10", "-o", `UserKnownHostsFile=${f}`, "-o", "StrictHostKeyChecking=yes"]);
    });
});
