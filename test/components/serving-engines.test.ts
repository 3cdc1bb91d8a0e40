import { installMockRuntime } from "../support/mocks";

const recorder = installMockRuntime();
import * as k8s from "@pulumi/kubernetes";
import { InferenceService, type InferenceServiceArgs } from "../../components/inference-service";
import { cacheSizeLimit, downloadSeconds, modelStorePolicy, modelStoreProblems, parseS3Uri, type ModelStoreArgs } from "../../components/internal/model-store";
import { resolveServer, serverProblems } from "../../components/internal/server-profiles";
import { toK8sObject, validateK8sObjects } from "../support/k8s-schema";
import { restrictedViolations } from "../support/pss";

const IMAGE = (repo: string) => `${repo}@sha256:${"b".repeat(64)}`;
const VLLM_IMAGE = IMAGE("docker.io/vllm/vllm-openai");
const TRITON_IMAGE = IMAGE("nvcr.io/nvidia/tritonserver");
const AWS_CLI = IMAGE("public.ecr.aws/aws-cli/aws-cli");
const CLUSTER = { oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC", oidcProviderUrl: "https://oidc.eks.us-west-2.amazonaws.com/id/ABC" };
const PROM = "http://prometheus-server.monitoring.svc.cluster.local:80";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SCALED = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });

const store = (over: Partial<ModelStoreArgs> = {}): ModelStoreArgs => ({ s3Uri: "s3://acme-models/llama-3-8b/", sizeGb: 16, syncImage: AWS_CLI, cluster: CLUSTER, ...over });
const pod = (name: string) => recorder.one(DEPLOYMENT, `${name}-deployment`).inputs.spec.template.spec;
const server = (name: string) => pod(name).containers[0];
const triggers = (name: string) => recorder.ofType(SCALED).find((r) => r.name === `${name}-scaler`)!.inputs.spec.triggers;

beforeAll(async () => {
    new InferenceService(
        "llm",
        {
            image: VLLM_IMAGE,
            server: "vllm",
            modelName: "llama-3-8b",
            gpu: 2,
            namespace: "llm",
            modelStore: store({ downloadMBps: 100 }),
            modelLoadSeconds: 300,
            autoscaling: { prometheusUrl: PROM, targetInFlightPerPod: 16 },
            serviceMonitor: true,
            resources: { cpu: "8", memory: "64Gi" },
        },
        { provider },
    );
    new InferenceService(
        "triton",
        {
            image: TRITON_IMAGE,
            server: { engine: "triton", sharedMemory: "4Gi", extraArgs: ["--strict-readiness=true"] },
            gpu: 1,
            namespace: "serving",
            modelStore: store({ s3Uri: "s3://acme-models/triton-repo", sizeGb: 4 }),
            autoscaling: { prometheusUrl: PROM },
        },
        { provider },
    );
    new InferenceService("baked", { image: TRITON_IMAGE, server: "triton", namespace: "serving" }, { provider });
    new InferenceService(
        "custom",
        {
            image: IMAGE("example.com/tgi"),
            server: { engine: "custom", port: 3000, livePath: "/health", readyPath: "/health", args: ["--port", "3000"], queueQuery: "sum(tgi_queue_size{$SELECTOR})" },
            namespace: "serving",
            autoscaling: { prometheusUrl: PROM },
        },
        { provider },
    );
    await recorder.settle();
});

