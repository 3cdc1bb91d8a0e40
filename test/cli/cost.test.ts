import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { freshRequire } from "../support/mocks";
import { budgetProblem, estimateCost, podFits, PRICES, renderCost, type CostInput } from "../../cli/cost";
import { parseMaxMonthly, parsePlanArgs, plan as runPlan, PlanError, type PlanOptions } from "../../cli/plan";
import { GPU_FAMILIES } from "../../components/internal/gpu-instances";

/** Planned as of a day Kubernetes 1.33 (the stacks' version) is in EKS standard support, so the figures hold. */
const AS_OF = "2026-07-01";
const plan = (opts: PlanOptions) => runPlan({ load: freshRequire, asOf: AS_OF, ...opts });
const root = path.resolve(__dirname, "..", "..");

/** The table's figures the hand computations below use (us-east-1), read once so that a typo in the table shows. */
const EKS = 0.1; // per cluster-hour, standard support
const NAT = 0.045; // per NAT gateway-hour, us-east-1
const IPV4 = 0.005; // per public IPv4 address-hour
const GP3 = 0.08; // per GB-month, us-east-1
const KMS = 1.0; // per key-month
const SECRET = 0.4; // per secret-month
const M6I_LARGE = 0.096;
const G6_XLARGE = 0.8048;
const G6_2XLARGE = 0.9776;

describe("the price table", () => {
    it("holds the figures the hand computations use, with a source and a date", () => {
        const east = PRICES.regions["us-east-1"];
        expect(PRICES.global).toMatchObject({ eksClusterHour: EKS, kmsKeyMonth: KMS, secretsManagerSecretMonth: SECRET, publicIpv4Hour: IPV4 });
        expect(east).toMatchObject({ natGatewayHour: NAT, ebsGp3GbMonth: GP3 });
        expect(east.instances).toMatchObject({ "m6i.large": M6I_LARGE, "g6.xlarge": G6_XLARGE, "g6.2xlarge": G6_2XLARGE });
        expect(PRICES.retrieved).toMatch(/^\d{4}-\d{2}-\d{2}$/);
        expect(PRICES.hoursPerMonth).toBe(730);
        for (const s of Object.values(PRICES.sources)) expect(s).toMatch(/^https:\/\//);
    });

    it("prices every GPU instance type the library allows in us-east-1, except those AWS does not sell there", () => {
        const unpriced = Object.entries(GPU_FAMILIES)
            .flatMap(([family, f]) => Object.keys(f.gpusBySize).map((size) => `${family}.${size}`))
            .filter((t) => PRICES.regions["us-east-1"].instances?.[t] === undefined);
        // p5e.48xlarge is not offered in us-east-1 (the source has no price for it there).
        expect(unpriced).toEqual(["p5e.48xlarge"]);
    });
});

/** A throwaway project running the real stack programs with one example stack's config, edited. */
function exampleStackIn(stack: string, edit: (yaml: string) => string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-cost-"));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: modelship\nruntime: nodejs\nmain: ${path.join(root, "stacks", "index.ts")}\nstackConfigDir: stacks\n`);
    fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), edit(fs.readFileSync(path.join(root, "stacks", `Pulumi.${stack}.yaml`), "utf8")));
    fs.symlinkSync(path.join(root, "inference-image"), path.join(dir, "inference-image"));
    return dir;
}
const toUsEast1 = (yaml: string) => yaml.replace("aws:region: us-west-2", "aws:region: us-east-1");

