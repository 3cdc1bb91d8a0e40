import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { plan as runPlan, type PlanOptions, type PlanResource } from "../../cli/plan";
import { freshRequire } from "../support/mocks";

// One test file plans several times: each plan loads the program afresh, as each `modelship plan` process does.
const plan = (opts: PlanOptions) => runPlan({ load: freshRequire, ...opts });
import { awsRegionProblems } from "../../stacks/config";

const root = path.resolve(__dirname, "..", "..");
/** The shipped stacks, discovered: a stack file of one's own is planned too, and breaks nothing. */
const STACKS = fs
    .readdirSync(path.join(root, "stacks"))
    .flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? [])
    .sort();
/** Values from documentation ranges and examples, which no real deployment uses. */
const DOC_VALUE = /\b(203\.0\.113|198\.51\.100|192\.0\.2)\.|\b123456789012\b|\bexample\.(com|org|net)\b|placeholder/i;
const stackFile = (stack: string) => fs.readFileSync(path.join(root, "stacks", `Pulumi.${stack}.yaml`), "utf8");

/** A throwaway project holding the given stack files, with the real image context. */
function project(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-stacks-"));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: modelship\nruntime: nodejs\nmain: ${path.join(root, "stacks", "index.ts")}\nstackConfigDir: stacks\n`);
    for (const [stack, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), text);
    fs.symlinkSync(path.join(root, "inference-image"), path.join(dir, "inference-image"));
    fs.copyFileSync(path.join(root, "stacks", "known_hosts"), path.join(dir, "stacks", "known_hosts"));
    return dir;
}

/**
 * Names AWS requires unique per account (IAM) or per account and region (the rest), as `type region name`: an
 * explicit `name` input of an AWS or EKS resource. Auto-named resources get a random suffix at deploy time.
 */
function accountUniqueNames(resources: PlanResource[], region: string): string[] {
    return resources
        // A namePrefix (Secrets Manager) gets a unique suffix from the provider; equal prefixes are still flagged.
        .filter((r) => (r.type.startsWith("aws:") || r.type.startsWith("eks:")) && typeof (r.inputs.name ?? r.inputs.namePrefix) === "string")
        .map((r) => `${r.type} ${r.type.startsWith("aws:iam/") ? "global" : (r.inputs.region ?? region)} ${r.inputs.name ?? r.inputs.namePrefix}`);
}

