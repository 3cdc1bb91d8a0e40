import { installMockRuntime, valueOf } from "../support/mocks";

const recorder = installMockRuntime();
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    InferenceService,
    INFERENCE_SERVICE_DEFAULTS,
    inFlightQuery,
    isDigestReference,
    podTolerations,
    networkPolicySpec,
    ingressRules,
    pinnedImage,
    assertPinnedImage,
    rolloutStrategy,
    startupFailureThreshold,
    terminationGracePeriod,
    validateInferenceServiceArgs,
    type InferenceServiceArgs,
} from "../../components/inference-service";
import { SecretWiring } from "../../components/secret-wiring";
import { toK8sObject, validateK8sObjects } from "../support/k8s-schema";

const DIGEST = "a".repeat(64);
const IMAGE = `123456789012.dkr.ecr.us-west-2.amazonaws.com/models@sha256:${DIGEST}`;
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const SA = "kubernetes:core/v1:ServiceAccount";
const SCALED = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const GPU_SCHEDULING = {
    nodeSelector: { "modelship.io/gpu": "true" },
    tolerations: [{ key: "nvidia.com/gpu", operator: "Exists" as const, effect: "NoSchedule" as const }],
};

const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });

function pod(name: string) {
    return recorder.one(DEPLOYMENT, `${name}-deployment`).inputs.spec.template.spec;
}
function container(name: string) {
    return pod(name).containers[0];
}
function envOf(name: string): Record<string, string> {
    return Object.fromEntries(container(name).env.map((e: any) => [e.name, e.value]));
}

let cpuSvc: InferenceService;
let gpuSvc: InferenceService;
beforeAll(async () => {
    cpuSvc = new InferenceService("cpu", { image: IMAGE, namespace: "serving" }, { provider });
    gpuSvc = new InferenceService(
        "gpu",
        {
            image: IMAGE,
            namespace: "models",
            createNamespace: true,
            gpu: 1,
            port: 9000,
            modelName: "resnet",
            env: { LOG_LEVEL: "debug" },
            resources: { cpu: "4", memory: "16Gi", memoryLimit: "20Gi" },
            scheduling: GPU_SCHEDULING,
            replicas: { min: 2, max: 6 },
            secret: "hf-token",
            serviceAccount: { roleArn: "arn:aws:iam::123456789012:role/model-reader" },
            modelLoadSeconds: 900,
            autoscaling: { prometheusUrl: "http://prom.monitoring.svc.cluster.local:80", targetInFlightPerPod: 8 },
            serviceMonitor: true,
            egressCidrs: ["10.0.0.0/16"],
        },
        { provider },
    );
    await recorder.settle();
});

describe("InferenceService pod security (restricted profile)", () => {
    it("runs as a fixed non-root uid/gid 10001 with RuntimeDefault seccomp", () => {
        expect(pod("cpu").securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            fsGroup: 10001,
            seccompProfile: { type: "RuntimeDefault" },
        });
    });

    it("forbids privilege escalation, drops ALL capabilities and mounts the root filesystem read-only", () => {
        expect(container("cpu").securityContext).toEqual({
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
    });

    it("gives the server an emptyDir at /tmp, its only writable path", () => {
        expect(container("cpu").volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
        expect(pod("cpu").volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }]);
    });

    it("mounts no API token unless the pod needs AWS through IRSA", () => {
        expect(pod("cpu").automountServiceAccountToken).toBe(false);
        expect(recorder.one(SA, "cpu-sa").inputs.automountServiceAccountToken).toBe(false);
        expect(pod("gpu").automountServiceAccountToken).toBe(true);
        const sa = recorder.one(SA, "gpu-sa").inputs;
        expect(sa.metadata.annotations).toEqual({ "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/model-reader" });
        expect(pod("gpu").serviceAccountName).toBe("gpu");
    });

    it("overrides the ids when asked", async () => {
        new InferenceService("ids", { image: IMAGE, runAs: { user: 2000 } }, { provider });
        await recorder.settle();
        expect(pod("ids").securityContext).toMatchObject({ runAsUser: 2000, runAsGroup: 10001, fsGroup: 10001 });
    });

    it("labels a namespace it creates to enforce, warn and audit the restricted standard", () => {
        const ns = recorder.one("kubernetes:core/v1:Namespace", "gpu-ns").inputs;
        expect(ns.metadata.name).toBe("models");
        expect(ns.metadata.labels).toMatchObject({
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted",
        });
        expect(recorder.dependsOn(recorder.one(DEPLOYMENT, "gpu-deployment"), recorder.one("kubernetes:core/v1:Namespace", "gpu-ns"))).toBe(true);
    });
});

