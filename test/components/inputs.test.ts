import { installMockRuntime, valueOf } from "../support/mocks";

const recorder = installMockRuntime();
import * as pulumi from "@pulumi/pulumi";
import { checkInput, checkInputs, checkPlain, isPlain } from "../../components/internal/inputs";
import { outputError } from "../support/output-error";
import { ArgChecker } from "../../components/internal/validation";

const at = { component: "Thing", name: "t", field: "arn" };
const problem = (v: string) => (v.startsWith("arn:") ? undefined : `"${v}" is not an ARN (e.g. arn:aws:iam::123456789012:role/x)`);

describe("isPlain", () => {
    it("tells plain values from Outputs and promises", () => {
        expect(isPlain("x")).toBe(true);
        expect(isPlain(["x"])).toBe(true);
        expect(isPlain(pulumi.output("x"))).toBe(false);
        expect(isPlain(Promise.resolve("x"))).toBe(false);
    });
});

describe("checkPlain records plain problems and leaves Outputs to resolution", () => {
    it("records a plain bad value under the field", () => {
        const c = new ArgChecker("Thing", "t");
        checkPlain(c, "arn", "nope", problem);
        expect(() => c.done()).toThrow('Thing "t": arn "nope" is not an ARN (e.g. arn:aws:iam::123456789012:role/x)');
    });

    it("records nothing for a good value, an undefined one or an Output", () => {
        const c = new ArgChecker("Thing", "t");
        checkPlain(c, "arn", "arn:aws:iam::123456789012:role/x", problem);
        checkPlain(c, "arn", undefined, problem);
        checkPlain(c, "arn", pulumi.output("nope"), problem);
        expect(() => c.done()).not.toThrow();
    });
});

describe("checkInput", () => {
    it("throws at once for a plain bad value", () => {
        expect(() => checkInput(at, "nope", problem)).toThrow('Thing "t": arn "nope" is not an ARN');
    });

    it("passes plain and Output good values through", async () => {
        expect(await valueOf(checkInput(at, "arn:x", problem))).toBe("arn:x");
        expect(await valueOf(checkInput(at, pulumi.output("arn:y"), problem))).toBe("arn:y");
        expect(await valueOf(checkInput(at, Promise.resolve("arn:z"), problem))).toBe("arn:z");
    });

    it("fails an Output resolving to a bad value with the construction-time message", async () => {
        const out = checkInput(at, pulumi.output("nope"), problem);
        expect((await outputError(out))?.message).toContain('Thing "t": arn "nope" is not an ARN (e.g. arn:aws:iam::123456789012:role/x)');
    });

    it("checkInputs names each element's index", async () => {
        const outs = checkInputs(at, ["arn:a", pulumi.output("bad")], problem);
        expect(await valueOf(outs[0])).toBe("arn:a");
        expect((await outputError(outs[1]))?.message).toContain('Thing "t": arn[1] "bad" is not an ARN');
        expect(() => checkInputs(at, ["arn:a", "bad"], problem)).toThrow('Thing "t": arn[1] "bad"');
    });
});

afterAll(() => recorder.settle());
