export { ImageRegistry, type ImageRegistryArgs } from "./image-registry";
export { InferenceImage, type InferenceImageArgs, type ExternalRegistry } from "./inference-image";
export { EdgeDevice, type EdgeDeviceArgs, type EdgeRegistryAuth } from "./edge-device";
export { InvalidArgumentError } from "./internal/validation";
