/**
 * What a first real `pulumi up` needs from the Kubernetes components (issue #12): every Helm release and workload
 * after the nodes that run it, every namespaced object after its namespace, every custom resource after what installs
 * its CRD, and readiness timeouts that cover a GPU rollout.
 */
import { installMockRuntime, type RecordedResource } from "../support/mocks";

const recorder = installMockRuntime();
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { InferenceService, rolloutBudget, rolloutCustomTimeouts, rolloutTimeouts, validateInferenceServiceArgs } from "../../components/inference-service";
import { SecretWiring, validateSecretWiringArgs, type SecretWiringArgs } from "../../components/secret-wiring";
import { ServingAddons, validateServingAddonsArgs } from "../../components/serving-addons";

/** customTimeouts each resource was registered with, by URN: the mock recorder does not keep them. */
const timeoutsByUrn = new Map<string, { create: string; update: string }>();
{
    const monitor = pulumi.runtime.getMonitor() as any;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: any, res: any) => void) => {
        const t = req.getCustomtimeouts?.();
        if (t) timeoutsByUrn.set(monitor.newUrn(req.getParent(), req.getType(), req.getName()), { create: t.getCreate(), update: t.getUpdate() });
        return register(req, callback);
    };
}

const IMAGE = `123456789012.dkr.ecr.us-west-2.amazonaws.com/models@sha256:${"a".repeat(64)}`;
const CLUSTER = { oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/AB", oidcProviderUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/AB" };
const RELEASE = "kubernetes:helm.sh/v3:Release";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const NAMESPACED = [
    "kubernetes:core/v1:ServiceAccount",
    DEPLOYMENT,
    SERVICE,
    "kubernetes:policy/v1:PodDisruptionBudget",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:keda.sh/v1alpha1:ScaledObject",
    "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
];

const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
function nodeGroup(name: string): aws.eks.NodeGroup {
    return new aws.eks.NodeGroup(name, { clusterName: "c", nodeRoleArn: "arn:aws:iam::123456789012:role/n", subnetIds: ["subnet-1"], scalingConfig: { minSize: 1, maxSize: 2, desiredSize: 1 } });
}
const byName = (name: string) => recorder.resources.find((r) => r.name === name)!;
const childrenNamed = (prefix: string, types: string[]) => recorder.resources.filter((r) => r.name.startsWith(prefix) && types.includes(r.type));

let addons: ServingAddons;
beforeAll(async () => {
    const system = nodeGroup("system");
    const gpu = nodeGroup("gpu");
    addons = new ServingAddons("addons", { nodesReady: [system] }, { provider });
    new SecretWiring("wired", { mode: "aws", namespace: "inference", createNamespace: true, cluster: CLUSTER, secrets: { A: pulumi.secret("a") }, nodesReady: [system] }, { provider });
    // A GpuCluster-like cluster carries its system nodes: the default of nodesReady.
    new SecretWiring("fromcluster", { mode: "aws", namespace: "other", cluster: { ...CLUSTER, systemNodes: [system] }, secrets: { A: pulumi.secret("a") }, operatorNamespace: "eso2" }, { provider });
    const first = new SecretWiring("first", { mode: "aws", namespace: "ns1", cluster: CLUSTER, secrets: { A: pulumi.secret("a") }, operatorNamespace: "eso3" }, { provider });
    new SecretWiring("shared", { mode: "aws", namespace: "ns2", cluster: CLUSTER, secrets: { A: pulumi.secret("a") }, installOperator: false, operatorReady: [first.operator!] }, { provider });

    // A namespace made elsewhere, handed over as a resource, and as an Output of it.
    const ns = new k8s.core.v1.Namespace("elsewhere", { metadata: { name: "elsewhere" } }, { provider });
    const ns2 = new k8s.core.v1.Namespace("elsewhere2", { metadata: { name: "elsewhere2" } }, { provider });
    const full = { prometheusUrl: addons.prometheusUrl };
    new InferenceService("byres", { image: IMAGE, namespace: ns, autoscaling: full, serviceMonitor: true, addonsReady: addons.ready, nodesReady: [system, gpu], gpu: 1 }, { provider });
    new InferenceService("byout", { image: IMAGE, namespace: ns2.metadata.name, autoscaling: { prometheusUrl: "http://prom.monitoring:80" }, serviceMonitor: true, addonsReady: addons.ready }, { provider });
    new SecretWiring("nsres", { mode: "kubernetes", namespace: ns, secrets: { A: pulumi.secret("a") } }, { provider });
    new InferenceService("cpu", { image: IMAGE, namespace: "serving" }, { provider });
    await recorder.settle();
});

