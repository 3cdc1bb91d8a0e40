import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { irsaTrustPolicy, policyDocument, policyJson } from "./internal/iam";
import { appLabels, IRSA_ROLE_ANNOTATION } from "./internal/k8s-constants";
import { labelledNamespace, type PodSecurityLevel } from "./internal/namespaces";
import { keyArnOrCreate } from "./internal/kms";
import { componentTags } from "./internal/tags";
import { ArgChecker, isDnsLabel, isRegion } from "./internal/validation";
import { DNS1123_LABEL_RULE, isDns1123Label } from "./internal/k8s-names";
import { pinnedRelease } from "./internal/helm";
import { checkInput, checkPlain } from "./internal/inputs";

export const SECRET_WIRING_TYPE = "modelship:index:SecretWiring";

/** The OIDC identity of an EKS cluster; a `GpuCluster` has both outputs, or pass them as a plain object. */
export interface OidcCluster {
    oidcProviderArn: pulumi.Input<string>;
    oidcProviderUrl: pulumi.Input<string>;
    /** The node groups that run add-ons (a `GpuCluster`'s `systemNodes`): the default of `nodesReady`. */
    systemNodes?: pulumi.Resource[];
}

/** Arguments of {@link SecretWiring}. */
export interface SecretWiringArgs {
    /**
     * Where the values live. `"aws"`: Secrets Manager, synced into the cluster by External Secrets Operator (needs
     * `cluster`). `"kubernetes"`: a Kubernetes Secret written from the Pulumi secret values (edge and on-prem clusters).
     */
    mode: "aws" | "kubernetes";
    /**
     * Namespace of the Kubernetes Secret (and, in aws mode, of the SecretStore and its service account): a name, an
     * Output (checked when it resolves; it carries the dependency on the namespace behind it), or a
     * `k8s.core.v1.Namespace` made elsewhere, which every object then waits for. Must be a plain string with
     * `createNamespace`. Required.
     */
    namespace: pulumi.Input<string> | k8s.core.v1.Namespace;
    /** Create `namespace`, labelled to enforce, warn and audit the "restricted" Pod Security Standard. Default false (it exists, e.g. made by an InferenceService or by hand). */
    createNamespace?: boolean;
    /**
     * Environment variable names (the keys of the Kubernetes Secret) to values. Values must be secrets: config secrets
     * (`config.requireSecret`) or Outputs; a plain string literal is refused so that it never sits in source or state.
     */
    secrets: Record<string, pulumi.Input<string>>;
    /** aws mode: the cluster whose OIDC provider the IRSA role trusts. A `GpuCluster` or `{ oidcProviderArn, oidcProviderUrl }`. */
    cluster?: OidcCluster;
    /** aws mode: KMS key ARN encrypting the Secrets Manager secrets. Default: a key created here, rotation on. */
    kmsKeyArn?: pulumi.Input<string>;
    /** aws mode: how often the operator re-reads Secrets Manager (a Go duration). Default "1h". */
    refreshInterval?: string;
    /** aws mode: region of the secrets; an Output is checked when it resolves. Default: the AWS provider's region. */
    region?: pulumi.Input<string>;
    /**
     * aws mode: install External Secrets Operator (Helm, pinned). Default true. Set false on every wiring but one in a
     * cluster, so that they share one operator.
     */
    installOperator?: boolean;
    /**
     * aws mode with `installOperator: false`: what installed External Secrets Operator and its CRDs in this program
     * (another wiring's `operator`), which the SecretStore and ExternalSecret wait for; `[]` states the operator was
     * installed outside this program. Required then: the API server refuses those kinds until the CRDs exist.
     */
    operatorReady?: pulumi.Resource[];
    /**
     * aws mode: the node groups the operator's pods can run on, when this program creates them: the operator's Helm
     * install (atomic, 300 s) waits for them instead of timing out while nodes come up. Default `cluster.systemNodes`
     * when `cluster` has it (a `GpuCluster`), else none (the nodes exist already).
     */
    nodesReady?: pulumi.Resource[];
    /** aws mode: namespace of the operator, created here (Pod Security "restricted") when `installOperator`. Default "external-secrets". */
    operatorNamespace?: string;
    /**
     * aws mode: prefix of the Secrets Manager names (`<prefix>/<KEY>-<unique suffix>`, the suffix added by the provider
     * at each creation so that a destroy-then-up never meets a name still reserved by the recovery window). Default the
     * component's name.
     */
    secretNamePrefix?: string;
    /** aws mode: Secrets Manager recovery window in days (0 deletes at once, 7-30 otherwise): how long a destroyed value can be restored. Default 7. */
    recoveryWindowInDays?: number;
    /** Tags merged onto the defaults on AWS resources. */
    tags?: Record<string, string>;
}

