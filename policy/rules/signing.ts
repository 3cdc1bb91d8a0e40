/**
 * Signed images: when the stack signs images, something must verify the signatures before workloads run. Signing is
 * ECR managed signing (`aws-native:ecr:SigningConfiguration`) or an AWS Signer profile; verification is a Kyverno
 * policy with `verifyImages` (or an ImageValidatingPolicy), or Ratify (a Verifier) with a Gatekeeper constraint, in
 * the cluster of the workloads; on Docker hosts, a verification step (`notation verify` / `cosign verify`) the
 * container depends on.
 */
import type { PolicyResource } from "@pulumi/policy";
import { arr, obj, stackRule } from "./rule";
import { WORKLOAD_TYPES } from "./kubernetes";

export const SIGNING_TYPES = ["aws-native:ecr:SigningConfiguration", "aws:signer/signingProfile:SigningProfile"];
export const DOCKER_CONTAINER = "docker:index/container:Container";

/** Whether a resource is an admission policy that verifies image signatures. Pure. */
export function isImageVerifier(r: Pick<PolicyResource, "type" | "props">): boolean {
    if (/^kubernetes:kyverno\.io\/v[0-9a-z]+:(Cluster)?Policy$/.test(r.type)) return arr(obj(r.props.spec)?.rules).some((rule) => arr(rule.verifyImages).length > 0);
    return /^kubernetes:policies\.kyverno\.io\/v[0-9a-z]+:ImageValidatingPolicy$/.test(r.type);
}

/** Ratify verifies only together with a Gatekeeper constraint that calls it. */
function hasRatify(resources: PolicyResource[], provider: string): boolean {
    const inCluster = resources.filter((r) => (r.provider?.urn ?? "") === provider);
    return inCluster.some((r) => /^kubernetes:config\.ratify\.deislabs\.io\/v[0-9a-z]+:Verifier$/.test(r.type)) && inCluster.some((r) => r.type.startsWith("kubernetes:constraints.gatekeeper.sh/"));
}

/** Whether a resource is a device-side verification step (a command running `notation verify` or `cosign verify`). */
function isVerifyCommand(r: PolicyResource): boolean {
    return r.type.startsWith("command:") && /\b(notation|cosign)\s+verify\b/.test(JSON.stringify(r.props));
}

/** Whether `r` depends, directly or through its dependencies, on a resource matching `pred`. */
function dependsOn(r: PolicyResource, pred: (d: PolicyResource) => boolean, seen = new Set<string>()): boolean {
    return r.dependencies.some((d) => {
        if (seen.has(d.urn)) return false;
        seen.add(d.urn);
        return pred(d) || dependsOn(d, pred, seen);
    });
}

export const signedImageEnforcement = stackRule(
    {
        name: "signed-image-enforcement",
        description: "when the stack signs images, their signatures are verified before anything runs: an admission policy in every cluster with workloads, a verify step before every Docker container",
        remediation:
            "turn on signature verification with signing (a Kyverno ClusterPolicy with verifyImages, or Ratify with a Gatekeeper constraint, in each cluster; on devices, a notation verify step the container depends on)",
        cis: "4.5.1",
        enforcementLevel: "mandatory",
        severity: "critical",
    },
    (args, report) => {
        if (!args.resources.some((r) => SIGNING_TYPES.includes(r.type))) return;
        const verifiedClusters = new Set(args.resources.filter(isImageVerifier).map((r) => r.provider?.urn ?? ""));
        const checked = new Set<string>();
        for (const w of args.resources.filter((r) => WORKLOAD_TYPES.includes(r.type))) {
            const cluster = w.provider?.urn ?? "";
            if (checked.has(cluster)) continue;
            checked.add(cluster);
            if (!verifiedClusters.has(cluster) && !hasRatify(args.resources, cluster)) {
                report(`images are signed but the cluster of ${w.name} has no admission policy verifying signatures`, w.urn);
            }
        }
        for (const c of args.resources.filter((r) => r.type === DOCKER_CONTAINER)) {
            if (!dependsOn(c, isVerifyCommand)) report(`images are signed but container ${c.name} does not wait for a signature verification step`, c.urn);
        }
    },
);

export const signingRules = [signedImageEnforcement];
