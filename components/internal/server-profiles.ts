/**
 * Serving engines as profiles: everything about a container that depends on which server runs in it (ports, probe
 * paths, arguments, environment, shared memory, scratch directories, the metrics to scrape and the queue signal to
 * autoscale on). Pure data and functions; `InferenceService` and `EdgeDevice` turn a resolved profile into objects.
 *
 * Sources, checked 2026-11-26:
 * - modelship: inference-image/src (this repository).
 * - Triton (NVIDIA Triton Inference Server, r24.x docs, user_guide/metrics.md and protocol docs): HTTP 8000, gRPC
 *   8001, metrics 8002 at /metrics; KServe v2 health at /v2/health/live and /v2/health/ready;
 *   `nv_inference_pending_request_count` (gauge, per model: requests received and not yet executed) is the queue
 *   signal; `nv_inference_queue_duration_us` is a cumulative counter, usable for alerts, not as a level.
 * - vLLM (docs.vllm.ai "Production Metrics", v0.4 through v0.32 list the same gauges): the OpenAI-compatible server
 *   serves `/health` and `/metrics` on its serving port (default 8000); `vllm:num_requests_running` and
 *   `vllm:num_requests_waiting` are gauges. `vllm serve` refuses `--model` (vllm-project/vllm#7347: the model is its
 *   positional argument), so the profile runs the API server module, which takes `--model`, in every image version.
 */

/** The engines with a built-in profile. */
export type ServerEngine = "modelship" | "triton" | "vllm";

/** A server the library has no profile for: say how to run, probe and scale it. */
export interface CustomServerArgs {
    engine: "custom";
    /** Serving port. Required. */
    port: number;
    /** Liveness probe path (HTTP GET, 2xx/3xx = alive). Required. */
    livePath: string;
    /** Readiness path: 2xx only once the model is loaded; also the startup probe. Required. */
    readyPath: string;
    /** Path of the Prometheus metrics. Default "/metrics". */
    metricsPath?: string;
    /** Port of the metrics; the serving port when omitted. */
    metricsPort?: number;
    /** Container command (the image's entrypoint when omitted). */
    command?: string[];
    /** Container arguments. Default none. */
    args?: string[];
    /**
     * PromQL over the engine's own metrics giving its queued + running requests, with `$SELECTOR` where the pod
     * selector goes, e.g. `sum(my_queue_depth{$SELECTOR})`. Required for autoscaling.
     */
    queueQuery?: string;
    /** Size of a memory-backed `/dev/shm`, e.g. "1Gi". Default none. */
    sharedMemory?: string;
}

/** A built-in engine with optional tuning. */
export interface EngineServerArgs {
    engine: ServerEngine;
    /** Arguments appended after the profile's own (Triton and vLLM only). Default none. */
    extraArgs?: string[];
    /** Size of the memory-backed `/dev/shm` (Triton and vLLM). Default "1Gi" (Triton), "2Gi" (vLLM). */
    sharedMemory?: string;
    /**
     * Triton: the model repository path inside the container. Default: the model store's path when weights come
     * from S3, else "/models" (baked into your Triton image).
     */
    modelRepository?: string;
}

/** Which server runs in the container: an engine name, an engine with tuning, or a custom server. */
export type ServerArgs = ServerEngine | EngineServerArgs | CustomServerArgs;

/** What a container needs from the engine, resolved. */
export interface ResolvedServer {
    engine: ServerEngine | "custom";
    port: number;
    /** Port of `/metrics`; equal to `port` when the engine serves both on one listener. */
    metricsPort: number;
    metricsPath: string;
    livePath: string;
    readyPath: string;
    /** Further container ports beyond serving and metrics (e.g. Triton's gRPC). */
    extraPorts: { name: string; containerPort: number }[];
    command?: string[];
    args: string[];
    /** Environment the engine needs (the component adds the user's `env` after it). */
    env: { name: string; value: string }[];
    /** Size of a memory-backed `/dev/shm`, when the engine needs one. */
    sharedMemory?: string;
    /** Writable directories besides `/tmp` (the root filesystem is read-only), each an `emptyDir`. */
    scratch: { name: string; mountPath: string }[];
    /** True when this is modelship's server: it reads PORT, METRICS_PORT, DEVICE, DRAIN_TIMEOUT_MS and MODEL_NAME. */
    readsModelshipEnv: boolean;
    /** PromQL giving the queued + running requests of the pods matching `selector` (`k="v",k=~"re"`), or undefined. */
    queueQuery(selector: string): string | undefined;
    /** Whether a CPU utilisation trigger makes sense alongside the queue signal (CPU servers only). */
    cpuTrigger: boolean;
    /** True when the engine's published image runs as is: no `InferenceImage` build is needed (the plan says so). */
    usesOwnImage: boolean;
}