describe("InferenceService container", () => {
    it("runs the digest-pinned image and exposes the serving and metrics ports by name", () => {
        expect(container("cpu").image).toBe(IMAGE);
        expect(container("cpu").ports).toEqual([
            { name: "http", containerPort: 8080, protocol: "TCP" },
            { name: "metrics", containerPort: 9091, protocol: "TCP" },
        ]);
        expect(container("gpu").ports[0].containerPort).toBe(9000);
    });

    it("sets PORT, METRICS_PORT, DEVICE and DRAIN_TIMEOUT_MS to match its arguments, then the user's env", () => {
        expect(envOf("cpu")).toEqual({ PORT: "8080", METRICS_PORT: "9091", DEVICE: "cpu", DRAIN_TIMEOUT_MS: "25000" });
        expect(envOf("gpu")).toEqual({ PORT: "9000", METRICS_PORT: "9091", DEVICE: "cuda", DRAIN_TIMEOUT_MS: "25000", MODEL_NAME: "resnet", LOG_LEVEL: "debug" });
    });

    it("always sets cpu/memory requests and a memory limit; GPUs go in the nvidia.com/gpu limit", () => {
        expect(container("cpu").resources).toEqual({ requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "2Gi" } });
        expect(container("gpu").resources).toEqual({ requests: { cpu: "4", memory: "16Gi" }, limits: { memory: "20Gi", "nvidia.com/gpu": "1" } });
    });

    it("schedules where it is told (GpuCluster.gpuScheduling)", () => {
        expect(pod("gpu").nodeSelector).toEqual(GPU_SCHEDULING.nodeSelector);
        expect(pod("gpu").tolerations).toEqual(GPU_SCHEDULING.tolerations);
        expect(pod("cpu").nodeSelector).toBeUndefined();
    });

    it("consumes a named Secret whole through envFrom", () => {
        expect(container("gpu").envFrom).toEqual([{ secretRef: { name: "hf-token" } }]);
        expect(container("cpu").envFrom).toBeUndefined();
    });

    it("carries Prometheus scrape annotations pointing at /metrics on the metrics port, and lets the autoscaler evict it", () => {
        expect(recorder.one(DEPLOYMENT, "gpu-deployment").inputs.spec.template.metadata.annotations).toEqual({
            "prometheus.io/scrape": "true",
            "prometheus.io/port": "9091",
            "prometheus.io/path": "/metrics",
            // GPU pod with modelLoadSeconds 900: Karpenter leaves its node alone for the load window.
            "karpenter.sh/do-not-disrupt": "15m",
            // Its /tmp emptyDir would otherwise keep cluster-autoscaler from ever removing an idle GPU node.
            "cluster-autoscaler.kubernetes.io/safe-to-evict": "true",
        });
    });
});

describe("InferenceService probes and shutdown", () => {
    it("gives the startup probe modelLoadSeconds on /v2/health/ready", () => {
        expect(container("cpu").startupProbe).toEqual({ httpGet: { path: "/v2/health/ready", port: "http" }, periodSeconds: 10, failureThreshold: 60, timeoutSeconds: 3 });
        expect(container("gpu").startupProbe.failureThreshold).toBe(90);
    });

    it("checks readiness on /v2/health/ready and liveness on /v2/health/live", () => {
        expect(container("cpu").readinessProbe.httpGet).toEqual({ path: "/v2/health/ready", port: "http" });
        expect(container("cpu").livenessProbe.httpGet).toEqual({ path: "/v2/health/live", port: "http" });
    });

    it("sleeps in preStop and allows longer than preStop + drain before SIGKILL", () => {
        expect(container("cpu").lifecycle).toEqual({ preStop: { exec: { command: ["sleep", "5"] } } });
        expect(pod("cpu").terminationGracePeriodSeconds).toBe(40);
        expect(pod("cpu").terminationGracePeriodSeconds).toBeGreaterThan(5 + 25);
    });
});

