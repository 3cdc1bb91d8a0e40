/**
 * The monthly cost band of a plan, from the resources it recorded and a checked-in, dated on-demand price table
 * (cli/prices/aws-on-demand.json): the idle floor (what runs with no traffic: control plane, system nodes, NAT gateways,
 * GPU nodes kept up by warm replicas, storage, keys) and the full-scale ceiling (every node pool at its maximum).
 * A price the table does not hold is reported as unknown, never guessed; usage-billed items are listed as not estimated.
 * Pure: no Pulumi calls.
 */
import { gpuInstanceInfo } from "../components/internal/gpu-instances";
import table from "./prices/aws-on-demand.json";

/** The checked-in price table's shape. */
export interface PriceTable {
    currency: string;
    hoursPerMonth: number;
    /** Where the prices come from, in a few words (printed with every estimate). */
    source: string;
    /** When the prices were retrieved (YYYY-MM-DD). */
    retrieved: string;
    /** The exact source of each kind of price. */
    sources: Record<string, string>;
    /** Prices that are the same in every commercial region. */
    global: { eksClusterHour: number; eksExtendedSupportClusterHour: number; kmsKeyMonth: number; secretsManagerSecretMonth: number; publicIpv4Hour: number };
    /** Last day of EKS standard support by Kubernetes minor version (YYYY-MM-DD); after it, the extended-support rate. */
    eksStandardSupportEnds: Record<string, string>;
    /** Regional prices; a region or type missing here is an unknown price. */
    regions: Record<string, { natGatewayHour?: number; ebsGp3GbMonth?: number; instances?: Record<string, number> }>;
}

export const PRICES: PriceTable = table;

/** The resource fields the estimator reads (a subset of the mock runtime's `RecordedResource`). */
export interface CostInput {
    type: string;
    name: string;
    // Recorded inputs are untyped provider JSON, read field by field with fallbacks.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    inputs: Record<string, any>;
    urn: string;
    parentUrn?: string;
    provider?: string;
    dependencies: string[];
}

/** One billed item. Amounts are USD per month; null is an unknown price. */
export interface CostLine {
    item: string;
    /** The resource's logical name. */
    resource: string;
    /** What the floor and the ceiling count, e.g. "2 × m6i.large". */
    floorBasis: string;
    ceilingBasis: string;
    floor: number | null;
    ceiling: number | null;
    /** True for GPU capacity: its floor is the idle GPU cost. */
    gpu: boolean;
    note?: string;
}

export interface CostEstimate {
    currency: string;
    hoursPerMonth: number;
    source: string;
    retrieved: string;
    /** The region the stack's AWS resources are priced in. */
    region: string;
    /** Sum of the known floors: what the stack costs idle. */
    floor: number;
    /** Sum of the known ceilings: every pool and replica at its maximum. */
    ceiling: number;
    /** The floor of GPU capacity alone (the goal is 0); null when a price it needs is unknown. */
    gpuIdle: number | null;
    /** False when some price is unknown: floor and ceiling are then lower bounds. */
    complete: boolean;
    /** What has no price in the table ("g6.xlarge in us-west-2"). */
    unknown: string[];
    /** Usage-billed items the plan cannot size (image storage, log ingestion, data processing). */
    notEstimated: string[];
    /** What a reader should know about the band (replicas the pools cannot hold). */
    notes: string[];
    lines: CostLine[];
}

const GPU_RESOURCE = "nvidia.com/gpu";

/** The region's hourly on-demand price of an instance type, or undefined. Pure. */
export function instancePrice(prices: PriceTable, region: string, instanceType: string): number | undefined {
    return prices.regions[region]?.instances?.[instanceType];
}

/** A node pool: a managed node group or a Karpenter NodePool. */
interface Pool {
    r: CostInput;
    kind: "node group" | "Karpenter NodePool";
    /** Instance types, in the order the group fills on-demand capacity (first listed first). */
    types: string[];
    min: number;
    /** Maximum nodes; undefined when only a GPU limit bounds the pool (Karpenter). */
    max?: number;
    /** Karpenter `limits["nvidia.com/gpu"]`. */
    gpuLimit?: number;
    spot: boolean;
    gpu: boolean;
    labels: Record<string, string>;
    taints: { key: string; value?: string; effect: string }[];
    rootGb?: number;
    rootType?: string;
    /** Warm GPU pods placed here at the floor. */
    warmGpus: number;
    warmPods: { gpus: number }[];
}

