/** The target programs, for use from other Pulumi programs: `import { cloudTarget } from "modelship/stacks"`. */
export { cloudTarget, type CloudTargetArgs, type CloudTargetOutputs } from "./cloud";
export { edgeTarget, type EdgeTargetOutputs, EDGE_PLATFORMS } from "./edge";
export { hybridTarget, type HybridTargetArgs, type HybridTargetOutputs } from "./hybrid";
export { parseTargetConfig, cloudSchema, edgeSchema, hybridSchema, ConfigError, type CloudConfig, type EdgeConfig, type HybridConfig } from "./config";
