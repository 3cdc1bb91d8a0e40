/**
 * "The second run is quiet": the same program, run twice with the same inputs, must register every resource with the
 * same inputs. A difference is a resource Pulumi would update on every `pulumi up` (a rotating token in a provider's
 * config, a timestamp, an unordered collection, a tag that drifts) and a preview that is never clean.
 */
import { changedPaths } from "./plan";

/** What the comparison needs of a recorded resource (a subset of `RecordedResource`). */
export interface RunResource {
    urn: string;
    type?: string;
    inputs: Record<string, unknown>;
}

/** One resource that differs between two runs. */
export interface RunChange {
    urn: string;
    /** `added` / `removed` in the second run, or the input paths whose values differ. */
    change: "added" | "removed" | "changed";
    paths: string[];
}

/**
 * Input changes a provider's own diff ignores, so they never update the resource. Checked against the pinned sources:
 * pulumi-docker-build v0.0.22 `Image.Diff` compares registries by address and username only
 * (provider/internal/image.go). The docker provider's `registryAuth` is not here: pulumi-docker ignored password
 * changes in #1327 and reverted it in #1341 (January 2025), so 4.11 still updates on a new token.
 */
export const PROVIDER_IGNORED_CHANGES: readonly { type: string; path: RegExp }[] = [{ type: "docker-build:index:Image", path: /^registries\[\d+\]\.password$/ }];

/** The resources whose inputs differ between two runs of one program, by URN, less what providers ignore. Pure. */
export function secondRunChanges(first: readonly RunResource[], second: readonly RunResource[], ignored: readonly { type: string; path: RegExp }[] = PROVIDER_IGNORED_CHANGES): RunChange[] {
    const before = new Map(first.map((r) => [r.urn, r]));
    const after = new Map(second.map((r) => [r.urn, r]));
    const changes: RunChange[] = [];
    for (const [urn, r] of before) {
        const again = after.get(urn);
        if (!again) changes.push({ urn, change: "removed", paths: [] });
        else {
            const type = again.type ?? r.type;
            const paths = changedPaths(r.inputs, again.inputs).filter((p) => !ignored.some((i) => i.type === type && i.path.test(p)));
            if (paths.length > 0) changes.push({ urn, change: "changed", paths });
        }
    }
    for (const urn of after.keys()) if (!before.has(urn)) changes.push({ urn, change: "added", paths: [] });
    return changes;
}

/** The changes, one per line. Pure. */
export function formatRunChanges(changes: readonly RunChange[]): string {
    return changes.map((c) => `  - ${c.urn}: ${c.change}${c.paths.length > 0 ? ` ${c.paths.join(", ")}` : ""}`).join("\n");
}
