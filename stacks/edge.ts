/**
 * The edge target: an ECR registry replicated to the devices' region with a pull-only role for the devices, a
 * multi-arch inference image, and the inference container on each listed device's Docker engine.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { EdgeDevice, ImageRegistry, InferenceImage } from "../components";
import { type EdgeConfig, imageBuildArgs, repositoryArgs } from "./config";

/** Platforms of the edge image: x86 gateways and Jetson-class arm64 devices. */
export const EDGE_PLATFORMS = ["linux/amd64", "linux/arm64"];

export interface EdgeTargetOutputs {
    registry: ImageRegistry;
    image: InferenceImage;
    devices: EdgeDevice[];
    /** The image reference every device runs (in the devices' region). */
    deviceImageRef: pulumi.Output<string>;
    pullRoleArn: pulumi.Output<string | undefined>;
}

/** Builds the edge target from its configuration. Callable from any Pulumi program. */
export function edgeTarget(config: EdgeConfig, opts?: pulumi.ComponentResourceOptions): EdgeTargetOutputs {
    const prefix = config.name;
    const registry = new ImageRegistry(
        prefix,
        {
            ...repositoryArgs(config.repository),
            replicationRegions: [config.deviceRegion],
            pullRole: {
                trustAnchorArns: config.rolesAnywhereTrustAnchorArn ? [config.rolesAnywhereTrustAnchorArn] : [],
                trustedPrincipals: config.devicePrincipals,
            },
        },
        opts,
    );

    const image = new InferenceImage(
        `${prefix}-image`,
        {
            ...imageBuildArgs(config.image, { target: "cpu", platforms: EDGE_PLATFORMS }),
            registry,
        },
        opts,
    );

    // Devices pull the replica in their own region; Pulumi logs their engines in with a short-lived ECR token.
    const deviceImageRef = image.replicaRef(config.deviceRegion);
    const token = aws.ecr.getAuthorizationTokenOutput({ registryId: registry.registryId, region: config.deviceRegion }, opts);

    const devices = config.devices.map(
        (device) =>
            new EdgeDevice(
                `${prefix}-${device.name}`,
                {
                    host: device.host,
                    sshOpts: device.sshOpts,
                    image: deviceImageRef,
                    platform: device.platform,
                    gpus: device.gpus,
                    hostPort: device.hostPort,
                    modelName: config.modelName,
                    registryAuth: { username: token.userName, password: token.password },
                },
                opts,
            ),
    );

    return { registry, image, devices, deviceImageRef, pullRoleArn: registry.pullRoleArn };
}
