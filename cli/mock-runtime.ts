/**
 * Pulumi's mock runtime, recording every registered resource.
 *
 * Used by `modelship plan` to run a stack program offline and by the tests to assert on the inputs each resource is
 * registered with. Nothing here talks to a cloud: provider-computed outputs (ARNs, URLs, digests, kubeconfigs) are
 * deterministic placeholders derived from the resource's type and name.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { checkContracts, ContractError, resourceContractProblems, type ContractViolation } from "./contracts";

/** One resource as the engine would have seen it. */
export interface RecordedResource {
    /** Type token, e.g. `aws:ecr/repository:Repository`. */
    type: string;
    /** Logical name. */
    name: string;
    /** The inputs it was registered with, as plain values (secrets unwrapped; see `secretPaths`). */
    inputs: Record<string, any>;
    /** Paths (`a.b[0].c`) of inputs that were marked secret. */
    secretPaths: string[];
    /** The state the mock returned (inputs plus computed outputs). */
    state: Record<string, any>;
    /** URN of the resource. */
    urn: string;
    /** URN of the parent resource, when it has one other than the stack. */
    parentUrn?: string;
    /** Provider reference (`urn::id`) when an explicit provider was passed. */
    provider?: string;
    /** True for custom (provider) resources, false for components. */
    custom: boolean;
    /** URNs of the resources it depends on explicitly (`dependsOn`) or through its inputs. */
    dependencies: string[];
    /** The `ignoreChanges` option it was registered with. */
    ignoreChanges: string[];
    /** Outputs a component registered with `registerOutputs` (plain values; secrets unwrapped). */
    outputs?: Record<string, any>;
}

/** Computes the provider outputs of one resource type from its name and inputs. */
export type OutputsFn = (name: string, inputs: Record<string, any>) => Record<string, any>;

export interface MockRuntimeOptions {
    project?: string;
    stack?: string;
    /** Extra or overriding computed outputs by type token. */
    outputs?: Record<string, OutputsFn>;
    /** Extra or overriding invoke results by function token. */
    calls?: Record<string, (inputs: Record<string, any>) => Record<string, any>>;
    /**
     * Refuse, at registration, a resource that breaks a contract the provider or the API server enforces (a name over
     * AWS's limit once autonamed, a name or label Kubernetes refuses), as a real `pulumi up` would. Default true.
     */
    enforceContracts?: boolean;
}

export const MOCK_ACCOUNT_ID = "123456789012";
export const MOCK_REGION = "us-west-2";

/** The region the AWS provider would use: the stack's `aws:region`, else {@link MOCK_REGION}. */
export function mockRegion(): string {
    return new pulumi.Config("aws").get("region") ?? MOCK_REGION;
}

/** A stable fake hex digest so that plans and tests are reproducible. */
export function fakeSha256(seed: string): string {
    return createHash("sha256").update(seed).digest("hex");
}

/**
 * Every value the mock invented (account id, digests, generated ids), with the label the plan shows in its place
 * (`<placeholder:digest>`), so that a reviewer never mistakes a fake digest for a real one.
 */
export const PLACEHOLDERS = new Map<string, string>([[MOCK_ACCOUNT_ID, "account-id"]]);

/** Records `value` as invented by the mock under `label` and returns it. */
function invent(label: string, value: string): string {
    PLACEHOLDERS.set(value, label);
    return value;
}

/** Replaces every invented value inside strings (at any depth) with `<placeholder:label>`. Pure: returns a copy. */
export function markPlaceholders<T>(value: T, placeholders: ReadonlyMap<string, string> = PLACEHOLDERS): T {
    // Longest first, so that a digest is replaced whole before any shorter token inside it.
    const tokens = [...placeholders.keys()].filter((t) => t.length >= 6).sort((a, b) => b.length - a.length);
    if (tokens.length === 0) return value;
    const pattern = new RegExp(tokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|"), "g");
    const walk = (v: unknown): unknown => {
        if (typeof v === "string") return v.replace(pattern, (m) => `<placeholder:${placeholders.get(m)}>`);
        if (Array.isArray(v)) return v.map(walk);
        if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
        return v;
    };
    return walk(value) as T;
}

function arn(service: string, resource: string, region = mockRegion()): string {
    return `arn:aws:${service}:${region}:${MOCK_ACCOUNT_ID}:${resource}`;
}

function mockKubeconfig(clusterName: string): Record<string, any> {
    return {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: clusterName, cluster: { server: `https://${invent("cluster-endpoint-id", fakeSha256(clusterName).slice(0, 32).toUpperCase())}.gr7.${mockRegion()}.eks.amazonaws.com`, "certificate-authority-data": "bW9jaw==" } }],
        contexts: [{ name: clusterName, context: { cluster: clusterName, user: clusterName } }],
        "current-context": clusterName,
        users: [{ name: clusterName, user: { exec: { apiVersion: "client.authentication.k8s.io/v1beta1", command: "aws", args: ["eks", "get-token", "--cluster-name", clusterName] } } }],
    };
}

