/**
 * The contract checks (cli/contracts.ts) against small fixture programs: each contract reports a violating program
 * with the resource's URN and the fix, and stays quiet on the compliant one.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import { installMockRuntime } from "../support/mocks";
import { checkContracts, ContractError, nameCollisions, graphContractViolations, repositoryOfRef, resourceContractProblems, tagIsImmutable, type ContractResource } from "../../cli/contracts";
import { AWS_NAME_LIMITS, effectiveAwsNameLength, maxAutonamedLogicalName } from "../../components/internal/aws-name-limits";
import { dns1035LabelProblem, dns1123LabelProblem, labelValueProblem, objectNameProblem, qualifiedNameProblem } from "../../components/internal/k8s-names";

/** A fixture resource: custom, no parent, no provider unless given. */
function res(type: string, name: string, inputs: Record<string, any> = {}, more: Partial<ContractResource> = {}): ContractResource {
    return { type, name, urn: `urn:pulumi:t::p::${type}::${name}`, inputs, custom: true, dependencies: [], ...more };
}
const contracts = (rs: ContractResource[]) => checkContracts(rs).map((v) => v.contract);

describe("AWS name limits, with Pulumi's autoname suffix", () => {
    it("counts the logical name plus '-' and 7 characters, a prefix plus 26, or the explicit name", () => {
        expect(effectiveAwsNameLength("aws:iam/role:Role", "x".repeat(10), {})).toEqual({ length: 18, how: "autoname" });
        expect(effectiveAwsNameLength("aws:iam/role:Role", "n", { namePrefix: "abc" })).toEqual({ length: 29, how: "prefix" });
        expect(effectiveAwsNameLength("aws:eks/nodeGroup:NodeGroup", "n", { nodeGroupName: "abcd" })).toEqual({ length: 4, how: "name" });
        expect(maxAutonamedLogicalName("aws:iam/role:Role")).toBe(56);
        expect(AWS_NAME_LIMITS["aws:eks/nodeGroup:NodeGroup"]).toBe(63);
    });
    it("refuses an IAM role autonamed past 64 characters and accepts one at the limit", () => {
        const over = res("aws:iam/role:Role", "r".repeat(57));
        expect(resourceContractProblems(over)).toEqual([expect.objectContaining({ contract: "aws-name-length", message: expect.stringMatching(/AWS allows 64 characters, Pulumi autonames it .* \(65 characters\); shorten the component name by 1 characters or set name explicitly/) })]);
        expect(resourceContractProblems(res("aws:iam/role:Role", "r".repeat(56)))).toEqual([]);
        expect(resourceContractProblems(res("aws:iam/role:Role", "r".repeat(80), { name: "short" }))).toEqual([]);
    });
    it("checks the AWS resources inside pulumi-eks's remote components: the cluster's service role and each node group", () => {
        // `${name}-eksRole-role` + 8 must fit 64.
        expect(contracts([res("eks:index:Cluster", "c".repeat(44), {}, { custom: false })])).toEqual(["aws-name-length"]);
        expect(contracts([res("eks:index:Cluster", "c".repeat(43), {}, { custom: false })])).toEqual([]);
        expect(contracts([res("eks:index:Cluster", "c".repeat(60), { serviceRole: "arn" }, { custom: false })])).toEqual([]);
        expect(contracts([res("eks:index:ManagedNodeGroup", "g".repeat(56), {}, { custom: false })])).toEqual(["aws-name-length"]);
        expect(contracts([res("eks:index:ManagedNodeGroup", "g".repeat(56), { nodeGroupName: "gpu" }, { custom: false })])).toEqual([]);
    });
    it("refuses an ECR repository name ECR's pattern rejects", () => {
        expect(contracts([res("aws:ecr/repository:Repository", "r", { name: "Models" })])).toEqual(["aws-name-format"]);
        expect(contracts([res("aws:ecr/repository:Repository", "r", { name: "buildcache/models" })])).toEqual([]);
    });
    it("refuses tag keys over 128 characters, Auto Scaling tags included", () => {
        expect(contracts([res("aws:autoscaling/tag:Tag", "t", { tag: { key: `k8s.io/cluster-autoscaler/node-template/label/${"k".repeat(90)}`, value: "v" } })])).toEqual(["aws-tag"]);
        expect(contracts([res("aws:s3/bucket:Bucket", "b", { tags: { ok: "v" } })])).toEqual([]);
    });
    it("refuses EKS node labels EKS rejects: keys over 63 characters, empty values", () => {
        expect(contracts([res("eks:index:ManagedNodeGroup", "g", { nodeGroupName: "g", labels: { [`example.com/${"k".repeat(60)}`]: "v" } }, { custom: false })])).toContain("eks-node-label");
        expect(contracts([res("eks:index:ManagedNodeGroup", "g", { nodeGroupName: "g", labels: { role: "" } }, { custom: false })])).toEqual(["eks-node-label"]);
        expect(contracts([res("eks:index:ManagedNodeGroup", "g", { nodeGroupName: "g", labels: { "modelship.dev/role": "gpu" } }, { custom: false })])).toEqual([]);
    });
});

