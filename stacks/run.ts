/**
 * Runs the target named by `modelship:target` and returns the stack outputs. Shared by the Pulumi program
 * (stacks/index.ts) and `modelship plan`, so the plan shows exactly what `pulumi up` would declare.
 */
import * as pulumi from "@pulumi/pulumi";
import { cloudTarget } from "./cloud";
import {
    awsRegionProblems,
    CONFIG_NAMESPACE,
    ConfigProblems,
    deviceTlsKeys,
    parseTarget,
    parseTargetConfig,
    pulumiConfigGetter,
    requireSecretConfig,
    servedModel,
    configEngine,
    type Target,
    unknownKeyProblems,
} from "./config";
import { edgeTarget } from "./edge";
import { hybridTarget } from "./hybrid";

export interface StackRun {
    target: Target;
    /** Stack outputs (`pulumi stack output`). */
    outputs: Record<string, pulumi.Input<unknown>>;
}

/** The keys of namespace `ns` (without it) among the stack's config keys (`aws:region`, `modelship:target`, ...). Pure. */
export function keysOf(ns: string, allKeys: readonly string[]): string[] {
    return allKeys.filter((k) => k.startsWith(`${ns}:`)).map((k) => k.slice(ns.length + 1));
}

/**
 * Reads the stack configuration and declares the chosen target's resources. Every problem of the configuration
 * (unknown keys, bad values, missing secrets, `aws:region`) is reported at once, in one {@link ConfigError}, before any
 * resource is declared.
 */
export function runStack(config = new pulumi.Config(CONFIG_NAMESPACE), allKeys: readonly string[] = Object.keys(pulumi.runtime.allConfig())): StackRun {
    const problems = new ConfigProblems();
    const get = pulumiConfigGetter(config);
    const region = new pulumi.Config("aws").get("region");
    problems.add(...awsRegionProblems(region, keysOf("aws", allKeys)));
    const target = problems.check(() => parseTarget(get("target")));
    const setKeys = keysOf(CONFIG_NAMESPACE, allKeys);
    const secretsOf = (names: readonly string[], why?: string) => {
        const out: Record<string, pulumi.Output<string>> = {};
        for (const n of names) {
            const value = problems.check(() => requireSecretConfig(config, n, why ?? `is listed in ${CONFIG_NAMESPACE}:secrets`));
            if (value) out[n] = value;
        }
        return out;
    };
    // The secret keys a target reads are known keys; when its config does not parse, those `secrets` lists are.
    const listedSecrets = (): string[] => {
        const s = problems.check(() => get("secrets"));
        return Array.isArray(s) ? s.filter((x): x is string => typeof x === "string") : [];
    };
    const check = <T>(target: Target, parse: () => T, secretKeys: (c: T) => string[]): T | undefined => {
        const c = problems.check(parse);
        problems.add(...unknownKeyProblems(target, setKeys, c ? secretKeys(c) : [...listedSecrets(), ...(target === "hybrid" ? ["onPremKubeconfig"] : [])]));
        return c;
    };
    switch (target) {
        case undefined:
            problems.add(...unknownKeyProblems(undefined, setKeys, listedSecrets()));
            problems.done();
            throw new Error("unreachable: a missing target is a configuration problem");
        case "cloud": {
            const c = check("cloud", () => parseTargetConfig("cloud", get), (c) => c.secrets);
            const secretValues = secretsOf(c ? c.secrets : listedSecrets());
            if (c && configEngine(c.service.server) === "modelship") problems.check(() => servedModel(c));
            problems.done();
            const out = cloudTarget({ ...c!, secretValues });
            return { target, outputs: { endpoint: out.service.endpoint, imageRef: out.imageRef, imageBuild: out.imageBuild, kubeconfig: out.cluster.kubeconfig, clusterName: out.cluster.clusterName } };
        }
        case "edge": {
            const c = check("edge", () => parseTargetConfig("edge", get), (c) => [...c.secrets, ...deviceTlsKeys(c)]);
            const secretValues = { ...secretsOf(c ? c.secrets : listedSecrets()), ...(c ? secretsOf(deviceTlsKeys(c), `holds a device's TLS material (${CONFIG_NAMESPACE}:devices[].tls)`) : {}) };
            if (c) problems.check(() => servedModel(c));
            problems.done();
            const out = edgeTarget({ ...c!, secretValues, providerRegion: region });
            return {
                target,
                outputs: {
                    imageRef: out.image.ref,
                    deviceImageRef: out.deviceImageRef,
                    pullRoleArn: out.pullRoleArn,
                    rolesAnywhereProfileArn: out.rolesAnywhereProfileArn,
                    deviceEndpoints: pulumi.all(out.devices.map((d) => d.endpoint)),
                },
            };
        }
        case "hybrid": {
            const c = check("hybrid", () => parseTargetConfig("hybrid", get), (c) => [...c.secrets, "onPremKubeconfig"]);
            const secretValues = secretsOf(c ? c.secrets : listedSecrets());
            const kubeconfig = problems.check(() => requireSecretConfig(config, "onPremKubeconfig", "is required for the hybrid target"));
            if (c) problems.check(() => servedModel(c));
            problems.done();
            const out = hybridTarget({ ...c!, secretValues, onPremKubeconfig: kubeconfig! });
            return {
                target,
                outputs: {
                    imageRef: out.cloud.imageRef,
                    cloudEndpoint: out.cloud.service.endpoint,
                    onPremEndpoint: out.onPremService.endpoint,
                    kubeconfig: out.cloud.cluster.kubeconfig,
                },
            };
        }
    }
}
