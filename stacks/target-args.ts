/**
 * The arguments and results of the targets as `modelship/stacks` publishes them: plain TypeScript, no zod types, so a
 * project compiled without `skipLibCheck` (as `pulumi new typescript` creates it) never type-checks zod's own
 * declarations. stacks/programs.ts checks at compile time that these match the config schemas (stacks/config.ts).
 * Each field is the `modelship:<key>` of the stack files (see docs/stacks.md); every defaulted field is optional.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { EdgeDevice, GpuCluster, ImageRegistry, ImageVerification, InferenceImage, InferenceService, SecretWiring, ServingAddons } from "../components";

export interface TargetModelInput {
    /** The .onnx file, relative to the project root. */
    path: string;
    /** Served name. Default the file name without .onnx. */
    name?: string;
    /** External-data files, relative to the model's directory. */
    externalData?: string[];
}

export interface TargetImageInput {
    /** Build context, relative to the project root. Default "inference-image". */
    context?: string;
    dockerfile?: string;
    /** Dockerfile stage. Default the target's ("gpu" in the cloud). */
    target?: string;
    platforms?: string[];
}

export interface TargetRepositoryInput {
    /** ECR repository name. Default derived from `name`. */
    name?: string;
    untaggedExpiryDays?: number;
    keepTaggedImages?: number;
    /** IAM principal ARNs or 12-digit account IDs allowed to pull. */
    pullPrincipals?: string[];
    /** Delete the repository with its images on destroy. Default true. */
    forceDelete?: boolean;
}

export interface TargetGpuNodeGroupInput {
    name: string;
    instanceTypes: string[];
    minSize?: number;
    maxSize: number;
    desiredSize?: number;
    capacityType?: "ON_DEMAND" | "SPOT";
    amiType?: string;
    diskSizeGb?: number;
    labels?: Record<string, string>;
}

export interface TargetClusterInput {
    /** Kubernetes minor version, e.g. "1.33". */
    version: string;
    /** CIDRs allowed to reach the public endpoint. Default none (private endpoint). */
    publicAccessCidrs?: string[];
    /** IAM role or user ARNs given cluster-admin access entries. Default none. */
    admins?: string[];
    vpcId?: string;
    privateSubnetIds?: string[];
    publicSubnetIds?: string[];
    gpuNodeGroups: TargetGpuNodeGroupInput[];
    scaleDownDelay?: string;
    /** Who provides GPU capacity. Default "cluster-autoscaler". */
    capacity?: "cluster-autoscaler" | "karpenter";
}

export interface TargetReplicasInput {
    min: number;
    max: number;
}

export interface TargetServiceInput {
    /** Default "inference". */
    namespace?: string;
    /** Default { min: 1, max: 4 }. */
    replicas?: TargetReplicasInput;
    /** Default 1. */
    gpusPerPod?: number;
    /** Default 8080. */
    port?: number;
    cpu?: string;
    memory?: string;
    modelLoadSeconds?: number;
    /** Default none. */
    egressCidrs?: string[];
    /** The serving engine. Default "modelship" (the image the stack builds). */
    server?: "modelship" | "triton" | "vllm" | { engine: "triton" | "vllm"; extraArgs?: string[]; sharedMemory?: string; modelRepository?: string };
    /** The engine's published image pinned by digest; required with triton/vllm (no image is built then). */
    serverImage?: string;
    /** PromQL of demand measured outside the pods; lets `replicas.min` be 0 (InferenceService autoscaling.wakeQuery). */
    wakeQuery?: string;
    /** Weights in S3 (triton/vllm): see InferenceService modelStore; the stack's cluster is the one the role trusts. */
    modelStore?: TargetModelStoreInput;
}

export interface TargetModelStoreInput {
    s3Uri: string;
    sizeGb: number;
    syncImage: string;
    region?: string;
    downloadMBps?: number;
    downloadSeconds?: number;
    cacheSize?: string;
    kmsKeyArn?: string;
}