describe("InferenceService rollout and disruption", () => {
    it("replaces GPU pods in place (no surge pod waiting for a GPU), surges CPU pods", () => {
        expect(recorder.one(DEPLOYMENT, "gpu-deployment").inputs.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
        expect(recorder.one(DEPLOYMENT, "cpu-deployment").inputs.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } });
    });

    it("spreads pods softly across zones and nodes", () => {
        const spread = pod("cpu").topologySpreadConstraints;
        expect(spread.map((s: any) => [s.topologyKey, s.whenUnsatisfiable, s.maxSkew])).toEqual([
            ["topology.kubernetes.io/zone", "ScheduleAnyway", 1],
            ["kubernetes.io/hostname", "ScheduleAnyway", 1],
        ]);
        expect(spread[0].labelSelector).toEqual({ matchLabels: { "app.kubernetes.io/name": "modelship-inference", "app.kubernetes.io/instance": "cpu" } });
    });

    it("has a PDB allowing one eviction at a time, never blocking a drain", () => {
        const pdb = recorder.one(PDB, "cpu-pdb").inputs;
        expect(pdb.spec).toEqual({
            maxUnavailable: 1,
            selector: { matchLabels: { "app.kubernetes.io/name": "modelship-inference", "app.kubernetes.io/instance": "cpu" } },
            unhealthyPodEvictionPolicy: "AlwaysAllow",
        });
    });

    it("pins the replica count without autoscaling and leaves it to KEDA with it", () => {
        expect(recorder.one(DEPLOYMENT, "cpu-deployment").inputs.spec.replicas).toBe(1);
        expect(recorder.one(DEPLOYMENT, "gpu-deployment").inputs.spec.replicas).toBeUndefined();
    });
});

describe("InferenceService autoscaling (KEDA)", () => {
    it("creates no ScaledObject unless asked", () => {
        expect(recorder.ofType(SCALED).map((r) => r.name)).toEqual(["gpu-scaler"]);
    });

    it("scales the Deployment between replicas.min and max on in-flight requests per pod, CPU as a floor", () => {
        const so = recorder.one(SCALED, "gpu-scaler").inputs;
        expect(so.apiVersion).toBe("keda.sh/v1alpha1");
        expect(so.metadata).toMatchObject({ name: "gpu", namespace: "models" });
        expect(so.spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "gpu" });
        expect(so.spec.minReplicaCount).toBe(2);
        expect(so.spec.maxReplicaCount).toBe(6);
        expect(so.spec.triggers).toEqual([
            {
                type: "prometheus",
                name: "in-flight",
                metadata: {
                    serverAddress: "http://prom.monitoring.svc.cluster.local:80",
                    query: 'sum(modelship_inference_requests_in_flight{namespace="models",pod=~"gpu-[a-z0-9]+-[a-z0-9]+"})',
                    threshold: "8",
                },
            },
            { type: "cpu", name: "cpu", metricType: "Utilization", metadata: { value: "80" } },
        ]);
    });

    it("scales up at once and down slowly (GPU cold starts)", () => {
        const behavior = recorder.one(SCALED, "gpu-scaler").inputs.spec.advanced.horizontalPodAutoscalerConfig.behavior;
        expect(behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
        expect(behavior.scaleDown.stabilizationWindowSeconds).toBe(600);
        expect(behavior.scaleDown.policies).toEqual([{ type: "Pods", value: 1, periodSeconds: 120 }]);
    });

    it("scales to zero with a wake query measured outside the pods", async () => {
        new InferenceService(
            "zero",
            {
                image: IMAGE,
                replicas: { min: 0, max: 2 },
                autoscaling: { prometheusUrl: "http://p:9090", wakeQuery: 'sum(gateway_pending{service="zero"})', scaleDownStabilizationSeconds: 900 },
            },
            { provider },
        );
        await recorder.settle();
        const so = recorder.one(SCALED, "zero-scaler").inputs.spec;
        expect(so.minReplicaCount).toBe(0);
        expect(so.cooldownPeriod).toBe(900);
        expect(so.triggers[2]).toEqual({
            type: "prometheus",
            name: "wake",
            metadata: { serverAddress: "http://p:9090", query: 'sum(gateway_pending{service="zero"})', threshold: "4", activationThreshold: "0" },
        });
        expect(recorder.one(PDB, "zero-pdb").inputs.spec.maxUnavailable).toBe(1);
    });
});

