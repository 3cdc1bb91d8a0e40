/**
 * Every sample stack, run as `modelship plan` runs it, keeps the contracts a real `pulumi up` relies on (cli/contracts.ts):
 * names within AWS's limits once autonamed, names and labels the API server accepts, and the creation order of
 * namespaces, CRDs, node groups and image pushes.
 */
import * as path from "path";
import { freshRequire } from "../support/mocks";
import { plan } from "../../cli/plan";
import { formatViolations } from "../../cli/contracts";

const root = path.resolve(__dirname, "..", "..");

describe.each(["cloud", "edge", "hybrid"])("stack %s", (stack) => {
    it("breaks no contract of the providers or the API server", async () => {
        const result = await plan({ stack, json: true, projectDir: root, load: freshRequire });
        expect(result.recorder.resources.length).toBeGreaterThan(10);
        expect(formatViolations(result.violations)).toBe("");
    });
});