/** External Secrets Operator Helm chart, pinned. 1.0.0 serves the `external-secrets.io/v1` API used below. */
// Checked to exist on 2026-11-26: tag helm-chart-1.0.0 of github.com/external-secrets/external-secrets,
// deploy/charts/external-secrets/Chart.yaml version "1.0.0" (2025-11-07), published to charts.external-secrets.io.
export const ESO_CHART = { chart: "external-secrets", version: "1.0.0", repo: "https://charts.external-secrets.io" } as const;
export const ESO_API_VERSION = "external-secrets.io/v1";
/**
 * Strictest Pod Security level the operator passes: the chart's controller, webhook and cert-controller run as uid
 * 1000, non-root, drop ALL, no privilege escalation, RuntimeDefault seccomp, read-only root filesystem.
 */
export const ESO_POD_SECURITY: PodSecurityLevel = "restricted";

/** Defaults, in one place. */
export const SECRET_WIRING_DEFAULTS = {
    createNamespace: false,
    refreshInterval: "1h",
    installOperator: true,
    operatorNamespace: "external-secrets",
    recoveryWindowInDays: 7,
} as const;

/** Longest SecretWiring name: the IAM role `<name>-reader` plus Pulumi's autoname suffix (`-` + 7) must fit IAM's 64. */
export const SECRET_WIRING_NAME_MAX = 64 - "-reader".length - 8;
/** Longest Secrets Manager name, and the length of the unique suffix the provider adds to a `namePrefix`. */
const SECRETS_MANAGER_NAME_MAX = 512;
const NAME_PREFIX_SUFFIX_LENGTH = 26;
const SECRETS_MANAGER_NAME = /^[A-Za-z0-9/_+=.@-]+$/;

/** Names an environment variable may have, so the Secret can be consumed whole with `envFrom`. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const GO_DURATION = /^(\d+(ns|us|µs|ms|s|m|h))+$/;

/** What is wrong with `region`, or undefined. Pure. */
export function regionProblem(region: string): string | undefined {
    return typeof region === "string" && isRegion(region) ? undefined : `"${region}" is not an AWS region code such as "eu-central-1"`;
}

/** What is wrong with `namespace`, or undefined. Pure. */
export function namespaceProblem(ns: string): string | undefined {
    return typeof ns === "string" && isDnsLabel(ns) ? undefined : `"${ns}" is not a valid namespace name: use a DNS label such as "inference"`;
}

/** What is wrong with a (resolved) namespace that is the operator's own, or undefined. Pure. */
function operatorNamespaceProblem(args: SecretWiringArgs, ns: string): string | undefined {
    const installs = args.mode === "aws" && (args.installOperator ?? SECRET_WIRING_DEFAULTS.installOperator);
    const operatorNamespace = args.operatorNamespace ?? SECRET_WIRING_DEFAULTS.operatorNamespace;
    return installs && ns === operatorNamespace
        ? `is "${ns}", the operator's namespace (operatorNamespace), which is created here for the operator alone: pick another, or another operatorNamespace`
        : undefined;
}