describe("the shipped stack files", () => {
    it("are discovered from stacks/Pulumi.*.yaml", () => {
        expect(STACKS).toEqual(expect.arrayContaining(["cloud", "edge", "hybrid"]));
    });

    describe.each(STACKS)("Pulumi.%s.yaml", (stack) => {
        const doc = parseYaml(stackFile(stack)) as { config: Record<string, unknown> };
        it("sets a valid aws:region", () => {
            expect(awsRegionProblems(doc.config["aws:region"] as string | undefined)).toEqual([]);
        });
        it("marks every documentation value (TEST-NET CIDR, example account, example.com, placeholder ciphertext) as a PLACEHOLDER", () => {
            const lines = stackFile(stack).split("\n");
            const unmarked = lines.filter((l, i) => !l.trim().startsWith("#") && DOC_VALUE.test(l) && !/# PLACEHOLDER: /.test(l) && !/^\s*# PLACEHOLDER: /.test(lines[i - 1] ?? ""));
            expect(unmarked).toEqual([]);
        });
        it("plans offline with every key known and valid", async () => {
            const result = await plan({ stack, json: true, projectDir: root });
            expect(result.plan.target).toBe(doc.config["modelship:target"]);
            expect(result.plan.resources.length).toBeGreaterThan(5);
        });
    });
});

describe("a stack's configuration mistakes", () => {
    it("are all reported at once: a misspelt key, a missing region, a bad value, a missing secret", async () => {
        const text = stackFile("cloud")
            .replace(/^ {2}aws:region: .*\n/m, "  aws:regoin: eu-west-1\n")
            .replace("modelship:service:", "modelship:servce:")
            .replace("maxSize: 4", "maxSize: four")
            .replace("modelship:target: cloud", "modelship:target: cloud\n  modelship:secrets: [hfToken]");
        const dir = project({ t: text });
        const err: Error = await plan({ stack: "t", json: true, projectDir: dir }).then(
            () => new Error("planned"),
            (e: Error) => e,
        );
        expect(err.message.split("\n")).toEqual([
            "stacks/Pulumi.t.yaml: 4 configuration problems:",
            "  aws:region: is required: pulumi config set aws:region <code, e.g. eu-central-1> (the stack sets aws:regoin: a typo of aws:region?)",
            '  modelship:cluster.gpuNodeGroups[0].maxSize: expected a number, got "four"',
            "  modelship:servce: is not a known key: did you mean modelship:service?",
            "  modelship:hfToken: is listed in modelship:secrets but not set: pulumi config set --secret modelship:hfToken <value>",
        ]);
    });
});

describe("aws:region is honoured everywhere", () => {
    it("the plan of a eu-west-1 stack names no other region: URLs, ARNs, the autoscaler's region", async () => {
        const dir = project({ eu: stackFile("cloud").replace(/^ {2}aws:region: .*$/m, "  aws:region: eu-west-1") });
        const result = await plan({ stack: "eu", json: true, projectDir: dir });
        expect(result.text).not.toContain("us-west-2");
        const autoscaler = result.plan.resources.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "cluster-autoscaler");
        expect((autoscaler?.inputs.values as { awsRegion: string }).awsRegion).toBe("eu-west-1");
        const image = result.plan.resources.find((r) => r.type === "docker-build:index:Image");
        expect((image?.inputs.tags as string[])[0]).toMatch(/^<placeholder:account-id>\.dkr\.ecr\.eu-west-1\.amazonaws\.com\//);
    });

    it("an edge stack whose devices are in its own region pulls from the source: no replication into its own region", async () => {
        const dir = project({ e: stackFile("edge").replace(/^ {2}modelship:deviceRegion: .*$/m, "  modelship:deviceRegion: us-west-2") });
        const result = await plan({ stack: "e", json: true, projectDir: dir });
        expect(result.plan.resources.filter((r) => r.type === "aws:ecr/replicationConfiguration:ReplicationConfiguration")).toEqual([]);
        expect(result.plan.resources.filter((r) => r.type === "aws:ecr/repository:Repository" && r.inputs.region !== undefined)).toEqual([]);
        const pulls = result.plan.resources.filter((r) => r.type === "docker:index/remoteImage:RemoteImage");
        expect(pulls.length).toBeGreaterThan(0);
        for (const p of pulls) expect(p.inputs.name).toMatch(/^<placeholder:account-id>\.dkr\.ecr\.us-west-2\.amazonaws\.com\/modelship-edge-e-[0-9a-f]{6}@<placeholder:digest>$/);
    });
});

describe("two stacks in one account never collide", () => {
    it("the same stack file as two stacks, and the cloud and hybrid samples, share no name AWS requires unique", async () => {
        // With a secret, so that the Secrets Manager names are compared too.
        const withSecret = stackFile("cloud").replace("modelship:target: cloud", "modelship:target: cloud\n  modelship:secrets: [apiToken]\n  modelship:apiToken: { secure: v1:AAAA:x }");
        const dir = project({ a: withSecret, b: withSecret, cloud: stackFile("cloud"), hybrid: stackFile("hybrid") });
        const names: Record<string, string[]> = {};
        for (const stack of ["a", "b", "cloud", "hybrid"]) {
            const region = (parseYaml(fs.readFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, string> }).config["aws:region"];
            names[stack] = accountUniqueNames((await plan({ stack, json: true, projectDir: dir })).plan.resources, region);
        }
        // The repository, its build cache, the cluster and (hybrid) the Secrets Manager secrets are named explicitly.
        expect(names.a.some((n) => n.startsWith("aws:ecr/repository:Repository "))).toBe(true);
        expect(names.a.some((n) => n.startsWith("aws:ecr/repository:Repository ") && n.includes(" buildcache/"))).toBe(true);
        expect(names.a.some((n) => n.startsWith("aws:secretsmanager/secret:Secret "))).toBe(true);
        expect(names.hybrid.some((n) => n.startsWith("aws:secretsmanager/secret:Secret "))).toBe(true);
        const shared = (x: string[], y: string[]) => x.filter((n) => y.includes(n));
        expect(shared(names.a, names.b)).toEqual([]);
        expect(shared(names.cloud, names.hybrid)).toEqual([]);
        // Four full plans: on a loaded machine they outlast the default 30 s.
    }, 180_000);
});
