/**
 * `npm install <git url>`: npm clones the repository, installs its dependencies (devDependencies included), runs
 * `prepare` and packs the result; the package must come out with dist/. `npm pack <git url>` runs exactly that fetch,
 * without installing the package's own dependencies afterwards. Offline: everything comes from the npm cache. The URL
 * is this repository's, so what is tested is its committed HEAD.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const root = path.resolve(__dirname, "..", "..");

describe("installing from a git URL", () => {
    let work: string;
    afterAll(() => {
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("builds dist/ in prepare, so the package has the library and the command", () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-git-"));
        let name: string;
        try {
            name = execFileSync("npm", ["pack", "--offline", "--silent", `git+file://${root}`], { cwd: work, encoding: "utf8", stdio: "pipe" }).trim().split("\n").pop()!;
        } catch (err) {
            const e = err as { status?: number; stdout?: string; stderr?: string };
            throw new Error(`npm pack git+file://${root} exited ${e.status}:\n${e.stdout}\n${e.stderr}`);
        }
        const listing = execFileSync("tar", ["-tzf", path.join(work, name)], { encoding: "utf8" }).split("\n");
        for (const f of ["package/dist/components/index.js", "package/dist/components/index.d.ts", "package/dist/stacks/programs.js", "package/dist/stacks/programs.d.ts", "package/dist/cli/modelship.js", "package/LICENSE"]) {
            expect(listing).toContain(f);
        }
    }, 300_000);
});
