import { installMockRuntime, valueOf, isSecret, MOCK_ACCOUNT_ID } from "../support/mocks";

const recorder = installMockRuntime();
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ESO_CHART, ESO_POD_SECURITY, SecretWiring, secretReaderPolicy, validateSecretWiringArgs, type SecretWiringArgs } from "../../components/secret-wiring";
import { toK8sObject, validateK8sObjects } from "../support/k8s-schema";

const OIDC_URL = "oidc.eks.us-west-2.amazonaws.com/id/ABCDEF0123456789";
const CLUSTER = { oidcProviderArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:oidc-provider/${OIDC_URL}`, oidcProviderUrl: `https://${OIDC_URL}` };
const SM_SECRET = "aws:secretsmanager/secret:Secret";
const SM_VERSION = "aws:secretsmanager/secretVersion:SecretVersion";
const STORE = "kubernetes:external-secrets.io/v1:SecretStore";
const EXTERNAL = "kubernetes:external-secrets.io/v1:ExternalSecret";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
};

const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });

let awsWiring: SecretWiring;
let k8sWiring: SecretWiring;
beforeAll(async () => {
    awsWiring = new SecretWiring(
        "model",
        {
            mode: "aws",
            namespace: "inference",
            createNamespace: true,
            cluster: CLUSTER,
            secrets: { HF_TOKEN: pulumi.secret("hf-value"), API_KEY: pulumi.output("api-value") },
            refreshInterval: "15m",
        },
        { provider },
    );
    k8sWiring = new SecretWiring("edge", { mode: "kubernetes", namespace: "edge", secrets: { TOKEN: pulumi.output("edge-value") } }, { provider });
    await recorder.settle();
});

