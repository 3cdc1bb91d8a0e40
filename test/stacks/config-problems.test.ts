import {
    accountUniqueName,
    AWS_REGIONS,
    awsRegionProblems,
    closest,
    ConfigError,
    ConfigProblems,
    editDistance,
    parseTargetConfig,
    unknownKeyProblems,
} from "../../stacks/config";
import { keysOf } from "../../stacks/run";

const cloudBase = { cluster: { version: "1.33", gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] } };
const getter = (values: Record<string, unknown>) => (key: string) => values[key];
const problemsOf = (f: () => unknown): string[] => {
    try {
        f();
    } catch (err) {
        if (err instanceof ConfigError) return err.problems.map((p) => `${p.key}: ${p.problem}`);
        throw err;
    }
    throw new Error("expected a ConfigError");
};

describe("editDistance and closest: the nearest known key of a typo", () => {
    it("counts insertions, deletions and substitutions, ignoring case", () => {
        expect(editDistance("servce", "service")).toBe(1);
        expect(editDistance("cluser", "cluster")).toBe(1);
        expect(editDistance("Region", "region")).toBe(0);
        expect(editDistance("", "abc")).toBe(3);
        expect(editDistance("kitten", "sitting")).toBe(3);
    });
    it("suggests only what is near enough to be a typo", () => {
        expect(closest("servce", ["service", "secrets", "cluster"])).toBe("service");
        expect(closest("sekrets", ["service", "secrets"])).toBe("secrets");
        expect(closest("replicaCount", ["service", "secrets"])).toBeUndefined();
    });
});

describe("unknown modelship:* keys are refused, naming the nearest known key", () => {
    it("a misspelt top-level key", () => {
        expect(unknownKeyProblems("cloud", ["target", "servce", "cluster"])).toEqual([{ key: "modelship:servce", problem: "is not a known key: did you mean modelship:service?" }]);
    });
    it("a key another target reads", () => {
        expect(unknownKeyProblems("edge", ["cluster", "deviceRegion"])).toEqual([
            { key: "modelship:cluster", problem: "is not read by the edge target (only cloud, hybrid): remove it, or set modelship:target" },
        ]);
    });
    it("a key nothing is near lists the target's keys", () => {
        const [p] = unknownKeyProblems("cloud", ["wholeNewThing"]);
        expect(p.problem).toMatch(/^is not a known key: the cloud keys are target, name, .*service \(a secret key must be listed in modelship:secrets\)$/);
    });
    it("secret keys the target reads are known; a misspelt one names the listed secret", () => {
        expect(unknownKeyProblems("hybrid", ["secrets", "apiToken", "onPremKubeconfig"], ["apiToken", "onPremKubeconfig"])).toEqual([]);
        expect(unknownKeyProblems("hybrid", ["apiTokn"], ["apiToken", "onPremKubeconfig"])[0].problem).toBe("is not a known key: did you mean modelship:apiToken?");
    });
    it("keysOf picks one namespace's keys", () => {
        expect(keysOf("modelship", ["aws:region", "modelship:target", "modelship:servce", "kubernetes:context"])).toEqual(["target", "servce"]);
    });
});

describe("aws:region is required and must be a region", () => {
    it("missing, pointing out a misspelt key", () => {
        expect(awsRegionProblems(undefined)).toEqual([{ key: "aws:region", problem: "is required: pulumi config set aws:region <code, e.g. eu-central-1>" }]);
        expect(awsRegionProblems(undefined, ["regoin", "profile"])[0].problem).toMatch(/\(the stack sets aws:regoin: a typo of aws:region\?\)$/);
    });
    it("invalid, naming the nearest region", () => {
        expect(awsRegionProblems("eu-west-9")).toEqual([{ key: "aws:region", problem: '"eu-west-9" is not an AWS region: did you mean eu-west-1?' }]);
        expect(awsRegionProblems("us-west-2a")[0].problem).toBe('"us-west-2a" is not an AWS region: did you mean us-west-2?');
        expect(awsRegionProblems("mars")[0].problem).toMatch(/^"mars" is not an AWS region: use a region code such as eu-central-1/);
    });
    it("valid: the provider's own list, commercial and other partitions", () => {
        for (const r of ["eu-west-1", "us-west-2", "ap-southeast-4", "il-central-1", "us-gov-west-1", "cn-north-1"]) expect(awsRegionProblems(r)).toEqual([]);
        expect(AWS_REGIONS.length).toBeGreaterThan(30);
    });
    it("deviceRegion is checked against the same list", () => {
        expect(problemsOf(() => parseTargetConfig("edge", getter({ deviceRegion: "eu-centrl-1", devicePrincipals: ["123456789012"] })))).toEqual([
            'modelship:deviceRegion: "eu-centrl-1" is not an AWS region: did you mean eu-central-1?',
        ]);
    });
});

