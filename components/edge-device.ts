import { createHmac } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ArgChecker, isIntInRange } from "./internal/validation";
import { isDigestRef, registryHost } from "./internal/image-ref";
import { checkInput, isPlain } from "./internal/inputs";
import { resolveServer, serverEngine, serverProblems, type ResolvedServer, type ServerArgs } from "./internal/server-profiles";
import { createSignatureCheck, type EdgeSignatureCheckArgs, validateEdgeSignatureCheck } from "./internal/edge-verification";
import type * as command from "@pulumi/command";

export const EDGE_DEVICE_TYPE = "modelship:index:EdgeDevice";

/** Registry credentials the device's Docker engine pulls with. */
export interface EdgeRegistryAuth {
    /** Registry host, e.g. `123456789012.dkr.ecr.eu-central-1.amazonaws.com`. Default: the image's registry. */
    address?: pulumi.Input<string>;
    username: pulumi.Input<string>;
    /** Kept secret. */
    password: pulumi.Input<string>;
}

/** Client TLS material for a `tcp://` Docker engine started with `--tlsverify`; each value kept secret. */
export interface EdgeTlsArgs {
    /** PEM of the CA that signed the engine's server certificate. */
    caCert: pulumi.Input<string>;
    /** PEM of the client certificate the engine trusts. */
    clientCert: pulumi.Input<string>;
    /** PEM of the client certificate's private key. */
    clientKey: pulumi.Input<string>;
}

/** Arguments of {@link EdgeDevice}. */
export interface EdgeDeviceArgs {
    /**
     * Docker engine address: `ssh://user@host[:port]` (recommended), `tcp://host:2376` (with `tls`) or
     * `unix:///var/run/docker.sock`. A `root` SSH user is accepted with a warning. May be an Output (e.g. a device
     * inventory's address), checked when it resolves with the same rules. Required.
     */
    host: pulumi.Input<string>;
    /** Mutual TLS for a `tcp://` host; required there (plain TCP hands the engine, and root, to the network). Default none. */
    tls?: EdgeTlsArgs;
    /** Extra `ssh` options, e.g. `["-o", "ConnectTimeout=10"]`. Options that disable host-key checking need `insecureHostKey`. Default none. */
    sshOpts?: string[];
    /** Allow `sshOpts` that turn off SSH host-key checking (`StrictHostKeyChecking=no`, `UserKnownHostsFile=/dev/null`). Default false. */
    insecureHostKey?: boolean;
    /**
     * A `known_hosts` file (relative to the working directory or absolute) holding the device's verified host key, for
     * an `ssh://` host: ssh then checks the device against it alone (`UserKnownHostsFile`, `StrictHostKeyChecking=yes`),
     * and a missing entry fails at construction, naming the `ssh-keyscan` to run. Default none: the deploying user's
     * `~/.ssh/known_hosts`, where a missing key fails the deploy with "Host key verification failed".
     */
    knownHostsFile?: string;
    /** Image reference pinned by digest (`repo@sha256:…`). */
    image: pulumi.Input<string>;
    /** Accept a tag instead of a digest (not reproducible: the device may run something else later). Default false. */
    allowMutableTag?: boolean;
    /** Platform to pull, e.g. `linux/arm64` for Jetson-class devices. Default: the engine's own. */
    platform?: string;
    /** Credentials for a private registry. Default none (public image or engine already logged in). */
    registryAuth?: EdgeRegistryAuth;
    /** Port published on the device. Default 5000 (as in `docker run -p 5000:…`). */
    hostPort?: number;
    /** Port the server listens on in the container (modelship only; the other profiles use the engine's port). Default 8080. */
    containerPort?: number;
    /**
     * The serving engine: "modelship" (default), "triton", "vllm" or { engine: "custom", ... }, as for
     * `InferenceService` (docs/serving-engines.md): sets the container's port, command, arguments, environment,
     * shared memory and health check.
     */
    server?: ServerArgs;
    /** A directory on the device holding the weights (Triton's model repository, vLLM's model), mounted read-only at /models. Default none. */
    modelsHostPath?: string;
    /** Expose the device's GPUs (`--gpus all`); the image's `DEVICE` setting decides whether the server uses them. Default false. */
    gpus?: boolean;
    /** Model name the server serves. Default: the image's default. */
    modelName?: string;
    /** Extra environment variables. Secret values stay secret in state. Default none. */
    env?: Record<string, pulumi.Input<string>>;
    /** `uid:gid` the container runs as; must be non-root. Default `10001:10001`. */
    user?: string;
    /** Memory limit in MiB (swap included: the container gets no swap beyond it). Default 2048. */
    memoryMb?: number;
    /** Container name on the device. Default: the component's name. */
    containerName?: string;
    /**
     * Verify the image's signature on the device (`notation verify` with the AWS Signer plugin, over SSH) before it is
     * pulled and the container (re)created; an unsigned or tampered image fails the update and the running container
     * stays. Needs an `ssh://` host, a digest-pinned image, and Notation with the AWS Signer plugin on the device.
     * Default: not verified.
     */
    verifySignature?: EdgeSignatureCheckArgs;
}