describe("Helm releases and workloads wait for the nodes that run them (nodesReady)", () => {
    it("ServingAddons installs KEDA and Prometheus only after the given node groups", () => {
        for (const release of ["addons-keda", "addons-prometheus"]) expect(recorder.dependsOn(recorder.one(RELEASE, release), byName("system"))).toBe(true);
        expect(addons.ready.length).toBe(2);
    });

    it("SecretWiring installs the operator after nodesReady, or after the cluster's system nodes by default", () => {
        expect(recorder.dependsOn(recorder.one(RELEASE, "wired-eso"), byName("system"))).toBe(true);
        expect(recorder.dependsOn(recorder.one(RELEASE, "fromcluster-eso"), byName("system"))).toBe(true);
        // Without nodes given, nothing invents a dependency.
        expect(recorder.dependsOn(recorder.one(RELEASE, "first-eso"), byName("system"))).toBe(false);
    });

    it("InferenceService starts its Deployment and its Service (which awaits the pods) after the node groups", () => {
        for (const type of [DEPLOYMENT, SERVICE]) {
            const r = recorder.one(type, type === DEPLOYMENT ? "byres-deployment" : "byres-service");
            expect(recorder.dependsOn(r, byName("system"))).toBe(true);
            expect(recorder.dependsOn(r, byName("gpu"))).toBe(true);
        }
        expect(recorder.dependsOn(recorder.one(DEPLOYMENT, "cpu-deployment"), byName("system"))).toBe(false);
    });

    it("refuses a nodesReady that is not a list of resources", () => {
        expect(() => validateServingAddonsArgs("a", { nodesReady: ["nodes"] as never })).toThrow('ServingAddons "a": nodesReady must be a list of resources');
        expect(() => validateInferenceServiceArgs("s", { image: IMAGE, nodesReady: [{}] as never })).toThrow('InferenceService "s": nodesReady must be a list of resources');
    });
});

describe("every namespaced object waits for a namespace made elsewhere", () => {
    it("given as a Namespace resource: all InferenceService objects depend on it and use its name", () => {
        const objects = childrenNamed("byres-", NAMESPACED);
        expect(objects.map((r) => r.type).sort()).toEqual([...NAMESPACED].sort());
        for (const r of objects) {
            expect({ name: r.name, dependsOnNs: recorder.dependsOn(r, byName("elsewhere")) }).toEqual({ name: r.name, dependsOnNs: true });
            expect(r.inputs.metadata.namespace).toBe("elsewhere");
        }
    });

    it("given as an Output of the namespace: the dependency travels with it", () => {
        const objects = childrenNamed("byout-", NAMESPACED);
        expect(objects.length).toBe(NAMESPACED.length);
        for (const r of objects) expect({ name: r.name, dependsOnNs: recorder.dependsOn(r, byName("elsewhere2")) }).toEqual({ name: r.name, dependsOnNs: true });
    });

    it("SecretWiring takes a Namespace resource too, and its namespace output carries the namespace it creates", async () => {
        const secret = recorder.one("kubernetes:core/v1:Secret", "nsres-secret");
        expect(recorder.dependsOn(secret, byName("elsewhere"))).toBe(true);
        expect(secret.inputs.metadata.namespace).toBe("elsewhere");
        // The SecretStore, ExternalSecret and service account of a wiring that creates its namespace wait for it.
        for (const name of ["wired-store", "wired-sync", "wired-sa"]) expect(recorder.dependsOn(byName(name), byName("wired-ns"))).toBe(true);
    });

    it("refuses a namespace name the API server would refuse, naming the field", () => {
        expect(() => validateInferenceServiceArgs("x", { image: IMAGE, namespace: "Not_A_Namespace" })).toThrow('InferenceService "x": namespace "Not_A_Namespace" is not a valid namespace name');
    });
});