const SAME_NAMESPACE = { podSelector: {} };
const DEFAULT_PROMETHEUS = {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
    podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } },
};
const PORT_8080 = [{ protocol: "TCP", port: 8080 }];
const METRICS_9091 = [{ protocol: "TCP", port: 9091 }];

describe("InferenceService network policy", () => {
    it("admits the same namespace to the serving port, and the monitoring namespace's Prometheus alone to the metrics port, by default", () => {
        const spec = recorder.one(NETPOL, "cpu-netpol").inputs.spec;
        expect(spec.policyTypes).toEqual(["Ingress", "Egress"]);
        expect(spec.ingress).toEqual([
            { from: [SAME_NAMESPACE], ports: PORT_8080 },
            { from: [DEFAULT_PROMETHEUS], ports: METRICS_9091 },
        ]);
        // Never an ingress rule without `from`: that would admit every pod, node and address.
        for (const rule of spec.ingress) expect(rule.from.length).toBeGreaterThan(0);
    });

    it("lets out DNS only by default", () => {
        const spec = recorder.one(NETPOL, "cpu-netpol").inputs.spec;
        expect(spec.egress).toEqual([
            {
                to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
                ports: [
                    { protocol: "UDP", port: 53 },
                    { protocol: "TCP", port: 53 },
                ],
            },
        ]);
    });

    it("adds each egress CIDR", () => {
        const spec = recorder.one(NETPOL, "gpu-netpol").inputs.spec;
        expect(spec.egress).toHaveLength(2);
        expect(spec.egress[1]).toEqual({ to: [{ ipBlock: { cidr: "10.0.0.0/16" } }] });
    });

    it("admits exactly the custom ingressFrom peers: namespaces, namespace labels, pods, CIDRs and the given Prometheus", async () => {
        new InferenceService(
            "gated",
            {
                image: IMAGE,
                namespace: "apps",
                port: 9000,
                ingressFrom: {
                    sameNamespace: false,
                    pods: [
                        { namespace: "ingress-nginx", podLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
                        { namespaceLabels: { team: "ml" } },
                        { podLabels: { role: "gateway" } },
                    ],
                    cidrs: ["10.20.0.0/16"],
                    prometheus: { namespace: "obs", podLabels: { "app.kubernetes.io/instance": "main" } },
                },
            },
            { provider },
        );
        await recorder.settle();
        const ports = [{ protocol: "TCP", port: 9000 }];
        expect(recorder.one(NETPOL, "gated-netpol").inputs.spec.ingress).toEqual([
            {
                from: [
                    { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } } },
                    { namespaceSelector: { matchLabels: { team: "ml" } } },
                    { podSelector: { matchLabels: { role: "gateway" } } },
                    { ipBlock: { cidr: "10.20.0.0/16" } },
                ],
                ports,
            },
            {
                from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "obs" } }, podSelector: { matchLabels: { "app.kubernetes.io/instance": "main" } } }],
                ports: METRICS_9091,
            },
        ]);
    });

    it("admits no scraper when prometheus is false, and keeps the default Prometheus labels for a namespace alone", () => {
        expect(ingressRules(8080, 9091, { prometheus: false })).toEqual([{ from: [SAME_NAMESPACE], ports: PORT_8080 }]);
        expect(ingressRules(8080, 9091, { prometheus: { namespace: "obs" } })[1]).toEqual({
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "obs" } }, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } }],
            ports: METRICS_9091,
        });
        expect(ingressRules(8080, 9091, { sameNamespace: false, cidrs: ["192.168.0.0/24"], prometheus: false })).toEqual([{ from: [{ ipBlock: { cidr: "192.168.0.0/24" } }], ports: PORT_8080 }]);
        // No client rule ever reaches the metrics port.
        for (const rule of ingressRules(8080, 9091, { cidrs: ["10.0.0.0/8"], pods: [{ namespace: "x" }] }).slice(0, -1)) expect(rule.ports).toEqual(PORT_8080);
    });
});