/** The engine's defaults, in one place. */
export const SERVER_PROFILE_DEFAULTS = {
    modelship: { port: 8080, metricsPort: 9091 },
    triton: { port: 8000, grpcPort: 8001, metricsPort: 8002, sharedMemory: "1Gi", modelRepository: "/models" },
    vllm: { port: 8000, sharedMemory: "2Gi" },
} as const;

/** The queue metrics each engine exposes, by name. */
export const ENGINE_QUEUE_METRICS = {
    modelship: ["modelship_inference_requests_in_flight"],
    triton: ["nv_inference_pending_request_count"],
    vllm: ["vllm:num_requests_waiting", "vllm:num_requests_running"],
} as const;

/** What the component knows when resolving a profile. */
export interface ServerContext {
    /** GPUs per pod (vLLM's tensor parallel size). */
    gpu: number;
    /** The served model's name (`--served-model-name`, `MODEL_NAME`), when given. */
    modelName?: string;
    /** Where the weights are inside the container, when they come from a model store. */
    modelPath?: string;
    /** Seconds the server may drain after SIGTERM. */
    drainSeconds: number;
    /** The user's `port`/`metricsPort`, for modelship (others use the engine's). */
    port?: number;
    metricsPort?: number;
}

/** The engine named by `server`. Pure. */
export function serverEngine(server: ServerArgs | undefined): ServerEngine | "custom" {
    if (server === undefined) return "modelship";
    return typeof server === "string" ? server : server.engine;
}

/** Problems with `server` as `[field, problem]` pairs (empty when fine). Pure. */
export function serverProblems(server: ServerArgs | undefined, ctx: { gpu: number; hasModelStore: boolean; modelName?: string }): [string, string][] {
    const out: [string, string][] = [];
    const engine = serverEngine(server);
    if (engine === "modelship" && ctx.hasModelStore) {
        out.push(["modelStore", "applies to triton, vllm and custom servers: modelship's server has its model baked into the image (InferenceImage model)"]);
    }
    if (server === undefined) return out;
    if (!["modelship", "triton", "vllm", "custom"].includes(engine)) {
        out.push(["server", `"${engine}" is not a server profile: use "modelship", "triton", "vllm" or { engine: "custom", ... }`]);
        return out;
    }
    const port = (field: string, v: unknown) => {
        if (v !== undefined && !(Number.isInteger(v) && (v as number) >= 1024 && (v as number) <= 65535))
            out.push([`server.${field}`, `must be a whole number from 1024 to 65535 (got ${String(v)}): the server runs as non-root`]);
    };
    const path = (field: string, v: unknown) => {
        if (typeof v !== "string" || !/^\/[\x21-\x7e]*$/.test(v)) out.push([`server.${field}`, `must be an absolute HTTP path such as "/health" (got ${JSON.stringify(v)})`]);
    };
    const quantity = (field: string, v: unknown) => {
        if (v !== undefined && !(typeof v === "string" && /^[0-9]+(Mi|Gi)$/.test(v))) out.push([`server.${field}`, `must be a size such as "512Mi" or "2Gi" (got ${JSON.stringify(v)})`]);
    };
    if (typeof server === "object" && server.engine === "custom") {
        port("port", server.port);
        if (server.port === undefined) out.push(["server.port", "is required for a custom server: the port it serves on"]);
        port("metricsPort", server.metricsPort);
        path("livePath", server.livePath);
        path("readyPath", server.readyPath);
        if (server.metricsPath !== undefined) path("metricsPath", server.metricsPath);
        quantity("sharedMemory", server.sharedMemory);
        if (server.queueQuery !== undefined && !server.queueQuery.includes("$SELECTOR"))
            out.push(["server.queueQuery", 'must contain $SELECTOR where the pod selector goes, e.g. "sum(queue_depth{$SELECTOR})"']);
        return out;
    }
    if (typeof server === "object") {
        quantity("sharedMemory", server.sharedMemory);
        if (engine === "modelship" && (server.extraArgs !== undefined || server.sharedMemory !== undefined || server.modelRepository !== undefined))
            out.push(["server", "extraArgs, sharedMemory and modelRepository apply to triton and vllm only: modelship's server is tuned through env"]);
        if (engine !== "triton" && server.modelRepository !== undefined) out.push(["server.modelRepository", "applies to triton only"]);
        if (server.modelRepository !== undefined && !server.modelRepository.startsWith("/")) out.push(["server.modelRepository", `must be an absolute path (got "${server.modelRepository}")`]);
        for (const [i, a] of (server.extraArgs ?? []).entries()) {
            if (typeof a !== "string" || a.length === 0) out.push([`server.extraArgs[${i}]`, "must be a non-empty string"]);
        }
    }
    return out;
}

function selectorQuery(metric: string, selector: string): string {
    return `sum(${metric}{${selector}})`;
}

