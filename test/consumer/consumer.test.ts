/**
 * "Done when": a consumer project created from scratch installs modelship from the packed tarball, offline, composes
 * the components with Outputs under `pulumi new typescript`'s tsconfig with "strict", resolves `modelship/stacks` and
 * `modelship/testing`, runs the `modelship` command and unit-tests itself with `modelship/testing`.
 *
 * Offline: the packages come from the npm cache this repository's own install filled. `npm install` of a range needs
 * the registry's metadata, which `npm ci` never caches, so the project carries a lockfile pinning what this
 * repository's lock pins, and installs with `npm ci --offline`.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { consumerLockfile, writeConsumerProject } from "./fixture";

const root = path.resolve(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));


/** Runs a command; on failure, throws with its whole output so the failing step is visible in the jest report. */
function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): string {
    try {
        return execFileSync(cmd, args, { cwd, encoding: "utf8", stdio: "pipe", env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
    } catch (err) {
        const e = err as { status?: number; stdout?: string; stderr?: string };
        throw new Error(`\`${cmd} ${args.join(" ")}\` in ${cwd} exited ${e.status}:\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
    }
}

let work: string;
let project: string;
let tarball: string;

beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-consumer-"));
    // `npm pack` runs `prepare`, which builds dist/ afresh.
    const name = run("npm", ["pack", "--silent", "--pack-destination", work], root).trim().split("\n").pop()!;
    tarball = path.join(work, name);
    project = path.join(work, "consumer");
    fs.mkdirSync(project);
    const repoLock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
    writeConsumerProject(project, consumerLockfile(repoLock, { spec: `file:../${name}`, version: pkg.version, dependencies: pkg.dependencies, bin: pkg.bin }));
    run("npm", ["ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], project);
}, 240_000);

afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("the packed package", () => {
    it("holds the built library, the command and the LICENSE; no sources or tests", () => {
        const listing = run("tar", ["-tzf", tarball], work).split("\n").filter(Boolean);
        for (const f of ["package/LICENSE", "package/README.md", "package/package.json", "package/dist/components/index.js", "package/dist/components/index.d.ts", "package/dist/stacks/programs.js", "package/dist/stacks/programs.d.ts", "package/dist/cli/modelship.js"]) {
            expect(listing).toContain(f);
        }
        expect(listing.filter((f) => /\.ts$/.test(f) && !f.endsWith(".d.ts"))).toEqual([]);
        expect(listing.filter((f) => f.startsWith("package/test/") || f.startsWith("package/inference-image/"))).toEqual([]);
        expect(fs.readFileSync(path.join(project, "node_modules", "modelship", "LICENSE"), "utf8")).toContain("Apache License");
    });

    it("has a file behind every export, for both `types` and `default`", () => {
        const dir = path.join(project, "node_modules", "modelship");
        for (const [sub, target] of Object.entries<any>(pkg.exports)) {
            for (const file of typeof target === "string" ? [target] : [target.types, target.default]) {
                expect([sub, fs.existsSync(path.join(dir, file))]).toEqual([sub, true]);
            }
        }
    });
});

describe("a consumer project", () => {
    it("typechecks under `pulumi new typescript`'s tsconfig with strict, importing modelship and modelship/stacks", () => {
        run(process.execPath, [path.join(project, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", "tsconfig.json"], project);
    });

    it("typechecks under node16 resolution too, through package.json exports", () => {
        run(process.execPath, [path.join(project, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", "tsconfig.node16.json"], project);
    });

    it("requires modelship/stacks at run time; a target names every invalid field at once", () => {
        const script = `
            const s = require("modelship/stacks");
            let err = "";
            try { s.cloudTarget({ cluster: { version: "latest", gpuNodeGroups: [] }, servce: {} }); } catch (e) { err = e.message; }
            console.log(JSON.stringify({ cloudTarget: typeof s.cloudTarget, err }));`;
        const result = JSON.parse(run(process.execPath, ["-e", script], project));
        expect(result.cloudTarget).toBe("function");
        expect(result.err).toContain("cloudTarget: 3 invalid arguments");
        for (const field of ["cluster.version", "cluster.gpuNodeGroups", "servce"]) expect(result.err).toContain(`- ${field}: `);
    });

    it("runs the modelship command from node_modules/.bin", () => {
        expect(run("npx", ["--no-install", "modelship", "--help"], project)).toContain("modelship plan");
    });

    it("plans its own program offline with npx modelship plan --stack dev", () => {
        const out = run("npx", ["--no-install", "modelship", "plan", "--stack", "dev"], project);
        expect(out).toContain("modelship:index:ImageRegistry");
        expect(out).toContain("modelship:index:InferenceService");
        expect(out).toMatch(/\bci\b.*aws:iam\/role:Role/);
    });

    it("plans in the stack's aws:region", () => {
        const out = run("npx", ["--no-install", "modelship", "plan", "--stack", "dev"], project);
        expect(out).toContain(".dkr.ecr.eu-west-1.amazonaws.com/");
        expect(out).not.toContain("us-west-2");
    });

    it("unit-tests itself with modelship/testing under jest", () => {
        // This repository's jest and ts-jest run the consumer's test; every import in it resolves in the consumer.
        const config = {
            rootDir: project,
            testEnvironment: "node",
            testMatch: ["<rootDir>/*.test.ts"],
            transform: { "^.+\\.ts$": [require.resolve("ts-jest"), { isolatedModules: true, diagnostics: false }] },
        };
        const out = run(process.execPath, [require.resolve("jest/bin/jest"), "--ci", "--config", JSON.stringify(config)], project);
        expect(out).not.toContain("FAIL");
    });
});
