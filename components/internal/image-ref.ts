/** Image references. Deployments run images pinned by digest, so what runs is exactly what was built and scanned. */

const DIGEST_REF = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

/** True for `repository@sha256:<64 hex>` (a tag before the digest, `repo:tag@sha256:…`, is allowed). */
export function isDigestRef(ref: string): boolean {
    return DIGEST_REF.test(ref);
}

/** The registry host of an image reference or repository URL (`host[:port]`). */
export function registryHost(ref: string): string {
    return ref.split("/")[0];
}

/** Swaps the AWS region in an ECR image reference, e.g. to pull a replica near an edge device. */
export function ecrRefInRegion(ref: string, region: string): string {
    return ref.replace(/^(\d{12})\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com\//, `$1.dkr.ecr.${region}.amazonaws.com/`);
}