describe("Kubernetes name rules", () => {
    it("DNS-1123 labels, DNS-1035 labels, qualified names and label values, as the API server's validation", () => {
        expect(dns1123LabelProblem("inference")).toBeUndefined();
        expect(dns1123LabelProblem("Inference")).toMatch(/not a DNS-1123 label/);
        expect(dns1123LabelProblem("a".repeat(64))).toMatch(/64 characters/);
        expect(dns1035LabelProblem("1api")).toMatch(/starting with a letter/);
        expect(qualifiedNameProblem("app.kubernetes.io/name")).toBeUndefined();
        expect(qualifiedNameProblem(`x/${"n".repeat(64)}`)).toMatch(/name part of 64/);
        expect(qualifiedNameProblem("a/b/c")).toMatch(/more than one/);
        expect(labelValueProblem("")).toBeUndefined();
        expect(labelValueProblem("-x")).toMatch(/not a label value/);
        expect(objectNameProblem("ConfigMap", "a.b")).toBeUndefined();
        expect(objectNameProblem("Service", "a.b")).toMatch(/DNS-1035/);
    });
    it("refuses a Service whose name starts with a digit, and one autonamed from such a logical name", () => {
        const svc = (name: string, inputs: Record<string, any>) => res("kubernetes:core/v1:Service", name, inputs);
        expect(contracts([svc("s", { metadata: { name: "9model", namespace: "ml" } })])).toEqual(["k8s-name"]);
        expect(contracts([svc("9model", { metadata: { namespace: "ml" } })])).toEqual(["k8s-name"]);
        expect(contracts([svc("model", { metadata: { namespace: "ml" } })])).toEqual([]);
    });
    it("refuses a Namespace autonamed past 63 characters", () => {
        expect(contracts([res("kubernetes:core/v1:Namespace", "n".repeat(55), {})])).toEqual(["k8s-name"]);
        expect(contracts([res("kubernetes:core/v1:Namespace", "n".repeat(54), {})])).toEqual([]);
    });
    it("refuses labels the API server rejects, on the object, its pod template and its selector", () => {
        const deploy = (labels: Record<string, string>) => res("kubernetes:apps/v1:Deployment", "d", { metadata: { name: "d" }, spec: { selector: { matchLabels: labels }, template: { metadata: { labels } } } });
        expect(contracts([deploy({ app: "x".repeat(64) })])).toEqual(["k8s-label", "k8s-label"]);
        expect(contracts([deploy({ app: "model" })])).toEqual([]);
    });
    it("refuses Helm release names over 53 characters, autonamed ones included", () => {
        expect(contracts([res("kubernetes:helm.sh/v3:Release", "r", { name: "r".repeat(54) })])).toEqual(["helm-release-name"]);
        expect(contracts([res("kubernetes:helm.sh/v3:Release", "r".repeat(45), {})])).toEqual(["helm-release-name"]);
        expect(contracts([res("kubernetes:helm.sh/v3:Release", "r", { name: "keda" })])).toEqual([]);
    });
});