describe("vLLM profile", () => {
    it("runs the OpenAI-compatible server on the store's path with the served name, port and tensor parallelism from the GPU count", () => {
        const c = server("llm");
        expect(c.command).toEqual(["python3", "-m", "vllm.entrypoints.openai.api_server"]);
        expect(c.args).toEqual(["--model=/models", "--served-model-name=llama-3-8b", "--host=0.0.0.0", "--port=8000", "--tensor-parallel-size=2"]);
        expect(c.ports).toEqual([{ name: "http", containerPort: 8000, protocol: "TCP" }]);
        // modelship's own variables mean nothing to vLLM.
        const env = Object.fromEntries(c.env.map((e: any) => [e.name, e.value]));
        expect(env.PORT).toBeUndefined();
        expect(env).toMatchObject({ HF_HUB_OFFLINE: "1", VLLM_NO_USAGE_STATS: "1", HOME: "/tmp/home", XDG_CACHE_HOME: "/cache" });
    });

    it("probes /health on the serving port, with a startup budget covering the download and the load", () => {
        const c = server("llm");
        for (const p of [c.startupProbe, c.readinessProbe, c.livenessProbe]) expect(p.httpGet).toEqual({ path: "/health", port: "http" });
        // 16 GB at 100 MB/s = 160 s, + 30 s sync overhead, + 300 s load = 490 s, in 10 s periods.
        expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBe(490);
        expect(downloadSeconds({ sizeGb: 16, downloadMBps: 100 })).toBe(190);
    });

    it("scrapes /metrics on the serving port and scales on waiting + running requests, with no CPU trigger", () => {
        const annotations = recorder.one(DEPLOYMENT, "llm-deployment").inputs.spec.template.metadata.annotations;
        expect(annotations).toMatchObject({ "prometheus.io/port": "8000", "prometheus.io/path": "/metrics" });
        const t = triggers("llm");
        expect(t.map((x: any) => x.type)).toEqual(["prometheus"]);
        const sel = 'namespace="llm",pod=~"llm-[a-z0-9]+-[a-z0-9]+"';
        expect(t[0].metadata.query).toBe(`sum(vllm:num_requests_waiting{${sel}}) + sum(vllm:num_requests_running{${sel}})`);
        expect(t[0].metadata.threshold).toBe("16");
        const monitor = recorder.one("kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "llm-monitor").inputs;
        expect(monitor.spec.endpoints).toEqual([{ port: "http", path: "/metrics", interval: "15s" }]);
    });

    it("gives /dev/shm a sized memory-backed emptyDir and the caches a bounded scratch volume", () => {
        const p = pod("llm");
        expect(p.volumes).toEqual(
            expect.arrayContaining([
                { name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "2Gi" } },
                { name: "cache", emptyDir: { sizeLimit: "1Gi" } },
                { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
            ]),
        );
        expect(server("llm").volumeMounts).toEqual(
            expect.arrayContaining([
                { name: "dshm", mountPath: "/dev/shm" },
                { name: "cache", mountPath: "/cache" },
                { name: "weights", mountPath: "/models", readOnly: true },
            ]),
        );
    });

    it("the NetworkPolicy admits Prometheus to the serving port (vLLM serves /metrics there) and egress to S3/STS on 443 only", () => {
        const spec = recorder.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "llm-netpol").inputs.spec;
        expect(spec.ingress.map((r: any) => r.ports.map((p: any) => p.port))).toEqual([[8000], [8000]]);
        expect(spec.egress).toContainEqual({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] });
    });
});

describe("Triton profile", () => {
    it("runs tritonserver on the store's repository with HTTP 8000, gRPC 8001 and metrics 8002", () => {
        const c = server("triton");
        expect(c.command).toEqual(["tritonserver"]);
        expect(c.args).toEqual([
            "--model-repository=/models",
            "--http-port=8000",
            "--grpc-port=8001",
            "--metrics-port=8002",
            "--allow-metrics=true",
            "--exit-timeout-secs=25",
            "--strict-readiness=true",
        ]);
        expect(c.ports).toEqual([
            { name: "http", containerPort: 8000, protocol: "TCP" },
            { name: "metrics", containerPort: 8002, protocol: "TCP" },
            { name: "grpc", containerPort: 8001, protocol: "TCP" },
        ]);
        expect(c.livenessProbe.httpGet).toEqual({ path: "/v2/health/live", port: "http" });
        expect(c.readinessProbe.httpGet).toEqual({ path: "/v2/health/ready", port: "http" });
        expect(pod("triton").volumes).toContainEqual({ name: "dshm", emptyDir: { medium: "Memory", sizeLimit: "4Gi" } });
    });

    it("scales on pending requests, scrapes port 8002, and exposes gRPC to clients only", () => {
        expect(triggers("triton")[0].metadata.query).toBe('sum(nv_inference_pending_request_count{namespace="serving",pod=~"triton-[a-z0-9]+-[a-z0-9]+"})');
        expect(triggers("triton")).toHaveLength(1);
        expect(recorder.one(DEPLOYMENT, "triton-deployment").inputs.spec.template.metadata.annotations["prometheus.io/port"]).toBe("8002");
        const spec = recorder.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "triton-netpol").inputs.spec;
        expect(spec.ingress.map((r: any) => r.ports.map((p: any) => p.port))).toEqual([[8000, 8001], [8002]]);
        const svc = recorder.one("kubernetes:core/v1:Service", "triton-service").inputs.spec.ports;
        expect(svc.map((p: any) => [p.name, p.port])).toEqual([
            ["http", 8000],
            ["metrics", 8002],
            ["grpc", 8001],
        ]);
    });

    it("without a model store reads the repository baked into the image at /models, and builds no init container", () => {
        expect(server("baked").args[0]).toBe("--model-repository=/models");
        expect(pod("baked").initContainers).toBeUndefined();
        expect(recorder.resources.some((r) => r.name === "baked-weights")).toBe(false);
    });
});

