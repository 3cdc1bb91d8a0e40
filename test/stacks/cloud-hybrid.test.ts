import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { installMockRuntime, valueOf, type RecordedResource } from "../support/mocks";

const recorder = installMockRuntime();
import { cloudTarget, type CloudTargetOutputs } from "../../stacks/cloud";
import { parseTargetConfig } from "../../stacks/config";
import { hybridTarget, type HybridTargetOutputs } from "../../stacks/hybrid";
import { plan as runPlan, type PlanOptions } from "../../cli/plan";
import { freshRequire } from "../support/mocks";

// One test file plans several times: each plan loads the program afresh, as each `modelship plan` process does.
const plan = (opts: PlanOptions) => runPlan({ load: freshRequire, ...opts });
import { toK8sObject, validateK8sObjects } from "../support/k8s-schema";

const cluster = {
    version: "1.33",
    publicAccessCidrs: ["203.0.113.0/24"],
    gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 3 }],
};
const deployments = () => recorder.ofType("kubernetes:apps/v1:Deployment");
const podSpec = (d: RecordedResource) => d.inputs.spec.template.spec;
const under = (prefix: string) => (r: RecordedResource) => r.name.startsWith(prefix);

describe("cloud target", () => {
    let out: CloudTargetOutputs;
    beforeAll(async () => {
        const config = parseTargetConfig("cloud", (k) => ({ name: "cl", cluster, secrets: ["HF_TOKEN"] })[k]);
        out = cloudTarget({ ...config, secretValues: { HF_TOKEN: pulumi.secret("hf_abc") } });
        await recorder.settle();
    });

    it("builds the gpu stage and runs exactly that image digest", async () => {
        expect(recorder.one("docker-build:index:Image", "cl-image-image").inputs.target).toBe("gpu");
        const d = deployments().filter(under("cl-"));
        expect(d).toHaveLength(1);
        const ref = await valueOf(out.image!.ref);
        expect(ref).toMatch(/@sha256:[0-9a-f]{64}$/);
        expect(podSpec(d[0]).containers[0].image).toBe(ref);
    });

    it("puts the pods on GPU nodes: GPU limit, the cluster's nodeSelector and its taint toleration", () => {
        const spec = podSpec(deployments().filter(under("cl-"))[0]);
        expect(spec.containers[0].resources.limits["nvidia.com/gpu"]).toBe("1");
        expect(spec.nodeSelector).toEqual(out.cluster.gpuScheduling.nodeSelector);
        expect(spec.tolerations).toEqual(expect.arrayContaining([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]));
        // The node groups carry the label the pods select and the taint they tolerate.
        const group = recorder.one("eks:index:ManagedNodeGroup", "cl-cluster-gpu-l4").inputs;
        for (const [k, v] of Object.entries(out.cluster.gpuScheduling.nodeSelector)) expect(group.labels[k]).toBe(v);
        expect(group.taints).toEqual(expect.arrayContaining([expect.objectContaining({ key: "nvidia.com/gpu" })]));
    });

    it("lets the GPU nodes pull the served image's repository and no other repository of the account", () => {
        const repoArn = recorder.one("aws:ecr/repository:Repository", "cl-repo").state.arn;
        const statements = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "cl-cluster-node-image-pull").inputs.policy).Statement;
        expect(statements.find((s: { Sid: string }) => s.Sid === "PullListedRepositories").Resource).toEqual([repoArn]);
        expect(statements.filter((s: { Resource: unknown; Condition?: unknown }) => s.Resource === "*" && s.Condition === undefined).map((s: { Action: unknown }) => s.Action)).toEqual([
            "ecr:GetAuthorizationToken",
        ]);
    });

    it("wires the Secrets Manager secret into the pod by name", async () => {
        const spec = podSpec(deployments().filter(under("cl-"))[0]);
        const secretName = await valueOf(out.secrets!.secretName);
        expect(spec.containers[0].envFrom).toEqual([{ secretRef: { name: secretName } }]);
        expect(recorder.one("kubernetes:external-secrets.io/v1:ExternalSecret").inputs.spec.target.name).toBe(secretName);
        expect(JSON.stringify(recorder.resources.filter((r) => r.type.startsWith("kubernetes:")).map((r) => r.inputs))).not.toContain("hf_abc");
    });

    it("orders the rollout: the Deployment after its secrets, the scaler after KEDA", () => {
        const deployment = recorder.one("kubernetes:apps/v1:Deployment", "cl-server-deployment");
        expect(recorder.dependsOn(deployment, recorder.one("modelship:index:SecretWiring", "cl-secrets"))).toBe(true);
        const scaler = recorder.ofType("kubernetes:keda.sh/v1alpha1:ScaledObject").filter(under("cl-"))[0];
        expect(recorder.dependsOn(scaler, recorder.one("kubernetes:helm.sh/v3:Release", "cl-addons-keda"))).toBe(true);
        const store = recorder.one("kubernetes:external-secrets.io/v1:SecretStore", "cl-secrets-store");
        expect(recorder.dependsOn(store, recorder.one("kubernetes:helm.sh/v3:Release", "cl-secrets-eso"))).toBe(true);
        // GPU pods wait for the device plugin that advertises nvidia.com/gpu; the add-ons wait for system nodes only.
        expect(recorder.dependsOn(deployment, recorder.one("kubernetes:helm.sh/v3:Release", "cl-cluster-nvidia-device-plugin"))).toBe(true);
        expect(recorder.dependsOn(recorder.one("kubernetes:helm.sh/v3:Release", "cl-addons-keda"), recorder.one("kubernetes:helm.sh/v3:Release", "cl-cluster-nvidia-device-plugin"))).toBe(false);
    });

    it("orders the first deploy: every Helm release after the system nodes, every namespaced object after its namespace", () => {
        const systemNodes = recorder.resources.find((r) => r.type === "eks:index:ManagedNodeGroup" && r.name.startsWith("cl-cluster") && r.name.includes("system"))!;
        expect(systemNodes).toBeDefined();
        for (const release of ["cl-addons-keda", "cl-addons-prometheus", "cl-secrets-eso"]) {
            expect({ release, afterNodes: recorder.dependsOn(recorder.one("kubernetes:helm.sh/v3:Release", release), systemNodes) }).toEqual({ release, afterNodes: true });
        }
        const ns = recorder.one("kubernetes:core/v1:Namespace", "cl-secrets-ns");
        const objects = recorder.resources.filter((r) => r.name.startsWith("cl-server-") && r.custom && r.inputs.metadata?.namespace !== undefined);
        expect(objects.length).toBeGreaterThanOrEqual(6);
        for (const r of objects) expect({ name: r.name, afterNs: recorder.dependsOn(r, ns) }).toEqual({ name: r.name, afterNs: true });
        const scaler = recorder.ofType("kubernetes:keda.sh/v1alpha1:ScaledObject").filter(under("cl-"))[0];
        expect(recorder.dependsOn(scaler, recorder.one("modelship:index:ServingAddons", "cl-addons"))).toBe(true);
    });

    it("autoscales with KEDA against the addons' Prometheus, on the cluster's provider", async () => {
        const scaler = recorder.ofType("kubernetes:keda.sh/v1alpha1:ScaledObject").filter(under("cl-"))[0];
        const prom = scaler.inputs.spec.triggers.find((t: { type: string }) => t.type === "prometheus");
        expect(prom.metadata.serverAddress).toBe(await valueOf(out.addons.prometheusUrl));
        expect(scaler.inputs.spec.maxReplicaCount).toBe(4);
        expect(scaler.provider).toContain("cl-cluster-k8s");
    });
});

