/**
 * The second `pulumi up` is quiet: each sample stack, run twice with the same configuration (as two `modelship plan`
 * processes), registers every resource with the same inputs. The mock's ECR authorization token rotates per call, as
 * ECR's does, so a rotating value in any resource's or provider's inputs shows here.
 */
import * as fs from "fs";
import * as path from "path";
import { freshRequire } from "../support/mocks";
import { plan } from "../../cli/plan";
import { formatRunChanges, secondRunChanges } from "../../cli/second-run";

const root = path.resolve(__dirname, "..", "..");

/**
 * Declined (README "Deploying for real", docs/edge-device.md): the edge Docker provider's `registryAuth` holds the
 * pull-only role's ECR token, fetched fresh each run; a preview ignores it (`ignoreChanges` in dry runs only), an update
 * writes it. The one change the second run may show until devices pull with their own credentials.
 */
const DECLINED: RegExp[] = [/EdgeDevice\$pulumi:providers:docker::modelship-edge-jetson-01-docker$/];

/** Every shipped stack (stacks/Pulumi.*.yaml). */
const STACKS = fs
    .readdirSync(path.join(root, "stacks"))
    .flatMap((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1] ?? [])
    .sort();

describe.each(STACKS)("stack %s run twice", (stack) => {
    it("registers every resource with the same inputs the second time", async () => {
        const first = await plan({ stack, json: true, projectDir: root, load: freshRequire });
        const second = await plan({ stack, json: true, projectDir: root, load: freshRequire });
        expect(second.recorder.resources.length).toBe(first.recorder.resources.length);
        const changes = secondRunChanges(first.recorder.resources, second.recorder.resources).filter((c) => !(c.change === "changed" && c.paths.join() === "registryAuth" && DECLINED.some((k) => k.test(c.urn))));
        expect(formatRunChanges(changes)).toBe("");
    }, 240_000);
});