describe("creation order over the recorded graph", () => {
    const provider = res("pulumi:providers:kubernetes", "k", {}, { urn: "urn:pulumi:t::p::pulumi:providers:kubernetes::k" });
    const onK = { provider: `${provider.urn}::k-id` };
    const ns = res("kubernetes:core/v1:Namespace", "ns", { metadata: { name: "ml" } }, onK);

    it("a namespaced object must depend on the Namespace the program creates", () => {
        const sa = (deps: string[]) => res("kubernetes:core/v1:ServiceAccount", "sa", { metadata: { name: "sa", namespace: "ml" } }, { ...onK, dependencies: deps });
        const [v] = graphContractViolations([provider, ns, sa([])]);
        expect(v).toMatchObject({ contract: "namespace-order", urn: sa([]).urn });
        expect(v.message).toContain(ns.urn);
        expect(v.message).toMatch(/dependsOn/);
        expect(graphContractViolations([provider, ns, sa([ns.urn])])).toEqual([]);
        // Through another resource that depends on it, or through a component whose child it is.
        const comp = res("my:index:Comp", "c", {}, { custom: false, urn: "urn:c" });
        const child = { ...ns, parentUrn: comp.urn };
        expect(graphContractViolations([provider, comp, child, sa([comp.urn])])).toEqual([]);
        // A namespace the program does not create (or one on another cluster) is not ordered.
        expect(graphContractViolations([provider, sa([])])).toEqual([]);
        expect(graphContractViolations([provider, { ...ns, provider: "urn:other::id" }, sa([])])).toEqual([]);
    });

    it("a Helm release with createNamespace creates its namespace too", () => {
        const release = res("kubernetes:helm.sh/v3:Release", "eso", { name: "eso", chart: "external-secrets", namespace: "ml", createNamespace: true }, onK);
        const cm = res("kubernetes:core/v1:ConfigMap", "cm", { metadata: { name: "cm", namespace: "ml" } }, onK);
        expect(graphContractViolations([provider, release, cm]).map((v) => v.contract)).toEqual(["namespace-order"]);
    });

    it("a custom resource must depend on the chart or CRD that installs its kind", () => {
        const keda = res("kubernetes:helm.sh/v3:Release", "keda", { name: "keda", chart: "keda", namespace: "keda" }, onK);
        const scaler = (deps: string[]) => res("kubernetes:keda.sh/v1alpha1:ScaledObject", "so", { metadata: { name: "so", namespace: "default" } }, { ...onK, dependencies: deps });
        const [v] = graphContractViolations([provider, keda, scaler([])]);
        expect(v).toMatchObject({ contract: "crd-order", urn: scaler([]).urn });
        expect(v.message).toContain(keda.urn);
        expect(graphContractViolations([provider, keda, scaler([keda.urn])])).toEqual([]);
        // Not installed by this program: nothing to order after.
        expect(graphContractViolations([provider, scaler([])])).toEqual([]);
        const crd = res("kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition", "crd", { spec: { group: "keda.sh", names: { kind: "ScaledObject" } } }, onK);
        expect(graphContractViolations([provider, crd, scaler([])]).map((x) => x.contract)).toEqual(["crd-order"]);
    });

    it("a Helm release on an EKS cluster must depend on a node group whose taints its values tolerate", () => {
        const cluster = res("eks:index:Cluster", "c", {}, { custom: false });
        const eksProvider = { ...provider, dependencies: [cluster.urn] };
        const system = res("eks:index:ManagedNodeGroup", "system", {}, { custom: false, dependencies: [cluster.urn] });
        const gpu = res("eks:index:ManagedNodeGroup", "gpu", { taints: [{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }] }, { custom: false, dependencies: [cluster.urn] });
        const release = (deps: string[], values: Record<string, unknown> = {}) => res("kubernetes:helm.sh/v3:Release", "keda", { name: "keda", chart: "keda", namespace: "keda", values }, { ...onK, dependencies: deps });
        const [v] = graphContractViolations([cluster, eksProvider, system, gpu, release([])]);
        expect(v).toMatchObject({ contract: "helm-node-group", urn: release([]).urn });
        expect(v.message).toContain(system.urn);
        expect(graphContractViolations([cluster, eksProvider, system, gpu, release([system.urn])])).toEqual([]);
        // Only the GPU group, and the chart does not tolerate its taint: still no node for it.
        expect(graphContractViolations([cluster, eksProvider, gpu, release([gpu.urn])]).map((x) => x.contract)).toEqual(["helm-node-group"]);
        expect(graphContractViolations([cluster, eksProvider, gpu, release([gpu.urn], { tolerations: [{ key: "nvidia.com/gpu", operator: "Exists" }] })])).toEqual([]);
        // A cluster this program does not create nodes for (an on-prem kubeconfig) is not checked.
        expect(graphContractViolations([provider, system, release([])])).toEqual([]);
    });

    const repo = res("aws:ecr/repository:Repository", "repo", { name: "models", imageTagMutability: "IMMUTABLE" }, { state: { name: "models", repositoryUrl: "1.dkr.ecr.r.amazonaws.com/models" } });
    const image = (name: string, tags: string[], deps: string[]) => res("docker-build:index:Image", name, { push: true, tags }, { dependencies: deps });

    it("an image push must depend on its repository and on the replication configuration that covers it", () => {
        const replication = res("aws:ecr/replicationConfiguration:ReplicationConfiguration", "rep", { replicationConfiguration: { rules: [{ destinations: [{ region: "eu-central-1" }], repositoryFilters: [{ filter: "mod", filterType: "PREFIX_MATCH" }] }] } });
        const url = "1.dkr.ecr.r.amazonaws.com/models:v1";
        expect(graphContractViolations([repo, image("i", [url], [])]).map((v) => v.contract)).toEqual(["image-push-order"]);
        const [v] = graphContractViolations([repo, replication, image("i", [url], [repo.urn])]);
        expect(v).toMatchObject({ contract: "image-push-order", urn: image("i", [], []).urn });
        expect(v.message).toContain(replication.urn);
        expect(graphContractViolations([repo, replication, image("i", [url], [repo.urn, replication.urn])])).toEqual([]);
        const otherRepos = { ...replication, inputs: { replicationConfiguration: { rules: [{ destinations: [], repositoryFilters: [{ filter: "other", filterType: "PREFIX_MATCH" }] }] } } };
        expect(graphContractViolations([repo, otherRepos, image("i", [url], [repo.urn])])).toEqual([]);
    });

    it("a pull from a replica region must wait for the push and the replication configuration that copies it there", () => {
        const src = "123456789012.dkr.ecr.us-west-2.amazonaws.com/models";
        const push = res("docker-build:index:Image", "img", { push: true, tags: [`${src}:v1`] });
        const replication = res("aws:ecr/replicationConfiguration:ReplicationConfiguration", "rep", { replicationConfiguration: { rules: [{ destinations: [{ region: "eu-central-1", registryId: "123456789012" }] }] } });
        const pull = (deps: string[]) => res("docker:index/remoteImage:RemoteImage", "pull", { name: "123456789012.dkr.ecr.eu-central-1.amazonaws.com/models@sha256:00" }, { dependencies: deps });
        const [v] = graphContractViolations([push, replication, pull([push.urn])]);
        expect(v).toMatchObject({ contract: "replica-pull-order", urn: pull([]).urn });
        expect(v.message).toContain(replication.urn);
        expect(v.message).not.toContain(push.urn);
        expect(graphContractViolations([push, replication, pull([push.urn, replication.urn])])).toEqual([]);
        // Pulling in the region it was pushed to needs no replication.
        const local = res("docker:index/remoteImage:RemoteImage", "pull", { name: `${src}@sha256:00` }, { dependencies: [push.urn] });
        expect(graphContractViolations([push, replication, local])).toEqual([]);
    });

    it("no tag is pushed twice to an immutable repository", () => {
        const url = "1.dkr.ecr.r.amazonaws.com/models:v1";
        const [v] = graphContractViolations([repo, image("a", [url], [repo.urn]), image("b", [url], [repo.urn])]);
        expect(v).toMatchObject({ contract: "immutable-tag-twice", urn: image("b", [], []).urn });
        expect(v.message).toContain(image("a", [], []).urn);
        expect(graphContractViolations([repo, image("a", [url], [repo.urn]), image("b", ["1.dkr.ecr.r.amazonaws.com/models:v2"], [repo.urn])])).toEqual([]);
        const mutable = { ...repo, inputs: { ...repo.inputs, imageTagMutability: "MUTABLE" } };
        expect(graphContractViolations([mutable, image("a", [url], [repo.urn]), image("b", [url], [repo.urn])])).toEqual([]);
    });

    it("tagIsImmutable follows ECR's mutability modes and wildcard exclusions; repositoryOfRef splits refs", () => {
        const withExclusion = { imageTagMutability: "IMMUTABLE_WITH_EXCLUSION", imageTagMutabilityExclusionFilters: [{ filter: "deployed-*" }] };
        expect(tagIsImmutable(withExclusion, "deployed-prod-x")).toBe(false);
        expect(tagIsImmutable(withExclusion, "v1")).toBe(true);
        expect(tagIsImmutable({ imageTagMutability: "IMMUTABLE" }, "deployed-x")).toBe(true);
        expect(tagIsImmutable({}, "v1")).toBe(false);
        expect(repositoryOfRef("h:5000/a/b:t")).toEqual({ repository: "h:5000/a/b", tag: "t" });
        expect(repositoryOfRef("h/a@sha256:00")).toEqual({ repository: "h/a", tag: undefined });
    });
});