describe("hybrid target", () => {
    let out: HybridTargetOutputs;
    beforeAll(async () => {
        const config = parseTargetConfig("hybrid", (k) => ({ name: "hy", cluster, secrets: ["API_KEY"], onPrem: { namespace: "edge-ml", gpusPerPod: 1, nodeSelector: { "gpu.example.com/present": "true" } } })[k]);
        out = hybridTarget({ ...config, secretValues: { API_KEY: pulumi.secret("k") }, onPremKubeconfig: pulumi.secret("apiVersion: v1\nkind: Config\n") });
        await recorder.settle();
    });

    it("deploys the same digest to the cloud cluster and the on-prem cluster", async () => {
        const d = deployments().filter(under("hy-"));
        expect(d.map((x) => x.name).sort()).toEqual(["hy-onprem-server-deployment", "hy-server-deployment"]);
        const ref = await valueOf(out.cloud.image!.ref);
        expect(d.map((x) => podSpec(x).containers[0].image)).toEqual([ref, ref]);
        expect(recorder.ofType("docker-build:index:Image").filter(under("hy-"))).toHaveLength(1);
    });

    it("reaches on-prem through its own provider built from the secret kubeconfig", () => {
        const provider = recorder.one("pulumi:providers:kubernetes", "hy-onprem-k8s");
        expect(provider.secretPaths).toContain("kubeconfig");
        expect(recorder.one("kubernetes:apps/v1:Deployment", "hy-onprem-server-deployment").provider).toContain("hy-onprem-k8s");
        expect(recorder.one("kubernetes:apps/v1:Deployment", "hy-server-deployment").provider).toContain("hy-cluster-k8s");
    });

    it("wires secrets on-prem as a Kubernetes Secret kept secret, consumed by the on-prem pods", async () => {
        const secret = recorder.ofType("kubernetes:core/v1:Secret").filter(under("hy-onprem"))[0];
        expect(secret.secretPaths.some((p) => p.startsWith("stringData") || p.startsWith("data"))).toBe(true);
        const spec = podSpec(recorder.one("kubernetes:apps/v1:Deployment", "hy-onprem-server-deployment"));
        expect(spec.containers[0].envFrom).toEqual([{ secretRef: { name: await valueOf(out.onPremSecrets!.secretName) } }]);
        expect(recorder.ofType("aws:secretsmanager/secret:Secret").filter(under("hy-onprem"))).toHaveLength(0);
    });

    it("schedules the on-prem pods with the configured selector and GPU toleration", () => {
        const spec = podSpec(recorder.one("kubernetes:apps/v1:Deployment", "hy-onprem-server-deployment"));
        expect(spec.nodeSelector).toEqual({ "gpu.example.com/present": "true" });
        expect(spec.containers[0].resources.limits["nvidia.com/gpu"]).toBe("1");
        expect(spec.tolerations).toEqual(expect.arrayContaining([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]));
    });
});