/** The cloud example stack in us-east-1, planned once with a limit its ceiling exceeds. */
let cloudEast: Awaited<ReturnType<typeof plan>>;
/** The cloud example stack as shipped (us-west-2), planned once with a limit it cannot check. */
let cloudShipped: Awaited<ReturnType<typeof plan>>;
let hybridEast: Awaited<ReturnType<typeof plan>>;
let hybridShipped: Awaited<ReturnType<typeof plan>>;
let edgeShipped: Awaited<ReturnType<typeof plan>>;
// Every plan once, up front: each takes seconds, more on a loaded machine.
beforeAll(async () => {
    cloudEast = await plan({ stack: "cloud", json: true, projectDir: exampleStackIn("cloud", toUsEast1), maxMonthly: 3000 });
    cloudShipped = await plan({ stack: "cloud", json: false, projectDir: root, maxMonthly: 1_000_000 });
    hybridEast = await plan({ stack: "hybrid", json: true, projectDir: exampleStackIn("hybrid", toUsEast1) });
    hybridShipped = await plan({ stack: "hybrid", json: true, projectDir: root });
    edgeShipped = await plan({ stack: "edge", json: true, projectDir: root });
}, 600_000);

describe("the cost band of the example stacks", () => {
    describe("moved to us-east-1, where the table prices everything", () => {
        it("cloud: idle floor, GPU idle and full-scale ceiling equal the figures computed by hand", () => {
            const cost = cloudEast.plan.cost!;
            // Idle: control plane, 2 system m6i.large, 1 g6.xlarge kept up by the service's 1 warm replica (min 1 × 1 GPU),
            // 3 NAT gateways (OnePerAz, 3 AZs) each with its IPv4 address, root volumes 2 × 50 + 1 × 100 GiB gp3, 4 KMS keys
            // (secrets, control-plane logs, node volumes, registry).
            const floor = 730 * (EKS + 2 * M6I_LARGE + 1 * G6_XLARGE + 3 * (NAT + IPV4)) + (2 * 50 + 1 * 100) * GP3 + 4 * KMS;
            // Full scale: 3 system nodes, 4 GPU nodes of the group's dearest type (g6.2xlarge), their volumes.
            const ceiling = 730 * (EKS + 3 * M6I_LARGE + 4 * G6_2XLARGE + 3 * (NAT + IPV4)) + (3 * 50 + 4 * 100) * GP3 + 4 * KMS;
            expect(cost.complete).toBe(true);
            expect(cost.region).toBe("us-east-1");
            expect(cost.floor).toBeCloseTo(floor, 2);
            expect(cost.floor).toBeCloseTo(930.16, 2);
            expect(cost.gpuIdle).toBeCloseTo(730 * G6_XLARGE + 100 * GP3, 2);
            expect(cost.ceiling).toBeCloseTo(ceiling, 2);
            expect(cost.ceiling).toBeCloseTo(3295.33, 2);
            const gpu = cost.lines.find((l) => l.item === "GPU node group")!;
            // On-demand groups fill capacity in the listed order: the floor's node is the first type, the ceiling the dearest.
            expect(gpu).toMatchObject({ resource: "modelship-cluster-gpu-l4", floorBasis: "1 × g6.xlarge (1 kept up by 1 warm GPU)", ceilingBasis: "4 × g6.2xlarge" });
            expect(cost.notEstimated).toEqual(expect.arrayContaining([expect.stringMatching(/^ECR image storage of 2 repositories/), expect.stringMatching(/^NAT data processing/), "CloudWatch Logs ingestion and storage of 1 log group"]));
        });

        it("hybrid: the on-prem service (no GPU, another cluster) adds nothing; the secret adds $0.40", () => {
            const cost = hybridEast.plan.cost!;
            const floor = 730 * (EKS + 2 * M6I_LARGE + 1 * G6_XLARGE + 3 * (NAT + IPV4)) + (2 * 50 + 1 * 100) * GP3 + 5 * KMS + 1 * SECRET;
            const ceiling = 730 * (EKS + 3 * M6I_LARGE + 2 * G6_XLARGE + 3 * (NAT + IPV4)) + (3 * 50 + 2 * 100) * GP3 + 5 * KMS + 1 * SECRET;
            expect(cost.complete).toBe(true);
            expect(cost.floor).toBeCloseTo(floor, 2);
            expect(cost.floor).toBeCloseTo(931.56, 2);
            expect(cost.ceiling).toBeCloseTo(ceiling, 2);
            expect(cost.ceiling).toBeCloseTo(1601.15, 2);
        });
    });

    describe("as shipped (us-west-2, which the table does not price)", () => {
        it("cloud: sums only what it can price and names every unknown price instead of guessing", () => {
            const cost = cloudShipped.plan.cost!;
            expect(cost.region).toBe("us-west-2");
            expect(cost.complete).toBe(false);
            // Region-independent prices only: the control plane and 4 KMS keys.
            expect(cost.floor).toBeCloseTo(730 * EKS + 4 * KMS, 2);
            expect(cost.ceiling).toBeCloseTo(730 * EKS + 4 * KMS, 2);
            expect(cost.gpuIdle).toBeNull();
            expect(cost.unknown).toEqual([
                "EBS gp3 GB-month in us-west-2",
                "NAT gateway-hour in us-west-2",
                "g6.xlarge in us-west-2",
                "g6.xlarge/g6.2xlarge in us-west-2",
                "m6i.large in us-west-2",
            ]);
        });

        it("prints the band with its source and date, GPU idle on its own line, unknown prices named", () => {
            const text = cloudShipped.text.slice(cloudShipped.text.indexOf("Estimated monthly cost"));
            expect(text).toContain(`Estimated monthly cost (on-demand list prices, USD, 730 h/month, region us-west-2; ${PRICES.source}, retrieved ${PRICES.retrieved}):`);
            expect(text).toMatch(/\n {2}idle floor {10}\$77\.00 \+ unknown\n/);
            expect(text).toMatch(/\n {4}of which GPU idle unknown/);
            expect(text).toMatch(/\n {2}full-scale ceiling {2}\$77\.00 \+ unknown\n/);
            expect(text).toContain("unknown price (not in the table, never guessed): EBS gp3 GB-month in us-west-2, NAT gateway-hour in us-west-2, g6.xlarge in us-west-2");
        });

        it("hybrid: the control plane, 5 KMS keys and 1 secret", () => {
            const cost = hybridShipped.plan.cost!;
            expect(cost.floor).toBeCloseTo(730 * EKS + 5 * KMS + 1 * SECRET, 2);
            expect(cost.complete).toBe(false);
        });

        it("edge: one KMS key; ECR storage is usage, not estimated; no GPU capacity in AWS", () => {
            const result = edgeShipped;
            const cost = JSON.parse(result.text).cost;
            expect(cost).toMatchObject({ floor: 1 * KMS, ceiling: 1 * KMS, gpuIdle: 0, complete: true, unknown: [] });
            // The build pushes into the device region's repository itself (no ECR replication): storage only.
            expect(cost.notEstimated).toEqual([expect.stringMatching(/^ECR image storage of 3 repositories/)]);
            expect(renderCost(result.plan.cost!)).toContain("of which GPU idle $0.00 (no GPU capacity in AWS)");
        });
    });
});

