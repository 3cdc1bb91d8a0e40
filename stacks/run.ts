/**
 * Runs the target named by `modelship:target` and returns the stack outputs. Shared by the Pulumi program
 * (stacks/index.ts) and `modelship plan`, so the plan shows exactly what `pulumi up` would declare.
 */
import * as pulumi from "@pulumi/pulumi";
import { cloudTarget } from "./cloud";
import { CONFIG_NAMESPACE, deviceTlsKeys, parseTarget, parseTargetConfig, pulumiConfigGetter, readSecrets, requireSecretConfig, type Target } from "./config";
import { edgeTarget } from "./edge";
import { hybridTarget } from "./hybrid";

export interface StackRun {
    target: Target;
    /** Stack outputs (`pulumi stack output`). */
    outputs: Record<string, pulumi.Input<unknown>>;
}

/** Reads the stack configuration and declares the chosen target's resources. */
export function runStack(config = new pulumi.Config(CONFIG_NAMESPACE)): StackRun {
    const get = pulumiConfigGetter(config);
    const target = parseTarget(get("target"));
    switch (target) {
        case "cloud": {
            const c = parseTargetConfig("cloud", get);
            const out = cloudTarget({ ...c, secretValues: readSecrets(config, c.secrets) });
            return { target, outputs: { endpoint: out.service.endpoint, imageRef: out.image.ref, kubeconfig: out.cluster.kubeconfig, clusterName: out.cluster.clusterName } };
        }
        case "edge": {
            const c = parseTargetConfig("edge", get);
            const secretValues = { ...readSecrets(config, c.secrets), ...readSecrets(config, deviceTlsKeys(c), `holds a device's TLS material (${CONFIG_NAMESPACE}:devices[].tls)`) };
            const out = edgeTarget({ ...c, secretValues });
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
            const c = parseTargetConfig("hybrid", get);
            const kubeconfig = requireSecretConfig(config, "onPremKubeconfig", "is required for the hybrid target");
            const out = hybridTarget({ ...c, secretValues: readSecrets(config, c.secrets), onPremKubeconfig: kubeconfig });
            return {
                target,
                outputs: {
                    imageRef: out.cloud.image.ref,
                    cloudEndpoint: out.cloud.service.endpoint,
                    onPremEndpoint: out.onPremService.endpoint,
                    kubeconfig: out.cloud.cluster.kubeconfig,
                },
            };
        }
    }
}
