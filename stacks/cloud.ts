/**
 * The cloud target: ImageRegistry -> InferenceImage (gpu stage) -> GpuCluster -> ServingAddons (KEDA, Prometheus)
 * -> SecretWiring (Secrets Manager) -> InferenceService on GPU nodes.
 */
import * as pulumi from "@pulumi/pulumi";
import { GpuCluster, ImageRegistry, ImageVerification, InferenceImage, InferenceService, type ModelArgs, SecretWiring, ServingAddons } from "../components";
import type { CloudTarget } from "./target-args";
import { accountUniqueName, type CloudConfig, configEngine, imageBuildArgs, repositoryArgs, servedModel } from "./config";

export interface CloudTargetArgs extends CloudConfig {
    /** Secret values by name (Pulumi secrets), wired into the pods. */
    secretValues: Record<string, pulumi.Input<string>>;
}

/** What cloudTarget declares (the published type, stacks/target-args.ts). */
export type CloudTargetOutputs = CloudTarget;

/** Builds the cloud target from its configuration. Callable from any Pulumi program. */
export function cloudTarget(args: CloudTargetArgs, opts?: pulumi.ComponentResourceOptions): CloudTargetOutputs {
    const prefix = args.name;
    const svc = args.service;
    const engine = configEngine(svc.server);
    // Triton and vLLM run their published image as is: no registry, no build (the plan says so).
    // One served name for the image's build arg and every deployment's MODEL_NAME; a missing model file fails here.
    const served: { model?: ModelArgs; modelName?: string } = engine === "modelship" ? servedModel(args) : { modelName: args.modelName };
    const built = engine === "modelship" ? buildImage(args, served.model, opts) : undefined;
    const imageRef = built ? built.image.ref : pulumi.output(svc.serverImage!);
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
            capacity: args.cluster.capacity,
            // The nodes pull the served image from this registry and from no other repository of the account.
            imageRepositoryArns: built ? [built.registry.repositoryArn] : [],
        },
        opts,
    );
    const onCluster = { ...opts, provider: cluster.provider };
    // Helm installs and workloads wait for nodes that can run them. GPU telemetry (dcgm-exporter, idle and saturation alerts) on.
    const systemNodes = cluster.systemNodes;
    const addons = new ServingAddons(`${prefix}-addons`, { nodesReady: systemNodes, gpuTelemetry: true }, onCluster);

    // Signing covers the image this stack builds: a published engine image is not signed by this stack's profile.
    const verification =
        args.signing && built
            ? new ImageVerification(
                  `${prefix}-verify`,
                  {
                      cluster,
                      signingProfileArn: signedBy(built.registry),
                      signerRootCertificate: args.signerRootCertificate ?? "",
                      namespaces: [svc.namespace],
                      repositories: [{ url: built.registry.repositoryUrl, arn: built.registry.repositoryArn }],
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
                      nodesReady: systemNodes,
                      // Secrets Manager names are unique per account and region: two stacks must not share them.
                      secretNamePrefix: accountUniqueName(`${prefix}-secrets`, pulumi.getProject(), pulumi.getStack()),
                  }, onCluster)
            : undefined;

    const service = new InferenceService(
        `${prefix}-server`,
        {
            // With signing, the digest reaches the Deployment only once the admission policy is in force.
            image: verification ? enforcedBefore(imageRef, verification) : imageRef,
            server: svc.server,
            modelStore: svc.modelStore && { ...svc.modelStore, cluster },
            // The wiring's namespace Output carries the dependency on the namespace it creates.
            namespace: secrets ? secrets.namespace : svc.namespace,
            createNamespace: secrets === undefined,
            // The stack owns the namespace either way (SecretWiring creates it when there are secrets): close its egress.
            denyEgressByDefault: true,
            port: engine === "modelship" ? svc.port : undefined,
            modelName: served.modelName,
            gpu: svc.gpusPerPod,
            scheduling: svc.gpusPerPod > 0 ? cluster.gpuScheduling : undefined,
            replicas: svc.replicas,
            resources: { cpu: svc.cpu, memory: svc.memory },
            modelLoadSeconds: svc.modelLoadSeconds,
            secret: secrets,
            autoscaling: { prometheusUrl: addons.prometheusUrl, wakeQuery: svc.wakeQuery },
            addonsReady: addons.ready,
            // GPU pods wait for their (scale-from-zero) groups and the device plugin that advertises nvidia.com/gpu.
            // GPU pods: the GPU node groups (or Karpenter's NodePools) and the device plugin exist first.
            nodesReady:
                svc.gpusPerPod > 0
                    ? [...systemNodes, ...Object.values(cluster.gpuNodeGroups), ...Object.values(cluster.karpenter?.nodePools ?? {}), cluster.addons.nvidiaDevicePlugin]
                    : systemNodes,
            // The serving port (and /metrics) admits the same namespace and this Prometheus only.
            ingressFrom: { prometheus: addons.scraper },
            egressCidrs: svc.egressCidrs,
        },
        { ...onCluster, dependsOn: [addons] },
    );
    const imageBuild = built ? "InferenceImage (gpu target), pushed to the stack's ImageRegistry" : `skipped: service.server "${engine}" runs its published image ${svc.serverImage} as is`;
    return { registry: built?.registry, image: built?.image, imageRef, imageBuild, cluster, addons, secrets, service, verification };
}

/** The registry and the image build of the modelship server. */
function buildImage(args: CloudTargetArgs, model: ModelArgs | undefined, opts?: pulumi.ComponentResourceOptions): { registry: ImageRegistry; image: InferenceImage } {
    const prefix = args.name;
    const registry = new ImageRegistry(
        prefix,
        { ...repositoryArgs(args.repository, prefix, pulumi.getProject(), pulumi.getStack()), signing: stackSigning(args.signing) },
        opts,
    );
    const image = new InferenceImage(
        `${prefix}-image`,
        {
            ...imageBuildArgs(args.image, { target: "gpu", platforms: ["linux/amd64"] }),
            model,
            registry,
        },
        opts,
    );
    return { registry, image };
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
