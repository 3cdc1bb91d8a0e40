export { GpuCluster, type GpuClusterArgs, type GpuNodeGroupArgs, type SystemNodeGroupArgs, type GpuScheduling, type GpuAmiType } from "./gpu-cluster";
export { ImageRegistry, type ImageRegistryArgs, type PullRoleArgs } from "./image-registry";
export { InferenceImage, type InferenceImageArgs, type ExternalRegistry, type ModelArgs } from "./inference-image";
export { EdgeDevice, type EdgeDeviceArgs, type EdgeRegistryAuth, type EdgeTlsArgs } from "./edge-device";
export { InvalidArgumentError } from "./internal/validation";
export { InferenceService, type InferenceServiceArgs, type AutoscalingArgs, type Scheduling, type IngressFromArgs, type PodPeer, type RolloutArgs } from "./inference-service";
export { SecretWiring, type SecretWiringArgs, type OidcCluster } from "./secret-wiring";
export { ServingAddons, type ServingAddonsArgs } from "./serving-addons";