/** Validates the arguments; throws an error naming the field and the fix. Pure: no Pulumi calls. */
export function validateSecretWiringArgs(name: string, args: SecretWiringArgs): void {
    const c = new ArgChecker("SecretWiring", name);
    if (args.mode === "kubernetes") c.check(isDns1123Label(name), "name", `"${name}" must be a DNS-1123 label of at most 63 characters (${DNS1123_LABEL_RULE}): it names the Kubernetes Secret`);
    else
        c.check(
            isDns1123Label(name, SECRET_WIRING_NAME_MAX),
            "name",
            `"${name}" must be a DNS-1123 label of at most ${SECRET_WIRING_NAME_MAX} characters (${DNS1123_LABEL_RULE}): it names Kubernetes objects, and the IAM role "${name}-reader" plus Pulumi's 8-character suffix must fit IAM's 64; shorten it`,
        );
    c.check(args.mode === "aws" || args.mode === "kubernetes", "mode", `must be "aws" or "kubernetes" (got ${JSON.stringify(args.mode)})`);
    c.check(args.namespace !== undefined && args.namespace !== null, "namespace", 'is required: the namespace the pods run in, e.g. "inference" or an InferenceService\'s namespace');
    if (!k8s.core.v1.Namespace.isInstance(args.namespace)) checkPlain(c, "namespace", args.namespace, namespaceProblem);
    if (args.createNamespace) c.check(typeof args.namespace === "string", "namespace", "must be a plain string with createNamespace: true (the namespace is created under that name); pass an Output or a Namespace only for a namespace made elsewhere");
    const entries = Object.entries(args.secrets ?? {});
    c.check(entries.length > 0, "secrets", "is empty: give at least one NAME: value entry");
    for (const [key, value] of entries) {
        c.check(ENV_NAME.test(key), `secrets.${key}`, `is not a valid environment variable name: use letters, digits and "_", not starting with a digit (e.g. "HF_TOKEN")`);
        c.check(
            typeof value !== "string",
            `secrets.${key}`,
            "is a plain string literal, which would sit in source and in plain state: pass a config secret (config.requireSecret(\"...\")) or an Output",
        );
    }
    if (args.mode === "aws") {
        c.check(args.cluster !== undefined, "cluster", 'is required with mode "aws": pass the GpuCluster (or { oidcProviderArn, oidcProviderUrl }) whose OIDC provider the IRSA role trusts');
        if (args.refreshInterval !== undefined)
            c.check(GO_DURATION.test(args.refreshInterval), "refreshInterval", `"${args.refreshInterval}" is not a duration: use e.g. "15m" or "1h"`);
        checkPlain(c, "region", args.region, regionProblem);
        if (args.operatorNamespace !== undefined)
            c.check(isDnsLabel(args.operatorNamespace), "operatorNamespace", `"${args.operatorNamespace}" is not a valid namespace name`);
        const operatorNamespace = args.operatorNamespace ?? SECRET_WIRING_DEFAULTS.operatorNamespace;
        if (args.installOperator ?? SECRET_WIRING_DEFAULTS.installOperator)
            c.check(operatorNamespace !== args.namespace, "operatorNamespace", `is the same as namespace ("${args.namespace}"): the operator gets a namespace of its own, created here; pick another`);
        const installs = args.installOperator ?? SECRET_WIRING_DEFAULTS.installOperator;
        if (installs) c.check(args.operatorReady === undefined, "operatorReady", "is only used with installOperator: false (this wiring installs the operator itself): remove it");
        else
            c.check(
                Array.isArray(args.operatorReady),
                "operatorReady",
                "is required with installOperator: false: pass the wiring that installs the operator's `operator` (e.g. [first.operator!]) so the SecretStore waits for its CRDs, or [] when it was installed outside this program",
            );
        for (const field of ["operatorReady", "nodesReady"] as const) {
            const v = args[field];
            if (v !== undefined) c.check(Array.isArray(v) && v.every((r) => pulumi.Resource.isInstance(r)), field, "must be a list of resources");
        }
        if (args.secretNamePrefix !== undefined) {
            const p = args.secretNamePrefix;
            const longestKey = Math.max(0, ...Object.keys(args.secrets ?? {}).map((k) => k.length));
            c.check(SECRETS_MANAGER_NAME.test(p), "secretNamePrefix", `"${p}" may hold only letters, digits and "/_+=.@-" (Secrets Manager names)`);
            c.check(
                p.length + 1 + longestKey + NAME_PREFIX_SUFFIX_LENGTH <= SECRETS_MANAGER_NAME_MAX,
                "secretNamePrefix",
                `is too long: "<prefix>/<KEY>" plus the provider's ${NAME_PREFIX_SUFFIX_LENGTH}-character unique suffix must fit Secrets Manager's ${SECRETS_MANAGER_NAME_MAX}; shorten it`,
            );
        }
        const w = args.recoveryWindowInDays;
        if (w !== undefined) c.check(w === 0 || (Number.isInteger(w) && w >= 7 && w <= 30), "recoveryWindowInDays", `must be 0 or a whole number from 7 to 30 (got ${w})`);
    } else if (args.mode === "kubernetes") {
        for (const field of ["cluster", "kmsKeyArn", "refreshInterval", "region", "installOperator", "secretNamePrefix", "operatorReady", "nodesReady", "recoveryWindowInDays"] as const) {
            c.check(args[field] === undefined, field, 'applies to mode "aws" only: remove it, or set mode "aws"');
        }
    }
    c.done();
}