describe("InferenceService service, monitor and outputs", () => {
    it("exposes a ClusterIP Service on the port, selecting its pods", () => {
        const svc = recorder.one(SERVICE, "cpu-service").inputs;
        expect(svc.metadata).toMatchObject({ name: "cpu", namespace: "serving" });
        expect(svc.spec).toEqual({
            type: "ClusterIP",
            selector: { "app.kubernetes.io/name": "modelship-inference", "app.kubernetes.io/instance": "cpu" },
            ports: [
                { name: "http", port: 8080, targetPort: "http", protocol: "TCP" },
                { name: "metrics", port: 9091, targetPort: "metrics", protocol: "TCP" },
            ],
        });
    });

    it("creates a ServiceMonitor only when asked", () => {
        expect(recorder.ofType(MONITOR).map((r) => r.name)).toEqual(["gpu-monitor"]);
        expect(recorder.one(MONITOR, "gpu-monitor").inputs.spec).toEqual({
            selector: { matchLabels: { "app.kubernetes.io/name": "modelship-inference", "app.kubernetes.io/instance": "gpu" } },
            endpoints: [{ port: "metrics", path: "/metrics", interval: "15s" }],
        });
    });

    it("outputs the service, namespace, deployment and in-cluster endpoint", async () => {
        expect(await valueOf(cpuSvc.serviceName)).toBe("cpu");
        expect(await valueOf(cpuSvc.namespace)).toBe("serving");
        expect(await valueOf(cpuSvc.deploymentName)).toBe("cpu");
        expect(await valueOf(cpuSvc.endpoint)).toBe("http://cpu.serving.svc.cluster.local:8080");
        expect(await valueOf(gpuSvc.endpoint)).toBe("http://gpu.models.svc.cluster.local:9000");
    });

    it("parents every child to the component and passes the Kubernetes provider down", () => {
        const component = recorder.one("modelship:index:InferenceService", "gpu");
        const children = recorder.childrenOf(component);
        expect(children.map((r) => r.name).sort()).toEqual(["gpu-default-deny-egress", "gpu-deployment", "gpu-monitor", "gpu-netpol", "gpu-ns", "gpu-pdb", "gpu-sa", "gpu-scaler", "gpu-service"]);
        for (const child of children) expect(child.provider).toMatch(/^urn:pulumi:test::modelship::pulumi:providers:kubernetes::k8s::/);
    });
});

describe("InferenceService with a SecretWiring", () => {
    it("consumes the wiring's Secret via envFrom and waits for it", async () => {
        const wiring = new SecretWiring("creds", { mode: "kubernetes", namespace: "apps", secrets: { API_KEY: pulumi.secret("s3cr3t") } }, { provider });
        new InferenceService("wired", { image: IMAGE, namespace: "apps", secret: wiring }, { provider });
        await recorder.settle();
        expect(container("wired").envFrom).toEqual([{ secretRef: { name: "creds" } }]);
        const secret = recorder.one("kubernetes:core/v1:Secret", "creds-secret");
        // The value reaches the Secret, secret; it never enters the Deployment.
        expect(JSON.stringify(recorder.one(DEPLOYMENT, "wired-deployment").inputs)).not.toContain("s3cr3t");
        expect(secret.secretPaths).toContain("stringData");
        expect(secret.inputs.stringData).toEqual({ API_KEY: "s3cr3t" });
    });
});

describe("InferenceService image pinning", () => {
    it("refuses a tag at construction, naming the field and the fix", () => {
        expect(() => new InferenceService("tagged", { image: "repo/model:latest" }, { provider })).toThrow(
            'InferenceService "tagged": image "repo/model:latest" is not pinned by digest: use repo@sha256:<64 hex>',
        );
    });

    it("accepts a tag with allowMutableTag", () => {
        expect(() => validateInferenceServiceArgs("dev", { image: "repo/model:dev", allowMutableTag: true })).not.toThrow();
    });

    it("checks an Output image when it resolves, with the same message", async () => {
        // pinnedImage applies assertPinnedImage to the resolved value; a rejected Output cannot be observed under mocks
        // without failing the run, so the check itself is asserted directly.
        expect(() => assertPinnedImage("late", "repo/model:latest", false)).toThrow('InferenceService "late": image "repo/model:latest" is not pinned by digest');
        expect(await valueOf(pinnedImage("late", pulumi.output(IMAGE), false))).toBe(IMAGE);
        expect(await valueOf(pinnedImage("late", pulumi.output("repo/model:dev"), true))).toBe("repo/model:dev");
    });

    it("passes an Output image through to the container", async () => {
        new InferenceService("computed", { image: pulumi.output(IMAGE) }, { provider });
        await recorder.settle();
        expect(container("computed").image).toBe(IMAGE);
    });
});

