/**
 * The inference image, built from the real Dockerfile (`cpu` target) with a real Docker engine and run with the exact
 * container spec `EdgeDevice` declares, as recorded by the edge stack's plan. No container registry is reachable here,
 * so the pinned official bases are replaced by local stand-ins (scripts/stand-in-node-base.sh: Debian bookworm minbase
 * from Debian's mirror + the same Node release from the npm registry), passed as NODE_IMAGE/DEBIAN_IMAGE build args.
 * Traffic stays on 127.0.0.1: the container shares the host network instead of publishing a port.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { plan } from "../../cli/plan";
import { buildkitCli, createBodyFromContainerInputs, dockerApi, dockerProblem, extraCaBundle, run } from "../support/docker";

const root = path.resolve(__dirname, "..", "..");
const context = path.join(root, "inference-image");
const IMAGE = "modelship-test/inference:cpu";
const PORT = 8080; // the port EdgeDevice's health check probes
const base = `http://127.0.0.1:${PORT}`;
const FEATURES = 256;

let containerId = "";
let containerInputs: Record<string, any>;

function portFree(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const s = net.createServer().once("error", () => resolve(false)).once("listening", () => s.close(() => resolve(true)));
        s.listen(port, "127.0.0.1");
    });
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await fn().catch(() => undefined);
        if (v !== undefined) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
    }
}

async function exec(cmd: string[]): Promise<{ exitCode: number; output: string }> {
    const created = await dockerApi("POST", `/containers/${containerId}/exec`, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const id = created.body.Id;
    const started = await dockerApi("POST", `/exec/${id}/start`, { Detach: false, Tty: true });
    const inspected = await dockerApi("GET", `/exec/${id}/json`);
    return { exitCode: inspected.body.ExitCode, output: String(started.body ?? "") };
}

const row = (seed: number) => Array.from({ length: FEATURES }, (_, i) => Math.sin(seed * 31 + i) / 2);

beforeAll(async () => {
    const problem = await dockerProblem();
    if (problem) throw new Error(`${problem}. These tests build and run the real image.`);
    if (!(await portFree(PORT))) throw new Error(`127.0.0.1:${PORT} is taken: the container serves there (host network); free it`);

    const [nodeImage, debianImage] = (await run(path.join(root, "scripts", "stand-in-node-base.sh"), [])).trim().split(/\s+/).slice(-2);
    const cli = buildkitCli();
    const ca = extraCaBundle();
    await run(
        cli.cmd,
        [
            ...cli.args,
            "--target", "cpu",
            "--build-arg", `NODE_IMAGE=${nodeImage}`,
            "--build-arg", `DEBIAN_IMAGE=${debianImage}`,
            ...(ca ? ["--secret", `id=ca,src=${ca}`] : []),
            "-t", IMAGE,
            context,
        ],
        { env: cli.env },
    );

    const edge = await plan({ stack: "edge", json: true, projectDir: root });
    const container = edge.plan.resources.find((r) => r.type === "docker:index/container:Container");
    if (!container) throw new Error("the edge plan declares no docker Container");
    containerInputs = container.inputs;
    // Loopback only: the server listens on 127.0.0.1 of the shared host network.
    const body = createBodyFromContainerInputs(containerInputs, IMAGE, ["HOST=127.0.0.1"]);
        const created = await dockerApi("POST", `/containers/create?name=modelship-test-inference-${process.pid}`, body);
    if (created.status !== 201) throw new Error(`container create failed: ${JSON.stringify(created.body)}`);
    containerId = created.body.Id;
    const started = await dockerApi("POST", `/containers/${containerId}/start`);
    if (started.status !== 204) throw new Error(`container start failed: ${JSON.stringify(started.body)}`);
    await waitFor("readiness", async () => ((await fetch(`${base}/v2/health/ready`)).ok ? true : undefined), 60_000);
}, 900_000);

afterAll(async () => {
    if (containerId) await dockerApi("DELETE", `/containers/${containerId}?force=true`);
});

describe("the cpu image, run as EdgeDevice declares it", () => {
    it("runs with the declared hardening: read-only root, no capabilities, no-new-privileges, memory limit, tmpfs /tmp", async () => {
        const c = (await dockerApi("GET", `/containers/${containerId}/json`)).body;
        expect(containerInputs).toMatchObject({ readOnly: true, user: "10001:10001", capabilities: { drops: ["ALL"] } });
        expect(c.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges:true"], Memory: containerInputs.memory * 1024 * 1024 });
        expect(Object.keys(c.HostConfig.Tmpfs)).toEqual(["/tmp"]);
        expect(c.Config.User).toBe("10001:10001");
    });

    it("serves as the configured uid and gid, not root", async () => {
        const status = await exec(["cat", "/proc/1/status"]);
        expect(status.output).toMatch(/^Uid:\s+10001\s+10001\s+10001\s+10001$/m);
        expect(status.output).toMatch(/^Gid:\s+10001\s+10001\s+10001\s+10001$/m);
    });

    it("answers metadata for the baked model", async () => {
        const res = await fetch(`${base}/v2/models/demo`);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({ name: "demo", inputs: [{ name: "input", datatype: "FP32", shape: [-1, FEATURES] }] });
    });

    it("infers the same numbers as ONNX Runtime run natively on the model inside the image", async () => {
        const rows = [row(1), row(2)];
        const res = await fetch(`${base}/v2/models/demo/infer`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [2, FEATURES], data: rows.flat() }] }),
        });
        expect(res.status).toBe(200);
        const out = (await res.json()) as { outputs: { name: string; data: number[]; shape: number[] }[] };

        // The model file the container serves, run by onnxruntime-node outside any container.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-model-"));
        execFileSync("docker", ["cp", `${containerId}:/app/model/model.onnx`, path.join(dir, "model.onnx")]);
        fs.writeFileSync(path.join(dir, "rows.json"), JSON.stringify(rows));
        const script = `
          const ort = require(${JSON.stringify(path.join(context, "node_modules", "onnxruntime-node"))});
          (async () => {
            const s = await ort.InferenceSession.create(process.argv[1]);
            const rows = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
            const r = await s.run({ input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, ${FEATURES}]) });
            console.log(JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, t]) => [k, Array.from(t.data, Number)]))));
          })();`;
        const expected = JSON.parse(execFileSync(process.execPath, ["-e", script, path.join(dir, "model.onnx"), path.join(dir, "rows.json")], { env: { ...process.env, ORT_DISABLE_TELEMETRY: "1" } }).toString());
        const probs = out.outputs.find((o) => o.name === "probabilities")!;
        expect(probs.shape).toEqual([2, 10]);
        probs.data.forEach((v, i) => expect(v).toBeCloseTo(expected.probabilities[i], 5));
        expect(out.outputs.find((o) => o.name === "label")!.data).toEqual(expected.label);
    });

    it.each([
        ["malformed JSON", "{"],
        ["a wrong input name", JSON.stringify({ inputs: [{ name: "nope", datatype: "FP32", shape: [1, FEATURES], data: row(1) }] })],
        ["a wrong shape", JSON.stringify({ inputs: [{ name: "input", datatype: "FP32", shape: [1, 3], data: [1, 2, 3] }] })],
        ["a wrong datatype", JSON.stringify({ inputs: [{ name: "input", datatype: "INT64", shape: [1, FEATURES], data: row(1) }] })],
    ])("answers %s with a 4xx JSON error", async (_what, body) => {
        const res = await fetch(`${base}/v2/models/demo/infer`, { method: "POST", headers: { "content-type": "application/json" }, body });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(typeof ((await res.json()) as { error: unknown }).error).toBe("string");
    });

    it("has no language package manager, and the OS one cannot install as the container's user", async () => {
        for (const tool of ["npm", "npx", "yarn", "yarnpkg", "corepack", "pnpm"]) {
            expect((await exec(["sh", "-c", `command -v ${tool}`])).exitCode).not.toBe(0);
        }
        expect((await exec(["apt-get", "install", "-y", "curl"])).exitCode).not.toBe(0);
    });

    it("turns healthy by Docker's own health check", async () => {
        const status = await waitFor(
            "health",
            async () => {
                const s = (await dockerApi("GET", `/containers/${containerId}/json`)).body.State.Health?.Status;
                return s === "healthy" ? s : undefined;
            },
            60_000,
        );
        expect(status).toBe("healthy");
    }, 90_000);

    it("writes nothing outside /tmp", async () => {
        const changes = (await dockerApi("GET", `/containers/${containerId}/changes`)).body;
        expect(changes ?? []).toEqual([]);
    });

    it("drains on docker stop and exits 0", async () => {
        const stopped = await dockerApi("POST", `/containers/${containerId}/stop?t=${containerInputs.stopTimeout}`);
        expect(stopped.status).toBe(204);
        const state = (await dockerApi("GET", `/containers/${containerId}/json`)).body.State;
        expect(state).toMatchObject({ Running: false, ExitCode: 0, OOMKilled: false });
        const logs = execFileSync("docker", ["logs", containerId], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        expect(logs).toMatch(/"clean":true[^\n]*"msg":"drained"/);
    }, 60_000);
});

/**
 * A second model, unlike the demo in every way that matters (input `tokens`, INT64, rank 3 with two dynamic dims, two
 * outputs), served by the same image. Our CI's engine (Debian's 20.10 CLI, no buildx) has no named build contexts to
 * bake it with, so it is mounted read-only where the `model` stage puts a model (/app/model); baking itself is the
 * `model` stage of the Dockerfile and InferenceImage's named context, both asserted elsewhere.
 */
