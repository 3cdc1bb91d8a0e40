import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { ArgChecker, isIntInRange } from "./internal/validation";
import { isDigestRef, registryHost } from "./internal/image-ref";

export const EDGE_DEVICE_TYPE = "modelship:index:EdgeDevice";

/** Registry credentials the device's Docker engine pulls with. */
export interface EdgeRegistryAuth {
    /** Registry host, e.g. `123456789012.dkr.ecr.eu-central-1.amazonaws.com`. Default: the image's registry. */
    address?: pulumi.Input<string>;
    username: pulumi.Input<string>;
    /** Kept secret. */
    password: pulumi.Input<string>;
}

/** Arguments of {@link EdgeDevice}. */
export interface EdgeDeviceArgs {
    /** Docker engine address: `ssh://user@host[:port]` (recommended), `tcp://host:2376` or `unix:///var/run/docker.sock`. */
    host: string;
    /** Extra `ssh` options, e.g. `["-o", "StrictHostKeyChecking=yes"]`. Default none. */
    sshOpts?: string[];
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
    /** Port the server listens on in the container. Default 8080. */
    containerPort?: number;
    /** Expose the device's GPUs (`--gpus all`); the image's `DEVICE` setting decides whether the server uses them. Default false. */
    gpus?: boolean;
    /** Model name the server serves. Default: the image's default. */
    modelName?: string;
    /** Extra environment variables. Secret values stay secret in state. Default none. */
    env?: Record<string, pulumi.Input<string>>;
    /** `uid:gid` the container runs as; must be non-root. Default `10001:10001`. */
    user?: string;
    /** Memory limit in MiB. Default none. */
    memoryMb?: number;
    /** Container name on the device. Default: the component's name. */
    containerName?: string;
}

/** Defaults, in one place. */
export const EDGE_DEVICE_DEFAULTS = {
    hostPort: 5000,
    containerPort: 8080,
    gpus: false,
    user: "10001:10001",
    restart: "unless-stopped",
    /** Seconds Docker waits after SIGTERM: longer than the server's 25 s drain. */
    stopTimeoutSeconds: 35,
    /** Scratch space; the root filesystem is read-only. */
    tmpfs: { "/tmp": "rw,noexec,nosuid,size=256m" } as Record<string, string>,
    healthInterval: "10s",
    healthTimeout: "3s",
    healthRetries: 3,
    healthStartPeriod: "120s",
} as const;

const HOST = /^(ssh:\/\/[^@\s/]+@[^\s/:]+(:\d+)?|tcp:\/\/[^\s/]+:\d+|unix:\/\/\/\S+)$/;

/** Validates the arguments; throws an error naming the field and the fix. Pure. */
export function validateEdgeDeviceArgs(name: string, args: EdgeDeviceArgs): void {
    const c = new ArgChecker("EdgeDevice", name);
    c.check(typeof args.host === "string" && HOST.test(args.host), "host", `"${args.host}" is not a Docker host: use ssh://user@device.example.com (or tcp://host:2376, unix:///var/run/docker.sock)`);
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
    if (args.memoryMb !== undefined) c.check(isIntInRange(args.memoryMb, 64), "memoryMb", `must be a whole number of MiB >= 64 (got ${args.memoryMb})`);
    if (args.platform !== undefined) c.check(/^linux\/(amd64|arm64|arm\/v7)$/.test(args.platform), "platform", `"${args.platform}" is not one of linux/amd64, linux/arm64, linux/arm/v7`);
    c.done();
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

    constructor(name: string, args: EdgeDeviceArgs, opts?: pulumi.ComponentResourceOptions) {
        validateEdgeDeviceArgs(name, args);
        super(EDGE_DEVICE_TYPE, name, {}, opts);
        const d = EDGE_DEVICE_DEFAULTS;
        const containerPort = args.containerPort ?? d.containerPort;
        const hostPort = args.hostPort ?? d.hostPort;

        const image = pulumi.output(args.image).apply((ref) => {
            if (!args.allowMutableTag && !isDigestRef(ref)) {
                throw new Error(`EdgeDevice "${name}": image "${ref}" is not pinned by digest: pass repo@sha256:<64 hex>, or set allowMutableTag: true`);
            }
            return ref;
        });

        this.provider = new docker.Provider(
            `${name}-docker`,
            {
                host: args.host,
                sshOpts: args.sshOpts,
                registryAuth: args.registryAuth
                    ? [{ address: args.registryAuth.address ?? image.apply(registryHost), username: args.registryAuth.username, password: pulumi.secret(args.registryAuth.password) }]
                    : undefined,
            },
            { parent: this },
        );

        const remoteImage = new docker.RemoteImage(
            `${name}-image`,
            { name: image, platform: args.platform, keepLocally: true },
            { parent: this, provider: this.provider },
        );

        const env: Record<string, pulumi.Input<string>> = { PORT: String(containerPort), ...(args.env ?? {}) };
        if (args.modelName) env.MODEL_NAME = args.modelName;
        const envs = pulumi
            .all(Object.entries(env).map(([k, v]) => pulumi.output(v).apply((value) => `${k}=${value}`)))
            .apply((pairs) => pairs.sort());

        const container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName ?? name,
                image: remoteImage.imageId,
                restart: d.restart,
                user: args.user ?? d.user,
                readOnly: true,
                tmpfs: d.tmpfs,
                capabilities: { drops: ["ALL"] },
                securityOpts: ["no-new-privileges:true"],
                gpus: args.gpus ? "all" : undefined,
                memory: args.memoryMb,
                envs,
                ports: [{ internal: containerPort, external: hostPort, protocol: "tcp" }],
                stopSignal: "SIGTERM",
                stopTimeout: d.stopTimeoutSeconds,
                healthcheck: {
                    // The image has node and no curl/wget: ask the server's own readiness endpoint.
                    tests: [
                        "CMD",
                        "node",
                        "-e",
                        `fetch('http://127.0.0.1:${containerPort}/v2/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
                    ],
                    interval: d.healthInterval,
                    timeout: d.healthTimeout,
                    retries: d.healthRetries,
                    startPeriod: d.healthStartPeriod,
                },
                logDriver: "json-file",
                logOpts: { "max-size": "10m", "max-file": "3" },
            },
            { parent: this, provider: this.provider },
        );

        this.containerId = container.id;
        this.image = image;
        this.endpoint = pulumi.output(`http://${deviceHostname(args.host)}:${hostPort}`);
        this.registerOutputs({ containerId: this.containerId, image: this.image, endpoint: this.endpoint });
    }
}