describe("validateInferenceServiceArgs", () => {
    const ok: InferenceServiceArgs = { image: IMAGE };
    const cases: [string, Partial<InferenceServiceArgs>, string][] = [
        ["port below 1024", { port: 80 }, "port must be a whole number from 1024 to 65535"],
        ["metrics port below 1024", { metricsPort: 90 }, "metricsPort must be a whole number from 1024 to 65535"],
        ["metrics on the serving port", { port: 9091 }, "metricsPort must differ from port (9091)"],
        ["METRICS_PORT in env", { env: { METRICS_PORT: "1" } }, "env.METRICS_PORT is set by the component"],
        ["fractional GPUs", { gpu: 0.5 }, "gpu must be a whole number of GPUs"],
        ["min above max", { replicas: { min: 3, max: 2 } }, "replicas must have whole numbers 0 <= min <= max"],
        ["zero replicas without autoscaling", { replicas: { min: 0, max: 2 } }, "replicas.min is 0 without autoscaling"],
        ["scale to zero without a wake query", { replicas: { min: 0, max: 2 }, autoscaling: { prometheusUrl: "http://p" } }, "autoscaling.wakeQuery is required when replicas.min is 0"],
        ["bad CIDR", { egressCidrs: ["10.0.0.0/33"] }, 'egressCidrs[0] "10.0.0.0/33" is not an IPv4 CIDR'],
        ["bad quantity", { resources: { memory: "2 GB" } }, 'resources.memory "2 GB" is not a Kubernetes quantity'],
        ["root uid", { runAs: { user: 0 } }, "runAs.user must be a non-zero id"],
        ["PORT in env", { env: { PORT: "1" } }, "env.PORT is set by the component"],
        ["bad namespace", { namespace: "Models" }, '"Models" is not a valid namespace name'],
        ["cpu utilisation over 100", { autoscaling: { prometheusUrl: "http://p", cpuUtilization: 150 } }, "autoscaling.cpuUtilization must be a whole percentage"],
        ["a bad ingress CIDR", { ingressFrom: { cidrs: ["10.0.0.0/16", "10.0.0.300/32"] } }, 'ingressFrom.cidrs[1] "10.0.0.300/32" is not an IPv4 CIDR'],
        ["an empty ingress peer", { ingressFrom: { pods: [{}] } }, "ingressFrom.pods[0] is empty, which would admit every pod"],
        ["an empty pod selector", { ingressFrom: { pods: [{ podLabels: {} }] } }, "ingressFrom.pods[0].podLabels is empty, which selects everything"],
        ["an empty namespace selector", { ingressFrom: { pods: [{ namespaceLabels: {} }] } }, "ingressFrom.pods[0].namespaceLabels is empty, which selects everything"],
        ["namespace and namespace labels together", { ingressFrom: { pods: [{ namespace: "a", namespaceLabels: { team: "ml" } }] } }, "ingressFrom.pods[0] has both namespace and namespaceLabels"],
        ["a bad peer namespace", { ingressFrom: { pods: [{ namespace: "Ingress" }] } }, 'ingressFrom.pods[0].namespace "Ingress" is not a valid namespace name'],
        ["a bad label key", { ingressFrom: { pods: [{ podLabels: { "bad key": "x" } }] } }, 'ingressFrom.pods[0].podLabels has "bad key", which is not a label key'],
        ["a bad Prometheus namespace", { ingressFrom: { prometheus: { namespace: "" } } }, 'ingressFrom.prometheus.namespace "" is not a valid namespace name'],
        ["empty Prometheus pod labels", { ingressFrom: { prometheus: { namespace: "obs", podLabels: {} } } }, "ingressFrom.prometheus.podLabels is empty"],
        ["no client at all", { ingressFrom: { sameNamespace: false } }, "ingressFrom admits no client"],
        ["ingressFrom without the policy", { networkPolicy: false, ingressFrom: { cidrs: ["10.0.0.0/8"] } }, "ingressFrom has no effect with networkPolicy: false"],
    ];
    it.each(cases)("rejects %s", (_label, patch, message) => {
        expect(() => validateInferenceServiceArgs("svc", { ...ok, ...patch })).toThrow(message);
    });

    it("rejects a name that is not a DNS label", () => {
        expect(() => validateInferenceServiceArgs("My_Svc", ok)).toThrow('InferenceService "My_Svc": name "My_Svc" must be a DNS-1035 label');
    });
});