describe("SecretWiring aws mode: Secrets Manager", () => {
    it("creates one KMS-encrypted secret per entry, named after the component and key plus a suffix unique to each creation", () => {
        const key = recorder.one("aws:kms/key:Key", "model-key");
        expect(key.inputs.enableKeyRotation).toBe(true);
        const secrets = recorder.ofType(SM_SECRET).filter((r) => r.name.startsWith("model-"));
        // A fixed name stays reserved for the recovery window after a destroy, and the re-create would fail.
        expect(secrets.map((s) => s.inputs.namePrefix).sort()).toEqual(["model/API_KEY-", "model/HF_TOKEN-"]);
        for (const s of secrets) expect(s.inputs.name).toBeUndefined();
        for (const s of secrets) expect(s.inputs.recoveryWindowInDays).toBe(7);
        for (const s of secrets) expect(s.inputs.kmsKeyId).toBe(key.state.arn);
    });

    it("stores each value as a secret, even one given as a plain Output", () => {
        const hf = recorder.one(SM_VERSION, "model-HF_TOKEN-value");
        const api = recorder.one(SM_VERSION, "model-API_KEY-value");
        expect(hf.inputs.secretString).toBe("hf-value");
        expect(api.inputs.secretString).toBe("api-value");
        expect(hf.secretPaths).toContain("secretString");
        expect(api.secretPaths).toContain("secretString");
    });

    it("uses a given KMS key instead of creating one", async () => {
        new SecretWiring("byok", { mode: "aws", namespace: "ns", cluster: CLUSTER, kmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/byok", secrets: { A: pulumi.output("a") }, installOperator: false, operatorReady: [] }, { provider });
        await recorder.settle();
        expect(recorder.ofType("aws:kms/key:Key").map((r) => r.name)).not.toContain("byok-key");
        expect(recorder.one(SM_SECRET, "byok-A").inputs.kmsKeyId).toBe("arn:aws:kms:us-west-2:123456789012:key/byok");
        // A second wiring can share the first one's operator.
        expect(recorder.ofType(RELEASE).map((r) => r.name)).not.toContain("byok-eso");
    });
});

describe("SecretWiring aws mode: IRSA", () => {
    it("trusts exactly the SecretStore's service account in its namespace", () => {
        const trust = JSON.parse(recorder.one("aws:iam/role:Role", "model-reader").inputs.assumeRolePolicy);
        expect(trust.Statement).toEqual([
            {
                Effect: "Allow",
                Principal: { Federated: CLUSTER.oidcProviderArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { [`${OIDC_URL}:sub`]: "system:serviceaccount:inference:model-secret-store", [`${OIDC_URL}:aud`]: "sts.amazonaws.com" } },
            },
        ]);
    });

    it("allows reading exactly the wired secrets and decrypting with exactly the key", () => {
        const policy = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "model-reader").inputs.policy);
        const arns = recorder
            .ofType(SM_SECRET)
            .filter((r) => r.name.startsWith("model-"))
            .sort((a, b) => a.name.localeCompare(b.name))
            .map((r) => r.state.arn);
        expect(policy.Statement[0]).toEqual({ Sid: "ReadWiredSecrets", Effect: "Allow", Action: ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"], Resource: arns });
        expect(policy.Statement[1]).toEqual({
            Sid: "DecryptThroughSecretsManager",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: recorder.one("aws:kms/key:Key", "model-key").state.arn,
            Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-west-2.amazonaws.com" } },
        });
        expect(policy.Statement).toHaveLength(2);
    });

    it("creates the namespace enforcing, warning and auditing the restricted Pod Security Standard", () => {
        const ns = recorder.one("kubernetes:core/v1:Namespace", "model-ns").inputs;
        expect(ns.metadata.name).toBe("inference");
        expect(ns.metadata.labels).toMatchObject(RESTRICTED);
    });

    it("annotates the service account with the role and mounts no token", () => {
        const sa = recorder.one("kubernetes:core/v1:ServiceAccount", "model-sa").inputs;
        expect(sa.metadata).toMatchObject({ name: "model-secret-store", namespace: "inference", annotations: { "eks.amazonaws.com/role-arn": `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/model-reader` } });
        expect(sa.automountServiceAccountToken).toBe(false);
    });
});

describe("SecretWiring aws mode: External Secrets Operator", () => {
    it("installs the pinned chart in its own namespace with its CRDs", () => {
        const release = recorder.one(RELEASE, "model-eso").inputs;
        expect(release).toMatchObject({ chart: "external-secrets", version: "1.0.0", repositoryOpts: { repo: "https://charts.external-secrets.io" }, namespace: "external-secrets", createNamespace: false, values: { installCRDs: true } });
        expect(ESO_CHART.version).toBe("1.0.0");
    });

    it("creates the operator's namespace itself, restricted, and installs the chart into it only after", () => {
        const ns = recorder.one(NAMESPACE, "model-eso-ns");
        expect(ns.inputs.metadata.name).toBe("external-secrets");
        expect(ns.inputs.metadata.labels).toMatchObject(RESTRICTED);
        expect(ESO_POD_SECURITY).toBe("restricted");
        expect(recorder.dependsOn(recorder.one(RELEASE, "model-eso"), ns)).toBe(true);
    });

    it("creates no operator namespace when the operator is shared", () => {
        expect(recorder.ofType(NAMESPACE).map((r) => r.name)).not.toContain("byok-eso-ns");
        expect(recorder.ofType(RELEASE).map((r) => r.name)).not.toContain("byok-eso");
    });

    it("creates a SecretStore on Secrets Manager authenticating as the IRSA service account", () => {
        const store = recorder.one(STORE, "model-store").inputs;
        expect(store.apiVersion).toBe("external-secrets.io/v1");
        expect(store.kind).toBe("SecretStore");
        expect(store.metadata).toMatchObject({ name: "model", namespace: "inference" });
        expect(store.spec).toEqual({
            provider: { aws: { service: "SecretsManager", region: "us-west-2", auth: { jwt: { serviceAccountRef: { name: "model-secret-store" } } } } },
        });
    });

    it("syncs every entry into one Kubernetes Secret on the refresh interval", () => {
        const es = recorder.one(EXTERNAL, "model-sync").inputs;
        expect(es.apiVersion).toBe("external-secrets.io/v1");
        expect(es.metadata).toMatchObject({ name: "model", namespace: "inference" });
        expect(es.spec).toEqual({
            refreshInterval: "15m",
            secretStoreRef: { name: "model", kind: "SecretStore" },
            target: { name: "model", creationPolicy: "Owner" },
            // By ARN: the name's unique suffix is known only once the secret exists.
            data: [
                { secretKey: "API_KEY", remoteRef: { key: recorder.one(SM_SECRET, "model-API_KEY").state.arn } },
                { secretKey: "HF_TOKEN", remoteRef: { key: recorder.one(SM_SECRET, "model-HF_TOKEN").state.arn } },
            ],
        });
    });

    it("keeps secret values out of every Kubernetes object", () => {
        const k8sObjects = recorder.resources.filter((r) => r.type.startsWith("kubernetes:") && r.name.startsWith("model"));
        expect(k8sObjects.length).toBeGreaterThan(3);
        for (const r of k8sObjects) expect(JSON.stringify(r.inputs)).not.toMatch(/hf-value|api-value/);
    });

    it("outputs the Secret name, service account, role and namespace", async () => {
        expect(await valueOf(awsWiring.secretName)).toBe("model");
        expect(await valueOf(awsWiring.serviceAccountName)).toBe("model-secret-store");
        expect(await valueOf(awsWiring.roleArn)).toBe(`arn:aws:iam::${MOCK_ACCOUNT_ID}:role/model-reader`);
        expect(await valueOf(awsWiring.namespace)).toBe("inference");
    });

    it("parents children to the component, the Kubernetes ones through the given provider", () => {
        const component = recorder.one("modelship:index:SecretWiring", "model");
        const children = recorder.childrenOf(component);
        expect(children.map((r) => r.name).sort()).toEqual(
            ["model-API_KEY", "model-API_KEY-value", "model-HF_TOKEN", "model-HF_TOKEN-value", "model-eso", "model-eso-ns", "model-key", "model-ns", "model-reader", "model-reader", "model-sa", "model-store", "model-sync"].sort(),
        );
        for (const child of children.filter((r) => r.type.startsWith("kubernetes:"))) expect(child.provider).toMatch(/pulumi:providers:kubernetes::k8s::/);
    });
});

describe("SecretWiring kubernetes mode", () => {
    it("writes a Secret from the values, secret in state", () => {
        const secret = recorder.one("kubernetes:core/v1:Secret", "edge-secret");
        expect(secret.inputs.metadata).toMatchObject({ name: "edge", namespace: "edge" });
        expect(secret.inputs.type).toBe("Opaque");
        expect(secret.inputs.stringData).toEqual({ TOKEN: "edge-value" });
        expect(secret.secretPaths).toContain("stringData");
    });

    it("creates nothing in AWS and no operator", () => {
        const component = recorder.one("modelship:index:SecretWiring", "edge");
        expect(recorder.childrenOf(component).map((r) => r.type)).toEqual(["kubernetes:core/v1:Secret"]);
    });

    it("outputs the Secret name and no role", async () => {
        expect(await valueOf(k8sWiring.secretName)).toBe("edge");
        expect(await valueOf(k8sWiring.roleArn)).toBeUndefined();
        expect(await valueOf(k8sWiring.serviceAccountName)).toBeUndefined();
        expect(await isSecret(k8sWiring.secretName)).toBe(false);
    });
});

describe("validateSecretWiringArgs", () => {
    const base: SecretWiringArgs = { mode: "kubernetes", namespace: "ns", secrets: { A: pulumi.output("x") } };
    it("refuses a plain string literal, naming the key and the fix", () => {
        expect(() => validateSecretWiringArgs("w", { ...base, secrets: { HF_TOKEN: "hunter2" } })).toThrow(
            'SecretWiring "w": secrets.HF_TOKEN is a plain string literal, which would sit in source and in plain state: pass a config secret',
        );
    });
    const cases: [string, Partial<SecretWiringArgs>, string][] = [
        ["aws without cluster", { mode: "aws" }, 'cluster is required with mode "aws"'],
        ["an empty map", { secrets: {} }, "secrets is empty"],
        ["a key that is not an env name", { secrets: { "hf-token": pulumi.output("x") } }, "secrets.hf-token is not a valid environment variable name"],
        ["aws-only fields in kubernetes mode", { refreshInterval: "1h" }, 'refreshInterval applies to mode "aws" only'],
        ["a bad refresh interval", { mode: "aws", cluster: CLUSTER, refreshInterval: "hourly" }, '"hourly" is not a duration'],
        ["a bad namespace", { namespace: "Ns" }, '"Ns" is not a valid namespace name'],
        ["a bad recovery window", { mode: "aws", cluster: CLUSTER, recoveryWindowInDays: 3 }, "recoveryWindowInDays must be 0 or a whole number from 7 to 30"],
        ["the operator in the workload namespace", { mode: "aws", cluster: CLUSTER, namespace: "external-secrets" }, 'operatorNamespace is the same as namespace ("external-secrets")'],
    ];
    it.each(cases)("rejects %s", (_label, patch, message) => {
        expect(() => validateSecretWiringArgs("w", { ...base, ...patch })).toThrow(message);
    });
    it("accepts config secrets and Outputs", () => {
        expect(() => validateSecretWiringArgs("w", { mode: "aws", namespace: "ns", cluster: CLUSTER, secrets: { A: pulumi.secret("x"), B: pulumi.output("y") } })).not.toThrow();
    });
});

describe("secretReaderPolicy", () => {
    it("scopes to the given ARNs and key", async () => {
        const doc = JSON.parse(await valueOf(secretReaderPolicy(["arn:a", "arn:b"], "arn:k", "eu-central-1")));
        expect(doc.Statement[0].Resource).toEqual(["arn:a", "arn:b"]);
        expect(doc.Statement[1].Condition.StringEquals["kms:ViaService"]).toBe("secretsmanager.eu-central-1.amazonaws.com");
    });
});

describe("SecretWiring Kubernetes objects", () => {
    it("built-in objects validate against the Kubernetes API schemas", () => {
        const builtIn = recorder.resources.filter((r) => r.custom && /^kubernetes:core\/v1:(Secret|ServiceAccount|Namespace)$/.test(r.type));
        expect(builtIn.length).toBeGreaterThanOrEqual(3);
        expect(validateK8sObjects(builtIn.map(toK8sObject))).toEqual(builtIn.map(() => null));
    });

    it("CRD objects validate against the External Secrets v1 CRD schemas", () => {
        const crds = [...recorder.ofType(STORE), ...recorder.ofType(EXTERNAL)];
        expect(crds.length).toBeGreaterThanOrEqual(2);
        expect(validateK8sObjects(crds.map(toK8sObject))).toEqual(crds.map(() => null));
    });

    it("CRD objects have the fields External Secrets needs to sync", () => {
        for (const r of [...recorder.ofType(STORE), ...recorder.ofType(EXTERNAL)]) {
            expect(r.inputs.metadata.name).toMatch(/^[a-z0-9-]+$/);
            expect(typeof r.inputs.metadata.namespace).toBe("string");
        }
        for (const r of recorder.ofType(STORE)) expect(Object.keys(r.inputs.spec.provider)).toEqual(["aws"]);
        for (const r of recorder.ofType(EXTERNAL)) {
            expect(r.inputs.spec.secretStoreRef.kind).toBe("SecretStore");
            expect(r.inputs.spec.data.every((d: any) => typeof d.secretKey === "string" && typeof d.remoteRef.key === "string")).toBe(true);
        }
    });
});
