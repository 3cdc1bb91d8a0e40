import { installMockRuntime } from "../support/mocks";

const recorder = installMockRuntime();
import { EdgeDevice, edgeHealthTest, shmSizeMb, validateEdgeDeviceArgs } from "../../components/edge-device";
import { resolveServer } from "../../components/internal/server-profiles";

const REF = `nvcr.io/nvidia/tritonserver@sha256:${"c".repeat(64)}`;
const container = (name: string) => recorder.one("docker:index/container:Container", `${name}-container`).inputs;

beforeAll(async () => {
    new EdgeDevice("tri", { host: "ssh://deploy@jetson-01.example.com", image: REF, server: "triton", gpus: true, modelsHostPath: "/srv/models", hostPort: 8000 });
    new EdgeDevice("llm", { host: "ssh://deploy@jetson-02.example.com", image: REF, server: { engine: "vllm", sharedMemory: "4Gi" }, gpus: true, modelsHostPath: "/srv/llm", modelName: "small-llm" });
    new EdgeDevice("own", { host: "ssh://deploy@jetson-03.example.com", image: REF, server: { engine: "custom", port: 3000, livePath: "/live", readyPath: "/ready" } });
    await recorder.settle();
});

describe("EdgeDevice server profiles", () => {
    it("Triton: its entrypoint and arguments, its port published, the weights mounted read-only, shared memory sized", () => {
        const c = container("tri");
        expect(c.entrypoints).toEqual(["tritonserver"]);
        expect(c.command).toEqual(expect.arrayContaining(["--model-repository=/models", "--http-port=8000", "--metrics-port=8002"]));
        expect(c.ports).toEqual([{ internal: 8000, external: 8000, protocol: "tcp" }]);
        expect(c.mounts).toEqual([{ type: "bind", source: "/srv/models", target: "/models", readOnly: true }]);
        expect(c.shmSize).toBe(1024);
        expect(c.envs).toEqual([]); // no PORT/MODEL_NAME: Triton reads neither
        expect(c.healthcheck.tests).toEqual(["CMD", "python3", "-c", "import urllib.request;urllib.request.urlopen('http://127.0.0.1:8000/v2/health/ready',timeout=2)"]);
        expect(c.gpus).toBe("all");
        expect(c.readOnly).toBe(true);
    });

    it("vLLM: the API server on /models with the served name, /health checked, a writable cache tmpfs that allows exec", () => {
        const c = container("llm");
        expect(c.entrypoints).toEqual(["python3", "-m", "vllm.entrypoints.openai.api_server"]);
        expect(c.command).toEqual(["--model=/models", "--served-model-name=small-llm", "--host=0.0.0.0", "--port=8000", "--tensor-parallel-size=1"]);
        expect(c.shmSize).toBe(4096);
        expect(c.tmpfs).toEqual({ "/tmp": "rw,noexec,nosuid,size=256m", "/cache": "rw,nosuid,size=1g" });
        expect(c.envs).toContain("HF_HUB_OFFLINE=1");
        expect(c.healthcheck.tests[3]).toContain("http://127.0.0.1:8000/health");
    });

    it("custom: its port, no health check of ours", () => {
        const c = container("own");
        expect(c.ports[0].internal).toBe(3000);
        expect(c.healthcheck).toBeUndefined();
        expect(edgeHealthTest(resolveServer(undefined, { gpu: 0, drainSeconds: 25 }))![1]).toBe("node");
    });

    it("refuses containerPort with an engine profile and a relative models path", () => {
        expect(() => validateEdgeDeviceArgs("d", { host: "ssh://a@b", image: REF, server: "vllm", containerPort: 9000 })).toThrow(/containerPort applies to the modelship server only/);
        expect(() => validateEdgeDeviceArgs("d", { host: "ssh://a@b", image: REF, modelsHostPath: "models" })).toThrow(/modelsHostPath "models" must be an absolute directory path/);
        expect(shmSizeMb("512Mi")).toBe(512);
    });
});
