import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    ConfigError,
    configKeyIsSecret,
    deviceTlsKeys,
    imageBuildArgs,
    parseTarget,
    parseTargetConfig,
    projectPath,
    pulumiConfigGetter,
    readSecrets,
    requireSecretConfig,
} from "../../stacks/config";

const cloudBase = {
    cluster: { version: "1.33", gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] },
};
const getter = (values: Record<string, unknown>) => (key: string) => values[key];

describe("stack config", () => {
    it("requires a known target", () => {
        expect(() => parseTarget(undefined)).toThrow("modelship:target: is required: set it to one of cloud, edge, hybrid");
        expect(() => parseTarget("moon")).toThrow('modelship:target: "moon" is not a target');
        expect(parseTarget("edge")).toBe("edge");
    });

    it("fills defaults for the cloud target", () => {
        const c = parseTargetConfig("cloud", getter(cloudBase));
        expect(c.name).toBe("modelship");
        expect(c.image.context).toBe("inference-image");
        expect(c.service).toMatchObject({ namespace: "inference", gpusPerPod: 1, port: 8080, replicas: { min: 1, max: 4 } });
        expect(c.cluster.publicAccessCidrs).toEqual([]);
    });

    it("names the exact key of a malformed value", () => {
        const bad = { cluster: { version: "1.33", gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: "four" }] } };
        expect(() => parseTargetConfig("cloud", getter(bad))).toThrow(/^modelship:cluster\.gpuNodeGroups\[0\]\.maxSize: /);
        expect(() => parseTargetConfig("cloud", getter({ ...cloudBase, service: { replicas: { min: 3, max: 1 } } }))).toThrow(/modelship:service\.replicas: max must be >= min/);
        expect(() => parseTargetConfig("cloud", getter({ ...cloudBase, typo: 1, cluster: { ...cloudBase.cluster, versoin: "1" } }))).toThrow(ConfigError);
    });

    it("names a missing required key", () => {
        expect(() => parseTargetConfig("cloud", getter({}))).toThrow(/^modelship:cluster: /);
        expect(() => parseTargetConfig("edge", getter({ devicePrincipals: ["123456789012"] }))).toThrow(/^modelship:deviceRegion: /);
    });

    it("requires the edge pull role to trust someone", () => {
        expect(() => parseTargetConfig("edge", getter({ deviceRegion: "eu-central-1" }))).toThrow(/modelship:rolesAnywhereTrustAnchorArn: set rolesAnywhereTrustAnchorArn/);
    });

    it("decodes structured values and leaves strings alone", () => {
        const values: Record<string, string> = { cluster: '{"version":"1.33"}', modelName: "1.5" };
        const get = pulumiConfigGetter({ get: (k: string) => values[k] } as never);
        expect(get("cluster")).toEqual({ version: "1.33" });
        expect(get("modelName")).toBe("1.5");
        expect(get("missing")).toBeUndefined();
    });
});

describe("paths from the stack config", () => {
    const root = path.resolve(__dirname, "..", "..");
    it("resolve against the project root even when Pulumi runs the program from stacks/", () => {
        const cwd = process.cwd();
        try {
            process.chdir(path.join(root, "stacks"));
            expect(projectPath("inference-image")).toBe(path.join(root, "inference-image"));
            expect(projectPath("/abs/ctx")).toBe("/abs/ctx");
            expect(imageBuildArgs({ context: "inference-image", dockerfile: "inference-image/Dockerfile" }, { target: "gpu", platforms: ["linux/amd64"] })).toEqual({
                context: path.join(root, "inference-image"),
                dockerfile: path.join(root, "inference-image", "Dockerfile"),
                target: "gpu",
                platforms: ["linux/amd64"],
            });
        } finally {
            process.chdir(cwd);
        }
    });
});