export interface TargetDeviceInput {
    name: string;
    /** ssh://user@host, or tcp://host:2376 with tls. */
    host: string;
    /** Names of the secret values holding a tcp:// host's PEM TLS material. */
    tls?: { caCert: string; clientCert: string; clientKey: string };
    /** `--gpus all`. Default: true only for image.target "gpu". */
    gpus?: boolean;
    hostPort?: number;
    platform?: "linux/amd64" | "linux/arm64";
    sshOpts?: string[];
    insecureHostKey?: boolean;
    memoryMb?: number;
    /** The device's SSH host public key; required with `signing`. */
    hostKey?: string;
}

export interface TargetOnPremInput {
    /** Default "inference". */
    namespace?: string;
    /** Default { min: 1, max: 2 }. */
    replicas?: TargetReplicasInput;
    /** Default 0. */
    gpusPerPod?: number;
    nodeSelector?: Record<string, string>;
    /** Default 8080. */
    port?: number;
    /** Default none. */
    egressCidrs?: string[];
}

/** The keys every target reads. */
export interface CommonTargetInput {
    /** Prefix of every resource name. Default "modelship". */
    name?: string;
    modelName?: string;
    /** Your ONNX model, baked into the image. Default the demo. */
    model?: TargetModelInput;
    image?: TargetImageInput;
    repository?: TargetRepositoryInput;
    /** Names of the entries of `secretValues` wired into the pods. Default none. */
    secrets?: string[];
    /** Secret values by name (Pulumi secrets). Default none. */
    secretValues?: Record<string, pulumi.Input<string>>;
    /** Sign the image on push and verify it before it runs. Default false. */
    signing?: boolean;
}

/** cloudTarget's arguments. */
export interface CloudTargetInput extends CommonTargetInput {
    /** PEM of AWS Signer's Notation root certificate; required with `signing`. */
    signerRootCertificate?: string;
    cluster: TargetClusterInput;
    service?: TargetServiceInput;
}

/** edgeTarget's arguments. */
export interface EdgeTargetInput extends CommonTargetInput {
    deviceRegion: string;
    rolesAnywhereTrustAnchorArn?: string;
    deviceSubjects?: { cn?: string[]; ou?: string[] };
    devicePrincipals?: string[];
    devices?: TargetDeviceInput[];
    /** known_hosts file (relative to the project root) with every ssh:// device's verified host key. Default the deployer's ~/.ssh/known_hosts. */
    knownHostsFile?: string;
}

/** hybridTarget's arguments. */
export interface HybridTargetInput extends CloudTargetInput {
    onPrem?: TargetOnPremInput;
    /** Kubeconfig of the on-prem cluster (a Pulumi secret). */
    onPremKubeconfig: pulumi.Input<string>;
}

/** What cloudTarget declares. */
export interface CloudTarget {
    /** Undefined when the engine's published image runs as is (service.server triton/vllm): nothing is built. */
    registry?: ImageRegistry;
    /** Undefined when the engine's published image runs as is. */
    image?: InferenceImage;
    /** The image the service runs: the built image's digest, or `service.serverImage`. */
    imageRef: pulumi.Output<string>;
    /** What happened to the image build, for the plan and `pulumi stack output`: "InferenceImage (gpu target), ..." or "skipped: ...". */
    imageBuild: string;
    cluster: GpuCluster;
    addons: ServingAddons;
    secrets?: SecretWiring;
    service: InferenceService;
    /** Admission control refusing unsigned images in the service's namespace, with `signing`. */
    verification?: ImageVerification;
}

/** What edgeTarget declares. */
export interface EdgeTarget {
    registry: ImageRegistry;
    image: InferenceImage;
    devices: EdgeDevice[];
    /** The image reference every device runs (in the devices' region). */
    deviceImageRef: pulumi.Output<string>;
    pullRoleArn: pulumi.Output<string | undefined>;
    /** The IAM Roles Anywhere profile devices name with `aws_signing_helper`, when a trust anchor is configured. */
    rolesAnywhereProfileArn: pulumi.Output<string | undefined>;
    /** The deployer's own principal, trusted by the pull role so that it can log the devices in with pull-only rights. */
    deployerPrincipal: pulumi.Output<string>;
}

/** What hybridTarget declares. */
export interface HybridTarget {
    cloud: CloudTarget;
    onPremProvider: k8s.Provider;
    onPremAddons: ServingAddons;
    onPremSecrets?: SecretWiring;
    onPremService: InferenceService;
}