/** Every pool's GPUs per node, when all its types agree. Pure. */
function gpusPerNode(types: string[]): number | undefined {
    const counts = new Set(types.map((t) => {
        const info = gpuInstanceInfo(t);
        return info.ok ? info.gpus : undefined;
    }));
    const [only] = [...counts];
    return counts.size === 1 ? only : undefined;
}

/** Whether a pod with these scheduling constraints can land on the pool's nodes. Pure. */
export function podFits(
    pod: { nodeSelector?: Record<string, string>; tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[] },
    pool: { labels: Record<string, string>; taints: { key: string; value?: string; effect: string }[] },
): boolean {
    const selected = Object.entries(pod.nodeSelector ?? {}).every(([k, v]) => pool.labels[k] === v);
    // EKS writes effects as NO_SCHEDULE, Kubernetes as NoSchedule.
    const effect = (e: string | undefined) => (e ?? "").replace(/_/g, "").toLowerCase();
    const tolerated = pool.taints.every((t) =>
        (pod.tolerations ?? []).some(
            (tol) =>
                (tol.key === undefined || tol.key === t.key) &&
                (tol.operator === "Exists" || (tol.value ?? "") === (t.value ?? "")) &&
                (tol.effect === undefined || tol.effect === "" || effect(tol.effect) === effect(t.effect)),
        ),
    );
    return selected && tolerated;
}

function toNumber(v: unknown, fallback: number): number {
    const n = typeof v === "string" ? Number(v) : v;
    return typeof n === "number" && Number.isFinite(n) ? n : fallback;
}

/** The pools of the plan: managed node groups (pulumi-eks and the raw AWS resource) and Karpenter NodePools. */
function findPools(resources: CostInput[], prices: PriceTable, region: string): Pool[] {
    const pools: Pool[] = [];
    for (const r of resources) {
        const i = r.inputs;
        if (r.type === "eks:index:ManagedNodeGroup" || r.type === "aws:eks/nodeGroup:NodeGroup") {
            const types: string[] = Array.isArray(i.instanceTypes) && i.instanceTypes.length > 0 ? i.instanceTypes : ["t3.medium"];
            const scaling = i.scalingConfig ?? {};
            const lt = launchTemplateOf(resources, r);
            const bdm = (lt?.inputs.blockDeviceMappings ?? [])[0]?.ebs;
            pools.push({
                r,
                kind: "node group",
                types,
                min: toNumber(scaling.minSize, 1),
                max: toNumber(scaling.maxSize, toNumber(scaling.minSize, 1)),
                spot: i.capacityType === "SPOT",
                gpu: types.some((t) => gpuInstanceInfo(t).ok),
                labels: i.labels ?? {},
                taints: (i.taints ?? []).map((t: { key: string; value?: string; effect: string }) => ({ key: t.key, value: t.value, effect: t.effect })),
                rootGb: bdm ? toNumber(bdm.volumeSize, NaN) : lt ? undefined : i.diskSize !== undefined ? toNumber(i.diskSize, NaN) : undefined,
                rootType: bdm ? (bdm.volumeType ?? "gp2") : undefined,
                warmGpus: 0,
                warmPods: [],
            });
        } else if (/^kubernetes:karpenter\.sh\/v1(beta1)?:NodePool$/.test(r.type)) {
            const spec = i.spec ?? {};
            const reqs: { key: string; operator: string; values?: string[] }[] = spec.template?.spec?.requirements ?? [];
            const inValues = (key: string) => reqs.find((q) => q.key === key && q.operator === "In")?.values;
            const named = inValues("node.kubernetes.io/instance-type");
            const families = inValues("karpenter.k8s.aws/instance-family");
            const gpuNames = inValues("karpenter.k8s.aws/instance-gpu-name");
            const known = Object.keys(prices.regions[region]?.instances ?? {});
            const allowed = (t: string) => {
                const info = gpuInstanceInfo(t);
                return info.ok && (!families || families.includes(info.family)) && (!gpuNames || gpuNames.some((g) => info.accelerator === `nvidia-${g}`));
            };
            // Named types as listed; otherwise every priced GPU type the family and GPU-name requirements allow.
            const types = named ?? (families || gpuNames ? known.filter(allowed) : []);
            const capacity = inValues("karpenter.sh/capacity-type") ?? ["on-demand"];
            const limit = spec.limits?.[GPU_RESOURCE];
            pools.push({
                r,
                kind: "Karpenter NodePool",
                types,
                min: 0,
                gpuLimit: limit === undefined ? undefined : toNumber(limit, NaN),
                spot: capacity.includes("spot"),
                gpu: true,
                labels: spec.template?.metadata?.labels ?? {},
                taints: spec.template?.spec?.taints ?? [],
                warmGpus: 0,
                warmPods: [],
            });
        }
    }
    return pools;
}