/** Defaults, in one place. */
export const EDGE_DEVICE_DEFAULTS = {
    hostPort: 5000,
    containerPort: 8080,
    gpus: false,
    user: "10001:10001",
    /** A device has no scheduler to protect it: the container gets a limit unless told otherwise. */
    memoryMb: 2048,
    restart: "unless-stopped",
    /** Seconds Docker waits after SIGTERM: longer than the server's 25 s drain. */
    stopTimeoutSeconds: 35,
    /** Scratch space; the root filesystem is read-only. */
    tmpfs: { "/tmp": "rw,noexec,nosuid,size=256m" } as Record<string, string>,
    healthInterval: "10s",
    healthTimeout: "3s",
    healthRetries: 3,
    healthStartPeriod: "120s",
    /** Writable cache of the Triton/vLLM profiles (in memory; exec allowed: compiled kernels are loaded from it). */
    engineCacheTmpfs: "rw,nosuid,size=1g",
} as const;

/** `docker run`'s `--shm-size` in MB for a profile's shared memory ("2Gi" -> 2048). Pure. */
export function shmSizeMb(size: string | undefined): number | undefined {
    if (size === undefined) return undefined;
    const m = /^([0-9]+)(Mi|Gi)$/.exec(size);
    return m ? Number(m[1]) * (m[2] === "Gi" ? 1024 : 1) : undefined;
}

/**
 * The container's health check for a profile. modelship's image has node (no curl); Triton's and vLLM's have
 * python3. A custom server gets none (the image's own HEALTHCHECK, if any, applies). Pure.
 */
export function edgeHealthTest(server: ResolvedServer): string[] | undefined {
    const url = `http://127.0.0.1:${server.port}${server.readyPath}`;
    switch (server.engine) {
        case "modelship":
            return ["CMD", "node", "-e", `fetch('${url}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`];
        case "triton":
        case "vllm":
            return ["CMD", "python3", "-c", `import urllib.request;urllib.request.urlopen('${url}',timeout=2)`];
        default:
            return undefined;
    }
}

const HOST = /^(ssh:\/\/[^@\s/]+@[^\s/:]+(:\d+)?|tcp:\/\/[^\s/]+:\d+|unix:\/\/\/\S+)$/;

/** ssh options that turn host-key checking off, in any of the forms ssh accepts (`-o K=V`, `-oK=V`, `K V`). */
const INSECURE_SSH_OPTS = [/StrictHostKeyChecking\s*[= ]\s*(no|off)\b/i, /UserKnownHostsFile\s*[= ]\s*\/dev\/null\b/i];

/** The sshOpts that disable host-key checking. Pure. */
export function insecureSshOpts(sshOpts: string[] = []): string[] {
    return sshOpts.filter((o) => INSECURE_SSH_OPTS.some((re) => re.test(o)));
}

/** The name ssh looks a host up under in `known_hosts`: `host`, or `[host]:port` off port 22. Pure. */
export function knownHostsName(host: string): string | undefined {
    const m = /^ssh:\/\/(?:[^@/]+@)?([^:/\s]+)(?::(\d+))?$/.exec(host);
    if (!m) return undefined;
    return m[2] === undefined || m[2] === "22" ? m[1] : `[${m[1]}]:${m[2]}`;
}