describe("--json", () => {
    it("carries the numbers of the estimate, with source, date, region and line items", () => {
        const json = JSON.parse(cloudEast.text);
        expect(Object.keys(json.cost).sort()).toEqual(
            ["ceiling", "complete", "currency", "floor", "gpuIdle", "hoursPerMonth", "lines", "notEstimated", "notes", "region", "retrieved", "source", "unknown"].sort(),
        );
        expect(json.cost).toMatchObject({ currency: "USD", hoursPerMonth: 730, source: PRICES.source, retrieved: PRICES.retrieved, floor: 930.16, ceiling: 3295.33, gpuIdle: 595.5 });
        expect(json.cost.lines[0]).toEqual({
            item: "EKS control plane",
            resource: "modelship-cluster-eks",
            floorBasis: "1 cluster, standard support",
            ceilingBasis: "1 cluster, standard support",
            floor: 73,
            ceiling: 73,
            gpu: false,
            note: "Kubernetes 1.33: standard support until 2026-07-29, $0.60/h after",
        });
    });
});

describe("--max-monthly", () => {
    it("is read as a positive amount in USD", () => {
        expect(parsePlanArgs(["--max-monthly", "2500"])).toMatchObject({ maxMonthly: 2500 });
        expect(parseMaxMonthly("$99.5")).toBe(99.5);
        for (const bad of ["", "0", "-3", "lots"]) expect(() => parseMaxMonthly(bad)).toThrow(PlanError);
        expect(() => parseMaxMonthly("lots")).toThrow('--max-monthly: "lots" is not an amount in USD: give a positive number such as 2500');
    });

    it("fails a plan whose ceiling exceeds it, naming the ceiling and the limit, and passes one under it", () => {
        expect(cloudEast.budgetError).toBe("full-scale ceiling $3,295.33/month exceeds --max-monthly $3,000.00: lower the pools' maxSize or raise the limit");
        expect(budgetProblem(cloudEast.plan.cost!, 3300)).toBeUndefined();
    });

    it("fails when the ceiling is unknown: an unpriced item could be anything", () => {
        expect(cloudShipped.budgetError).toMatch(/^--max-monthly \$1,000,000\.00: the full-scale ceiling is unknown \(no price for EBS gp3 GB-month in us-west-2, /);
    });
});

// Pure estimator cases, on hand-made recorded resources.
let seq = 0;
function res(type: string, name: string, inputs: Record<string, unknown>, extra: Partial<CostInput> = {}): CostInput {
    return { type, name, inputs, urn: `urn:${++seq}:${name}`, dependencies: [], ...extra };
}
const east = (resources: CostInput[]) => estimateCost(resources, { region: "us-east-1" });

describe("node pools", () => {
    const gpuGroup = (inputs: Record<string, unknown>) =>
        res("eks:index:ManagedNodeGroup", "gpu", {
            instanceTypes: ["g6.xlarge", "g6.2xlarge"],
            capacityType: "ON_DEMAND",
            scalingConfig: { minSize: 0, maxSize: 3, desiredSize: 0 },
            labels: { "modelship.dev/accelerator": "nvidia" },
            taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }],
            ...inputs,
        });

    it("a GPU pool at min 0 with no warm replica costs $0 idle", () => {
        const cost = east([gpuGroup({})]);
        expect(cost.gpuIdle).toBe(0);
        expect(cost.floor).toBe(0);
        expect(cost.ceiling).toBeCloseTo(3 * G6_2XLARGE * 730, 2);
        expect(renderCost(cost)).toContain("of which GPU idle $0.00 (GPU capacity scales from zero)");
    });

    it("always-on GPU nodes (minSize > 0) are idle GPU cost", () => {
        const cost = east([gpuGroup({ scalingConfig: { minSize: 2, maxSize: 3 } })]);
        expect(cost.gpuIdle).toBeCloseTo(2 * G6_XLARGE * 730, 2);
    });

    it("spot groups are priced at the on-demand ceiling, floor included", () => {
        const cost = east([gpuGroup({ capacityType: "SPOT", scalingConfig: { minSize: 1, maxSize: 2 } })]);
        const line = cost.lines[0];
        expect(line.floor).toBeCloseTo(1 * G6_2XLARGE * 730, 2);
        expect(line.note).toBe("spot: shown at its on-demand ceiling");
    });

    it("a price missing from the table is unknown, yet zero nodes cost zero whatever their price", () => {
        const cost = estimateCost([gpuGroup({})], { region: "eu-west-3" });
        expect(cost.lines[0]).toMatchObject({ floor: 0, ceiling: null });
        expect(cost.unknown).toEqual(["g6.xlarge/g6.2xlarge in eu-west-3"]);
        expect(cost.complete).toBe(false);
        expect(budgetProblem(cost, 10_000)).toMatch(/the full-scale ceiling is unknown/);
    });

    it("a warm GPU replica lands on the pool its selector and tolerations fit, on the cluster its provider names", () => {
        const owner = "urn:cluster-component";
        const group = gpuGroup({});
        group.parentUrn = owner;
        const provider = res("pulumi:providers:kubernetes", "k8s", {}, { parentUrn: owner });
        const other = res("pulumi:providers:kubernetes", "onprem", {});
        const deployment = (name: string, prov: CostInput) =>
            res(
                "kubernetes:apps/v1:Deployment",
                name,
                {
                    metadata: { name, namespace: "inference" },
                    spec: {
                        replicas: 2,
                        template: {
                            spec: {
                                nodeSelector: { "modelship.dev/accelerator": "nvidia" },
                                tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
                                containers: [{ resources: { limits: { "nvidia.com/gpu": "1" } } }],
                            },
                        },
                    },
                },
                { provider: `${prov.urn}::id` },
            );
        const cost = east([group, provider, other, deployment("svc", provider), deployment("elsewhere", other)]);
        // 2 replicas × 1 GPU on the EKS cluster; the other cluster's pods are not placed on its pools.
        expect(cost.gpuIdle).toBeCloseTo(2 * G6_XLARGE * 730, 2);
        expect(cost.notEstimated).toContain("2 × 1 GPU of inference/elsewhere on a cluster the plan does not price");
    });

    it("says when the replicas at their maximum want more GPUs than the pools hold", () => {
        const group = gpuGroup({ scalingConfig: { minSize: 0, maxSize: 1 } });
        const d = res("kubernetes:apps/v1:Deployment", "svc", {
            metadata: { name: "svc", namespace: "ns" },
            spec: { template: { spec: { nodeSelector: { "modelship.dev/accelerator": "nvidia" }, tolerations: [{ operator: "Exists" }], containers: [{ resources: { limits: { "nvidia.com/gpu": 1 } } }] } } },
        });
        const scaler = res("kubernetes:keda.sh/v1alpha1:ScaledObject", "svc-scaler", { metadata: { namespace: "ns" }, spec: { scaleTargetRef: { name: "svc" }, minReplicaCount: 0, maxReplicaCount: 3 } });
        const cost = east([group, d, scaler]);
        expect(cost.gpuIdle).toBe(0);
        expect(renderCost(cost)).toContain("note: ns/svc: at 3 replicas it wants 3 GPUs; its pools hold 1: the rest stay Pending");
    });

    it("Karpenter NodePools: the floor is a node per warm pod, the ceiling the GPU limit at the dearest allowed type per GPU", () => {
        const pool = res("kubernetes:karpenter.sh/v1:NodePool", "gpu-pool", {
            spec: {
                limits: { "nvidia.com/gpu": "4" },
                template: { spec: { requirements: [{ key: "node.kubernetes.io/instance-type", operator: "In", values: ["g6.xlarge", "g6.2xlarge"] }] } },
            },
        });
        const line = east([pool]).lines[0];
        expect(line).toMatchObject({ floor: 0, ceilingBasis: "4 GPUs on g6.2xlarge (dearest per GPU)" });
        expect(line.ceiling).toBeCloseTo(4 * G6_2XLARGE * 730, 2);
        // By GPU name: every priced L4 type (g6, gr6); the dearest per GPU is g6.16xlarge (1 GPU).
        const byName = res("kubernetes:karpenter.sh/v1:NodePool", "l4", {
            spec: { limits: { "nvidia.com/gpu": 2 }, template: { spec: { requirements: [{ key: "karpenter.k8s.aws/instance-gpu-name", operator: "In", values: ["l4"] }] } } },
        });
        expect(east([byName]).lines[0].ceilingBasis).toBe("2 GPUs on g6.16xlarge (dearest per GPU)");
        const unbounded = east([res("kubernetes:karpenter.sh/v1:NodePool", "open", { spec: { template: { spec: { requirements: [] } } } })]);
        expect(unbounded.lines[0].ceiling).toBeNull();
        expect(unbounded.unknown).toEqual(["the ceiling of open (no nvidia.com/gpu limit) in us-east-1"]);
    });
});