/**
 * The Secrets Manager name prefix of one entry: `<prefix>/<KEY>-`, to which the provider appends a suffix unique to
 * each creation (a destroyed secret's name stays reserved for its recovery window, so a fixed name fails a re-create). Pure.
 */
export function secretsManagerNamePrefix(prefix: string, key: string): string {
    return `${prefix}/${key}-`;
}

/** The least-privilege policy of the SecretStore's role: read exactly these secrets, decrypt with exactly this key. */
export function secretReaderPolicy(secretArns: pulumi.Input<string>[], kmsKeyArn: pulumi.Input<string>, region: pulumi.Input<string>): pulumi.Output<string> {
    return policyJson(
        policyDocument(
            {
                Sid: "ReadWiredSecrets",
                Effect: "Allow",
                Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
                Resource: secretArns,
            },
            {
                Sid: "DecryptThroughSecretsManager",
                Effect: "Allow",
                Action: "kms:Decrypt",
                Resource: kmsKeyArn,
                Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`secretsmanager.${region}.amazonaws.com` } },
            },
        ),
    );
}

/**
 * Gets secret values to a pod without them sitting in an image, a Deployment spec or plain state: AWS Secrets Manager
 * synced by External Secrets Operator through a least-privilege IRSA role, or a Kubernetes Secret from Pulumi secrets.
 * Built in steps, each a method: namespace, then either the Kubernetes Secret, or the Secrets Manager values, the
 * reader role, the operator and the sync objects.
 */
export class SecretWiring extends pulumi.ComponentResource {
    /** The Kubernetes Secret the pod consumes (`envFrom.secretRef` or a secret volume). Resolves once it is created. */
    readonly secretName: pulumi.Output<string>;
    /** aws mode: the service account the SecretStore authenticates as. Undefined in kubernetes mode. */
    readonly serviceAccountName: pulumi.Output<string | undefined>;
    /** aws mode: ARN of the IRSA role reading the secrets. Undefined in kubernetes mode. */
    readonly roleArn: pulumi.Output<string | undefined>;
    readonly namespace: pulumi.Output<string>;
    /** aws mode: Secrets Manager ARNs by key. Empty in kubernetes mode. */
    readonly secretArns: pulumi.Output<Record<string, string>>;

    // ---- the children, for extending rather than forking
    /** kubernetes mode: the Kubernetes Secret. */
    readonly secret: k8s.core.v1.Secret | undefined;
    /** aws mode: the Secrets Manager secrets, by key. Empty in kubernetes mode. */
    readonly awsSecrets: Record<string, aws.secretsmanager.Secret>;
    /** aws mode: the IRSA role the SecretStore reads with. */
    readonly role: aws.iam.Role | undefined;
    /** aws mode: the SecretStore's service account. */
    readonly serviceAccount: k8s.core.v1.ServiceAccount | undefined;
    /** aws mode: the External Secrets Operator release, when `installOperator`. */
    readonly operator: k8s.helm.v3.Release | undefined;
    /** aws mode: the SecretStore. */
    readonly secretStore: k8s.apiextensions.CustomResource | undefined;
    /** aws mode: the ExternalSecret that writes the Kubernetes Secret. */
    readonly externalSecret: k8s.apiextensions.CustomResource | undefined;

    constructor(name: string, args: SecretWiringArgs, opts?: pulumi.ComponentResourceOptions) {
        validateSecretWiringArgs(name, args);
        super(SECRET_WIRING_TYPE, name, {}, opts);

        const labels = appLabels("modelship-secrets", name);
        const namespaceDeps = this.createNamespace(name, args, labels);
        const nsResource = namespaceDeps[0] as k8s.core.v1.Namespace | undefined;
        const namespace = checkInput(
            { component: "SecretWiring", name, field: "namespace" },
            nsResource ? nsResource.metadata.name : (args.namespace as pulumi.Input<string>),
            (ns) => namespaceProblem(ns) ?? operatorNamespaceProblem(args, ns),
        );

        let aws_: ReturnType<SecretWiring["wireAws"]> | undefined;
        if (args.mode === "kubernetes") {
            this.secret = this.wireKubernetes(name, args, namespace, labels, namespaceDeps);
            this.secretName = this.secret.metadata.name;
        } else {
            aws_ = this.wireAws(name, args, namespace, labels, namespaceDeps);
            this.secretName = aws_.secretName;
        }
        this.awsSecrets = aws_?.secrets ?? {};
        this.role = aws_?.role;
        this.serviceAccount = aws_?.serviceAccount;
        this.operator = aws_?.operator;
        this.secretStore = aws_?.store;
        this.externalSecret = aws_?.external;
        this.serviceAccountName = aws_ ? aws_.serviceAccount.metadata.name : pulumi.output(undefined);
        this.roleArn = aws_ ? aws_.role.arn : pulumi.output(undefined);
        this.secretArns = pulumi.output(Object.fromEntries(Object.entries(this.awsSecrets).map(([key, secret]) => [key, secret.arn])));
        this.namespace = namespace;
        this.registerOutputs({
            secretName: this.secretName,
            serviceAccountName: this.serviceAccountName,
            roleArn: this.roleArn,
            namespace: this.namespace,
            secretArns: this.secretArns,
        });
    }

