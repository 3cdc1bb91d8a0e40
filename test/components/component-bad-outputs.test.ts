import { spawnSync } from "child_process";
import * as path from "path";

/** Loads TypeScript in the child the way ts-jest does here: transpile only, CommonJS. */
const TS_HOOK = `
const ts = require("typescript"); const fs = require("fs");
require.extensions[".ts"] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, "utf8"), { fileName: filename, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
  module._compile(out.outputText, filename);
};
require(process.argv[1]);
`;

describe("an Output resolving to a bad value fails the update with the construction-time message", () => {
    let messages: string[];
    beforeAll(() => {
        const program = path.join(__dirname, "..", "support", "bad-outputs-program.ts");
        const child = spawnSync(process.execPath, ["-e", TS_HOOK, program], { encoding: "utf8", timeout: 120_000 });
        if (child.status !== 0) throw new Error(`the program failed: ${child.stderr}`);
        messages = JSON.parse(child.stdout) as string[];
    }, 130_000);

    const failsWith = (text: string) => expect(messages.some((m) => m.includes(text))).toBe(true);

    it("GpuCluster admins and publicAccessCidrs", () => {
        failsWith('GpuCluster "gc": admins[0] "123456789012" is not an IAM role or user ARN');
        failsWith('GpuCluster "gw": publicAccessCidrs together cover 4,294,967,296 addresses');
    });
    it("ImageRegistry pullPrincipals", () => failsWith('ImageRegistry "ir": pullPrincipals[0] "role/x" is not an IAM principal'));
    it("InferenceService egressCidrs", () => failsWith('InferenceService "is": egressCidrs[0] "10.0.0.0/33" is not an IPv4 CIDR'));
    it("SecretWiring namespace", () => failsWith('SecretWiring "sw": namespace "Bad_NS" is not a valid namespace name'));
    it("ServingAddons existingPrometheusUrl", () => failsWith('ServingAddons "sa": existingPrometheusUrl "prom:9090" is not an http(s) URL'));
    it("EdgeDevice host", () => failsWith('EdgeDevice "ed": host "tcp://10.0.0.5:2375" conflicts with tls: tls is required'));
});
