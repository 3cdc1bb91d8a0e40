/**
 * Every component takes the Outputs a Pulumi user would feed it (another resource's ARN, CIDR, namespace, URL, host),
 * registers the resolved values, fails the update with the construction-time message when one resolves to a bad value,
 * and exposes the children a user extends. This file is type-checked by `npm run typecheck`: passing Outputs here is
 * itself the test that the argument types accept them.
 */
import { installMockRuntime, valueOf, MOCK_ACCOUNT_ID } from "../support/mocks";

const recorder = installMockRuntime();
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EdgeDevice, resolvedHostProblem } from "../../components/edge-device";
import { ImageRegistry, pullPrincipalProblem, trustAnchorProblem } from "../../components/image-registry";
import { InferenceService } from "../../components/inference-service";
import { SecretWiring, namespaceProblem, regionProblem } from "../../components/secret-wiring";
import { ServingAddons, prometheusUrlProblem } from "../../components/serving-addons";
import { checkInput, checkInputs } from "../../components/internal/inputs";
import { cidrProblem } from "../../components/internal/network-policy";
import { outputError } from "../support/output-error";

const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
const IMAGE = `123456789012.dkr.ecr.us-west-2.amazonaws.com/models@sha256:${"a".repeat(64)}`;
const ROLE = `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/puller`;
const ANCHOR = `arn:aws:rolesanywhere:us-west-2:${MOCK_ACCOUNT_ID}:trust-anchor/0123abcd-0000-1111-2222-333344445555`;
const OIDC_URL = "oidc.eks.us-west-2.amazonaws.com/id/ABCDEF0123456789";
const CLUSTER = { oidcProviderArn: pulumi.output(`arn:aws:iam::${MOCK_ACCOUNT_ID}:oidc-provider/${OIDC_URL}`), oidcProviderUrl: pulumi.output(`https://${OIDC_URL}`) };
const urn = (r: pulumi.Resource) => valueOf(r.urn);
/** The error an Output-valued field fails the update with: the component's own check, run on the resolved value. */
async function failure<T>(component: string, field: string, value: T, problem: (v: T) => string | undefined): Promise<string | undefined> {
    return (await outputError(checkInput({ component, name: "x", field }, pulumi.output(value) as pulumi.Output<T>, problem)))?.message;
}