describe("every Kubernetes object both targets emit", () => {
    it("validates against the Kubernetes API and CRD schemas", () => {
        const objects = recorder.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release");
        expect(objects.length).toBeGreaterThan(15);
        expect(validateK8sObjects(objects.map(toK8sObject))).toEqual(objects.map(() => null));
    });
});

describe("plan --out of the cloud stack", () => {
    it("writes every Kubernetes object as YAML, the Deployment running the planned digest", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-k8s-"));
        const result = await plan({ stack: "cloud", json: true, out: dir, projectDir: path.resolve(__dirname, "..", "..") });
        const files = fs.readdirSync(dir);
        const kinds = files.filter((f) => f.endsWith(".yaml")).map((f) => parseYaml(fs.readFileSync(path.join(dir, f), "utf8"))).map((d) => d.kind ?? "HelmRelease");
        expect(kinds).toEqual(expect.arrayContaining(["Deployment", "Service", "NetworkPolicy", "PodDisruptionBudget", "ScaledObject", "HelmRelease"]));
        const deployment = parseYaml(fs.readFileSync(path.join(dir, files.find((f) => f.startsWith("deployment-"))!), "utf8"));
        const imageComponent = result.plan.resources.find((r) => r.type === "docker-build:index:Image");
        expect(deployment.spec.template.spec.containers[0].image).toMatch(/^<placeholder:account-id>\.dkr\.ecr\.us-west-2\.amazonaws\.com\/modelship-cloud-[0-9a-f]{6}@<placeholder:digest>$/);
        expect(imageComponent?.inputs.target).toBe("gpu");
    });
});