/** Whether one `known_hosts` host pattern (plain, `*`/`?` wildcards, or hashed `|1|salt|hash`) names `name`. Pure. */
function knownHostsPatternMatches(pattern: string, name: string): boolean {
    const hashed = /^\|1\|([^|]+)\|([^|]+)$/.exec(pattern);
    if (hashed) return createHmac("sha1", Buffer.from(hashed[1], "base64")).update(name).digest("base64") === hashed[2];
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`, "i");
    return re.test(name);
}

/**
 * Whether a `known_hosts` text holds a usable key for `name` (as {@link knownHostsName} gives it): a line whose host
 * patterns match it and none of whose `!` patterns do, not marked `@revoked`. Pure.
 */
export function knownHostsHasKey(text: string, name: string): boolean {
    for (const raw of text.split(/\r?\n/)) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) continue;
        const fields = line.split(/\s+/);
        if (fields[0].startsWith("@")) {
            if (fields[0] === "@revoked") continue;
            fields.shift();
        }
        if (fields.length < 3 || !/^[A-Za-z0-9+/]+=*$/.test(fields[2])) continue;
        const patterns = fields[0].split(",");
        if (patterns.some((p) => p.startsWith("!") && knownHostsPatternMatches(p.slice(1), name))) continue;
        if (patterns.some((p) => !p.startsWith("!") && knownHostsPatternMatches(p, name))) return true;
    }
    return false;
}

/** What is wrong with `knownHostsFile` for `host`, or undefined. Reads the file. */
export function knownHostsProblem(file: string, host: string): string | undefined {
    if (!host.startsWith("ssh://")) return `only applies to an ssh:// host, not "${host}": remove it`;
    if (/\s/.test(file)) return `"${file}" contains whitespace, which ssh's UserKnownHostsFile cannot take: move the file`;
    const full = path.resolve(file);
    if (!fs.existsSync(full) || !fs.statSync(full).isFile()) return `"${file}" does not exist: create it with the device's verified host key (ssh-keyscan, then compare the fingerprint with the device's console)`;
    const name = knownHostsName(host);
    if (name === undefined) return undefined;
    if (knownHostsHasKey(fs.readFileSync(full, "utf8"), name)) return undefined;
    const m = /^ssh:\/\/(?:[^@/]+@)?([^:/]+)(?::(\d+))?/.exec(host)!;
    return `"${file}" holds no host key for ${name}, so ssh would refuse the device ("Host key verification failed"): run ssh-keyscan${m[2] ? ` -p ${m[2]}` : ""} ${m[1]} >> ${file}, and check the fingerprint (ssh-keygen -lf ${file}) against the device's own (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on its console)`;
}

/** The ssh options that make ssh check the device against `knownHostsFile` alone. Pure. */
export function knownHostsSshOpts(knownHostsFile: string | undefined): string[] {
    return knownHostsFile === undefined ? [] : ["-o", `UserKnownHostsFile=${path.resolve(knownHostsFile)}`, "-o", "StrictHostKeyChecking=yes"];
}

/** Warnings about a valid but risky host, e.g. an SSH login as root. Pure. */
export function hostWarnings(host: string): string[] {
    return /^ssh:\/\/root@/.test(host)
        ? ["connects as root over SSH: use a user in the device's docker group (ssh://deploy@…) so a leaked deploy key is not root on the device"]
        : [];
}

/** What is wrong with `host` (and `tls` for that host), as `[field, problem]`. Pure. */
export function hostProblems(host: string, hasTls: boolean): [string, string][] {
    if (typeof host !== "string" || !HOST.test(host))
        return [["host", `"${host}" is not a Docker host: use ssh://user@device.example.com (or tcp://host:2376 with tls, unix:///var/run/docker.sock)`]];
    if (host.startsWith("tcp://") && !hasTls)
        return [["tls", `is required for "${host}": plain TCP gives anyone on the network root on the device; pass tls: { caCert, clientCert, clientKey } (engine started with --tlsverify) or use ssh://user@host`]];
    if (!host.startsWith("tcp://") && hasTls) return [["tls", "only applies to a tcp:// host: remove it (ssh:// and unix:// are not TLS)"]];
    return [];
}