describe("ImageRegistry with Outputs", () => {
    let registry: ImageRegistry;
    beforeAll(async () => {
        registry = new ImageRegistry("outreg", {
            pullPrincipals: [pulumi.output(ROLE), "210987654321"],
            replicationRegions: ["eu-central-1"],
            pullRole: { trustAnchorArns: [pulumi.output(ANCHOR)], allowedSubjects: { cn: ["jetson-*"] }, trustedPrincipals: [pulumi.output(ROLE)] },
        });
        await recorder.settle();
    });

    it("grants pull to the resolved principals (account IDs as root ARNs), on the repository and its replica", () => {
        for (const name of ["outreg-pull", "outreg-replica-eu-central-1-pull"]) {
            const policy = JSON.parse(recorder.one("aws:ecr/repositoryPolicy:RepositoryPolicy", name).inputs.policy);
            expect(policy.Statement[0].Principal.AWS).toEqual([ROLE, "arn:aws:iam::210987654321:root"]);
        }
    });

    it("pins the pull role's trust to the resolved anchor and principal, and makes the profile", () => {
        const trust = JSON.parse(recorder.one("aws:iam/role:Role", "outreg-pull-role").inputs.assumeRolePolicy);
        expect(trust.Statement[0].Condition.ArnEquals["aws:SourceArn"]).toEqual([ANCHOR]);
        expect(trust.Statement[1].Principal.AWS).toEqual([ROLE]);
        expect(recorder.one("aws:rolesanywhere/profile:Profile", "outreg-pull-profile").inputs.name).toBe("outreg-pull");
    });

    it("fails the update when one resolves to a bad value, naming the field", async () => {
        const [bad] = checkInputs({ component: "ImageRegistry", name: "x", field: "pullPrincipals" }, [pulumi.output("role/puller")], pullPrincipalProblem);
        expect((await outputError(bad))?.message).toBe('ImageRegistry "x": pullPrincipals[0] "role/puller" is not an IAM principal: give a role/user/root ARN (arn:aws:iam::123456789012:role/edge-device) or a 12-digit account ID');
        expect(await failure("ImageRegistry", "pullRole.trustAnchorArns[0]", "arn:aws:iam::1:role/x", trustAnchorProblem)).toMatch(/pullRole\.trustAnchorArns\[0\] "arn:aws:iam::1:role\/x" is not an IAM Roles Anywhere trust anchor ARN/);
        expect(() => new ImageRegistry("badreg", { pullPrincipals: [pulumi.output(ROLE), "nobody"] })).toThrow('ImageRegistry "badreg": pullPrincipals[1] "nobody" is not an IAM principal');
    });

    it("exposes the repository, replicas, cache repository, pull role and profile", async () => {
        expect(await urn(registry.repository)).toBe(recorder.one("aws:ecr/repository:Repository", "outreg-repo").urn);
        expect(await urn(registry.replicas["eu-central-1"])).toBe(recorder.one("aws:ecr/repository:Repository", "outreg-replica-eu-central-1").urn);
        expect(await urn(registry.cacheRepository!)).toBe(recorder.one("aws:ecr/repository:Repository", "outreg-cache").urn);
        expect(await urn(registry.pullRole!)).toBe(recorder.one("aws:iam/role:Role", "outreg-pull-role").urn);
        expect(await urn(registry.rolesAnywhereProfile!)).toBe(recorder.one("aws:rolesanywhere/profile:Profile", "outreg-pull-profile").urn);
    });
});

describe("InferenceService with Outputs", () => {
    let svc: InferenceService;
    beforeAll(async () => {
        svc = new InferenceService(
            "outsvc",
            {
                image: IMAGE,
                egressCidrs: [pulumi.output("10.20.0.0/16"), "10.30.0.0/16"],
                ingressFrom: { cidrs: [pulumi.output("10.0.1.0/24")] },
                autoscaling: { prometheusUrl: "http://prometheus.monitoring.svc:80" },
                serviceMonitor: true,
            },
            { provider },
        );
        await recorder.settle();
    });

    it("puts the resolved CIDRs into the NetworkPolicy", () => {
        const spec = recorder.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "outsvc-netpol").inputs.spec;
        expect(spec.egress.slice(1)).toEqual([{ to: [{ ipBlock: { cidr: "10.20.0.0/16" } }] }, { to: [{ ipBlock: { cidr: "10.30.0.0/16" } }] }]);
        expect(spec.ingress[0].from).toContainEqual({ ipBlock: { cidr: "10.0.1.0/24" } });
    });

    it("fails the update when a CIDR resolves to a bad value, naming the field", async () => {
        const [bad] = checkInputs({ component: "InferenceService", name: "x", field: "egressCidrs" }, [pulumi.output("10.0.0.0/33")], cidrProblem);
        expect((await outputError(bad))?.message).toBe('InferenceService "x": egressCidrs[0] "10.0.0.0/33" is not an IPv4 CIDR such as "10.0.0.0/16"');
        expect(() => new InferenceService("badsvc", { image: IMAGE, ingressFrom: { cidrs: [pulumi.output("10.0.0.0/8"), "nope"] } }, { provider })).toThrow(
            'InferenceService "badsvc": ingressFrom.cidrs[1] "nope" is not an IPv4 CIDR',
        );
    });

    it("exposes the Deployment, Service, PDB, NetworkPolicy, ScaledObject, ServiceMonitor and service account", async () => {
        expect(await urn(svc.deployment)).toBe(recorder.one("kubernetes:apps/v1:Deployment", "outsvc-deployment").urn);
        expect(await urn(svc.service)).toBe(recorder.one("kubernetes:core/v1:Service", "outsvc-service").urn);
        expect(await urn(svc.podDisruptionBudget)).toBe(recorder.one("kubernetes:policy/v1:PodDisruptionBudget", "outsvc-pdb").urn);
        expect(await urn(svc.networkPolicy!)).toBe(recorder.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "outsvc-netpol").urn);
        expect(await urn(svc.scaledObject!)).toBe(recorder.one("kubernetes:keda.sh/v1alpha1:ScaledObject", "outsvc-scaler").urn);
        expect(await urn(svc.serviceMonitor!)).toBe(recorder.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "outsvc-monitor").urn);
        expect(await urn(svc.serviceAccount!)).toBe(recorder.one("kubernetes:core/v1:ServiceAccount", "outsvc-sa").urn);
        expect(svc.namespaceResource).toBeUndefined();
    });
});

