export { ImageRegistry, type ImageRegistryArgs } from "./image-registry";
export { InferenceImage, type InferenceImageArgs, type ExternalRegistry } from "./inference-image";
export { InvalidArgumentError } from "./internal/validation";
