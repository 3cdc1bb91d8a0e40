/**
 * Issue 13's done-when: the cloud and edge stacks plan with signing and verification on and zero mandatory violations
 * of the policy pack (whose `signed-images-verified` rule asks for the verifiers whenever images are signed).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { plan as runPlan, type PlanOptions } from "../../cli/plan";
import { freshRequire } from "../support/mocks";

const plan = (opts: PlanOptions) => runPlan({ load: freshRequire, ...opts });
const root = path.resolve(__dirname, "..", "..");
const CERT = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2VrZXlmb3J0ZXN0cw==";

/** A throwaway project running the shipped stacks program, with the shipped stack file plus `extra` config lines. */
function projectWith(stack: string, extra: string, edit: (text: string) => string = (t) => t): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-signed-"));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: modelship\nruntime: nodejs\nmain: ${path.join(root, "stacks", "index.ts")}\nstackConfigDir: stacks\n`);
    const text = edit(fs.readFileSync(path.join(root, "stacks", `Pulumi.${stack}.yaml`), "utf8")).replace("config:\n", `config:\n${extra}`);
    fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${stack}.yaml`), text);
    for (const f of fs.readdirSync(path.join(root, "stacks")).filter((f) => !f.startsWith("Pulumi."))) fs.symlinkSync(path.join(root, "stacks", f), path.join(dir, "stacks", f));
    fs.symlinkSync(path.join(root, "inference-image"), path.join(dir, "inference-image"));
    return dir;
}

describe("plan --enforce with signing on", () => {
    it("cloud: signed, verified by the admission policy, no mandatory violation and no unsigned-image warning", async () => {
        const dir = projectWith("cloud", `  modelship:signing: true\n  modelship:signerRootCertificate: "${CERT}"\n`);
        const r = await plan({ stack: "cloud", json: false, projectDir: dir, enforce: true });
        expect(r.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
        expect(r.refused).toBe(false);
        expect(r.contractViolations).toEqual([]);
        expect(r.text).not.toMatch(/warning: .*unsigned/i);
        expect(r.plan.resources.some((x) => x.type.startsWith("kubernetes:constraints.gatekeeper.sh/"))).toBe(true);
    });

    it("edge: each device verifies the signature before it pulls, no mandatory violation", async () => {
        const dir = projectWith("edge", "  modelship:signing: true\n", (t) => t.replace(/(\n(\s+)host: ssh:\/\/[^\n]*)/g, `$1\n$2hostKey: ${HOST_KEY}`));
        const r = await plan({ stack: "edge", json: false, projectDir: dir, enforce: true });
        expect(r.violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
        expect(r.contractViolations).toEqual([]);
        expect(r.plan.resources.some((x) => x.type === "command:remote:Command")).toBe(true);
    });
});