describe("SecretWiring with an Output namespace", () => {
    let k8sWiring: SecretWiring;
    let awsWiring: SecretWiring;
    beforeAll(async () => {
        k8sWiring = new SecretWiring("outk8s", { mode: "kubernetes", namespace: pulumi.output("inference"), secrets: { TOKEN: pulumi.secret("t") } }, { provider });
        awsWiring = new SecretWiring(
            "outaws",
            { mode: "aws", namespace: pulumi.output("serving"), region: pulumi.output("eu-central-1"), secrets: { TOKEN: pulumi.secret("t") }, cluster: CLUSTER },
            { provider },
        );
        await recorder.settle();
    });

    it("writes the objects into the resolved namespace, and trusts that namespace's service account", async () => {
        expect(recorder.one("kubernetes:core/v1:Secret", "outk8s-secret").inputs.metadata.namespace).toBe("inference");
        expect(recorder.one("kubernetes:external-secrets.io/v1:ExternalSecret", "outaws-sync").inputs.metadata.namespace).toBe("serving");
        const trust = JSON.parse(recorder.one("aws:iam/role:Role", "outaws-reader").inputs.assumeRolePolicy);
        expect(trust.Statement[0].Condition.StringEquals[`${OIDC_URL}:sub`]).toBe("system:serviceaccount:serving:outaws-secret-store");
        expect(await valueOf(awsWiring.namespace)).toBe("serving");
        expect(recorder.one("kubernetes:external-secrets.io/v1:SecretStore", "outaws-store").inputs.spec.provider.aws.region).toBe("eu-central-1");
    });

    it("fails the update when it resolves to a bad name, and wants a plain one to create it", async () => {
        expect(await failure("SecretWiring", "namespace", "Not_A_Name", namespaceProblem)).toBe('SecretWiring "x": namespace "Not_A_Name" is not a valid namespace name: use a DNS label such as "inference"');
        expect(await failure("SecretWiring", "region", "Frankfurt", regionProblem)).toBe('SecretWiring "x": region "Frankfurt" is not an AWS region code such as "eu-central-1"');
        expect(() => new SecretWiring("mk", { mode: "kubernetes", namespace: pulumi.output("ns"), createNamespace: true, secrets: { A: pulumi.secret("a") } }, { provider })).toThrow(
            'SecretWiring "mk": namespace must be a plain string with createNamespace: true',
        );
    });

    it("exposes the Secret, or the Secrets Manager secrets, role, service account, operator, store and ExternalSecret", async () => {
        expect(await urn(k8sWiring.secret!)).toBe(recorder.one("kubernetes:core/v1:Secret", "outk8s-secret").urn);
        expect(k8sWiring.externalSecret).toBeUndefined();
        expect(await urn(awsWiring.awsSecrets.TOKEN)).toBe(recorder.one("aws:secretsmanager/secret:Secret", "outaws-TOKEN").urn);
        expect(await urn(awsWiring.role!)).toBe(recorder.one("aws:iam/role:Role", "outaws-reader").urn);
        expect(await urn(awsWiring.serviceAccount!)).toBe(recorder.one("kubernetes:core/v1:ServiceAccount", "outaws-sa").urn);
        expect(await urn(awsWiring.operator!)).toBe(recorder.one("kubernetes:helm.sh/v3:Release", "outaws-eso").urn);
        expect(await urn(awsWiring.secretStore!)).toBe(recorder.one("kubernetes:external-secrets.io/v1:SecretStore", "outaws-store").urn);
        expect(await urn(awsWiring.externalSecret!)).toBe(recorder.one("kubernetes:external-secrets.io/v1:ExternalSecret", "outaws-sync").urn);
    });
});