/** The launch template a node group uses: the one it depends on, else the one whose (mock) id it names. */
function launchTemplateOf(resources: CostInput[], group: CostInput): CostInput | undefined {
    const lts = resources.filter((x) => x.type === "aws:ec2/launchTemplate:LaunchTemplate");
    const id = group.inputs.launchTemplate?.id;
    return lts.find((lt) => id !== undefined && id === `${lt.name}-id`) ?? lts.find((lt) => group.dependencies.includes(lt.urn));
}

/** The pods that need GPUs, with the replicas they keep at the floor and reach at the ceiling. */
function gpuWorkloads(resources: CostInput[]) {
    const out: { r: CostInput; name: string; gpus: number; minReplicas: number; maxReplicas: number; pod: CostInput["inputs"] }[] = [];
    for (const r of resources.filter((x) => x.type === "kubernetes:apps/v1:Deployment" || x.type === "kubernetes:apps/v1:StatefulSet")) {
        const pod = r.inputs.spec?.template?.spec ?? {};
        const gpus = (pod.containers ?? []).reduce((n: number, c: { resources?: { limits?: Record<string, unknown> } }) => n + toNumber(c.resources?.limits?.[GPU_RESOURCE], 0), 0);
        if (gpus === 0) continue;
        const name = r.inputs.metadata?.name ?? r.name;
        const ns = r.inputs.metadata?.namespace;
        const scaler = resources.find(
            (s) =>
                s.type === "kubernetes:keda.sh/v1alpha1:ScaledObject" &&
                s.provider === r.provider &&
                s.inputs.metadata?.namespace === ns &&
                s.inputs.spec?.scaleTargetRef?.name === name,
        );
        const fixed = toNumber(r.inputs.spec?.replicas, 1);
        // KEDA's own defaults: minReplicaCount 0, maxReplicaCount 100.
        const minReplicas = scaler ? toNumber(scaler.inputs.spec?.minReplicaCount, 0) : fixed;
        const maxReplicas = scaler ? toNumber(scaler.inputs.spec?.maxReplicaCount, 100) : fixed;
        out.push({ r, name: `${ns ? `${ns}/` : ""}${name}`, gpus, minReplicas, maxReplicas, pod });
    }
    return out;
}

/** The parent of the provider a Kubernetes object was registered with (the component owning that cluster). */
function clusterOwner(resources: CostInput[], r: CostInput): string | null | undefined {
    if (!r.provider) return undefined;
    const urn = r.provider.slice(0, r.provider.lastIndexOf("::"));
    return resources.find((p) => p.urn === urn)?.parentUrn ?? null;
}

const money = (hourly: number, hours: number) => hourly * hours;