/** Computed outputs of the resource types modelship uses; anything else echoes its inputs. */
export const DEFAULT_OUTPUTS: Record<string, OutputsFn> = {
    "aws:ecr/repository:Repository": (name, inputs) => {
        const repoName = inputs.name ?? name;
        const region = inputs.region ?? mockRegion();
        return {
            name: repoName,
            arn: arn("ecr", `repository/${repoName}`, region),
            registryId: MOCK_ACCOUNT_ID,
            repositoryUrl: `${MOCK_ACCOUNT_ID}.dkr.ecr.${region}.amazonaws.com/${repoName}`,
        };
    },
    "aws:kms/key:Key": (name) => {
        const keyId = invent("kms-key-id", `${fakeSha256(name).slice(0, 8)}-mock`);
        return { arn: arn("kms", `key/${keyId}`), keyId };
    },
    "aws:kms/alias:Alias": (_name, inputs) => ({ arn: arn("kms", String(inputs.name ?? "alias/mock")) }),
    "aws:signer/signingProfile:SigningProfile": (name, inputs) => {
        const profileName = String(inputs.name ?? `${inputs.namePrefix ?? ""}${fakeSha256(name).slice(0, 26)}`);
        const version = fakeSha256(`${name}-version`).slice(0, 10);
        return { name: profileName, arn: arn("signer", `/signing-profiles/${profileName}`), version, versionArn: arn("signer", `/signing-profiles/${profileName}/${version}`) };
    },
    "aws:iam/role:Role": (name, inputs) => ({ arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/${inputs.name ?? name}`, name: inputs.name ?? name }),
    "aws:iam/policy:Policy": (name, inputs) => ({ arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:policy/${inputs.name ?? name}`, name: inputs.name ?? name }),
    "aws:secretsmanager/secret:Secret": (name, inputs) => ({
        arn: arn("secretsmanager", `secret:${inputs.name ?? name}-AbCdEf`),
        name: inputs.name ?? name,
    }),
    "docker-build:index:Image": (name, inputs) => {
        const digest = invent("digest", `sha256:${fakeSha256(`${name}:${JSON.stringify(inputs.tags ?? [])}`)}`);
        const tag: string | undefined = (inputs.tags ?? [])[0];
        const repo = tag ? tag.replace(/:[^:/]+$/, "") : name;
        return { digest, ref: `${repo}@${digest}` };
    },
    "docker:index/remoteImage:RemoteImage": (_name, inputs) => ({ repoDigest: inputs.name, imageId: invent("image-id", `sha256:${fakeSha256(String(inputs.name))}`) }),
    "eks:index:Cluster": (name, inputs) => {
        const clusterName = inputs.name ?? `${name}-eksCluster-mock`;
        const oidcUrl = `oidc.eks.${mockRegion()}.amazonaws.com/id/${invent("oidc-id", fakeSha256(name).slice(0, 32).toUpperCase())}`;
        return {
            kubeconfig: mockKubeconfig(clusterName),
            kubeconfigJson: JSON.stringify(mockKubeconfig(clusterName)),
            eksCluster: { name: clusterName, arn: arn("eks", `cluster/${clusterName}`), version: "1.33" },
            clusterSecurityGroupId: invent("security-group-id", "sg-0123456789abcdef0"),
            nodeSecurityGroupId: invent("security-group-id", "sg-0fedcba9876543210"),
            clusterIngressRuleId: invent("security-group-rule-id", "sgr-0123456789abcdef0"),
            oidcProviderArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:oidc-provider/${oidcUrl}`,
            oidcProviderUrl: oidcUrl,
            oidcIssuer: oidcUrl,
            instanceRoles: [],
            core: {},
        };
    },
    "eks:index:ManagedNodeGroup": (name, inputs) => ({
        nodeGroup: {
            nodeGroupName: inputs.nodeGroupName ?? name,
            arn: arn("eks", `nodegroup/${name}`),
            resources: [{ autoscalingGroups: [{ name: `eks-${name}-mock-asg` }] }],
        },
    }),
    "awsx:ec2:Vpc": (name) => ({
        vpcId: invent("vpc-id", `vpc-${fakeSha256(name).slice(0, 17)}`),
        privateSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"].map((id) => invent("subnet-id", id)),
        publicSubnetIds: ["subnet-0bbbbbbbbbbbbbbb1", "subnet-0bbbbbbbbbbbbbbb2"].map((id) => invent("subnet-id", id)),
        isolatedSubnetIds: [],
    }),
    "pulumi:providers:kubernetes": () => ({}),
    "aws:ec2/launchTemplate:LaunchTemplate": (name) => ({ id: invent("launch-template-id", `lt-${fakeSha256(name).slice(0, 17)}`), latestVersion: 1, defaultVersion: 1 }),
};

/** Tokens issued so far: ECR's authorization token is valid 12 hours and differs on every call, so the mock's does too. */
let tokensIssued = 0;

export const DEFAULT_CALLS: Record<string, (inputs: Record<string, any>) => Record<string, any>> = {
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": () => {
        const n = ++tokensIssued;
        const password = invent("ecr-password", `mock-ecr-password-${n}`);
        return {
            userName: "AWS",
            password,
            authorizationToken: invent("ecr-token", Buffer.from(`AWS:${password}`).toString("base64")),
            proxyEndpoint: `https://${MOCK_ACCOUNT_ID}.dkr.ecr.${mockRegion()}.amazonaws.com`,
        };
    },
    "aws:index/getCallerIdentity:getCallerIdentity": () => ({
        accountId: MOCK_ACCOUNT_ID,
        arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/mock`,
        userId: "AIDAMOCK",
        id: MOCK_ACCOUNT_ID,
    }),
    // An assumed-role session maps to its role; any other ARN is its own issuer (as the real data source does).
    // A role looked up by name (`aws.iam.getRoleOutput({ name })`, as the README's quick start does) exists in the mock account.
    "aws:iam/getRole:getRole": (inputs) => ({ ...inputs, arn: arn("iam", `role/${inputs.name}`, ""), id: inputs.name, uniqueId: "AROAMOCK" }),
    "aws:iam/getSessionContext:getSessionContext": (inputs) => {
        const arn = String(inputs.arn);
        const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/.exec(arn);
        return m
            ? { arn, issuerArn: `arn:${m[1]}:iam::${m[2]}:role/${m[3]}`, issuerName: m[3], sessionName: m[4], issuerId: "AROAMOCK", id: arn }
            : { arn, issuerArn: arn, issuerName: "", sessionName: "", issuerId: "", id: arn };
    },
    "aws:index/getRegion:getRegion": () => {
        const region = mockRegion();
        return { name: region, region, id: region };
    },
    "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
    "aws:index/getAvailabilityZones:getAvailabilityZones": () => ({
        names: [`${mockRegion()}a`, `${mockRegion()}b`, `${mockRegion()}c`],
        zoneIds: ["usw2-az1", "usw2-az2", "usw2-az3"],
    }),
};

/** The marker Pulumi's RPC layer puts on a secret value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

function isSecretEnvelope(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE;
}

/** Returns `value` with every secret envelope replaced by its content, and the paths where secrets were found. */
export function unwrapSecrets(value: unknown, at = "", paths: string[] = []): { value: any; paths: string[] } {
    if (isSecretEnvelope(value)) {
        paths.push(at);
        return { value: unwrapSecrets(value.value, at, []).value, paths };
    }
    if (Array.isArray(value)) {
        return { value: value.map((v, i) => unwrapSecrets(v, `${at}[${i}]`, paths).value), paths };
    }
    if (typeof value === "object" && value !== null) {
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) out[k] = unwrapSecrets(v, at ? `${at}.${k}` : k, paths).value;
        return { value: out, paths };
    }
    return { value, paths };
}

/** Records every resource registered while the mock runtime is installed. */
export class MockRecorder {
    readonly resources: RecordedResource[] = [];
    /** Every invoke, with the provider reference (`urn::id`) it was made through, when explicit. */
    readonly invocations: { token: string; inputs: Record<string, any>; provider?: string }[] = [];
    /** Contracts broken at registration (each such resource was refused when enforcement is on). */
    readonly refused: ContractViolation[] = [];
    private pending = 0;

    /**
     * Every contract the recorded program breaks that a real `pulumi up` would hit: names and labels the provider or
     * the API server refuses, and ordering (namespaced objects after their Namespace, custom resources after their
     * CRD's installer, Helm releases after a node group that can run them, image pushes after the registry settings
     * they rely on, no immutable tag pushed twice). Call after {@link settle}.
     */
    checkContracts(): ContractViolation[] {
        return checkContracts(this.resources);
    }

    /** All resources of a type token. */
    ofType(type: string): RecordedResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The single resource of `type` whose name equals `name` (or, without a name, the only one of that type). */
    one(type: string, name?: string): RecordedResource {
        const matches = this.ofType(type).filter((r) => name === undefined || r.name === name);
        if (matches.length !== 1) {
            const names = this.ofType(type).map((r) => r.name);
            throw new Error(`expected exactly one ${type}${name ? ` named ${name}` : ""}, found ${matches.length} (have: ${names.join(", ") || "none"})`);
        }
        return matches[0];
    }

    /** The resource registered under `urn`. */
    byUrn(urn: string | undefined): RecordedResource | undefined {
        return this.resources.find((r) => r.urn === urn);
    }

    /** Whether `resource` depends on `on` (directly, or on one of `on`'s descendants, as `dependsOn` a component means). */
    dependsOn(resource: RecordedResource, on: RecordedResource): boolean {
        const targets = new Set<string>();
        const collect = (r: RecordedResource) => {
            targets.add(r.urn);
            this.childrenOf(r).forEach(collect);
        };
        collect(on);
        return resource.dependencies.some((urn) => targets.has(urn));
    }

    /** Children of a resource (direct only). */
    childrenOf(parent: RecordedResource): RecordedResource[] {
        return this.resources.filter((r) => r.parentUrn === parent.urn);
    }

    /** Waits until no registration is in flight for a few turns of the event loop. */
    async settle(): Promise<void> {
        for (let quiet = 0; quiet < 10; ) {
            await new Promise((resolve) => setTimeout(resolve, 5));
            quiet = this.pending === 0 ? quiet + 1 : 0;
        }
    }

    /** @internal */
    begin(): void {
        this.pending++;
    }

    /** @internal */
    end(): void {
        this.pending--;
    }
}

/**
 * Installs Pulumi's mock runtime and returns a recorder of what gets registered. Call before constructing resources.
 * Runs as an update (not a preview) so that every output is known and `apply` callbacks run.
 */
export function installMockRuntime(options: MockRuntimeOptions = {}): MockRecorder {
    const recorder = new MockRecorder();
    const outputs = { ...DEFAULT_OUTPUTS, ...(options.outputs ?? {}) };
    const calls = { ...DEFAULT_CALLS, ...(options.calls ?? {}) };
    const enforce = options.enforceContracts ?? true;
    let current: { parent?: string; urn?: string; dependencies?: string[]; ignoreChanges?: string[] } = {};

    pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
                const plain = unwrapSecrets(args.inputs);
                const computed = outputs[args.type]?.(args.name, plain.value) ?? {};
                const state = { ...args.inputs, ...computed };
                const custom = args.custom ?? false;
                const recorded: RecordedResource = {
                    type: args.type,
                    name: args.name,
                    inputs: plain.value,
                    secretPaths: plain.paths,
                    state,
                    urn: current.urn ?? "",
                    parentUrn: current.parent || undefined,
                    provider: args.provider || undefined,
                    dependencies: current.dependencies ?? [],
                    ignoreChanges: current.ignoreChanges ?? [],
                    custom,
                };
                recorder.resources.push(recorded);
                const problems = resourceContractProblems(recorded).map((p) => ({ contract: p.contract, urn: recorded.urn, type: recorded.type, name: recorded.name, message: `${recorded.urn}: ${p.message}` }));
                recorder.refused.push(...problems);
                // As the provider would: the resource fails to create, with its URN and the fix in the message.
                if (enforce && problems.length > 0) throw new ContractError(problems);
                return { id: custom ? `${args.name}-id` : undefined, state };
            },
            call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
                const inputs = unwrapSecrets(args.inputs).value;
                recorder.invocations.push({ token: args.token, inputs, provider: args.provider || undefined });
                const fn = calls[args.token];
                return fn ? fn(inputs) : inputs;
            },
        },
        options.project ?? "modelship",
        options.stack ?? "test",
        false,
    );

    // The mock monitor does not pass parents to `newResource`; wrap it to capture the parent URN. `newResource` runs
    // synchronously inside `registerResource`, before its first await, so a plain variable carries the value across.
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, res: any) => void) => {
        recorder.begin();
        current = {
            parent: req.getParent(),
            urn: monitor.newUrn(req.getParent(), req.getType(), req.getName()),
            dependencies: req.getDependenciesList?.() ?? [],
            ignoreChanges: req.getIgnorechangesList?.() ?? [],
        };
        const done = register(req, (err: any, res: any) => {
            recorder.end();
            callback(err, res);
        });
        current = {};
        return done;
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req: any, callback: (err: any, res: any) => void) => {
        const resource = recorder.resources.find((r) => r.urn === req.getUrn());
        if (resource) resource.outputs = unwrapSecrets(req.getOutputs()?.toJavaScript() ?? {}).value;
        recorder.begin();
        return registerOutputs(req, (err: any, res: any) => {
            recorder.end();
            callback(err, res);
        });
    };
    return recorder;
}

/** Resolves an Output (or plain value) to its value. */
export function valueOf<T>(value: pulumi.Input<T>): Promise<T> {
    return new Promise<T>((resolve) => pulumi.output(value).apply((v) => resolve(v as T)));
}

/** Whether an Output is marked secret. */
export function isSecret(value: pulumi.Output<unknown>): Promise<boolean> {
    return (value as any).isSecret as Promise<boolean>;
}
