/** The second-run comparison (cli/second-run.ts) and the mock behaviour it relies on: tokens that rotate. */
import * as aws from "@pulumi/aws";
import { installMockRuntime, valueOf } from "../support/mocks";
import { formatRunChanges, secondRunChanges } from "../../cli/second-run";
import { installMockRuntime as installFromTesting, secondRunChanges as secondRunChangesFromTesting } from "../../cli/testing";
import { ImageRegistry } from "../../components";

describe("secondRunChanges", () => {
    const r = (urn: string, inputs: Record<string, unknown>) => ({ urn, inputs });
    it("reports the input paths that differ, and resources only one run has", () => {
        const first = [r("a", { tags: ["x", "y"], cfg: { token: "t1", region: "r" } }), r("gone", {})];
        const second = [r("a", { tags: ["y", "x"], cfg: { token: "t2", region: "r" } }), r("new", {})];
        expect(secondRunChanges(first, second)).toEqual([
            { urn: "a", change: "changed", paths: ["cfg.token", "tags[0]", "tags[1]"] },
            { urn: "gone", change: "removed", paths: [] },
            { urn: "new", change: "added", paths: [] },
        ]);
        expect(formatRunChanges(secondRunChanges(first, second))).toContain("  - a: changed cfg.token, tags[0], tags[1]");
    });
    it("leaves out what the provider's own diff ignores: docker-build's registry password, not the docker provider's registryAuth", () => {
        const image = (password: string) => ({ urn: "i", type: "docker-build:index:Image", inputs: { registries: [{ address: "a", username: "AWS", password }] } });
        expect(secondRunChanges([image("t1")], [image("t2")])).toEqual([]);
        expect(secondRunChanges([image("t1")], [image("t2")], [])).toEqual([{ urn: "i", change: "changed", paths: ["registries[0].password"] }]);
        const provider = (password: string) => ({ urn: "p", type: "pulumi:providers:docker", inputs: { registryAuth: JSON.stringify([{ address: "a", password }]) } });
        expect(secondRunChanges([provider("t1")], [provider("t2")])).toEqual([{ urn: "p", change: "changed", paths: ["registryAuth"] }]);
    });
    it("is quiet when every resource has the same inputs, whatever the key order", () => {
        expect(secondRunChanges([r("a", { x: 1, y: { z: [1] } })], [r("a", { y: { z: [1] }, x: 1 })])).toEqual([]);
    });
});

describe("the mock ECR authorization token", () => {
    it("differs on every call, as ECR's does, so a token stored in inputs shows up as drift", async () => {
        installMockRuntime();
        const a = await valueOf(aws.ecr.getAuthorizationTokenOutput({}).password);
        const b = await valueOf(aws.ecr.getAuthorizationTokenOutput({}).password);
        expect(a).toMatch(/^mock-ecr-password-\d+$/);
        expect(b).not.toBe(a);
    });
});

describe("running one program twice in one test, as docs/plan.md shows", () => {
    it("compares the two recordings through modelship/testing", async () => {
        const program = () => new ImageRegistry("app", {});
        const first = installFromTesting();
        program();
        await first.settle();
        const second = installFromTesting();
        program();
        await second.settle();
        expect(first.resources.length).toBeGreaterThan(2);
        expect(secondRunChangesFromTesting(first.resources, second.resources)).toEqual([]);
        expect(first.checkContracts()).toEqual([]);
    });
});
