/**
 * The second `pulumi up` is quiet: each sample stack, run twice with the same configuration (as two `modelship plan`
 * processes), registers every resource with the same inputs. The mock's ECR authorization token rotates per call, as
 * ECR's does, so a rotating value in any resource's or provider's inputs shows here.
 */
import * as path from "path";
import { freshRequire } from "../support/mocks";
import { plan } from "../../cli/plan";
import { formatRunChanges, secondRunChanges } from "../../cli/second-run";

const root = path.resolve(__dirname, "..", "..");

describe.each(["cloud", "edge", "hybrid"])("stack %s run twice", (stack) => {
    it("registers every resource with the same inputs the second time", async () => {
        const first = await plan({ stack, json: true, projectDir: root, load: freshRequire });
        const second = await plan({ stack, json: true, projectDir: root, load: freshRequire });
        expect(second.recorder.resources.length).toBe(first.recorder.resources.length);
        expect(formatRunChanges(secondRunChanges(first.recorder.resources, second.recorder.resources))).toBe("");
    });
});