describe("ServingAddons with Outputs", () => {
    it("serves an existing Prometheus URL given as an Output, and fails on a bad one", async () => {
        const addons = new ServingAddons("outadd", { prometheus: false, existingPrometheusUrl: pulumi.output("http://prom.monitoring.svc:9090"), apiServerCidrs: [pulumi.output("10.0.0.0/24")] }, { provider });
        await recorder.settle();
        expect(await valueOf(addons.prometheusUrl)).toBe("http://prom.monitoring.svc:9090");
        const spec = recorder.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "outadd-keda-metrics-apiserver").inputs.spec;
        expect(spec.ingress[0].from).toEqual([{ ipBlock: { cidr: "10.0.0.0/24" } }]);
        expect(await urn(addons.keda!)).toBe(recorder.one("kubernetes:helm.sh/v3:Release", "outadd-keda").urn);
        expect(addons.prometheus).toBeUndefined();
        expect(await failure("ServingAddons", "existingPrometheusUrl", "prom:9090", prometheusUrlProblem)).toMatch(/^ServingAddons "x": existingPrometheusUrl "prom:9090" is not an http\(s\) URL/);
        expect(() => new ServingAddons("badadd", { prometheus: false, existingPrometheusUrl: "ftp://x" }, { provider })).toThrow('ServingAddons "badadd": existingPrometheusUrl "ftp://x" is not an http(s) URL');
    });

    it("exposes the bundled Prometheus release", async () => {
        const addons = new ServingAddons("bundled", {}, { provider });
        await recorder.settle();
        expect(await urn(addons.prometheus!)).toBe(recorder.one("kubernetes:helm.sh/v3:Release", "bundled-prometheus").urn);
    });
});

describe("EdgeDevice with an Output host", () => {
    let device: EdgeDevice;
    beforeAll(async () => {
        device = new EdgeDevice("outdev", { host: pulumi.output("ssh://deploy@jetson-7.example.com"), image: IMAGE });
        await recorder.settle();
    });

    it("connects the provider to the resolved host, and derives the endpoint from it", async () => {
        expect(recorder.one("pulumi:providers:docker", "outdev-docker").inputs.host).toBe("ssh://deploy@jetson-7.example.com");
        expect(await valueOf(device.endpoint)).toBe("http://jetson-7.example.com:5000");
    });

    it("fails the update when it resolves to a bad host, or to tcp:// without tls", async () => {
        const problem = resolvedHostProblem(false);
        expect(await failure("EdgeDevice", "host", "jetson-7", problem)).toMatch(/^EdgeDevice "x": host "jetson-7" is not a Docker host: use ssh:\/\/user@device\.example\.com/);
        expect(await failure("EdgeDevice", "host", "tcp://10.0.0.5:2375", problem)).toMatch(/host "tcp:\/\/10\.0\.0\.5:2375" conflicts with tls: tls is required/);
        expect(await failure("EdgeDevice", "host", "ssh://deploy@d", resolvedHostProblem(true))).toMatch(/host "ssh:\/\/deploy@d" conflicts with tls: tls only applies to a tcp:\/\/ host/);
    });

    it("exposes the provider, the container and the pulled image", async () => {
        expect(await urn(device.container)).toBe(recorder.one("docker:index/container:Container", "outdev-container").urn);
        expect(await urn(device.remoteImage)).toBe(recorder.one("docker:index/remoteImage:RemoteImage", "outdev-image").urn);
        expect(await urn(device.provider)).toBe(recorder.one("pulumi:providers:docker", "outdev-docker").urn);
    });
});