describe("the cpu image serving a model of your own", () => {
    const secondDir = path.join(context, "models", "second");
    let secondId = "";

    beforeAll(async () => {
        if (!fs.existsSync(path.join(secondDir, "model.onnx"))) await run("npm", ["--prefix", context, "run", "build"]);
        const body = createBodyFromContainerInputs(containerInputs, IMAGE, ["HOST=127.0.0.1"]) as any;
        body.Env = [...body.Env.filter((e: string) => !e.startsWith("MODEL_NAME=")), "MODEL_NAME=second"];
        body.HostConfig.Mounts = [{ Type: "bind", Source: secondDir, Target: "/app/model", ReadOnly: true }];
                const created = await dockerApi("POST", `/containers/create?name=modelship-test-second-${process.pid}`, body);
        if (created.status !== 201) throw new Error(`container create failed: ${JSON.stringify(created.body)}`);
        secondId = created.body.Id;
        await dockerApi("POST", `/containers/${secondId}/start`);
        await waitFor("readiness of the second model", async () => ((await fetch(`${base}/v2/health/ready`)).ok ? true : undefined), 60_000);
    }, 300_000);

    afterAll(async () => {
        if (secondId) await dockerApi("DELETE", `/containers/${secondId}?force=true`);
    });

    it("answers its metadata: INT64 tokens of rank 3, two outputs", async () => {
        const res = await fetch(`${base}/v2/models/second`);
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({
            name: "second",
            inputs: [{ name: "tokens", datatype: "INT64", shape: [-1, -1, 3] }],
            outputs: [{ name: "total", datatype: "INT64" }, { name: "score", datatype: "FP32" }],
        });
    });

    it("infers correctly", async () => {
        const res = await fetch(`${base}/v2/models/second/infer`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ inputs: [{ name: "tokens", datatype: "INT64", shape: [1, 2, 3], data: [7, 2, 3, 4, 5, 6] }] }),
        });
        expect(res.status).toBe(200);
        expect(await res.json()).toMatchObject({
            model_name: "second",
            outputs: [
                { name: "total", datatype: "INT64", shape: [1], data: [27] },
                { name: "score", datatype: "FP32", shape: [1, 2], data: [6, 0.25] },
            ],
        });
    });

    it.each([
        ["the demo's input", { name: "input", datatype: "FP32", shape: [1, 256], data: new Array(256).fill(0) }],
        ["FP32 tokens", { name: "tokens", datatype: "FP32", shape: [1, 2, 3], data: [1, 2, 3, 4, 5, 6] }],
        ["rank 2 tokens", { name: "tokens", datatype: "INT64", shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }],
    ])("answers %s with a 4xx JSON error", async (_what, input) => {
        const res = await fetch(`${base}/v2/models/second/infer`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [input] }) });
        expect(res.status).toBe(400);
        expect(typeof ((await res.json()) as { error: unknown }).error).toBe("string");
    });
});