describe("InferenceService pure helpers", () => {
    it("recognises digest references only", () => {
        expect(isDigestReference(IMAGE)).toBe(true);
        expect(isDigestReference("repo:tag")).toBe(false);
        expect(isDigestReference(`repo@sha256:${"a".repeat(63)}`)).toBe(false);
    });

    it("sizes probes and grace periods", () => {
        expect(startupFailureThreshold(600, 10)).toBe(60);
        expect(startupFailureThreshold(605, 10)).toBe(61);
        expect(terminationGracePeriod(5, 25, 10)).toBe(40);
        expect(rolloutStrategy(2)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
        expect(inFlightQuery("ns", "svc")).toBe('sum(modelship_inference_requests_in_flight{namespace="ns",pod=~"svc-[a-z0-9]+-[a-z0-9]+"})');
        expect(networkPolicySpec({ a: "b" }, 8080, 9091, []).egress).toHaveLength(1);
        expect(networkPolicySpec({ a: "b" }, 8080, 9091, []).ingress).toEqual(ingressRules(8080, 9091));
        expect(INFERENCE_SERVICE_DEFAULTS.drainSeconds * 1000).toBe(25000);
    });
});

describe("InferenceService Kubernetes objects", () => {
    it("validate against the Kubernetes API schemas", () => {
        const builtIn = recorder.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && r.type !== "kubernetes:helm.sh/v3:Release");
        expect(new Set(builtIn.map((r) => r.type))).toEqual(
            new Set([DEPLOYMENT, SERVICE, PDB, NETPOL, SA, SCALED, MONITOR, "kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret"]),
        );
        const errors = validateK8sObjects(builtIn.map(toK8sObject));
        expect(errors.filter((e) => e !== null)).toEqual([]);
        expect(errors).toHaveLength(builtIn.length);
    });

    it("the schema check catches a broken object (the check itself works)", () => {
        const deployment = toK8sObject(recorder.one(DEPLOYMENT, "cpu-deployment")) as any;
        const broken = { ...deployment, spec: { ...deployment.spec, replicas: "one" } };
        expect(validateK8sObjects([broken])[0]).toContain("replicas must be integer");
        const scaler = toK8sObject(recorder.ofType(SCALED)[0]) as any;
        expect(validateK8sObjects([scaler])).toEqual([null]);
        expect(validateK8sObjects([{ ...scaler, spec: { ...scaler.spec, scaleTargetRef: undefined } }])[0]).toMatch(/ScaledObject .*scaleTargetRef/);
    });
});

describe("podTolerations", () => {
    const gpuToleration = { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" };
    it("adds the GPU taint's toleration to GPU pods on any cluster", () => {
        expect(podTolerations(undefined, 1)).toEqual([gpuToleration]);
        expect(podTolerations({ tolerations: [{ key: "dedicated", operator: "Equal", value: "ml", effect: "NoSchedule" }] }, 2)).toEqual([
            { key: "dedicated", operator: "Equal", value: "ml", effect: "NoSchedule" },
            gpuToleration,
        ]);
    });
    it("keeps a GPU toleration the caller gave and adds none to CPU pods", () => {
        const own = { key: "nvidia.com/gpu", operator: "Equal" as const, value: "true", effect: "NoSchedule" as const };
        expect(podTolerations({ tolerations: [own] }, 1)).toEqual([own]);
        expect(podTolerations(undefined, 0)).toBeUndefined();
        expect(podTolerations({ nodeSelector: { a: "b" } }, 0)).toBeUndefined();
    });
});
