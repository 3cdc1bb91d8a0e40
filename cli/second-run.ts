/**
 * "The second run is quiet": the same program, run twice with the same inputs, must register every resource with the
 * same inputs. A difference is a resource Pulumi would update on every `pulumi up` (a rotating token in a provider's
 * config, a timestamp, an unordered collection, a tag that drifts) and a preview that is never clean.
 */
import { changedPaths } from "./plan";

/** What the comparison needs of a recorded resource (a subset of `RecordedResource`). */
export interface RunResource {
    urn: string;
    inputs: Record<string, unknown>;
}

/** One resource that differs between two runs. */
export interface RunChange {
    urn: string;
    /** `added` / `removed` in the second run, or the input paths whose values differ. */
    change: "added" | "removed" | "changed";
    paths: string[];
}

/** The resources whose inputs differ between two runs of one program, by URN. Pure. */
export function secondRunChanges(first: readonly RunResource[], second: readonly RunResource[]): RunChange[] {
    const before = new Map(first.map((r) => [r.urn, r]));
    const after = new Map(second.map((r) => [r.urn, r]));
    const changes: RunChange[] = [];
    for (const [urn, r] of before) {
        const again = after.get(urn);
        if (!again) changes.push({ urn, change: "removed", paths: [] });
        else {
            const paths = changedPaths(r.inputs, again.inputs);
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