/** The check of a `host` Output once it resolves: {@link hostProblems} said under `host`. Pure. */
export function resolvedHostProblem(hasTls: boolean): (host: string) => string | undefined {
    return (h) => {
        const [first] = hostProblems(h, hasTls);
        return first === undefined ? undefined : first[0] === "host" ? first[1] : `"${h}" conflicts with ${first[0]}: ${first[0]} ${first[1]}`;
    };
}

/** Validates the arguments; throws an error naming the field and the fix. Pure. */
export function validateEdgeDeviceArgs(name: string, args: EdgeDeviceArgs): void {
    const c = new ArgChecker("EdgeDevice", name);
    c.check(args.host !== undefined && args.host !== null, "host", "is required: use ssh://user@device.example.com (or tcp://host:2376 with tls, unix:///var/run/docker.sock)");
    if (args.host !== undefined && args.host !== null && isPlain(args.host)) {
        for (const [field, problem] of hostProblems(args.host, args.tls !== undefined)) c.check(false, field, problem);
    }
    if (args.tls !== undefined) {
        for (const field of ["caCert", "clientCert", "clientKey"] as const) {
            const v = args.tls[field];
            c.check(v !== undefined && v !== "", `tls.${field}`, "is empty: pass the PEM content (e.g. config.requireSecret(...))");
            if (typeof v === "string" && v !== "") {
                const want = field === "clientKey" ? /-----BEGIN [A-Z ]*PRIVATE KEY-----/ : /-----BEGIN CERTIFICATE-----/;
                c.check(want.test(v), `tls.${field}`, `is not PEM ${field === "clientKey" ? "private key" : "certificate"} content: pass the file's content, not its path`);
            }
        }
    }
    if (args.sshOpts !== undefined && !args.insecureHostKey) {
        const bad = insecureSshOpts(args.sshOpts);
        c.check(bad.length === 0, "sshOpts", `${JSON.stringify(bad)} turns off SSH host-key checking, so anyone on the path can impersonate the device: add its key to known_hosts (ssh-keyscan, verified), or set insecureHostKey: true`);
    }
    if (args.knownHostsFile !== undefined) {
        c.check(typeof args.knownHostsFile === "string" && args.knownHostsFile !== "", "knownHostsFile", "is empty: give the path of a known_hosts file, or remove it");
        c.check(!args.insecureHostKey, "knownHostsFile", "and insecureHostKey contradict each other: keep knownHostsFile (the device's verified key) and remove insecureHostKey");
        c.check(
            !(args.sshOpts ?? []).some((o) => /UserKnownHostsFile|StrictHostKeyChecking/i.test(o)),
            "sshOpts",
            "sets UserKnownHostsFile or StrictHostKeyChecking, which knownHostsFile sets: remove them from sshOpts",
        );
        if (typeof args.knownHostsFile === "string" && args.knownHostsFile !== "" && typeof args.host === "string") {
            const problem = knownHostsProblem(args.knownHostsFile, args.host);
            c.check(problem === undefined, "knownHostsFile", problem ?? "");
        }
    }
    if (typeof args.image === "string" && !args.allowMutableTag) {
        c.check(isDigestRef(args.image), "image", `"${args.image}" is not pinned by digest: pass repo@sha256:<64 hex> (InferenceImage.ref), or set allowMutableTag: true`);
    }
    for (const field of ["hostPort", "containerPort"] as const) {
        const v = args[field];
        if (v !== undefined) c.check(isIntInRange(v, 1, 65535), field, `must be a port number 1-65535 (got ${v})`);
    }
    const user = args.user ?? EDGE_DEVICE_DEFAULTS.user;
    const uid = /^(\d+)(:\d+)?$/.exec(user);
    c.check(uid !== null && Number(uid[1]) !== 0, "user", `"${user}" must be a numeric non-root uid[:gid], e.g. "10001:10001"`);
    if (args.memoryMb !== undefined) c.check(isIntInRange(args.memoryMb, 64, 1024 * 1024), "memoryMb", `must be a whole number of MiB from 64 to 1048576 (got ${args.memoryMb})`);
    for (const [field, problem] of serverProblems(args.server, { gpu: args.gpus ? 1 : 0, hasModelStore: false })) c.check(false, field, problem);
    if (serverEngine(args.server) !== "modelship") c.check(args.containerPort === undefined, "containerPort", "applies to the modelship server only: the engine profiles listen on their own port (set server.port for a custom server)");
    if (args.modelsHostPath !== undefined) c.check(/^\/[A-Za-z0-9._/-]*$/.test(args.modelsHostPath) && !args.modelsHostPath.includes(".."), "modelsHostPath", `"${args.modelsHostPath}" must be an absolute directory path on the device, e.g. /srv/models`);
    if (args.platform !== undefined) c.check(/^linux\/(amd64|arm64|arm\/v7)$/.test(args.platform), "platform", `"${args.platform}" is not one of linux/amd64, linux/arm64, linux/arm/v7`);
    if (args.verifySignature !== undefined) {
        validateEdgeSignatureCheck(c, args.verifySignature, args.host);
        // A signature vouches for one digest: a tag could be moved to another image after the check.
        c.check(!args.allowMutableTag, "allowMutableTag", "cannot be combined with verifySignature: the verified digest must be the one that runs; pass repo@sha256:…");
    }
    c.done();
}

