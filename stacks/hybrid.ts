/**
 * The hybrid target: the cloud target, plus the same image digest on an existing on-prem or edge Kubernetes cluster
 * reached through a kubeconfig (a secret), with its secrets as a Kubernetes Secret.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { InferenceService, SecretWiring, ServingAddons } from "../components";
import { cloudTarget } from "./cloud";
import { type HybridConfig, servedModel } from "./config";
import type { HybridTarget } from "./target-args";

export interface HybridTargetArgs extends HybridConfig {
    /** Secret values by name (Pulumi secrets), wired into the pods of both clusters. */
    secretValues: Record<string, pulumi.Input<string>>;
    /** Kubeconfig of the on-prem cluster (a Pulumi secret). */
    onPremKubeconfig: pulumi.Input<string>;
}

/** What hybridTarget declares (the published type, stacks/target-args.ts). */
export type HybridTargetOutputs = HybridTarget;

/** Builds the hybrid target. Callable from any Pulumi program. */
export function hybridTarget(args: HybridTargetArgs, opts?: pulumi.ComponentResourceOptions): HybridTargetOutputs {
    const cloud = cloudTarget(args, opts);
    const prefix = `${args.name}-onprem`;
    const onPremProvider = new k8s.Provider(`${prefix}-k8s`, { kubeconfig: args.onPremKubeconfig, enableServerSideApply: true }, opts);
    const onPrem = { ...opts, provider: onPremProvider };
    const addons = new ServingAddons(`${prefix}-addons`, {}, onPrem);

    const o = args.onPrem;
    const secrets =
        Object.keys(args.secretValues).length > 0
            ? new SecretWiring(`${prefix}-secrets`, { mode: "kubernetes", namespace: o.namespace, createNamespace: true, secrets: args.secretValues }, onPrem)
            : undefined;
    const service = new InferenceService(
        `${prefix}-server`,
        {
            // The very digest the cloud runs: one build, two clusters.
            image: cloud.imageRef,
            // The wiring's namespace Output carries the dependency on the namespace it creates.
            namespace: secrets ? secrets.namespace : o.namespace,
            createNamespace: secrets === undefined,
            // The stack owns the namespace either way (SecretWiring creates it when there are secrets): close its egress.
            denyEgressByDefault: true,
            port: o.port,
            modelName: servedModel(args).modelName,
            gpu: o.gpusPerPod,
            // GPU pods also tolerate the nvidia.com/gpu taint (InferenceService adds it when gpu > 0).
            scheduling: o.nodeSelector ? { nodeSelector: o.nodeSelector } : undefined,
            replicas: o.replicas,
            secret: secrets,
            autoscaling: { prometheusUrl: addons.prometheusUrl },
            addonsReady: addons.ready,
            // The serving port (and /metrics) admits the same namespace and this Prometheus only.
            ingressFrom: { prometheus: addons.scraper },
            egressCidrs: o.egressCidrs,
        },
        { ...onPrem, dependsOn: [addons] },
    );
    return { cloud, onPremProvider, onPremAddons: addons, onPremSecrets: secrets, onPremService: service };
}