describe("podFits", () => {
    const pool = { labels: { a: "1" }, taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }] };
    it("needs every selected label and a toleration for every taint (EKS and Kubernetes effect spellings alike)", () => {
        expect(podFits({ nodeSelector: { a: "1" }, tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }] }, pool)).toBe(true);
        expect(podFits({ nodeSelector: { a: "2" }, tolerations: [{ operator: "Exists" }] }, pool)).toBe(false);
        expect(podFits({ nodeSelector: { a: "1" } }, pool)).toBe(false);
        expect(podFits({ tolerations: [{ key: "nvidia.com/gpu", operator: "Equal", value: "false" }] }, pool)).toBe(false);
    });
});

describe("the EKS control plane", () => {
    const cluster = (version?: string) => res("eks:index:Cluster", "eks", { skipDefaultNodeGroup: true, ...(version ? { version } : {}) });
    it("bills the standard rate within standard support and the extended rate after it, saying so", () => {
        expect(estimateCost([cluster("1.33")], { region: "us-east-1", asOf: "2026-07-29" }).floor).toBeCloseTo(730 * EKS, 2);
        const late = estimateCost([cluster("1.33")], { region: "us-east-1", asOf: "2026-07-30" });
        expect(late.floor).toBeCloseTo(730 * 0.6, 2);
        expect(late.lines[0]).toMatchObject({ floorBasis: "1 cluster, extended support", note: "Kubernetes 1.33 left standard support on 2026-07-29: upgrade to pay $0.10/h" });
    });
    it("a version the table has no dates for is billed at the standard rate, with a note saying so", () => {
        const cost = estimateCost([cluster("1.40")], { region: "us-east-1", asOf: "2026-07-01" });
        expect(cost.floor).toBeCloseTo(730 * EKS, 2);
        expect(cost.lines[0].note).toBe("Kubernetes 1.40: support dates not in the table; $0.60/h if it is in extended support");
    });
    it("names the default node group pulumi-eks creates unless it is skipped", () => {
        expect(estimateCost([res("eks:index:Cluster", "eks", {})], { region: "us-east-1", asOf: "2026-07-01" }).notEstimated).toEqual([
            "the default node group of eks (skipDefaultNodeGroup is not set)",
        ]);
    });
});

describe("other billed items", () => {
    it("NAT gateways follow the Vpc strategy; KMS keys and secrets bill per resource; load balancers are unknown, not guessed", () => {
        const cost = east([
            res("awsx:ec2:Vpc", "single", { natGateways: { strategy: "Single" } }),
            res("awsx:ec2:Vpc", "none", { natGateways: { strategy: "None" } }),
            res("awsx:ec2:Vpc", "default", {}),
            res("aws:kms/key:Key", "k1", {}),
            res("aws:kms/key:Key", "k2", {}),
            res("aws:secretsmanager/secret:Secret", "s", {}),
            res("kubernetes:core/v1:Service", "lb", { spec: { type: "LoadBalancer" } }),
        ]);
        // awsx defaults: OnePerAz over 3 AZs.
        expect(cost.floor).toBeCloseTo(730 * (1 + 3) * (NAT + IPV4) + 2 * KMS + SECRET, 2);
        expect(cost.unknown).toEqual(["load balancer-hour in us-east-1"]);
        expect(cost.lines.map((l) => l.floorBasis)).toEqual(expect.arrayContaining(["1 NAT gateway (Single)", "3 NAT gateways (OnePerAz, 3 AZs)", "2 × $1.00", "1 × $0.40"]));
    });
});