/**
 * Provider inputs a preview ignores: a registry token is fetched fresh on every run, so without this every preview
 * would show the device's provider as changed. `pulumi up` (not a dry run) still writes the fresh token, before any
 * pull. Pure.
 */
export function previewIgnoredProviderInputs(dryRun: boolean, hasRegistryAuth: boolean): string[] | undefined {
    return dryRun && hasRegistryAuth ? ["registryAuth"] : undefined;
}

/** The hostname a client reaches the device at, from its Docker host URL. Pure. */
export function deviceHostname(host: string): string {
    const m = /^(?:ssh|tcp):\/\/(?:[^@/]+@)?([^:/]+)/.exec(host);
    return m ? m[1] : "localhost";
}

/**
 * The article's `docker run --gpus all -p 5000:5000 …` as code: one inference container on an edge device's Docker
 * engine, pulled by digest, non-root, read-only root filesystem, no capabilities, health-checked and restarted.
 */
export class EdgeDevice extends pulumi.ComponentResource {
    /** The Docker provider for this device (other containers on it can reuse it). */
    readonly provider: docker.Provider;
    /** ID of the running container. */
    readonly containerId: pulumi.Output<string>;
    /** The image reference the container runs. */
    readonly image: pulumi.Output<string>;
    /** `http://<device>:<hostPort>`. */
    readonly endpoint: pulumi.Output<string>;

    // ---- the children, for extending rather than forking
    /** The container running the server. */
    readonly container: docker.Container;
    /** The image pulled onto the device. */
    readonly remoteImage: docker.RemoteImage;
    /** The on-device signature check the pull and the container wait for, when `verifySignature` is set. */
    readonly signatureCheck: command.remote.Command | undefined;