/** The hourly control-plane price of an EKS version on a date, and why. Pure. */
export function eksControlPlane(prices: PriceTable, version: string | undefined, asOf: string): { hourly: number; basis: string; note: string } {
    const ends = version === undefined ? undefined : prices.eksStandardSupportEnds[version];
    const extended = `$${prices.global.eksExtendedSupportClusterHour.toFixed(2)}/h`;
    if (ends === undefined) {
        return { hourly: prices.global.eksClusterHour, basis: "1 cluster, standard support", note: `Kubernetes ${version ?? "(provider default)"}: support dates not in the table; ${extended} if it is in extended support` };
    }
    if (asOf > ends) {
        return { hourly: prices.global.eksExtendedSupportClusterHour, basis: "1 cluster, extended support", note: `Kubernetes ${version} left standard support on ${ends}: upgrade to pay $${prices.global.eksClusterHour.toFixed(2)}/h` };
    }
    return { hourly: prices.global.eksClusterHour, basis: "1 cluster, standard support", note: `Kubernetes ${version}: standard support until ${ends}, ${extended} after` };
}

/** Estimates the monthly cost band of the recorded resources, on `asOf` (YYYY-MM-DD, default today). Pure but for the default date. */
export function estimateCost(resources: CostInput[], opts: { region: string; prices?: PriceTable; asOf?: string }): CostEstimate {
    const prices = opts.prices ?? PRICES;
    const H = prices.hoursPerMonth;
    const region = opts.region;
    const regional = prices.regions[region] ?? {};
    const lines: CostLine[] = [];
    const unknown = new Set<string>();
    const notEstimated: string[] = [];
    const notes: string[] = [];
    const unknownPrice = (what: string) => {
        unknown.add(`${what} in ${region}`);
        return null;
    };

    // Control planes.
    for (const r of resources.filter((x) => x.type === "eks:index:Cluster" || x.type === "aws:eks/cluster:Cluster")) {
        const version = r.inputs.version ?? r.inputs.eksCluster?.version;
        const cp = eksControlPlane(prices, version === undefined ? undefined : String(version), opts.asOf ?? new Date().toISOString().slice(0, 10));
        const m = money(cp.hourly, H);
        lines.push({ item: "EKS control plane", resource: r.name, floorBasis: cp.basis, ceilingBasis: cp.basis, floor: m, ceiling: m, gpu: false, note: cp.note });
        if (r.type === "eks:index:Cluster" && r.inputs.skipDefaultNodeGroup !== true) notEstimated.push(`the default node group of ${r.name} (skipDefaultNodeGroup is not set)`);
    }

    // Node pools: the floor counts minimum nodes plus those warm GPU replicas keep up, the ceiling every pool at its maximum.
    const pools = findPools(resources, prices, region);
    for (const w of gpuWorkloads(resources)) {
        const owner = clusterOwner(resources, w.r);
        const candidates = pools.filter((p) => p.gpu && (owner === undefined || p.r.parentUrn === owner || clusterOwner(resources, p.r) === owner) && podFits(w.pod, p));
        if (candidates.length === 0) {
            if (w.minReplicas > 0) notEstimated.push(`${w.minReplicas} × ${w.gpus} GPU of ${w.name} on a cluster the plan does not price`);
            continue;
        }
        const target = candidates[0];
        target.warmGpus += w.minReplicas * w.gpus;
        for (let k = 0; k < w.minReplicas; k++) target.warmPods.push({ gpus: w.gpus });
        const room = candidates.reduce((n, p) => n + (p.gpuLimit ?? (p.max !== undefined ? p.max * (gpusPerNode(p.types) ?? 0) : Infinity)), 0);
        if (w.maxReplicas * w.gpus > room) notes.push(`${w.name}: at ${w.maxReplicas} replicas it wants ${w.maxReplicas * w.gpus} GPUs; its pools hold ${room}: the rest stay Pending`);
    }
    for (const p of pools) lines.push(...poolLines(p, prices, region, unknownPrice));

    // NAT gateways: billed per hour whether or not traffic flows, each with a public IPv4 address.
    for (const r of resources.filter((x) => x.type === "awsx:ec2:Vpc" || x.type === "aws:ec2/natGateway:NatGateway")) {
        let count: number;
        let basis: string;
        if (r.type === "awsx:ec2:Vpc") {
            const strategy = r.inputs.natGateways?.strategy ?? "OnePerAz";
            const azs = Array.isArray(r.inputs.availabilityZoneNames) ? r.inputs.availabilityZoneNames.length : toNumber(r.inputs.numberOfAvailabilityZones, 3);
            count = strategy === "None" ? 0 : strategy === "Single" ? 1 : azs;
            basis = `${count} NAT gateway${count === 1 ? "" : "s"} (${strategy}${strategy === "OnePerAz" ? `, ${azs} AZs` : ""})`;
        } else {
            count = 1;
            basis = "1 NAT gateway";
        }
        if (count === 0) continue;
        const ipv4 = r.type === "aws:ec2/natGateway:NatGateway" && r.inputs.connectivityType === "private" ? 0 : prices.global.publicIpv4Hour;
        const m = regional.natGatewayHour === undefined ? unknownPrice("NAT gateway-hour") : count * money(regional.natGatewayHour + ipv4, H);
        lines.push({ item: "NAT gateways", resource: r.name, floorBasis: basis, ceilingBasis: basis, floor: m, ceiling: m, gpu: false, note: ipv4 > 0 ? "hourly charge and its public IPv4 address" : undefined });
        notEstimated.push(`NAT data processing of ${r.name} ($ per GB through the gateways)`);
    }

    // Per-resource monthly fees.
    const perResource = (type: string, item: string, monthly: number) => {
        const rs = resources.filter((x) => x.type === type);
        if (rs.length === 0) return;
        const m = rs.length * monthly;
        const basis = `${rs.length} × $${monthly.toFixed(2)}`;
        lines.push({ item, resource: rs.map((x) => x.name).join(", "), floorBasis: basis, ceilingBasis: basis, floor: m, ceiling: m, gpu: false });
    };
    perResource("aws:kms/key:Key", "KMS keys", prices.global.kmsKeyMonth);
    perResource("aws:secretsmanager/secret:Secret", "Secrets Manager secrets", prices.global.secretsManagerSecretMonth);

    // Load balancers: not in the table, so unknown rather than guessed.
    for (const r of resources) {
        const isLb = r.type === "aws:lb/loadBalancer:LoadBalancer" || r.type === "aws:elb/loadBalancer:LoadBalancer" || (r.type === "kubernetes:core/v1:Service" && r.inputs.spec?.type === "LoadBalancer");
        if (isLb) lines.push({ item: "load balancer", resource: r.name, floorBasis: "1", ceilingBasis: "1", floor: unknownPrice("load balancer-hour"), ceiling: null, gpu: false });
    }

    const count = (type: string) => resources.filter((x) => x.type === type).length;
    const n = (k: number, one: string, many: string) => `${k} ${k === 1 ? one : many}`;
    if (count("aws:ecr/repository:Repository") > 0) notEstimated.push(`ECR image storage of ${n(count("aws:ecr/repository:Repository"), "repository", "repositories")} ($ per GB-month of images)`);
    if (count("aws:ecr/replicationConfiguration:ReplicationConfiguration") > 0) notEstimated.push("ECR replication (replica storage and cross-region transfer)");
    if (count("aws:cloudwatch/logGroup:LogGroup") > 0) notEstimated.push(`CloudWatch Logs ingestion and storage of ${n(count("aws:cloudwatch/logGroup:LogGroup"), "log group", "log groups")}`);

    const sum = (pick: (l: CostLine) => number | null, filter: (l: CostLine) => boolean = () => true) => lines.filter(filter).reduce((n, l) => n + (pick(l) ?? 0), 0);
    const gpuLines = lines.filter((l) => l.gpu);
    return {
        currency: prices.currency,
        hoursPerMonth: H,
        source: prices.source,
        retrieved: prices.retrieved,
        region,
        floor: round(sum((l) => l.floor)),
        ceiling: round(sum((l) => l.ceiling)),
        gpuIdle: gpuLines.some((l) => l.floor === null) ? null : round(sum((l) => l.floor, (l) => l.gpu)),
        complete: unknown.size === 0,
        unknown: [...unknown].sort(),
        notEstimated,
        notes,
        lines: lines.map((l) => ({ ...l, floor: l.floor === null ? null : round(l.floor), ceiling: l.ceiling === null ? null : round(l.ceiling) })),
    };
}

