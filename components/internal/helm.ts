import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** A third-party chart pinned to one version: bump it deliberately, in a reviewed diff. */
export interface PinnedChart {
    chart: string;
    version: string;
    repo: string;
}

/**
 * A Helm release of a pinned chart. Atomic, so a failed install or upgrade rolls back instead of leaving a half-applied
 * release behind.
 */
export function pinnedRelease(
    resourceName: string,
    chart: PinnedChart,
    release: { name: string; namespace: string; createNamespace?: boolean; values?: pulumi.Input<Record<string, unknown>> },
    opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
    return new k8s.helm.v3.Release(
        resourceName,
        {
            name: release.name,
            chart: chart.chart,
            version: chart.version,
            repositoryOpts: { repo: chart.repo },
            namespace: release.namespace,
            createNamespace: release.createNamespace,
            atomic: true,
            values: release.values,
        },
        opts,
    );
}