    constructor(name: string, args: EdgeDeviceArgs, opts?: pulumi.ComponentResourceOptions) {
        validateEdgeDeviceArgs(name, args);
        super(EDGE_DEVICE_TYPE, name, {}, opts);
        const hasTls = args.tls !== undefined;
        const hostProblem = resolvedHostProblem(hasTls);
        const knownHosts = args.knownHostsFile;
        const host = checkInput({ component: "EdgeDevice", name, field: "host" }, args.host, (h) => hostProblem(h) ?? (knownHosts === undefined ? undefined : knownHostsProblem(knownHosts, h))).apply((h) => {
            for (const warning of hostWarnings(h)) pulumi.log.warn(`EdgeDevice "${name}": host "${h}" ${warning}`, this);
            return h;
        });
        const d = EDGE_DEVICE_DEFAULTS;
        const memoryMb = args.memoryMb ?? d.memoryMb;
        const server = resolveServer(args.server, { gpu: args.gpus ? 1 : 0, modelName: args.modelName, drainSeconds: 25, port: args.containerPort ?? d.containerPort, modelPath: args.modelsHostPath ? "/models" : undefined });
        const containerPort = server.port;
        const hostPort = args.hostPort ?? d.hostPort;

        const image = checkInput({ component: "EdgeDevice", name, field: "image" }, args.image, (ref) =>
            args.allowMutableTag || isDigestRef(ref) ? undefined : `"${ref}" is not pinned by digest: pass repo@sha256:<64 hex>, or set allowMutableTag: true`,
        );

        this.provider = new docker.Provider(
            `${name}-docker`,
            {
                host,
                sshOpts: args.sshOpts || args.knownHostsFile ? [...(args.sshOpts ?? []), ...knownHostsSshOpts(args.knownHostsFile)] : undefined,
                caMaterial: args.tls ? pulumi.secret(args.tls.caCert) : undefined,
                certMaterial: args.tls ? pulumi.secret(args.tls.clientCert) : undefined,
                keyMaterial: args.tls ? pulumi.secret(args.tls.clientKey) : undefined,
                registryAuth: args.registryAuth
                    ? [{ address: args.registryAuth.address ?? image.apply(registryHost), username: args.registryAuth.username, password: pulumi.secret(args.registryAuth.password) }]
                    : undefined,
            },
            { parent: this, ignoreChanges: previewIgnoredProviderInputs(pulumi.runtime.isDryRun(), args.registryAuth !== undefined) },
        );

        // Nothing of an unverified image reaches the engine: the pull, and so the container, wait for the check.
        this.signatureCheck = args.verifySignature
            ? createSignatureCheck(name, { host, image, check: args.verifySignature, registryAuth: args.registryAuth }, this)
            : undefined;
        const verified = this.signatureCheck ? [this.signatureCheck] : [];

        this.remoteImage = new docker.RemoteImage(
            `${name}-image`,
            { name: image, platform: args.platform, keepLocally: true },
            { parent: this, provider: this.provider, dependsOn: verified },
        );
        const remoteImage = this.remoteImage;

        const env: Record<string, pulumi.Input<string>> = server.readsModelshipEnv
            ? { PORT: String(containerPort), ...(args.env ?? {}) }
            : { ...Object.fromEntries(server.env.map((e) => [e.name, e.value])), ...(args.env ?? {}) };
        if (args.modelName && server.readsModelshipEnv) env.MODEL_NAME = args.modelName;
        const healthTest = edgeHealthTest(server);
        const envs = pulumi
            .all(Object.entries(env).map(([k, v]) => pulumi.output(v).apply((value) => `${k}=${value}`)))
            .apply((pairs) => pairs.sort());

        const container = (this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName ?? name,
                image: remoteImage.imageId,
                restart: d.restart,
                user: args.user ?? d.user,
                readOnly: true,
                tmpfs: { ...d.tmpfs, ...Object.fromEntries(server.scratch.map((v) => [v.mountPath, d.engineCacheTmpfs])) },
                ...(server.command ? { entrypoints: server.command } : {}),
                ...(server.args.length > 0 ? { command: server.args } : {}),
                shmSize: shmSizeMb(server.sharedMemory),
                mounts: args.modelsHostPath ? [{ type: "bind", source: args.modelsHostPath, target: "/models", readOnly: true }] : undefined,
                capabilities: { drops: ["ALL"] },
                securityOpts: ["no-new-privileges:true"],
                gpus: args.gpus ? "all" : undefined,
                memory: memoryMb,
                memorySwap: memoryMb,
                envs,
                ports: [{ internal: containerPort, external: hostPort, protocol: "tcp" }],
                stopSignal: "SIGTERM",
                stopTimeout: d.stopTimeoutSeconds,
                // The server's own readiness endpoint, asked with what the image has (edgeHealthTest).
                healthcheck: healthTest
                    ? { tests: healthTest, interval: d.healthInterval, timeout: d.healthTimeout, retries: d.healthRetries, startPeriod: d.healthStartPeriod }
                    : undefined,
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            { parent: this, provider: this.provider, dependsOn: verified },
        ));

        this.containerId = container.id;
        this.image = image;
        this.endpoint = host.apply((h) => `http://${deviceHostname(h)}:${hostPort}`);
        this.registerOutputs({ containerId: this.containerId, image: this.image, endpoint: this.endpoint });
    }
}
