/**
 * Test helper: the real Docker engine on this machine, through its API socket and (for builds) the CLI. Used by the
 * tests that build and run the inference image for real. All container traffic stays on 127.0.0.1 (host network).
 */
import { execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as os from "os";
import * as path from "path";

export const DOCKER_SOCKET = process.env.DOCKER_SOCKET ?? "/var/run/docker.sock";
const API = "/v1.41";

export interface ApiResponse {
    status: number;
    body: any;
}

/** One call of the Engine API over its unix socket. */
export function dockerApi(method: string, urlPath: string, body?: unknown): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
        const req = http.request(
            { socketPath: DOCKER_SOCKET, method, path: `${API}${urlPath}`, headers: payload ? { "content-type": "application/json", "content-length": payload.length } : {} },
            (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => {
                    const text = Buffer.concat(chunks).toString("utf8");
                    let parsed: unknown = text;
                    try {
                        parsed = text ? JSON.parse(text) : undefined;
                    } catch {
                        /* plain text (logs, errors) */
                    }
                    resolve({ status: res.statusCode ?? 0, body: parsed });
                });
            },
        );
        req.on("error", reject);
        req.setTimeout(120_000, () => req.destroy(new Error(`docker API ${method} ${urlPath} timed out`)));
        if (payload) req.write(payload);
        req.end();
    });
}

/** Why the engine cannot be used, or undefined when it answers. */
export async function dockerProblem(): Promise<string | undefined> {
    if (!fs.existsSync(DOCKER_SOCKET)) return `no Docker engine socket at ${DOCKER_SOCKET}: install docker.io and start dockerd (bash .ci/run does both)`;
    try {
        const r = await dockerApi("GET", "/_ping");
        return r.status === 200 ? undefined : `the Docker engine answered ${r.status} to /_ping`;
    } catch (err) {
        return `the Docker engine at ${DOCKER_SOCKET} does not answer: ${(err as Error).message}`;
    }
}

/**
 * A docker CLI that builds with BuildKit: one with the buildx plugin, or a pre-23 CLI (Debian's docker.io) whose
 * `DOCKER_BUILDKIT=1 docker build` uses the engine's built-in BuildKit. A newer CLI without buildx cannot.
 */
export function buildkitCli(): { cmd: string; args: string[]; env: NodeJS.ProcessEnv } {
    const candidates = [process.env.DOCKER_CLI, "docker", "/usr/bin/docker"].filter((c): c is string => !!c);
    for (const cmd of candidates) {
        if (spawnSync(cmd, ["buildx", "version"], { stdio: "ignore" }).status === 0) return { cmd, args: ["buildx", "build", "--load"], env: process.env };
        const v = spawnSync(cmd, ["version", "--format", "{{.Client.Version}}"], { encoding: "utf8" });
        const major = Number(/^(\d+)\./.exec(v.stdout ?? "")?.[1]);
        if (v.status === 0 && major > 0 && major < 23) return { cmd, args: ["build"], env: { ...process.env, DOCKER_BUILDKIT: "1" } };
    }
    throw new Error("no docker CLI that builds with BuildKit: install the buildx plugin, or Debian's docker.io (its /usr/bin/docker)");
}

export function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 600_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stderr.slice(-4000)}`));
            else resolve(stdout + stderr);
        });
    });
}

/** The machine's extra CAs (a TLS-inspecting egress), as one PEM file for the build's `ca` secret; undefined if none. */
export function extraCaBundle(): string | undefined {
    const dir = "/usr/local/share/ca-certificates";
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".crt")) : [];
    if (files.length === 0) return undefined;
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "modelship-ca-")), "ca.pem");
    fs.writeFileSync(out, files.map((f) => fs.readFileSync(path.join(dir, f), "utf8")).join("\n"));
    return out;
}

const NS = 1_000_000_000;
/** "10s" / "3s" / "120s" / "1m" → nanoseconds, as the Engine API wants durations. */
export function durationNs(d: string): number {
    const m = /^(\d+)(ms|s|m|h)$/.exec(d);
    if (!m) throw new Error(`unsupported duration ${d}`);
    return Number(m[1]) * { ms: NS / 1000, s: NS, m: 60 * NS, h: 3600 * NS }[m[2] as "ms" | "s" | "m" | "h"];
}

/**
 * The Engine API create body for the inputs a `docker:index/container:Container` was registered with, as the
 * provider would send them: user, read-only root, tmpfs, dropped capabilities, security options, memory and swap,
 * health check, stop signal and timeout, env, log options. Networking is the one deliberate change: the host network
 * (loopback only) instead of a published port, so no test traffic leaves 127.0.0.1; `gpus` is left out where the
 * machine has no GPU.
 */
export function createBodyFromContainerInputs(inputs: Record<string, any>, image: string, extraEnv: string[] = []): Record<string, unknown> {
    const hc = inputs.healthcheck;
    return {
        Image: image,
        User: inputs.user,
        Env: [...(inputs.envs ?? []), ...extraEnv],
        StopSignal: inputs.stopSignal,
        StopTimeout: inputs.stopTimeout,
        Healthcheck: hc && {
            Test: hc.tests,
            Interval: durationNs(hc.interval),
            Timeout: durationNs(hc.timeout),
            StartPeriod: durationNs(hc.startPeriod),
            Retries: hc.retries,
        },
        HostConfig: {
            NetworkMode: "host",
            ReadonlyRootfs: inputs.readOnly === true,
            Tmpfs: inputs.tmpfs,
            CapDrop: inputs.capabilities?.drops,
            CapAdd: inputs.capabilities?.adds,
            SecurityOpt: inputs.securityOpts,
            // The provider takes MiB.
            Memory: inputs.memory * 1024 * 1024,
            MemorySwap: inputs.memorySwap * 1024 * 1024,
            LogConfig: { Type: inputs.logDriver, Config: inputs.logOpts },
        },
    };
}
