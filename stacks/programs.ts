/**
 * The target programs, for use from other Pulumi programs: `import { cloudTarget } from "modelship/stacks"`.
 *
 * Each target takes its stack configuration as arguments with the same defaults as the stack files: pass only the
 * fields you care about (`cloudTarget({ cluster: { version: "1.33", gpuNodeGroups: [...] } })`); the rest is filled
 * in by the target's schema, and every invalid field is reported at once, by path.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { cloudTarget as buildCloud, type CloudTargetArgs, type CloudTargetOutputs } from "./cloud";
import { cloudSchema, edgeSchema, hybridSchema } from "./config";
import { edgeTarget as buildEdge, type EdgeTargetArgs, type EdgeTargetOutputs } from "./edge";
import { hybridTarget as buildHybrid, type HybridTargetArgs, type HybridTargetOutputs } from "./hybrid";

export { type CloudTargetArgs, type CloudTargetOutputs, type EdgeTargetArgs, type EdgeTargetOutputs, type HybridTargetArgs, type HybridTargetOutputs };
export { EDGE_PLATFORMS } from "./edge";
export { parseTargetConfig, cloudSchema, edgeSchema, hybridSchema, ConfigError, type CloudConfig, type EdgeConfig, type HybridConfig } from "./config";

type SecretValues = { secretValues?: Record<string, pulumi.Input<string>> };

/** cloudTarget's arguments: the `modelship:*` keys of a cloud stack, each defaulted field optional. */
export type CloudTargetInput = z.input<typeof cloudSchema> & SecretValues;
/** edgeTarget's arguments: the `modelship:*` keys of an edge stack, each defaulted field optional. */
export type EdgeTargetInput = z.input<typeof edgeSchema> & SecretValues;
/** hybridTarget's arguments: the `modelship:*` keys of a hybrid stack, each defaulted field optional. */
export type HybridTargetInput = z.input<typeof hybridSchema> & SecretValues & Pick<HybridTargetArgs, "onPremKubeconfig">;

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
export function withTargetDefaults<S extends z.ZodType>(target: string, schema: S, input: z.input<S>): z.output<S> {
    const result = schema.safeParse(input);
    if (result.success) return result.data;
    throw new TargetArgsError(
        target,
        result.error.issues.map((issue) => {
            // An unknown key is reported on its parent; name the key itself so a typo is found at once.
            const keys = issue.code === "unrecognized_keys" ? issue.keys.map((k) => fieldPath([...issue.path, k])).join(", ") : fieldPath(issue.path);
            return `${keys}: ${issue.message}`;
        }),
    );
}

/** Splits the non-config arguments off before the schema, which refuses unknown keys. Pure. */
function splitSecrets<T extends SecretValues>(args: T): [Omit<T, "secretValues">, Record<string, pulumi.Input<string>>] {
    const { secretValues, ...config } = args;
    return [config, secretValues ?? {}];
}

/** The cloud target (ECR, image, EKS with GPU nodes, add-ons, serving) from only the arguments you set. */
export function cloudTarget(args: CloudTargetInput, opts?: pulumi.ComponentResourceOptions): CloudTargetOutputs {
    const [config, secretValues] = splitSecrets(args);
    return buildCloud({ ...withTargetDefaults("cloudTarget", cloudSchema, config), secretValues } satisfies CloudTargetArgs, opts);
}

/** The edge target (ECR, multi-arch image, device pull role, devices over Docker) from only the arguments you set. */
export function edgeTarget(args: EdgeTargetInput, opts?: pulumi.ComponentResourceOptions): EdgeTargetOutputs {
    const [config, secretValues] = splitSecrets(args);
    return buildEdge({ ...withTargetDefaults("edgeTarget", edgeSchema, config), secretValues } satisfies EdgeTargetArgs, opts);
}

/** The hybrid target (the cloud target plus an existing cluster through its kubeconfig) from only the arguments you set. */
export function hybridTarget(args: HybridTargetInput, opts?: pulumi.ComponentResourceOptions): HybridTargetOutputs {
    const { onPremKubeconfig, ...rest } = args;
    const [config, secretValues] = splitSecrets(rest);
    return buildHybrid({ ...withTargetDefaults("hybridTarget", hybridSchema, config), secretValues, onPremKubeconfig } satisfies HybridTargetArgs, opts);
}