    /**
     * The namespace every object waits for: created here when `createNamespace` (it will hold inference pods, so it
     * enforces "restricted" like InferenceService's), or the one given as a resource.
     */
    private createNamespace(name: string, args: SecretWiringArgs, labels: Record<string, string>): k8s.core.v1.Namespace[] {
        if (k8s.core.v1.Namespace.isInstance(args.namespace)) return [args.namespace];
        if (!(args.createNamespace ?? SECRET_WIRING_DEFAULTS.createNamespace)) return [];
        return [labelledNamespace(`${name}-ns`, { name: args.namespace as string, level: "restricted", labels }, { parent: this })];
    }

    /** kubernetes mode: one Kubernetes Secret written from the Pulumi secret values. */
    private wireKubernetes(name: string, args: SecretWiringArgs, namespace: pulumi.Output<string>, labels: Record<string, string>, namespaceDeps: pulumi.Resource[]): k8s.core.v1.Secret {
        const stringData: Record<string, pulumi.Input<string>> = {};
        for (const key of Object.keys(args.secrets).sort()) stringData[key] = pulumi.secret(args.secrets[key]);
        return new k8s.core.v1.Secret(`${name}-secret`, { metadata: { name, namespace, labels }, type: "Opaque", stringData }, { parent: this, dependsOn: namespaceDeps });
    }

    /** aws mode: the values into Secrets Manager, a reader role, the operator, then the store and the sync into the cluster. */
    private wireAws(name: string, args: SecretWiringArgs, namespace: pulumi.Output<string>, labels: Record<string, string>, namespaceDeps: pulumi.Resource[]) {
        const d = SECRET_WIRING_DEFAULTS;
        const tags = componentTags("SecretWiring", name, args.tags);
        const region: pulumi.Output<string> =
            args.region !== undefined ? checkInput({ component: "SecretWiring", name, field: "region" }, args.region, regionProblem) : aws.getRegionOutput({}, { parent: this }).region;
        const kmsKeyArn = keyArnOrCreate({ given: args.kmsKeyArn, name, suffix: "key", description: `Secrets of ${name} (modelship SecretWiring)`, tags, parent: this });
        const { secrets, versions } = this.storeValues(name, args, kmsKeyArn, tags);
        const { role, policy, serviceAccount } = this.createReader(name, args, namespace, labels, namespaceDeps, secrets, kmsKeyArn, region, tags);
        const operator = args.installOperator ?? d.installOperator ? this.installOperator(name, args, labels) : undefined;
        // The SecretStore and ExternalSecret kinds exist once the operator's chart installed its CRDs.
        const operatorDeps = operator ? [operator] : (args.operatorReady ?? []);

        const store = new k8s.apiextensions.CustomResource(
            `${name}-store`,
            {
                apiVersion: ESO_API_VERSION,
                kind: "SecretStore",
                metadata: { name, namespace, labels },
                spec: { provider: { aws: { service: "SecretsManager", region, auth: { jwt: { serviceAccountRef: { name: serviceAccount.metadata.name } } } } } },
            },
            // The role's policy must exist before the store validates its access.
            { parent: this, dependsOn: [...operatorDeps, ...namespaceDeps, policy] },
        );
        const keys = Object.keys(secrets);
        const external = new k8s.apiextensions.CustomResource(
            `${name}-sync`,
            {
                apiVersion: ESO_API_VERSION,
                kind: "ExternalSecret",
                metadata: { name, namespace, labels },
                spec: {
                    refreshInterval: args.refreshInterval ?? d.refreshInterval,
                    secretStoreRef: { name: store.metadata.name, kind: "SecretStore" },
                    target: { name, creationPolicy: "Owner" },
                    // The ARN: the name carries a suffix known only once the secret exists.
                    data: keys.map((key) => ({ secretKey: key, remoteRef: { key: secrets[key].arn } })),
                },
            },
            // The values must be in Secrets Manager before the first sync, or it fails until the next refresh.
            { parent: this, dependsOn: [...operatorDeps, ...namespaceDeps, ...versions] },
        );
        // Resolves only after the ExternalSecret exists, so consumers depending on it wait for the sync object.
        const secretName = pulumi.all([external.id]).apply(() => name);
        return { secrets, role, serviceAccount, operator, store, external, secretName };
    }