describe("every configuration problem at once, each naming its full key", () => {
    it("a missing nested key names itself, not 'expected array, received undefined'", () => {
        expect(problemsOf(() => parseTargetConfig("cloud", getter({ cluster: { version: "1.33" } })))).toEqual(["modelship:cluster.gpuNodeGroups: is required: expected an array"]);
    });
    it("lists all problems, one line each, under a count", () => {
        const bad = {
            cluster: { version: "1.33", versoin: "1.34", gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: "four" }] },
            service: { replicas: { min: 3, max: 1 }, namspace: "x" },
        };
        let message = "";
        try {
            parseTargetConfig("cloud", getter(bad));
        } catch (err) {
            message = (err as Error).message;
        }
        expect(message.split("\n")).toEqual([
            "4 configuration problems:",
            '  modelship:cluster.gpuNodeGroups[0].maxSize: expected a number, got "four"',
            "  modelship:cluster.versoin: is not a known key: did you mean modelship:cluster.version?",
            "  modelship:service.replicas: max must be >= min",
            "  modelship:service.namspace: is not a known key: did you mean modelship:service.namespace?",
        ]);
    });
    it("ConfigProblems collects the problems of each step and throws them together", () => {
        const problems = new ConfigProblems();
        expect(problems.check(() => 1)).toBe(1);
        expect(problems.check(() => parseTargetConfig("cloud", getter({})))).toBeUndefined();
        problems.add(...awsRegionProblems(undefined));
        expect(() => problems.done()).toThrow(/^2 configuration problems:\n {2}modelship:cluster: is required: expected an object\n {2}aws:region: is required/);
        expect(() => new ConfigProblems().check(() => JSON.parse("{"))).toThrow(SyntaxError);
    });
});

describe("namespaces the stack's add-ons own are refused for the service", () => {
    it.each([
        ["keda", "KEDA's"],
        ["monitoring", "Prometheus's"],
        ["external-secrets", "External Secrets Operator's"],
        ["kube-system", "Kubernetes' own"],
        ["default", "Kubernetes' own"],
    ])("%s", (ns, owner) => {
        expect(problemsOf(() => parseTargetConfig("cloud", getter({ ...cloudBase, service: { namespace: ns } })))).toEqual([
            `modelship:service.namespace: "${ns}" is ${owner}${owner.endsWith("own") ? ", which exists already" : ", which the stack installs"} namespace: the service creates its own, so pick another (e.g. inference)`,
        ]);
        expect(() => parseTargetConfig("hybrid", getter({ ...cloudBase, onPrem: { namespace: ns } }))).toThrow(/^modelship:onPrem\.namespace: /);
    });
});

describe("accountUniqueName: names AWS wants unique per account never shared by two stacks", () => {
    it("carries the stack and a hash of project/stack, in ECR's lowercase alphabet", () => {
        const a = accountUniqueName("modelship", "modelship", "cloud");
        expect(a).toMatch(/^modelship-cloud-[0-9a-f]{6}$/);
        expect(accountUniqueName("modelship", "modelship", "hybrid")).not.toBe(a);
        expect(accountUniqueName("modelship", "other-project", "cloud")).not.toBe(a);
        expect(accountUniqueName("ms", "p", "Prod_EU.1")).toMatch(/^ms-prod-eu-1-[0-9a-f]{6}$/);
        expect(accountUniqueName("ms", "p", "cloud")).toBe(accountUniqueName("ms", "p", "cloud"));
    });
});