describe("custom resources wait for what installs their CRDs", () => {
    it("the ScaledObject and ServiceMonitor depend on addonsReady (KEDA's release), even with a literal Prometheus URL", () => {
        for (const type of ["kubernetes:keda.sh/v1alpha1:ScaledObject", "kubernetes:monitoring.coreos.com/v1:ServiceMonitor"]) {
            const r = recorder.ofType(type).find((x) => x.name.startsWith("byout-"))!;
            expect(recorder.dependsOn(r, recorder.one(RELEASE, "addons-keda"))).toBe(true);
        }
    });

    it("with installOperator: false, the SecretStore and ExternalSecret wait for the operator given in operatorReady", () => {
        for (const name of ["shared-store", "shared-sync"]) expect(recorder.dependsOn(byName(name), recorder.one(RELEASE, "first-eso"))).toBe(true);
    });

    it("with installOperator: false, operatorReady is required (and [] states an operator installed elsewhere)", () => {
        const base: SecretWiringArgs = { mode: "aws", namespace: "ns", cluster: CLUSTER, secrets: { A: pulumi.output("a") }, installOperator: false };
        expect(() => validateSecretWiringArgs("s", base)).toThrow('SecretWiring "s": operatorReady is required with installOperator: false');
        expect(() => validateSecretWiringArgs("s", { ...base, operatorReady: [] })).not.toThrow();
        expect(() => validateSecretWiringArgs("s", { ...base, installOperator: true, operatorReady: [] })).toThrow("operatorReady is only used with installOperator: false");
    });
});

describe("readiness timeouts follow the GPU path and modelLoadSeconds", () => {
    const gpu = { gpu: 1, nodeProvisionSeconds: 600, imagePullSeconds: 600, modelLoadSeconds: 600, terminationGraceSeconds: 40, replicasMax: 3 };

    it("a GPU create budgets a node from zero, a multi-GB pull and the model load, beyond the provider's 10 minutes", () => {
        expect(rolloutTimeouts(gpu).createSeconds).toBe(600 + 600 + 600 + 120);
        // Pods are replaced one at a time without surge: three waves of grace + pull + load.
        expect(rolloutTimeouts(gpu).updateSeconds).toBe(3 * (40 + 600 + 600) + 120);
    });

    it("a CPU create stays short: no node to provision, a small pull, the load", () => {
        const cpu = { ...gpu, gpu: 0, nodeProvisionSeconds: 0, imagePullSeconds: 180, modelLoadSeconds: 60 };
        // Floored at the provider's own 10 minutes; three waves of one surge pod (25% of 3, rounded up).
        expect(rolloutTimeouts(cpu)).toEqual({ createSeconds: 600, updateSeconds: 3 * (180 + 60) + 120 });
        expect(rolloutTimeouts({ ...cpu, modelLoadSeconds: 900 }).createSeconds).toBe(180 + 900 + 120);
        // 25% surge of 8 is 2 pods a wave: four waves.
        expect(rolloutTimeouts({ ...cpu, modelLoadSeconds: 900, replicasMax: 8 }).updateSeconds).toBe(4 * (180 + 900) + 120);
    });

    it("grows with modelLoadSeconds and takes the user's rollout figures over the path defaults", () => {
        const base = rolloutBudget({ gpu: 1, autoscaling: { prometheusUrl: "http://p" } });
        expect(base).toMatchObject({ nodeProvisionSeconds: 900, imagePullSeconds: 600, modelLoadSeconds: 600 });
        expect(rolloutBudget({ gpu: 0 })).toMatchObject({ nodeProvisionSeconds: 0, imagePullSeconds: 180 });
        const slow = rolloutBudget({ gpu: 1, autoscaling: { prometheusUrl: "http://p" }, modelLoadSeconds: 3600, rollout: { imagePullSeconds: 1200 } });
        expect(rolloutTimeouts(slow).createSeconds - rolloutTimeouts(base).createSeconds).toBe(3000 + 600);
        expect(rolloutCustomTimeouts(base)).toEqual({ create: "37m", update: "64m" });
        // Without autoscaling only replicas.min (1) pods are rolled: one wave.
        expect(rolloutCustomTimeouts(rolloutBudget({ gpu: 1 }))).toEqual({ create: "37m", update: "23m" });
    });

    it("sets them as customTimeouts on the Deployment and the Service of a GPU service", () => {
        const expected = rolloutCustomTimeouts(rolloutBudget({ gpu: 1, autoscaling: { prometheusUrl: "http://p" } }));
        for (const r of [recorder.one(DEPLOYMENT, "byres-deployment"), recorder.one(SERVICE, "byres-service")]) expect(timeoutsByUrn.get(r.urn)).toEqual(expected);
        const cpu: RecordedResource = recorder.one(DEPLOYMENT, "cpu-deployment");
        expect(timeoutsByUrn.get(cpu.urn)).toEqual(rolloutCustomTimeouts(rolloutBudget({})));
        expect(expected.create).not.toEqual(timeoutsByUrn.get(cpu.urn)!.create);
    });

    it("refuses rollout figures out of range", () => {
        expect(() => validateInferenceServiceArgs("s", { image: IMAGE, rollout: { imagePullSeconds: -1 } })).toThrow('InferenceService "s": rollout.imagePullSeconds must be whole seconds from 0 to 7200');
    });
});
