/**
 * Control-plane facts a `GpuCluster` derives before the cluster exists: its physical name, where EKS writes its logs,
 * and how long they are kept. Pure: no Pulumi calls.
 */
import { createHash } from "crypto";

/** Every control-plane log type EKS offers; all are sent to CloudWatch. */
export const CONTROL_PLANE_LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"] as const;

/** The retention periods CloudWatch Logs accepts, in days (0 keeps events forever). */
export const CLOUDWATCH_RETENTION_DAYS = [0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** EKS cluster names: 1-100 characters, letters, digits, `-` and `_`, starting with a letter or digit. */
export const EKS_CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/;
export const EKS_CLUSTER_NAME_MAX = 100;

/**
 * The cluster's physical name when none is given: `<name>-<stack>-<6 hex>`, the hash taken over project and stack so
 * that two projects with a stack of the same name do not collide in one account and region. Shortened to fit 100
 * characters. EKS names must be fixed before creation because the log group that receives the cluster's logs is
 * named after it and must exist first.
 */
export function defaultClusterName(name: string, project: string, stack: string): string {
    const hash = createHash("sha256").update(`${project}/${stack}`).digest("hex").slice(0, 6);
    const stackPart = stack.replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^-+|-+$/g, "");
    const head = stackPart.length > 0 ? `${name}-${stackPart}` : name;
    return `${head.slice(0, EKS_CLUSTER_NAME_MAX - hash.length - 1).replace(/[-_]+$/, "")}-${hash}`;
}

/** The log group EKS writes control-plane logs to; it is fixed by EKS, so the component creates it under this name. */
export function controlPlaneLogGroupName(clusterName: string): string {
    return `/aws/eks/${clusterName}/cluster`;
}
