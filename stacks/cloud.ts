/**
 * The cloud target: ImageRegistry -> InferenceImage (gpu stage) -> GpuCluster -> ServingAddons (KEDA, Prometheus)
 * -> SecretWiring (Secrets Manager) -> InferenceService on GPU nodes.
 */
import * as pulumi from "@pulumi/pulumi";
import { GpuCluster, ImageRegistry, InferenceImage, InferenceService, SecretWiring, ServingAddons } from "../components";
import { accountUniqueName, type CloudConfig, imageBuildArgs, repositoryArgs, servedModel } from "./config";

export interface CloudTargetArgs extends CloudConfig {
    /** Secret values by name (Pulumi secrets), wired into the pods. */
    secretValues: Record<string, pulumi.Input<string>>;
}

export interface CloudTargetOutputs {
    registry: ImageRegistry;
    image: InferenceImage;
    cluster: GpuCluster;
    addons: ServingAddons;
    secrets?: SecretWiring;
    service: InferenceService;
}

/** Builds the cloud target from its configuration. Callable from any Pulumi program. */
export function cloudTarget(args: CloudTargetArgs, opts?: pulumi.ComponentResourceOptions): CloudTargetOutputs {
    const prefix = args.name;
    // One served name for the image's build arg and every deployment's MODEL_NAME; a missing model file fails here.
    const served = servedModel(args);
    const registry = new ImageRegistry(
        prefix,
        repositoryArgs(args.repository, prefix, pulumi.getProject(), pulumi.getStack()),
        opts,
    );
    const image = new InferenceImage(
        `${prefix}-image`,
        {
            ...imageBuildArgs(args.image, { target: "gpu", platforms: ["linux/amd64"] }),
            model: served.model,
            registry,
        },
        opts,
    );
    const cluster = new GpuCluster(
        `${prefix}-cluster`,
        {
            version: args.cluster.version,
            publicAccessCidrs: args.cluster.publicAccessCidrs,
            endpointAccess: args.cluster.endpointAccess,
            privateEndpointReachable: args.cluster.privateEndpointReachable,
            admins: args.cluster.admins,
            vpcId: args.cluster.vpcId,
            privateSubnetIds: args.cluster.privateSubnetIds,
            publicSubnetIds: args.cluster.publicSubnetIds,
            gpuNodeGroups: args.cluster.gpuNodeGroups,
            scaleDownDelay: args.cluster.scaleDownDelay,
            // The nodes pull the served image from this registry and from no other repository of the account.
            imageRepositoryArns: [registry.repositoryArn],
        },
        opts,
    );
    const onCluster = { ...opts, provider: cluster.provider };
    // Helm installs and workloads wait for nodes that can run them (the lead switches this to cluster.systemNodes).
    const systemNodes = [cluster.systemNodeGroup];
    const addons = new ServingAddons(`${prefix}-addons`, { nodesReady: systemNodes }, onCluster);

    const svc = args.service;
    const secrets =
        Object.keys(args.secretValues).length > 0
            ? new SecretWiring(`${prefix}-secrets`, {
                      mode: "aws",
                      namespace: svc.namespace,
                      createNamespace: true,
                      secrets: args.secretValues,
                      cluster,
                      nodesReady: systemNodes,
                      // Secrets Manager names are unique per account and region: two stacks must not share them.
                      secretNamePrefix: accountUniqueName(`${prefix}-secrets`, pulumi.getProject(), pulumi.getStack()),
                  }, onCluster)
            : undefined;

    const service = new InferenceService(
        `${prefix}-server`,
        {
            image: image.ref,
            // The wiring's namespace Output carries the dependency on the namespace it creates.
            namespace: secrets ? secrets.namespace : svc.namespace,
            createNamespace: secrets === undefined,
            port: svc.port,
            modelName: served.modelName,
            gpu: svc.gpusPerPod,
            scheduling: svc.gpusPerPod > 0 ? cluster.gpuScheduling : undefined,
            replicas: svc.replicas,
            resources: { cpu: svc.cpu, memory: svc.memory },
            modelLoadSeconds: svc.modelLoadSeconds,
            secret: secrets,
            autoscaling: { prometheusUrl: addons.prometheusUrl },
            addonsReady: addons.ready,
            // GPU pods wait for their (scale-from-zero) groups and the device plugin that advertises nvidia.com/gpu.
            nodesReady: svc.gpusPerPod > 0 ? [...systemNodes, ...Object.values(cluster.gpuNodeGroups), cluster.addons.nvidiaDevicePlugin] : systemNodes,
            // The serving port (and /metrics) admits the same namespace and this Prometheus only.
            ingressFrom: { prometheus: addons.scraper },
            egressCidrs: svc.egressCidrs,
        },
        { ...onCluster, dependsOn: [addons] },
    );
    return { registry, image, cluster, addons, secrets, service };
}