describe("model store", () => {
    it("syncs the prefix in an init container, as the pod's own IRSA role, into a bounded node-local cache", () => {
        const p = pod("llm");
        expect(p.initContainers).toHaveLength(1);
        const init = p.initContainers[0];
        expect(init.image).toBe(AWS_CLI);
        expect(init.command).toEqual(["aws", "s3", "sync", "s3://acme-models/llama-3-8b/", "/models", "--no-progress", "--only-show-errors"]);
        expect(init.volumeMounts).toContainEqual({ name: "weights", mountPath: "/models" });
        // 16 GB + 10% = 17.6e9 bytes = 16.39 GiB -> 17Gi; requested as ephemeral storage so the pod lands where it fits.
        expect(p.volumes).toContainEqual({ name: "weights", emptyDir: { sizeLimit: "17Gi" } });
        expect(server("llm").resources.requests["ephemeral-storage"]).toBe("17Gi");
        expect(p.automountServiceAccountToken).toBe(true);
        const sa = recorder.one("kubernetes:core/v1:ServiceAccount", "llm-sa").inputs;
        expect(sa.metadata.annotations["eks.amazonaws.com/role-arn"]).toMatch(/^arn:aws:iam::123456789012:role\/llm-weights/);
    });

    it("lets exactly this service account assume the role", () => {
        const trust = JSON.parse(recorder.one("aws:iam/role:Role", "llm-weights").inputs.assumeRolePolicy);
        expect(trust.Statement).toEqual([
            {
                Effect: "Allow",
                Principal: { Federated: CLUSTER.oidcProviderArn },
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { "oidc.eks.us-west-2.amazonaws.com/id/ABC:sub": "system:serviceaccount:llm:llm", "oidc.eks.us-west-2.amazonaws.com/id/ABC:aud": "sts.amazonaws.com" } },
            },
        ]);
    });

    it("grants s3:GetObject on the prefix and s3:ListBucket on the bucket for that prefix only, nothing else", () => {
        const policy = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "llm-weights").inputs.policy);
        expect(policy.Statement).toEqual([
            { Sid: "ReadWeights", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::acme-models/llama-3-8b/*" },
            { Sid: "ListWeights", Effect: "Allow", Action: "s3:ListBucket", Resource: "arn:aws:s3:::acme-models", Condition: { StringLike: { "s3:prefix": ["llama-3-8b/", "llama-3-8b/*"] } } },
        ]);
        const triton = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "triton-weights").inputs.policy);
        expect(triton.Statement[0].Resource).toBe("arn:aws:s3:::acme-models/triton-repo/*");
    });

    it("adds kms:Decrypt through S3 only when the objects use a KMS key", () => {
        const key = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        const doc = modelStorePolicy(parseS3Uri("s3://b-1/p")!, { kmsKeyArn: key }) as any;
        expect(doc.Statement[2]).toEqual({ Sid: "DecryptWeights", Effect: "Allow", Action: "kms:Decrypt", Resource: key, Condition: { StringLike: { "kms:ViaService": "s3.*.amazonaws.com" } } });
    });

    it("the deployment waits for the role's policy (the sync runs as soon as a pod starts)", () => {
        const deployment = recorder.one(DEPLOYMENT, "llm-deployment");
        expect(deployment.dependencies).toContain(recorder.one("aws:iam/rolePolicy:RolePolicy", "llm-weights").urn);
    });

    it("parses and sizes", () => {
        expect(parseS3Uri("s3://acme-models/a/b/")).toEqual({ bucket: "acme-models", prefix: "a/b" });
        expect(parseS3Uri("s3://Acme/x")).toBeUndefined();
        expect(parseS3Uri("https://acme/x")).toBeUndefined();
        expect(cacheSizeLimit({ sizeGb: 4 })).toBe("5Gi");
        expect(cacheSizeLimit({ sizeGb: 4, cacheSize: "8Gi" })).toBe("8Gi");
        expect(downloadSeconds({ sizeGb: 4, downloadSeconds: 900 })).toBe(900);
    });

    it.each([
        [{ s3Uri: "s3://acme-models" }, "modelStore.s3Uri", /whole bucket/],
        [{ s3Uri: "gs://x/y" }, "modelStore.s3Uri", /not an S3 URI/],
        [{ sizeGb: 0 }, "modelStore.sizeGb", /size in GB/],
        [{ syncImage: "amazon/aws-cli:latest" }, "modelStore.syncImage", /pinned by digest/],
        [{ cacheSize: "1Gi" }, "modelStore.cacheSize", /smaller than the weights/],
        [{ mountPath: "/tmp" }, "modelStore.mountPath", /reserved/],
    ])("refuses %j naming %s", (over, field, problem) => {
        const problems = modelStoreProblems(store(over as Partial<ModelStoreArgs>));
        expect(problems.map(([f]) => f)).toContain(field);
        expect(problems.find(([f]) => f === field)![1]).toMatch(problem);
    });
});

describe("custom profile", () => {
    it("uses the given ports, paths, args and queue query", () => {
        const c = server("custom");
        expect(c.command).toBeUndefined();
        expect(c.args).toEqual(["--port", "3000"]);
        expect(c.ports).toEqual([{ name: "http", containerPort: 3000, protocol: "TCP" }]);
        expect(c.readinessProbe.httpGet.path).toBe("/health");
        expect(triggers("custom")[0].metadata.query).toBe('sum(tgi_queue_size{namespace="serving",pod=~"custom-[a-z0-9]+-[a-z0-9]+"})');
    });
});

describe("every profile", () => {
    it("passes the restricted Pod Security Standard, with a read-only root filesystem and non-root", () => {
        for (const name of ["llm", "triton", "baked", "custom"]) {
            expect([name, restrictedViolations(pod(name))]).toEqual([name, []]);
            for (const c of [...(pod(name).initContainers ?? []), ...pod(name).containers]) expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
        }
    });

    it("the PSS checker itself catches a violation", () => {
        const p = pod("llm");
        expect(restrictedViolations({ ...p, volumes: [...p.volumes, { name: "h", hostPath: { path: "/" } }] })).toEqual(["volume h of type hostPath"]);
    });

    it("validates against the Kubernetes schemas", () => {
        const objects = recorder.resources.filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.includes("helm"));
        expect(validateK8sObjects(objects.map(toK8sObject)).filter((e) => e !== null)).toEqual([]);
    });
});

describe("argument checks", () => {
    const base: InferenceServiceArgs = { image: VLLM_IMAGE };
    it.each([
        [{ server: "tgi" }, /server "tgi" is not a server profile/],
        [{ server: "vllm", port: 9000 }, /port applies to the modelship server only/],
        [{ server: { engine: "custom", port: 3000, livePath: "/h", readyPath: "/h" }, autoscaling: { prometheusUrl: PROM } }, /server.queueQuery is required for autoscaling/],
        [{ server: { engine: "custom", port: 80, livePath: "/h", readyPath: "h" } }, /server.port must be a whole number from 1024.*\n[\s\S]*server.readyPath must be an absolute HTTP path/],
        [{ server: "vllm", modelStore: store(), serviceAccount: { roleArn: "arn:aws:iam::123456789012:role/x" } }, /serviceAccount.roleArn cannot be combined with modelStore/],
        [{ modelStore: store() }, /modelStore applies to triton, vllm and custom servers/],
        [{ server: { engine: "vllm", modelRepository: "/m" } }, /server.modelRepository applies to triton only/],
    ])("refuses %j", (args, message) => {
        expect(() => new InferenceService("bad", { ...base, ...(args as Partial<InferenceServiceArgs>) }, { provider })).toThrow(message);
    });

    it("limits the name with a model store so the IAM role fits 64 characters after Pulumi's suffix", () => {
        expect(() => new InferenceService("x".repeat(49), { ...base, server: "vllm", modelStore: store() }, { provider })).toThrow(/at most 48/);
    });

    it("resolves modelship as before (ports, env-driven, CPU trigger)", () => {
        const r = resolveServer(undefined, { gpu: 0, drainSeconds: 25 });
        expect([r.port, r.metricsPort, r.readyPath, r.readsModelshipEnv, r.cpuTrigger, r.usesOwnImage]).toEqual([8080, 9091, "/v2/health/ready", true, true, false]);
        expect(serverProblems("modelship", { gpu: 0, hasModelStore: false })).toEqual([]);
    });
});
