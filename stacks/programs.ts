/**
 * The target programs, for use from other Pulumi programs: `import { cloudTarget } from "modelship/stacks"`.
 *
 * Each target takes its stack configuration as arguments with the stack files' defaults: pass only the fields you care
 * about (`cloudTarget({ cluster: { version: "1.33", gpuNodeGroups: [...] } })`); the target's schema fills in the rest
 * and reports every invalid field at once, by path. The published types (stacks/target-args.ts) carry no zod types.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { cloudTarget as buildCloud, type CloudTargetOutputs } from "./cloud";
import { cloudSchema, edgeSchema, hybridSchema } from "./config";
import { edgeTarget as buildEdge, EDGE_PLATFORMS as edgePlatforms, type EdgeTargetOutputs } from "./edge";
import { hybridTarget as buildHybrid, type HybridTargetOutputs } from "./hybrid";
import type { CloudTarget, CloudTargetInput, EdgeTarget, EdgeTargetInput, HybridTarget, HybridTargetInput } from "./target-args";

export type * from "./target-args";
/** Platforms of the edge image. (Re-declared, not re-exported: the declaration files stay free of the config's.) */
export const EDGE_PLATFORMS: readonly string[] = edgePlatforms;

/** Thrown for invalid target arguments; lists every problem, one per line, each naming its field. */
export class TargetArgsError extends Error {
    constructor(
        readonly target: string,
        readonly problems: string[],
    ) {
        super(`${target}: ${problems.length} invalid argument${problems.length === 1 ? "" : "s"}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "TargetArgsError";
    }
}

/** `a.b[0].c` for a zod issue path. Pure. */
function fieldPath(path: readonly PropertyKey[]): string {
    return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`)).join("") || "(arguments)";
}

/** Fills a target's defaults from its schema; throws a {@link TargetArgsError} naming every invalid field. Pure. */
function withTargetDefaults<S extends z.ZodType>(target: string, schema: S, input: unknown): z.output<S> {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    throw new TargetArgsError(
        target,
        result.error.issues.map((issue) => {
            // An unknown key is reported on its parent: name the key itself, so that a typo is found at once.
            const where = issue.code === "unrecognized_keys" ? issue.keys.map((k) => fieldPath([...issue.path, k])).join(", ") : fieldPath(issue.path);
            return `${where}: ${issue.message}`;
        }),
    );
}

/** The cloud target (ECR, image, EKS with GPU nodes, add-ons, serving) from only the arguments you set. */
export function cloudTarget(args: CloudTargetInput, opts?: pulumi.ComponentResourceOptions): CloudTarget {
    const { secretValues = {}, ...config } = args;
    return buildCloud({ ...withTargetDefaults("cloudTarget", cloudSchema, config), secretValues }, opts);
}

/** The edge target (ECR, multi-arch image, device pull role, devices over Docker) from only the arguments you set. */
export function edgeTarget(args: EdgeTargetInput, opts?: pulumi.ComponentResourceOptions): EdgeTarget {
    const { secretValues = {}, ...config } = args;
    return buildEdge({ ...withTargetDefaults("edgeTarget", edgeSchema, config), secretValues }, opts);
}

/** The hybrid target (the cloud target plus an existing cluster through its kubeconfig) from only the arguments you set. */
export function hybridTarget(args: HybridTargetInput, opts?: pulumi.ComponentResourceOptions): HybridTarget {
    const { secretValues = {}, onPremKubeconfig, ...config } = args;
    return buildHybrid({ ...withTargetDefaults("hybridTarget", hybridSchema, config), secretValues, onPremKubeconfig }, opts);
}

// Compile-time: the published argument and result types are the schemas' and the programs' own, key for key.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Config<T> = Omit<T, "secretValues" | "onPremKubeconfig">;
const publishedTypesMatch: [
    Same<Config<CloudTargetInput>, z.input<typeof cloudSchema>>,
    Same<keyof Config<CloudTargetInput>, keyof z.input<typeof cloudSchema>>,
    Same<Config<EdgeTargetInput>, z.input<typeof edgeSchema>>,
    Same<keyof Config<EdgeTargetInput>, keyof z.input<typeof edgeSchema>>,
    Same<Config<HybridTargetInput>, z.input<typeof hybridSchema>>,
    Same<keyof Config<HybridTargetInput>, keyof z.input<typeof hybridSchema>>,
    Same<CloudTarget, CloudTargetOutputs>,
    Same<EdgeTarget, EdgeTargetOutputs>,
    Same<HybridTarget, HybridTargetOutputs>,
] = [true, true, true, true, true, true, true, true, true];
void publishedTypesMatch;
