/**
 * Every sample stack, run as `modelship plan` runs it, keeps the contracts a real `pulumi up` relies on (cli/contracts.ts):
 * names within AWS's limits once autonamed, names and labels the API server accepts, and the creation order of
 * namespaces, CRDs, node groups and image pushes.
 */
import * as fs from "fs";
import * as path from "path";
import { freshRequire } from "../support/mocks";
import { plan, readStackConfig } from "../../cli/plan";
import { formatViolations, nameCollisions } from "../../cli/contracts";
import type { PlanResult } from "../../cli/plan";

const root = path.resolve(__dirname, "..", "..");

/** Violations a known, unmerged fix would remove: none. Keep it empty: every stack must be clean. */
const AWAITING_FIX: { finding: string; contract: string; urn: RegExp }[] = [];

/** Every shipped stack (stacks/Pulumi.*.yaml). */
const STACKS = fs
    .readdirSync(path.join(root, "stacks"))
    .flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? [])
    .sort();
const runs = new Map<string, PlanResult>();

beforeAll(async () => {
    for (const stack of STACKS) runs.set(stack, await plan({ stack, json: true, projectDir: root, load: freshRequire }));
}, 600_000);

describe.each(STACKS)("stack %s", (stack) => {
    it("breaks no contract of the providers or the API server", () => {
        const result = runs.get(stack)!;
        expect(result.recorder.resources.length).toBeGreaterThan(10);
        const unexpected = result.contractViolations.filter((v) => !AWAITING_FIX.some((k) => k.contract === v.contract && k.urn.test(v.urn)));
        expect(formatViolations(unexpected)).toBe("");
    });
});

describe("the sample stacks side by side", () => {
    it("claim no AWS name another one claims in the same account and region", () => {
        const programs = STACKS.map((stack) => ({ stack, region: String(readStackConfig(root, stack).config["aws:region"]), resources: runs.get(stack)!.recorder.resources }));
        expect(formatViolations(nameCollisions(programs))).toBe("");
    });
});