describe("secret config keys", () => {
    /** Installs a stack config the way the language host does: values, and the keys that were set with --secret. */
    const stackConfig = (values: Record<string, string>, secretKeys: string[]) => {
        pulumi.runtime.setAllConfig(values, secretKeys);
        return new pulumi.Config("modelship");
    };
    afterEach(() => pulumi.runtime.setAllConfig({}, []));

    it("reads a key set with --secret as a secret", async () => {
        const config = stackConfig({ "modelship:apiToken": "t0ken" }, ["modelship:apiToken"]);
        expect(configKeyIsSecret("modelship:apiToken")).toBe(true);
        const value = readSecrets(config, ["apiToken"]).apiToken;
        expect(await (value as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(true);
    });

    it("refuses a secret key stored in plaintext, naming the key and the command", () => {
        const config = stackConfig({ "modelship:apiToken": "t0ken" }, []);
        expect(() => readSecrets(config, ["apiToken"])).toThrow(
            "modelship:apiToken: is a secret but is stored in plaintext in the stack's config file: run pulumi config set --secret modelship:apiToken <value>",
        );
        expect(() => readSecrets(config, ["apiToken"])).toThrow(ConfigError);
    });

    it("refuses plaintext for the hybrid kubeconfig and the devices' TLS material too", () => {
        const config = stackConfig({ "modelship:onPremKubeconfig": "apiVersion: v1", "modelship:gwKey": "-----BEGIN PRIVATE KEY-----" }, []);
        expect(() => requireSecretConfig(config, "onPremKubeconfig", "is required for the hybrid target")).toThrow(/^modelship:onPremKubeconfig: is a secret but is stored in plaintext/);
        expect(() => readSecrets(config, ["gwKey"], "holds a device's TLS material")).toThrow(/^modelship:gwKey: is a secret but is stored in plaintext.*pulumi config set --secret modelship:gwKey/);
    });

    it("names the command for a missing secret", () => {
        const config = stackConfig({}, []);
        expect(() => readSecrets(config, ["apiToken"])).toThrow("modelship:apiToken: is listed in modelship:secrets but not set: pulumi config set --secret modelship:apiToken <value>");
    });

    it("lists the TLS secret keys the edge devices read, once each", () => {
        const c = parseTargetConfig("edge", getter({ deviceRegion: "eu-central-1", devicePrincipals: ["123456789012"], devices: [
            { name: "a", host: "tcp://a:2376", tls: { caCert: "ca", clientCert: "aCert", clientKey: "aKey" } },
            { name: "b", host: "tcp://b:2376", tls: { caCert: "ca", clientCert: "bCert", clientKey: "bKey" } },
            { name: "c", host: "ssh://deploy@c" },
        ] }));
        expect(deviceTlsKeys(c)).toEqual(["ca", "aCert", "aKey", "bCert", "bKey"]);
    });
});

describe("edge config", () => {
    const anchor = "arn:aws:rolesanywhere:us-west-2:123456789012:trust-anchor/4f1c2b3a-0000-4000-8000-123456789abc";
    it("requires certificate subjects with a trust anchor", () => {
        expect(() => parseTargetConfig("edge", getter({ deviceRegion: "eu-central-1", rolesAnywhereTrustAnchorArn: anchor }))).toThrow(/^modelship:deviceSubjects: is required with rolesAnywhereTrustAnchorArn/);
        expect(parseTargetConfig("edge", getter({ deviceRegion: "eu-central-1", rolesAnywhereTrustAnchorArn: anchor, deviceSubjects: { ou: ["edge"] } })).deviceSubjects).toEqual({ ou: ["edge"] });
        expect(() => parseTargetConfig("edge", getter({ deviceRegion: "eu-central-1", devicePrincipals: ["123456789012"], deviceSubjects: { cn: ["x"] } }))).toThrow(
            /^modelship:deviceSubjects: only applies with rolesAnywhereTrustAnchorArn/,
        );
    });

    it("refuses a tcp:// device without TLS key names", () => {
        const devices = [{ name: "gw", host: "tcp://gw:2375" }];
        expect(() => parseTargetConfig("edge", getter({ deviceRegion: "eu-central-1", devicePrincipals: ["123456789012"], devices }))).toThrow(/^modelship:devices\[0\]\.tls: a tcp:\/\/ host needs tls/);
    });
});
