import { installMockRuntime } from "../support/mocks";

const recorder = installMockRuntime();
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EdgeDevice, validateEdgeDeviceArgs } from "../../components/edge-device";
import { deviceTrustPolicy, hostKeyProblem, refusalLine, repositoryOf, sshTarget, verifyScript } from "../../components/internal/edge-verification";

const PROFILE_ARN = "arn:aws:signer:eu-central-1:123456789012:/signing-profiles/models_abc";
const REPO = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/m";
const REF = `${REPO}@sha256:${"a".repeat(64)}`;
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2VrZXlmb3J0ZXN0cw==";
const CHECK = { signingProfileArn: PROFILE_ARN, hostKey: HOST_KEY };

describe("EdgeDevice verifySignature: validation", () => {
    it("needs an ssh:// host, a host key, and a digest that cannot move", () => {
        expect(() => validateEdgeDeviceArgs("d", { host: "unix:///var/run/docker.sock", image: REF, verifySignature: CHECK })).toThrow(/verifySignature.*ssh:\/\//);
        expect(() => validateEdgeDeviceArgs("d", { host: "ssh://deploy@dev", image: REF, verifySignature: { ...CHECK, hostKey: "dev.example.com ssh-ed25519" } })).toThrow(/verifySignature\.hostKey/);
        expect(() => validateEdgeDeviceArgs("d", { host: "ssh://deploy@dev", image: `${REPO}:v1`, allowMutableTag: true, verifySignature: CHECK })).toThrow(/allowMutableTag.*verified digest/);
        expect(() => validateEdgeDeviceArgs("d", { host: "ssh://deploy@dev", image: REF, verifySignature: CHECK })).not.toThrow();
        expect(hostKeyProblem(HOST_KEY)).toBeUndefined();
    });
    it("reads user, host and port from the Docker host", () => {
        expect(sshTarget("ssh://deploy@jetson-1.example.com:2222")).toEqual({ user: "deploy", host: "jetson-1.example.com", port: 2222 });
        expect(sshTarget("ssh://deploy@10.0.0.7")).toEqual({ user: "deploy", host: "10.0.0.7", port: 22 });
    });
});

describe("EdgeDevice verifySignature: the trust policy", () => {
    it("trusts the profile ARN only, through the AWS Signer trust store, strict, for the image's repository", () => {
        expect(repositoryOf(REF)).toBe(REPO);
        expect(deviceTrustPolicy(PROFILE_ARN, REPO)).toEqual({
            version: "1.0",
            trustPolicies: [{ name: "modelship", registryScopes: [REPO], signatureVerification: { level: "strict" }, trustStores: ["signingAuthority:aws-signer-ts"], trustedIdentities: [PROFILE_ARN] }],
        });
    });
});

describe("EdgeDevice verifySignature: ordering", () => {
    beforeAll(async () => {
        new EdgeDevice("dev", { host: "ssh://deploy@jetson-1.example.com:2222", image: REF, registryAuth: { username: "AWS", password: "tok" }, verifySignature: CHECK });
        await recorder.settle();
    });

    it("runs the check over SSH to the same device, pinned to its host key", () => {
        const check = recorder.one("command:remote:Command", "dev-verify-signature");
        expect(check.inputs.connection).toMatchObject({ host: "jetson-1.example.com", user: "deploy", port: 2222, hostKey: HOST_KEY });
        expect(check.inputs.create).toBe(verifyScript(REF, PROFILE_ARN));
    });

    it("passes the registry token on stdin, secret, never on the command line", () => {
        const check = recorder.one("command:remote:Command", "dev-verify-signature");
        expect(check.inputs.stdin).toBe("AWS\ntok\n");
        expect(check.secretPaths).toContain("stdin");
        expect(check.inputs.create).not.toContain("tok");
    });

    it("verifies before the image is pulled and before the container is (re)created", () => {
        const check = recorder.one("command:remote:Command", "dev-verify-signature");
        expect(recorder.dependsOn(recorder.one("docker:index/remoteImage:RemoteImage", "dev-image"), check)).toBe(true);
        expect(recorder.dependsOn(recorder.one("docker:index/container:Container", "dev-container"), check)).toBe(true);
    });
});

/** Runs the verification script in a real shell against a fake `notation` that records what it was given. */
function runScript(fakeExit: number): { status: number | null; stderr: string; seen: Record<string, string> } {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "edge-verify-"));
    fs.mkdirSync(path.join(home, ".config/notation/truststore/x509/signingAuthority/aws-signer-ts"), { recursive: true });
    fs.mkdirSync(path.join(home, ".config/notation/plugins"), { recursive: true });
    const bin = path.join(home, "bin");
    fs.mkdirSync(bin);
    const out = path.join(home, "seen");
    fs.writeFileSync(
        path.join(bin, "notation"),
        `#!/bin/sh\n{ echo "ARGS=$*"; echo "USER=$NOTATION_USERNAME"; echo "PASS=$NOTATION_PASSWORD"; echo "POLICY=$(cat "$XDG_CONFIG_HOME/notation/trustpolicy.oci.json")"; echo "STORE=$(ls "$XDG_CONFIG_HOME/notation/truststore/x509/signingAuthority")"; } > ${out}\n[ ${fakeExit} -eq 0 ] || echo "Error: signature verification failed for all the signatures associated with ${REF}" >&2\nexit ${fakeExit}\n`,
        { mode: 0o755 },
    );
    const r = spawnSync("/bin/sh", ["-c", verifyScript(REF, PROFILE_ARN)], { input: "AWS\ns3cret\n", env: { PATH: `${bin}:/usr/bin:/bin`, HOME: home }, encoding: "utf8" });
    const seen = Object.fromEntries(
        fs
            .readFileSync(out, "utf8")
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    fs.rmSync(home, { recursive: true, force: true });
    return { status: r.status, stderr: r.stderr, seen };
}

describe("EdgeDevice verifySignature: the script on the device", () => {
    it("verifies the digest with our trust policy, the device's AWS Signer trust store and the token from stdin", () => {
        const r = runScript(0);
        expect(r.status).toBe(0);
        expect(r.seen.ARGS).toBe(`verify ${REF}`);
        expect(r.seen.USER).toBe("AWS");
        expect(r.seen.PASS).toBe("s3cret");
        expect(JSON.parse(r.seen.POLICY)).toEqual(deviceTrustPolicy(PROFILE_ARN, REPO));
        expect(r.seen.STORE).toBe("aws-signer-ts");
    });

    it("an unsigned or tampered image fails the command with the message the user sees, and the device's own notation config is untouched", () => {
        const r = runScript(1);
        expect(r.status).toBe(1);
        expect(r.stderr).toContain("signature verification failed");
        expect(r.stderr).toContain(refusalLine(REF, PROFILE_ARN));
        expect(r.stderr).toContain("the running container is left in place");
    });

    it("says what to install when notation is missing", () => {
        const r = spawnSync("/bin/sh", ["-c", verifyScript(REF, PROFILE_ARN)], { input: "", env: { PATH: "/nonexistent", HOME: os.tmpdir() }, encoding: "utf8" });
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/notation is not installed on this device: install Notation with the AWS Signer plugin/);
    });

    it("is a valid POSIX sh script", () => {
        expect(() => execFileSync("sh", ["-n", "-c", verifyScript(REF, PROFILE_ARN)])).not.toThrow();
    });
});
