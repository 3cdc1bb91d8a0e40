import type * as pulumi from "@pulumi/pulumi";

/**
 * The error an Output fails with when it resolves (what would fail `pulumi up`), or undefined if it resolves.
 * `promise()` is the Output's internal resolution, which rejects where an `apply` threw.
 */
export async function outputError(value: pulumi.Output<unknown>): Promise<Error | undefined> {
    const o = value as unknown as { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean>; allResources?: () => Promise<unknown> };
    // Every facet of a failed Output rejects; each is observed so that none is reported as an unhandled rejection.
    const facets = [o.isKnown, o.isSecret, ...(o.allResources ? [o.allResources()] : [])];
    facets.forEach((p) => p.catch(() => undefined));
    try {
        await o.promise();
        return undefined;
    } catch (e) {
        return e as Error;
    }
}

