/**
 * The edge target: an ECR registry replicated to the devices' region with a pull-only role for the devices, a
 * multi-arch inference image, and the inference container on each listed device's Docker engine.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EdgeDevice, ImageRegistry, InferenceImage } from "../components";
import { signedBy, stackSigning } from "./cloud";
import type { EdgeTarget } from "./target-args";
import { EDGE_DEFAULT_TARGET, type EdgeConfig, imageBuildArgs, projectPath, repositoryArgs, servedModel } from "./config";

/** Platforms of the edge image: x86 gateways and Jetson-class arm64 devices. */
export const EDGE_PLATFORMS = ["linux/amd64", "linux/arm64"];

/** Lifetime of the deployer's session in the pull role: long enough to fetch one ECR token. */
export const DEVICE_LOGIN_SESSION = "15m";

export interface EdgeTargetArgs extends EdgeConfig {
    /**
     * Secret values by config key name: those listed in `secrets` (passed to every device's container as environment
     * variables) and the devices' TLS material (`devices[].tls`). Default none.
     */
    secretValues?: Record<string, pulumi.Input<string>>;
    /**
     * Region of the AWS provider (`aws:region`). When it is `deviceRegion`, the devices pull from the source repository
     * and nothing is replicated (ECR cannot replicate into its own region). Default: the `aws:region` config.
     */
    providerRegion?: string;
}

/** What edgeTarget declares (the published type, stacks/target-args.ts). */
export type EdgeTargetOutputs = EdgeTarget;

/**
 * The principal to trust for the identity running the deployment: an assumed-role session ARN is not a valid
 * principal, so it is mapped to its role (`aws.iam.getSessionContextOutput`'s `issuerArn`).
 */
export function deployerPrincipal(opts?: pulumi.InvokeOutputOptions): pulumi.Output<string> {
    const caller = aws.getCallerIdentityOutput({}, opts);
    return aws.iam.getSessionContextOutput({ arn: caller.arn }, opts).issuerArn;
}

/** Builds the edge target from its configuration. Callable from any Pulumi program. */
export function edgeTarget(config: EdgeTargetArgs, opts?: pulumi.ComponentResourceOptions): EdgeTargetOutputs {
    const prefix = config.name;
    // One served name for the image's build arg and every deployment's MODEL_NAME; a missing model file fails here.
    const served = servedModel(config);
    const secretValues = config.secretValues ?? {};
    const secret = (key: string): pulumi.Input<string> => {
        const value = secretValues[key];
        if (value === undefined) throw new Error(`edge target: secret config key modelship:${key} was not read: pass it in secretValues`);
        return value;
    };
    // Every secret is looked up before any resource is declared, so a missing one fails the program cleanly.
    const env = Object.fromEntries(config.secrets.map((key) => [key, secret(key)]));
    const tls = config.devices.map((d) => (d.tls ? { caCert: secret(d.tls.caCert), clientCert: secret(d.tls.clientCert), clientKey: secret(d.tls.clientKey) } : undefined));
    const deployer = deployerPrincipal(opts);
    const providerRegion = config.providerRegion ?? new pulumi.Config("aws").get("region");
    const replicate = config.deviceRegion !== providerRegion;
    const registry = new ImageRegistry(
        prefix,
        {
            ...repositoryArgs(config.repository, prefix, pulumi.getProject(), pulumi.getStack()),
            replicationRegions: replicate ? [config.deviceRegion] : [],
            signing: stackSigning(config.signing),
            pullRole: {
                trustAnchorArns: config.rolesAnywhereTrustAnchorArn ? [config.rolesAnywhereTrustAnchorArn] : [],
                allowedSubjects: config.rolesAnywhereTrustAnchorArn ? config.deviceSubjects : undefined,
                trustedPrincipals: [...config.devicePrincipals, deployer],
            },
        },
        opts,
    );

    const image = new InferenceImage(
        `${prefix}-image`,
        {
            ...imageBuildArgs(config.image, { target: EDGE_DEFAULT_TARGET, platforms: EDGE_PLATFORMS }),
            model: served.model,
            registry,
        },
        opts,
    );

    // Devices pull the replica in their own region (the source, when that is the stack's region), which the build pushed
    // into itself: the reference resolves only after that push, so no pull starts before the digest is there. Their
    // engines are logged in with an ECR token fetched through the pull-only role (the deployer assumes it for a short
    // session), never with the deployer's own push rights.
    const deviceImageRef = replicate ? image.replicaRef(config.deviceRegion) : image.ref;
    // The GPU flag follows the image: the cpu stage never uses one, and --gpus all needs the NVIDIA container toolkit.
    const imageUsesGpu = (config.image.target ?? EDGE_DEFAULT_TARGET) === "gpu";
    const knownHostsFile = config.knownHostsFile === undefined ? undefined : projectPath(config.knownHostsFile);
    const pullSession = new aws.Provider(
        `${prefix}-device-login`,
        {
            region: config.deviceRegion,
            assumeRoles: [{ roleArn: registry.pullRoleArn, sessionName: `${prefix}-device-login`, duration: DEVICE_LOGIN_SESSION }],
        },
        opts,
    );
    const token = aws.ecr.getAuthorizationTokenOutput({ registryId: registry.registryId }, { parent: opts?.parent, provider: pullSession });

    const devices = config.devices.map(
        (device, i) =>
            new EdgeDevice(
                `${prefix}-${device.name}`,
                {
                    host: device.host,
                    tls: tls[i],
                    sshOpts: device.sshOpts,
                    insecureHostKey: device.insecureHostKey,
                    knownHostsFile: device.host.startsWith("ssh://") ? knownHostsFile : undefined,
                    image: deviceImageRef,
                    platform: device.platform,
                    gpus: device.gpus ?? imageUsesGpu,
                    hostPort: device.hostPort,
                    memoryMb: device.memoryMb,
                    modelName: served.modelName,
                    env,
                    registryAuth: { username: token.userName, password: token.password },
                    // With signing, each device checks the signature itself before pulling (the schema requires hostKey).
                    verifySignature: config.signing ? { signingProfileArn: signedBy(registry), hostKey: device.hostKey ?? "" } : undefined,
                },
                opts,
            ),
    );

    return {
        registry,
        image,
        devices,
        deviceImageRef,
        pullRoleArn: registry.pullRoleArn,
        rolesAnywhereProfileArn: registry.rolesAnywhereProfileArn,
        deployerPrincipal: deployer,
    };
}