/** Resolves `server` into what the container needs. Pure; call {@link serverProblems} first. */
export function resolveServer(server: ServerArgs | undefined, ctx: ServerContext): ResolvedServer {
    const engine = serverEngine(server);
    const tuning = typeof server === "object" && server.engine !== "custom" ? server : undefined;
    switch (engine) {
        case "modelship": {
            const d = SERVER_PROFILE_DEFAULTS.modelship;
            return {
                engine,
                port: ctx.port ?? d.port,
                metricsPort: ctx.metricsPort ?? d.metricsPort,
                metricsPath: "/metrics",
                livePath: "/v2/health/live",
                readyPath: "/v2/health/ready",
                extraPorts: [],
                args: [],
                env: [],
                scratch: [],
                readsModelshipEnv: true,
                queueQuery: (sel) => selectorQuery(ENGINE_QUEUE_METRICS.modelship[0], sel),
                cpuTrigger: true,
                usesOwnImage: false,
            };
        }
        case "triton": {
            const d = SERVER_PROFILE_DEFAULTS.triton;
            const repository = tuning?.modelRepository ?? ctx.modelPath ?? d.modelRepository;
            return {
                engine,
                port: d.port,
                metricsPort: d.metricsPort,
                metricsPath: "/metrics",
                livePath: "/v2/health/live",
                readyPath: "/v2/health/ready",
                extraPorts: [{ name: "grpc", containerPort: d.grpcPort }],
                command: ["tritonserver"],
                args: [
                    `--model-repository=${repository}`,
                    `--http-port=${d.port}`,
                    `--grpc-port=${d.grpcPort}`,
                    `--metrics-port=${d.metricsPort}`,
                    "--allow-metrics=true",
                    // In-flight requests finish within the drain; then Triton exits.
                    `--exit-timeout-secs=${ctx.drainSeconds}`,
                    ...(tuning?.extraArgs ?? []),
                ],
                env: [],
                sharedMemory: tuning?.sharedMemory ?? d.sharedMemory,
                scratch: [],
                readsModelshipEnv: false,
                queueQuery: (sel) => selectorQuery(ENGINE_QUEUE_METRICS.triton[0], sel),
                cpuTrigger: false,
                usesOwnImage: true,
            };
        }
        case "vllm": {
            const d = SERVER_PROFILE_DEFAULTS.vllm;
            // Weights from the model store, else baked into the given image at /models (never fetched from the Hub: offline).
            const model = ctx.modelPath ?? "/models";
            return {
                engine,
                port: d.port,
                metricsPort: d.port,
                metricsPath: "/metrics",
                livePath: "/health",
                readyPath: "/health",
                extraPorts: [],
                command: ["python3", "-m", "vllm.entrypoints.openai.api_server"],
                args: [
                    `--model=${model}`,
                    ...(ctx.modelName !== undefined ? [`--served-model-name=${ctx.modelName}`] : []),
                    "--host=0.0.0.0",
                    `--port=${d.port}`,
                    ...(ctx.gpu > 0 ? [`--tensor-parallel-size=${ctx.gpu}`] : []),
                    ...(tuning?.extraArgs ?? []),
                ],
                env: [
                    // The root filesystem is read-only: caches go to the scratch volume, and nothing phones home.
                    { name: "HOME", value: "/tmp/home" },
                    { name: "HF_HOME", value: "/cache/huggingface" },
                    { name: "VLLM_CACHE_ROOT", value: "/cache/vllm" },
                    { name: "XDG_CACHE_HOME", value: "/cache" },
                    { name: "XDG_CONFIG_HOME", value: "/tmp/config" },
                    { name: "HF_HUB_OFFLINE", value: "1" },
                    { name: "VLLM_NO_USAGE_STATS", value: "1" },
                    { name: "DO_NOT_TRACK", value: "1" },
                ],
                sharedMemory: tuning?.sharedMemory ?? d.sharedMemory,
                scratch: [{ name: "cache", mountPath: "/cache" }],
                readsModelshipEnv: false,
                queueQuery: (sel) => `${selectorQuery(ENGINE_QUEUE_METRICS.vllm[0], sel)} + ${selectorQuery(ENGINE_QUEUE_METRICS.vllm[1], sel)}`,
                cpuTrigger: false,
                usesOwnImage: true,
            };
        }
        case "custom": {
            const c = server as CustomServerArgs;
            return {
                engine,
                port: c.port,
                metricsPort: c.metricsPort ?? c.port,
                metricsPath: c.metricsPath ?? "/metrics",
                livePath: c.livePath,
                readyPath: c.readyPath,
                extraPorts: [],
                command: c.command,
                args: c.args ?? [],
                env: [],
                sharedMemory: c.sharedMemory,
                scratch: [],
                readsModelshipEnv: false,
                queueQuery: (sel) => c.queueQuery?.split("$SELECTOR").join(sel),
                cpuTrigger: false,
                usesOwnImage: true,
            };
        }
    }
}