/** The node and root-volume lines of one pool. */
function poolLines(p: Pool, prices: PriceTable, region: string, unknownPrice: (what: string) => null): CostLine[] {
    const H = prices.hoursPerMonth;
    const priced = p.types.map((t) => ({ t, price: instancePrice(prices, region, t) }));
    const missing = priced.filter((x) => x.price === undefined).map((x) => x.t);
    const priciest = missing.length > 0 || priced.length === 0 ? undefined : priced.reduce((a, b) => ((b.price ?? 0) > (a.price ?? 0) ? b : a));
    const lines: CostLine[] = [];
    const spotNote = p.spot ? "spot: shown at its on-demand ceiling" : undefined;
    if (p.kind === "node group") {
        const perNode = gpusPerNode(p.types);
        const warmNodes = p.warmGpus > 0 && perNode ? Math.ceil(p.warmGpus / perNode) : 0;
        const floorNodes = Math.min(Math.max(p.min, warmNodes), p.max ?? Infinity);
        const ceilNodes = p.max ?? p.min;
        // On-demand groups fill capacity in the listed order; spot ones may land on any type, so the priciest.
        const floorType = p.spot ? priciest : priced[0];
        const floor = floorNodes === 0 ? 0 : floorType?.price === undefined ? unknownPrice(p.spot ? p.types.join("/") : p.types[0]) : floorNodes * floorType.price * H;
        const ceiling = ceilNodes === 0 ? 0 : priciest?.price === undefined ? unknownPrice(missing.join("/")) : ceilNodes * priciest.price * H;
        const warm = warmNodes > p.min ? ` (${warmNodes} kept up by ${p.warmGpus} warm GPU${p.warmGpus === 1 ? "" : "s"})` : "";
        lines.push({
            item: p.gpu ? "GPU node group" : "node group",
            resource: p.r.name,
            floorBasis: `${floorNodes} × ${p.spot ? (priciest?.t ?? p.types.join("|")) : p.types[0]}${warm}`,
            ceilingBasis: `${ceilNodes} × ${priciest?.t ?? p.types.join("|")}`,
            floor,
            ceiling,
            gpu: p.gpu,
            note: spotNote,
        });
        if (p.rootGb !== undefined || p.rootType !== undefined) {
            const gb = p.rootGb ?? NaN;
            const rate = p.rootType === "gp3" ? prices.regions[region]?.ebsGp3GbMonth : undefined;
            const volume = (n: number) => (n === 0 ? 0 : rate === undefined || !Number.isFinite(gb) ? unknownPrice(`EBS ${p.rootType ?? "root volume"} GB-month`) : n * gb * rate);
            lines.push({
                item: p.gpu ? "GPU node root volumes" : "node root volumes",
                resource: p.r.name,
                floorBasis: `${floorNodes} × ${gb} GiB ${p.rootType ?? ""}`.trim(),
                ceilingBasis: `${ceilNodes} × ${gb} GiB ${p.rootType ?? ""}`.trim(),
                floor: volume(floorNodes),
                ceiling: volume(ceilNodes),
                gpu: p.gpu,
            });
        }
        return lines;
    }
    // Karpenter: one node per warm pod, of the cheapest allowed type that holds it; the ceiling is the GPU limit filled
    // with the allowed type dearest per GPU.
    const perGpu = priced.map((x) => ({ ...x, gpus: gpusPerNode([x.t]) })).filter((x) => x.gpus !== undefined && x.gpus > 0);
    const cheapestFor = (gpus: number) => perGpu.filter((x) => (x.gpus ?? 0) >= gpus).sort((a, b) => (a.price ?? Infinity) - (b.price ?? Infinity))[0];
    let floor: number | null = 0;
    for (const pod of p.warmPods) {
        const t = cheapestFor(pod.gpus);
        if (floor !== null) floor = t?.price === undefined || missing.length > 0 ? unknownPrice(missing.join("/") || `a ${pod.gpus}-GPU type of ${p.r.name}`) : floor + t.price * H;
    }
    let ceiling: number | null;
    let ceilingBasis: string;
    if (p.gpuLimit === undefined || !Number.isFinite(p.gpuLimit)) {
        ceiling = null;
        ceilingBasis = `no ${GPU_RESOURCE} limit: unbounded`;
        unknownPrice(`the ceiling of ${p.r.name} (no ${GPU_RESOURCE} limit)`);
    } else if (missing.length > 0 || perGpu.length === 0) {
        ceiling = unknownPrice(missing.join("/") || `the types of ${p.r.name}`);
        ceilingBasis = `${p.gpuLimit} GPUs`;
    } else {
        const dearest = perGpu.reduce((a, b) => ((b.price ?? 0) / (b.gpus ?? 1) > (a.price ?? 0) / (a.gpus ?? 1) ? b : a));
        ceiling = (p.gpuLimit / (dearest.gpus ?? 1)) * (dearest.price ?? 0) * H;
        ceilingBasis = `${p.gpuLimit} GPUs on ${dearest.t} (dearest per GPU)`;
    }
    lines.push({ item: "Karpenter GPU NodePool", resource: p.r.name, floorBasis: `${p.warmPods.length} node(s) for warm pods`, ceilingBasis, floor, ceiling, gpu: true, note: spotNote });
    return lines;
}

