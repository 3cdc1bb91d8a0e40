import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { installMockRuntime, valueOf } from "../support/mocks";

// The deployer runs as an assumed-role session (CI), whose ARN is not a valid principal: its role must be trusted.
const recorder = installMockRuntime({
    calls: {
        "aws:index/getCallerIdentity:getCallerIdentity": () => ({
            accountId: "123456789012",
            arn: "arn:aws:sts::123456789012:assumed-role/ci-deploy/gh-run-42",
            userId: "AROAMOCK:gh-run-42",
            id: "123456789012",
        }),
    },
});
import { parseTargetConfig } from "../../stacks/config";
import { DEVICE_LOGIN_SESSION, edgeTarget, type EdgeTargetOutputs } from "../../stacks/edge";

const ANCHOR = "arn:aws:rolesanywhere:us-west-2:123456789012:trust-anchor/4f1c2b3a-0000-4000-8000-123456789abc";
const PEM_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const PEM_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
const KNOWN_HOSTS = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "modelship-kh-")), "known_hosts");
fs.writeFileSync(KNOWN_HOSTS, "jetson-01.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMnf99zPdd2iuHEvJe4JK4n/uC6L1Wb2odsQjm5jkwHR\n");

describe("edge target", () => {
    let out: EdgeTargetOutputs;
    beforeAll(async () => {
        const config = parseTargetConfig("edge", (k) =>
            ({
                name: "edge",
                image: { context: "inference-image", target: "cpu" },
                deviceRegion: "eu-central-1",
                rolesAnywhereTrustAnchorArn: ANCHOR,
                deviceSubjects: { cn: ["jetson-*"] },
                secrets: ["API_TOKEN"],
                knownHostsFile: KNOWN_HOSTS,
                devices: [
                    { name: "jetson-01", host: "ssh://deploy@jetson-01.example.com", platform: "linux/arm64" },
                    { name: "gw-02", host: "tcp://gw-02.example.com:2376", tls: { caCert: "gwCa", clientCert: "gwCert", clientKey: "gwKey" }, gpus: false, hostPort: 6000, memoryMb: 1024 },
                ],
            })[k],
        );
        out = edgeTarget({
            ...config,
            secretValues: { API_TOKEN: pulumi.secret("t0ken"), gwCa: pulumi.secret(PEM_CERT), gwCert: pulumi.secret(PEM_CERT), gwKey: pulumi.secret(PEM_KEY) },
        });
        await recorder.settle();
    });

    it("pushes the build into a replica in the devices' region itself (no asynchronous ECR replication)", async () => {
        expect(recorder.ofType("aws:ecr/replicationConfiguration:ReplicationConfiguration")).toHaveLength(0);
        const replica = recorder.one("aws:ecr/repository:Repository", "edge-replica-eu-central-1");
        const build = recorder.one("docker-build:index:Image");
        expect(build.inputs.tags.filter((t: string) => t.startsWith(`${replica.state.repositoryUrl}:`))).toHaveLength(2);
        expect(recorder.dependsOn(build, replica)).toBe(true);
    });

    it("creates no device's pull (nor container) before the push into the device's region is done", () => {
        const build = recorder.one("docker-build:index:Image");
        for (const pull of recorder.ofType("docker:index/remoteImage:RemoteImage")) expect(recorder.dependsOn(pull, build)).toBe(true);
        for (const c of recorder.ofType("docker:index/container:Container")) {
            const pull = recorder.one("docker:index/remoteImage:RemoteImage", c.name.replace(/-container$/, "-image"));
            expect(recorder.dependsOn(c, pull)).toBe(true);
        }
    });

    it("checks each ssh device against the shipped known_hosts alone, and not a tcp device", () => {
        const jetson = recorder.one("pulumi:providers:docker", "edge-jetson-01-docker");
        expect(JSON.parse(jetson.inputs.sshOpts)).toEqual(["-o", `UserKnownHostsFile=${KNOWN_HOSTS}`, "-o", "StrictHostKeyChecking=yes"]);
        expect(recorder.one("pulumi:providers:docker", "edge-gw-02-docker").inputs.sshOpts).toBeUndefined();
    });

    it("creates a pull-only role devices assume through Roles Anywhere, only with an allowed certificate subject", () => {
        const trust = JSON.parse(recorder.one("aws:iam/role:Role", "edge-pull-role").inputs.assumeRolePolicy);
        expect(trust.Statement[0].Condition).toEqual({
            ArnEquals: { "aws:SourceArn": [ANCHOR] },
            StringLike: { "aws:PrincipalTag/x509Subject/CN": ["jetson-*"] },
        });
    });

    it("creates the Roles Anywhere profile for the pull role and outputs its ARN", async () => {
        const profile = recorder.one("aws:rolesanywhere/profile:Profile", "edge-pull-profile");
        expect(profile.inputs.roleArns).toEqual([recorder.one("aws:iam/role:Role", "edge-pull-role").state.arn]);
        expect(await valueOf(out.rolesAnywhereProfileArn)).toBe(profile.state.arn);
    });

    it("trusts the deployer's role (not its session ARN) so it can log devices in with pull-only rights", async () => {
        expect(await valueOf(out.deployerPrincipal)).toBe("arn:aws:iam::123456789012:role/ci-deploy");
        const trust = JSON.parse(recorder.one("aws:iam/role:Role", "edge-pull-role").inputs.assumeRolePolicy);
        expect(trust.Statement[1]).toEqual({ Sid: "Principals", Effect: "Allow", Principal: { AWS: ["arn:aws:iam::123456789012:role/ci-deploy"] }, Action: "sts:AssumeRole" });
    });

    it("fetches the devices' ECR token through the pull role, in the devices' region, never with the deployer's own rights", async () => {
        const login = recorder.one("pulumi:providers:aws", "edge-device-login");
        const assumed = JSON.parse(login.inputs.assumeRoles)[0];
        expect(assumed.roleArn).toBe(await valueOf(out.pullRoleArn));
        expect(assumed.duration).toBe(DEVICE_LOGIN_SESSION);
        expect(login.inputs.region).toBe("eu-central-1");
        // The role is usable only once its pull policy is attached.
        expect(recorder.dependsOn(login, recorder.one("aws:iam/rolePolicy:RolePolicy", "edge-pull-role-policy"))).toBe(true);
        const tokens = recorder.invocations.filter((i) => i.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken");
        const deviceToken = tokens.filter((t) => t.provider?.includes("edge-device-login"));
        expect(deviceToken).toHaveLength(1);
        // The only other tokens are the image push's (source and replica region), made with the deployer's credentials
        // and given to no device.
        expect(tokens.filter((t) => !t.provider?.includes("edge-device-login")).map((t) => t.inputs.region)).toEqual(["eu-central-1", undefined]);
    });

    it("builds the image for amd64 and arm64", () => {
        expect(recorder.one("docker-build:index:Image").inputs.platforms).toEqual(["linux/amd64", "linux/arm64"]);
    });

    it("pulls on each device by digest, from the replica in the devices' region", async () => {
        const ref = await valueOf(out.image.ref);
        const deviceRef = ref.replace(".us-west-2.", ".eu-central-1.");
        expect(deviceRef).toMatch(/^123456789012\.dkr\.ecr\.eu-central-1\.amazonaws\.com\/edge-test-[0-9a-f]{6}@sha256:[0-9a-f]{64}$/);
        const pulls = recorder.ofType("docker:index/remoteImage:RemoteImage");
        expect(pulls.map((p) => p.inputs.name)).toEqual([deviceRef, deviceRef]);
        expect(pulls.find((p) => p.name === "edge-jetson-01-image")?.inputs.platform).toBe("linux/arm64");
    });

    it("talks to each device's own Docker engine (SSH, or TCP with mutual TLS), logged in to the replica registry", () => {
        const providers = recorder.ofType("pulumi:providers:docker");
        expect(providers.map((p) => p.inputs.host).sort()).toEqual(["ssh://deploy@jetson-01.example.com", "tcp://gw-02.example.com:2376"]);
        const jetson = recorder.one("pulumi:providers:docker", "edge-jetson-01-docker");
        // Provider config reaches the engine JSON-encoded; the ECR password makes the whole entry secret.
        const auth = JSON.parse(jetson.inputs.registryAuth);
        expect(auth).toEqual([{ address: "123456789012.dkr.ecr.eu-central-1.amazonaws.com", username: "AWS", password: expect.stringMatching(/^mock-ecr-password-\d+$/) }]);
        expect(jetson.secretPaths).toContain("registryAuth");
        const gw = recorder.one("pulumi:providers:docker", "edge-gw-02-docker");
        expect(gw.inputs).toMatchObject({ caMaterial: PEM_CERT, certMaterial: PEM_CERT, keyMaterial: PEM_KEY });
        expect(gw.secretPaths).toEqual(expect.arrayContaining(["caMaterial", "certMaterial", "keyMaterial"]));
        const container = recorder.one("docker:index/container:Container", "edge-jetson-01-container");
        expect(container.provider).toContain("edge-jetson-01-docker");
    });

    it("runs the article's docker run as code: published port, non-root, read-only, memory limit, health check, restart", () => {
        const c = recorder.one("docker:index/container:Container", "edge-jetson-01-container").inputs;
        // The cpu image uses no GPU: no --gpus (which would need the NVIDIA container toolkit on the device).
        expect(c.gpus).toBeUndefined();
        expect(c.ports).toEqual([{ internal: 8080, external: 5000, protocol: "tcp" }]);
        expect(c.user).toBe("10001:10001");
        expect(c.readOnly).toBe(true);
        expect(c.capabilities).toEqual({ drops: ["ALL"] });
        expect(c.restart).toBe("unless-stopped");
        expect(c.memory).toBe(2048);
        expect(c.healthcheck.tests.join(" ")).toContain("/v2/health/ready");
        expect(c.envs).toEqual(expect.arrayContaining(["MODEL_NAME=demo", "PORT=8080", "API_TOKEN=t0ken"]));
        const gw = recorder.one("docker:index/container:Container", "edge-gw-02-container");
        expect(gw.inputs.gpus).toBeUndefined();
        expect(gw.inputs.ports[0].external).toBe(6000);
        expect(gw.inputs.memory).toBe(1024);
        expect(gw.secretPaths).toContain("envs");
    });

    it("exposes each device's endpoint", async () => {
        expect(await valueOf(out.devices[0].endpoint)).toBe("http://jetson-01.example.com:5000");
    });

    it("refuses to run without a secret value it was asked to read", () => {
        const config = parseTargetConfig("edge", (k) => ({ name: "edge2", deviceRegion: "eu-central-1", devicePrincipals: ["123456789012"], secrets: ["MISSING"] })[k]);
        const before = recorder.resources.length;
        expect(() => edgeTarget(config)).toThrow("secret config key modelship:MISSING was not read");
        expect(recorder.resources).toHaveLength(before);
    });
});

describe("edge target: what the device's flags follow", () => {
    const base = { name: "e2", deviceRegion: "eu-central-1", devicePrincipals: ["123456789012"] };
    it("refuses gpus: true on the cpu image (the default stage), naming the fix", () => {
        const cfg = { ...base, devices: [{ name: "d", host: "ssh://deploy@d.example.com", gpus: true }] };
        expect(() => parseTargetConfig("edge", (k) => (cfg as Record<string, unknown>)[k])).toThrow(/a device sets gpus: true but the image is the cpu stage.*remove gpus, or build image.target gpu/);
    });
    it("exposes the GPUs by default when the image is the gpu stage", async () => {
        const cfg = { ...base, image: { target: "gpu", platforms: ["linux/amd64"] }, devices: [{ name: "g", host: "tcp://g.example.com:2376", tls: { caCert: "c", clientCert: "c", clientKey: "k" } }] };
        const config = parseTargetConfig("edge", (k) => (cfg as Record<string, unknown>)[k]);
        edgeTarget({ ...config, secretValues: { c: pulumi.secret(PEM_CERT), k: pulumi.secret(PEM_KEY) } });
        await recorder.settle();
        expect(recorder.one("docker:index/container:Container", "e2-g-container").inputs.gpus).toBe("all");
    });
    it("refuses a device missing from knownHostsFile at construction, with the ssh-keyscan to run", () => {
        const cfg = { ...base, name: "e3", knownHostsFile: KNOWN_HOSTS, devices: [{ name: "x", host: "ssh://deploy@x.example.com:2222" }] };
        const config = parseTargetConfig("edge", (k) => (cfg as Record<string, unknown>)[k]);
        expect(() => edgeTarget(config)).toThrow(/knownHostsFile ".*known_hosts" holds no host key for \[x.example.com\]:2222.*run ssh-keyscan -p 2222 x.example.com >>/);
    });
});

describe("edge target: destroy then up", () => {
    it("deletes the stack's own repository with its images on destroy (replicas and cache always), unless told to keep them", async () => {
        const base = { deviceRegion: "eu-central-1", devicePrincipals: ["123456789012"] };
        const keep = { ...base, name: "kept", repository: { forceDelete: false } };
        for (const cfg of [{ ...base, name: "gone" }, keep]) edgeTarget(parseTargetConfig("edge", (k) => (cfg as Record<string, unknown>)[k]));
        await recorder.settle();
        expect(recorder.one("aws:ecr/repository:Repository", "gone-repo").inputs.forceDelete).toBe(true);
        expect(recorder.one("aws:ecr/repository:Repository", "kept-repo").inputs.forceDelete).toBe(false);
        for (const name of ["gone-replica-eu-central-1", "kept-replica-eu-central-1", "kept-cache"]) expect(recorder.one("aws:ecr/repository:Repository", name).inputs.forceDelete).toBe(true);
    });
});