describe("names two programs claim in one account", () => {
    it("reports a repository two stacks name alike in one region, and not one in another region or another name", () => {
        const repo = (stack: string, name: string) => res("aws:ecr/repository:Repository", `${stack}-repo`, { name }, { urn: `urn:pulumi:${stack}::p::aws:ecr/repository:Repository::repo` });
        const [v] = nameCollisions([
            { stack: "cloud", region: "us-west-2", resources: [repo("cloud", "models")] },
            { stack: "hybrid", region: "us-west-2", resources: [repo("hybrid", "models")] },
        ]);
        expect(v).toMatchObject({ contract: "aws-name-collision", urn: "urn:pulumi:hybrid::p::aws:ecr/repository:Repository::repo" });
        expect(v.message).toContain("stack cloud also claims");
        expect(nameCollisions([{ stack: "cloud", region: "us-west-2", resources: [repo("cloud", "models")] }, { stack: "hybrid", region: "eu-west-1", resources: [repo("hybrid", "models")] }])).toEqual([]);
        expect(nameCollisions([{ stack: "cloud", region: "us-west-2", resources: [repo("cloud", "a")] }, { stack: "hybrid", region: "us-west-2", resources: [repo("hybrid", "b")] }])).toEqual([]);
        // The EKS cluster pulumi-eks creates inside its component claims the cluster name.
        const eks = (stack: string) => res("eks:index:Cluster", "c", { name: "ml" }, { custom: false, urn: `urn:${stack}` });
        expect(nameCollisions([{ stack: "a", region: "us-west-2", resources: [eks("a")] }, { stack: "b", region: "us-west-2", resources: [eks("b")] }])).toHaveLength(1);
        // IAM names are account-wide: another region does not help.
        const role = (stack: string) => res("aws:iam/role:Role", "role", { name: "runner" }, { urn: `urn:${stack}` });
        expect(nameCollisions([{ stack: "a", region: "us-west-2", resources: [role("a")] }, { stack: "b", region: "eu-west-1", resources: [role("b")] }])).toHaveLength(1);
    });
});

describe("the mock runtime records what the provider would refuse", () => {
    // Refusal itself (the registration fails with the URN, `modelship plan` exits 1) is tested as a process in
    // cli-process.test.ts: inside jest, the SDK's rejected outputs would fail this test as unhandled.
    it("records each violating registration with its URN, and checkContracts reports it", async () => {
        const recorder = installMockRuntime({ enforceContracts: false });
        new aws.iam.Role("r".repeat(60), { assumeRolePolicy: "{}" });
        new k8s.core.v1.Namespace("ml", { metadata: { name: "ml" } });
        await recorder.settle();
        expect(recorder.resources.map((r) => r.name)).toEqual(["r".repeat(60), "ml"]);
        expect(recorder.refused.map((v) => v.urn)).toEqual(["urn:pulumi:test::modelship::aws:iam/role:Role::" + "r".repeat(60)]);
        expect(recorder.checkContracts().map((v) => v.contract)).toEqual(["aws-name-length"]);
        expect(new ContractError(recorder.refused).message).toMatch(/^1 contract violation a real pulumi up would hit:\n {2}- \[aws-name-length\] urn:pulumi:test::modelship::aws:iam\/role:Role::r{60}: .*AWS allows 64 characters/);
    });
});
