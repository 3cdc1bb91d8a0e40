import * as path from "path";
import { ConfigError, imageBuildArgs, parseTarget, parseTargetConfig, projectPath, pulumiConfigGetter } from "../../stacks/config";

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