function round(n: number): number {
    return Math.round(n * 100) / 100;
}

/** `$1,234.56`. Pure. */
export function usd(n: number | null): string {
    return n === null ? "unknown" : `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

function gpuIdleNote(c: CostEstimate): string {
    if (!c.lines.some((l) => l.gpu)) return " (no GPU capacity in AWS)";
    return c.gpuIdle === 0 ? " (GPU capacity scales from zero)" : " (the goal is $0: GPU nodes kept up while idle)";
}

/** The estimate as the plan's text block. Pure. */
export function renderCost(c: CostEstimate): string {
    const partial = c.complete ? "" : " + unknown";
    const lines = [
        `Estimated monthly cost (on-demand list prices, ${c.currency}, ${c.hoursPerMonth} h/month, region ${c.region}; ${c.source}, retrieved ${c.retrieved}):`,
        `  idle floor          ${usd(c.floor)}${partial}`,
        `    of which GPU idle ${c.gpuIdle === null ? "unknown" : usd(c.gpuIdle)}${gpuIdleNote(c)}`,
        `  full-scale ceiling  ${usd(c.ceiling)}${partial}`,
        "",
        `  ${"item".padEnd(24)}${"resource".padEnd(34)}${"floor".padStart(12)}${"ceiling".padStart(12)}`,
    ];
    for (const l of c.lines) {
        lines.push(`  ${l.item.padEnd(24)}${l.resource.slice(0, 33).padEnd(34)}${usd(l.floor).padStart(12)}${usd(l.ceiling).padStart(12)}`);
        lines.push(`      floor ${l.floorBasis}; ceiling ${l.ceilingBasis}${l.note ? `; ${l.note}` : ""}`);
    }
    for (const n of c.notes) lines.push(`  note: ${n}`);
    if (c.unknown.length > 0) lines.push(`  unknown price (not in the table, never guessed): ${c.unknown.join(", ")}`);
    if (c.notEstimated.length > 0) lines.push(`  not estimated (billed by usage): ${c.notEstimated.join("; ")}`);
    lines.push("  Prices: cli/prices/aws-on-demand.json; spot capacity is shown at its on-demand ceiling; no Savings Plans or discounts.");
    return lines.join("\n");
}

/** Why a plan fails `--max-monthly`, or undefined when its ceiling fits. Pure. */
export function budgetProblem(c: CostEstimate, maxMonthly: number): string | undefined {
    if (!c.complete) return `--max-monthly ${usd(maxMonthly)}: the full-scale ceiling is unknown (no price for ${c.unknown.join(", ")}): price those items in cli/prices/aws-on-demand.json or drop the flag`;
    if (c.ceiling > maxMonthly) return `full-scale ceiling ${usd(c.ceiling)}/month exceeds --max-monthly ${usd(maxMonthly)}: lower the pools' maxSize or raise the limit`;
    return undefined;
}
