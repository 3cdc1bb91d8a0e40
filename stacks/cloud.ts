/**
 * The cloud target: ImageRegistry -> InferenceImage (gpu stage) -> GpuCluster -> ServingAddons (KEDA, Prometheus)
 * -> SecretWiring (Secrets Manager) -> InferenceService on GPU nodes.
 */
import * as pulumi from "@pulumi/pulumi";
import { GpuCluster, ImageRegistry, ImageVerification, InferenceImage, InferenceService, SecretWiring, ServingAddons } from "../components";
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
    /** Admission control refusing unsigned images in the service's namespace, with `signing`. */
    verification?: ImageVerification;
}

/** Builds the cloud target from its configuration. Callable from any Pulumi program. */
export function cloudTarget(args: CloudTargetArgs, opts?: pulumi.ComponentResourceOptions): CloudTargetOutputs {
    const prefix = args.name;
    // One served name for the image's build arg and every deployment's MODEL_NAME; a missing model file fails here.
    const served = servedModel(args);
    const registry = new ImageRegistry(
        prefix,
        { ...repositoryArgs(args.repository, prefix, pulumi.getProject(), pulumi.getStack()), signing: stackSigning(args.signing) },
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
    const addons = new ServingAddons(`${prefix}-addons`, {}, onCluster);

    const svc = args.service;
    const verification = args.signing
        ? new ImageVerification(
              `${prefix}-verify`,
              {
                  cluster,
                  signingProfileArn: signedBy(registry),
                  signerRootCertificate: args.signerRootCertificate ?? "",
                  namespaces: [svc.namespace],
                  repositories: [{ url: registry.repositoryUrl, arn: registry.repositoryArn }],
              },
              onCluster,
          )
        : undefined;
    const secrets =
        Object.keys(args.secretValues).length > 0
            ? new SecretWiring(`${prefix}-secrets`, {
                      mode: "aws",
                      namespace: svc.namespace,
                      createNamespace: true,
                      secrets: args.secretValues,
                      cluster,
                      // Secrets Manager names are unique per account and region: two stacks must not share them.
                      secretNamePrefix: accountUniqueName(`${prefix}-secrets`, pulumi.getProject(), pulumi.getStack()),
                  }, onCluster)
            : undefined;

    const service = new InferenceService(
        `${prefix}-server`,
        {
            // With signing, the digest reaches the Deployment only once the admission policy is in force.
            image: verification ? enforcedBefore(image.ref, verification) : image.ref,
            namespace: svc.namespace,
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
            // The serving port (and /metrics) admits the same namespace and this Prometheus only.
            ingressFrom: { prometheus: addons.scraper },
            egressCidrs: svc.egressCidrs,
        },
        { ...onCluster, dependsOn: [addons] },
    );
    return { registry, image, cluster, addons, secrets, service, verification };
}

/** The registry's `signing` for a stack: this stack's registry owns the account's signing configuration in its region. Pure. */
export function stackSigning(signing: boolean): { ownsRegistryConfiguration: boolean } | undefined {
    return signing ? { ownsRegistryConfiguration: true } : undefined;
}

/** The signing profile's ARN of a registry created with `signing` (the verifiers' trusted identity). */
export function signedBy(registry: ImageRegistry): pulumi.Output<string> {
    return registry.signingProfileArn.apply((arn) => {
        if (arn === undefined) throw new Error("the registry was created without signing: its images have no signature to verify");
        return arn;
    });
}

/**
 * `ref`, resolved only once the verification's constraint exists: a workload given it is created after the policy
 * that checks it (a component's `dependsOn` would not reach the Deployment inside InferenceService).
 */
export function enforcedBefore(ref: pulumi.Output<string>, verification: ImageVerification): pulumi.Output<string> {
    return pulumi.all([ref, verification.constraint.id]).apply(([r]) => r);
}