    /** aws mode: one Secrets Manager secret per key, KMS-encrypted, holding the value. */
    private storeValues(name: string, args: SecretWiringArgs, kmsKeyArn: pulumi.Input<string>, tags: Record<string, string>) {
        const secrets: Record<string, aws.secretsmanager.Secret> = {};
        const versions: pulumi.Resource[] = [];
        for (const key of Object.keys(args.secrets).sort()) {
            const secret = new aws.secretsmanager.Secret(
                `${name}-${key}`,
                {
                    namePrefix: secretsManagerNamePrefix(args.secretNamePrefix ?? name, key),
                    kmsKeyId: kmsKeyArn,
                    recoveryWindowInDays: args.recoveryWindowInDays ?? SECRET_WIRING_DEFAULTS.recoveryWindowInDays,
                    description: `${key} for ${name} (modelship SecretWiring)`,
                    tags,
                },
                { parent: this },
            );
            versions.push(new aws.secretsmanager.SecretVersion(`${name}-${key}-value`, { secretId: secret.id, secretString: pulumi.secret(args.secrets[key]) }, { parent: this }));
            secrets[key] = secret;
        }
        return { secrets, versions };
    }

    /** aws mode: the IRSA role reading exactly these secrets, and the service account the SecretStore authenticates as. */
    private createReader(
        name: string,
        args: SecretWiringArgs,
        namespace: pulumi.Output<string>,
        labels: Record<string, string>,
        namespaceDeps: pulumi.Resource[],
        secrets: Record<string, aws.secretsmanager.Secret>,
        kmsKeyArn: pulumi.Input<string>,
        region: pulumi.Output<string>,
        tags: Record<string, string>,
    ) {
        const cluster = args.cluster!;
        const serviceAccountName = `${name}-secret-store`;
        const role = new aws.iam.Role(
            `${name}-reader`,
            {
                description: `Lets the SecretStore of ${name} read its Secrets Manager secrets (IRSA)`,
                assumeRolePolicy: irsaTrustPolicy({ oidcProviderArn: cluster.oidcProviderArn, oidcProviderUrl: cluster.oidcProviderUrl, namespace, serviceAccount: serviceAccountName }),
                tags,
            },
            { parent: this },
        );
        const policy = new aws.iam.RolePolicy(
            `${name}-reader`,
            { role: role.name, policy: secretReaderPolicy(Object.values(secrets).map((x) => x.arn), kmsKeyArn, region) },
            { parent: this },
        );
        const serviceAccount = new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            {
                metadata: { name: serviceAccountName, namespace, labels, annotations: { [IRSA_ROLE_ANNOTATION]: role.arn } },
                // Only the operator requests a token for this account (TokenRequest API); no pod mounts it.
                automountServiceAccountToken: false,
            },
            { parent: this, dependsOn: namespaceDeps },
        );
        return { role, policy, serviceAccount };
    }

    /** aws mode: External Secrets Operator (pinned chart) in a namespace of its own, created here. */
    private installOperator(name: string, args: SecretWiringArgs, labels: Record<string, string>): k8s.helm.v3.Release {
        const operatorNamespace = args.operatorNamespace ?? SECRET_WIRING_DEFAULTS.operatorNamespace;
        const operatorNs = labelledNamespace(`${name}-eso-ns`, { name: operatorNamespace, level: ESO_POD_SECURITY, labels }, { parent: this });
        return pinnedRelease(
            `${name}-eso`,
            ESO_CHART,
            { name: "external-secrets", namespace: operatorNamespace, createNamespace: false, values: { installCRDs: true } },
            { parent: this, dependsOn: [operatorNs, ...(args.nodesReady ?? args.cluster?.systemNodes ?? [])] },
        );
    }
}
