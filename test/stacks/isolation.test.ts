import * as pulumi from "@pulumi/pulumi";
import { installMockRuntime, type RecordedResource } from "../support/mocks";

const recorder = installMockRuntime();
import { cloudTarget } from "../../stacks/cloud";
import { parseTargetConfig } from "../../stacks/config";
import { hybridTarget } from "../../stacks/hybrid";

const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const cluster = {
    version: "1.33",
    publicAccessCidrs: ["203.0.113.0/24"],
    gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 3 }],
};
const podSelectorOf = (r: RecordedResource) => r.inputs.spec.podSelector.matchLabels;

beforeAll(async () => {
    const cloud = parseTargetConfig("cloud", (k) => ({ name: "iso", cluster, secrets: ["HF_TOKEN"] })[k]);
    cloudTarget({ ...cloud, secretValues: { HF_TOKEN: pulumi.secret("x") } });
    const hybrid = parseTargetConfig("hybrid", (k) => ({ name: "hy", cluster })[k]);
    hybridTarget({ ...hybrid, secretValues: {}, onPremKubeconfig: "{}" });
    await recorder.settle();
});

describe("stacks: the inference pods admit the Prometheus their ServingAddons installed", () => {
    it.each([
        ["iso-server-netpol", "iso-addons-prometheus-ingress"],
        ["hy-onprem-server-netpol", "hy-onprem-addons-prometheus-ingress"],
    ])("%s admits exactly the pods %s protects", (serverPolicy, prometheusPolicy) => {
        const scrape = recorder.one(NETPOL, serverPolicy).inputs.spec.ingress[1].from;
        const prom = recorder.one(NETPOL, prometheusPolicy);
        expect(scrape).toEqual([
            { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": prom.inputs.metadata.namespace } }, podSelector: { matchLabels: podSelectorOf(prom) } },
        ]);
        expect(podSelectorOf(prom)["app.kubernetes.io/instance"]).toBe(prometheusPolicy.replace(/-ingress$/, ""));
    });
});

describe("stacks: every namespace created carries the Pod Security labels", () => {
    it("labels each one enforce, warn and audit", () => {
        const created = recorder.ofType(NAMESPACE).filter((r) => r.name.startsWith("iso-") || r.name.startsWith("hy-"));
        expect(created.map((r) => r.inputs.metadata.name)).toEqual(expect.arrayContaining(["keda", "monitoring", "external-secrets", "inference"]));
        for (const ns of created) {
            const labels = ns.inputs.metadata.labels;
            const level = labels["pod-security.kubernetes.io/enforce"];
            expect(["baseline", "restricted", "privileged"]).toContain(level);
            expect(labels["pod-security.kubernetes.io/warn"]).toBe(level);
            expect(labels["pod-security.kubernetes.io/audit"]).toBe(level);
        }
    });
});
