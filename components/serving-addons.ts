import * as pulumi from "@pulumi/pulumi";
import { ArgChecker, isDnsLabel } from "./internal/validation";
import { pinnedRelease } from "./internal/helm";

export const SERVING_ADDONS_TYPE = "modelship:index:ServingAddons";

/** KEDA Helm chart, pinned. */
export const KEDA_CHART = { chart: "keda", version: "2.21.1", repo: "https://kedacore.github.io/charts" } as const;
/** prometheus-community `prometheus` Helm chart, pinned. */
export const PROMETHEUS_CHART = { chart: "prometheus", version: "27.52.0", repo: "https://prometheus-community.github.io/helm-charts" } as const;

/** Arguments of {@link ServingAddons}. Every field is optional. */
export interface ServingAddonsArgs {
    /** Install KEDA, which owns the HPAs of autoscaled InferenceServices. Default true. */
    keda?: boolean;
    /** Namespace of KEDA. Default "keda". */
    kedaNamespace?: string;
    /** Install a minimal Prometheus (server only) scraping pods by their `prometheus.io/*` annotations. Default true. */
    prometheus?: boolean;
    /** Namespace of Prometheus. Default "monitoring". */
    prometheusNamespace?: string;
    /** How long Prometheus keeps samples; autoscaling needs minutes, not weeks. Default "2d". */
    prometheusRetention?: string;
    /** Prometheus scrape interval. Default "15s". */
    scrapeInterval?: string;
    /** URL of an existing Prometheus, when `prometheus` is false; becomes `prometheusUrl`. Default none. */
    existingPrometheusUrl?: string;
}

/** Defaults, in one place. */
export const SERVING_ADDONS_DEFAULTS = {
    keda: true,
    kedaNamespace: "keda",
    prometheus: true,
    prometheusNamespace: "monitoring",
    prometheusRetention: "2d",
    scrapeInterval: "15s",
} as const;

/** Validates the arguments; throws an error naming the field and the fix. Pure: no Pulumi calls. */
export function validateServingAddonsArgs(name: string, args: ServingAddonsArgs): void {
    const c = new ArgChecker("ServingAddons", name);
    c.check(isDnsLabel(name, 40), "name", `"${name}" must be a DNS label of at most 40 characters: it names the Prometheus server`);
    for (const field of ["kedaNamespace", "prometheusNamespace"] as const) {
        const v = args[field];
        if (v !== undefined) c.check(isDnsLabel(v), field, `"${v}" is not a valid namespace name`);
    }
    for (const field of ["prometheusRetention", "scrapeInterval"] as const) {
        const v = args[field];
        if (v !== undefined) c.check(/^\d+(ms|s|m|h|d|w|y)$/.test(v), field, `"${v}" is not a Prometheus duration such as "15s" or "2d"`);
    }
    const prometheus = args.prometheus ?? SERVING_ADDONS_DEFAULTS.prometheus;
    if (prometheus) c.check(args.existingPrometheusUrl === undefined, "existingPrometheusUrl", "is only used with prometheus: false: remove it, or turn the bundled Prometheus off");
    else c.check(args.existingPrometheusUrl !== undefined, "existingPrometheusUrl", "is required with prometheus: false: give the URL KEDA should query");
    c.done();
}

/** Typed values of the `prometheus` chart: the server only, scraping annotated pods, no persistence. Pure. */
const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8, y: 3.1536e10 };
/** The chart's default scrape timeout. */
const CHART_SCRAPE_TIMEOUT = "10s";

/** Milliseconds of a Prometheus duration such as "15s". Pure. */
export function durationMs(duration: string): number {
    const m = /^(\d+)(ms|s|m|h|d|w|y)$/.exec(duration);
    if (!m) throw new Error(`"${duration}" is not a Prometheus duration`);
    return Number(m[1]) * DURATION_UNIT_MS[m[2]];
}

/** The scrape timeout: the chart's 10s, or the interval itself when that is shorter. Pure. */
export function scrapeTimeout(scrapeInterval: string): string {
    return durationMs(scrapeInterval) < durationMs(CHART_SCRAPE_TIMEOUT) ? scrapeInterval : CHART_SCRAPE_TIMEOUT;
}

export function prometheusValues(serverName: string, retention: string, scrapeInterval: string): Record<string, unknown> {
    return {
        alertmanager: { enabled: false },
        "prometheus-pushgateway": { enabled: false },
        "kube-state-metrics": { enabled: false },
        "prometheus-node-exporter": { enabled: false },
        server: {
            fullnameOverride: serverName,
            retention,
            // Samples matter for minutes (autoscaling): losing them with the pod is acceptable.
            persistentVolume: { enabled: false },
            // The chart's default scrape_timeout (10s) survives Helm's merge; Prometheus refuses a timeout longer than
            // the interval, so a short interval gets a timeout equal to itself.
            global: { scrape_interval: scrapeInterval, scrape_timeout: scrapeTimeout(scrapeInterval) },
        },
    };
}

/**
 * The cluster-wide pieces autoscaled InferenceServices need, once per cluster: KEDA and a minimal Prometheus, as
 * pinned Helm releases. `prometheusUrl` resolves after both are installed, so a ScaledObject using it waits for them.
 */
export class ServingAddons extends pulumi.ComponentResource {
    /** In-cluster URL of Prometheus, for `InferenceService` `autoscaling.prometheusUrl`. */
    readonly prometheusUrl: pulumi.Output<string>;

    constructor(name: string, args: ServingAddonsArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        validateServingAddonsArgs(name, args);
        super(SERVING_ADDONS_TYPE, name, {}, opts);

        const d = SERVING_ADDONS_DEFAULTS;
        const installed: pulumi.Output<string>[] = [];

        if (args.keda ?? d.keda) {
            const keda = pinnedRelease(
                `${name}-keda`,
                KEDA_CHART,
                { name: "keda", namespace: args.kedaNamespace ?? d.kedaNamespace, createNamespace: true },
                { parent: this },
            );
            installed.push(keda.status.status);
        }

        let url: string;
        if (args.prometheus ?? d.prometheus) {
            const ns = args.prometheusNamespace ?? d.prometheusNamespace;
            const serverName = `${name}-prometheus`;
            const prom = pinnedRelease(
                `${name}-prometheus`,
                PROMETHEUS_CHART,
                {
                    name: serverName,
                    namespace: ns,
                    createNamespace: true,
                    values: prometheusValues(serverName, args.prometheusRetention ?? d.prometheusRetention, args.scrapeInterval ?? d.scrapeInterval),
                },
                { parent: this },
            );
            installed.push(prom.status.status);
            // The chart's server Service listens on port 80 under the server's full name.
            url = `http://${serverName}.${ns}.svc.cluster.local:80`;
        } else {
            url = args.existingPrometheusUrl!;
        }

        this.prometheusUrl = pulumi.all(installed).apply(() => url);
        this.registerOutputs({ prometheusUrl: this.prometheusUrl });
    }
}
