/**
 * The docs are code: every ```ts block in README.md and docs/*.md typechecks, and every relative link resolves.
 *
 * Convention for ```ts blocks: each block is a module of its own, importing from "modelship", "modelship/stacks" and
 * "modelship/testing" (and "modelship/policy") the way a user does (mapped here to components/index.ts, stacks/programs.ts, cli/testing.ts, policy/index.ts).
 * A block that uses a name from an earlier block (`registry`, `cluster`, `image`...) gets an HTML comment right
 * before its fence, invisible on GitHub, whose text is prepended to the block:
 *
 *     <!-- ts-prelude: import { GpuCluster } from "modelship"; declare const cluster: GpuCluster; -->
 *
 * Anything not meant to compile (shell, output, YAML) is fenced as its own language, never as ts. All blocks are
 * checked by one `ts.createProgram` (strict, noEmit, skipLibCheck), from virtual files: nothing is written to disk.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { assertPinnedImage } from "../components/inference-service";
import { anchors, githubSlug, relativeLinks, tsBlocks, type TsBlock } from "./support/markdown";

const ROOT = path.resolve(__dirname, "..");
const DOCS = path.join(ROOT, "docs");
const PAGES = ["README.md", ...fs.readdirSync(DOCS).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const LINKED_PAGES = [...PAGES, "inference-image/README.md"];

describe("docs helpers", () => {
    it("slugs headings as GitHub does", () => {
        expect(githubSlug("NetworkPolicies on clusters GpuCluster did not create")).toBe("networkpolicies-on-clusters-gpucluster-did-not-create");
        expect(githubSlug("Where `pulumi up` runs, and what the preview role needs")).toBe("where-pulumi-up-runs-and-what-the-preview-role-needs");
        expect(githubSlug("Unit tests with `modelship/testing`")).toBe("unit-tests-with-modelshiptesting");
        expect([...anchors("# A\n## Outputs\n```sh\n# not a heading\n```\n## Outputs\n")]).toEqual(["a", "outputs", "outputs-1"]);
    });

    it("finds ts blocks with their prelude, skipping other languages", () => {
        const md = ["x", "<!-- ts-prelude: declare const a: number; -->", "```ts", "a + 1;", "```", "```sh", "ls", "```", "  ```ts", "  const b = 2;", "  ```"].join("\n");
        expect(tsBlocks("p.md", md)).toEqual([
            { page: "p.md", line: 4, prelude: "declare const a: number;", code: "a + 1;" },
            { page: "p.md", line: 10, prelude: "", code: "const b = 2;" },
        ]);
    });

    it("finds relative links outside code", () => {
        expect(relativeLinks("[a](docs/x.md#y) `[b](c.md)` [w](https://e.com)\n```\n[d](e.md)\n```\n[f](#g)")).toEqual([
            { line: 1, target: "docs/x.md#y" },
            { line: 5, target: "#g" },
        ]);
    });
});

describe("every ts block in README.md and docs/ typechecks", () => {
    it("compiles with zero diagnostics under strict", () => {
        const blocks = PAGES.flatMap((page) => tsBlocks(page, fs.readFileSync(path.join(ROOT, page), "utf8")));
        // The README's quick start and one block per component page, at least.
        expect(blocks.length).toBeGreaterThanOrEqual(10);
        const virtual = new Map<string, { block: TsBlock; preludeLines: number; text: string }>();
        for (const block of blocks) {
            const file = path.join(ROOT, ".docs-check", `${block.page.replace(/[/.]/g, "_")}_L${block.line}.ts`);
            const prelude = block.prelude ? block.prelude + "\n" : "";
            // `export {}` makes every block a module of its own, so blocks never see each other's names.
            virtual.set(file, { block, preludeLines: prelude.split("\n").length - 1, text: `${prelude}${block.code}\nexport {};\n` });
        }
        const options: ts.CompilerOptions = {
            target: ts.ScriptTarget.ES2022,
            module: ts.ModuleKind.CommonJS,
            moduleResolution: ts.ModuleResolutionKind.Node10,
            lib: ["lib.es2022.d.ts"],
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            esModuleInterop: true,
            resolveJsonModule: true,
            types: ["node", "jest"],
            typeRoots: [path.join(ROOT, "node_modules", "@types")],
            baseUrl: ROOT,
            paths: {
                modelship: ["components/index.ts"],
                "modelship/stacks": ["stacks/programs.ts"],
                "modelship/testing": ["cli/testing.ts"],
                "modelship/policy": ["policy/index.ts"],
            },
        };
        const host = ts.createCompilerHost(options);
        const { fileExists, readFile, getSourceFile } = host;
        host.fileExists = (f) => virtual.has(path.resolve(f)) || fileExists.call(host, f);
        host.readFile = (f) => virtual.get(path.resolve(f))?.text ?? readFile.call(host, f);
        host.getSourceFile = (f, lang, onError, create) => {
            const v = virtual.get(path.resolve(f));
            return v ? ts.createSourceFile(f, v.text, lang, true) : getSourceFile.call(host, f, lang, onError, create);
        };
        const program = ts.createProgram([...virtual.keys()], options, host);
        const problems = ts.getPreEmitDiagnostics(program).map((d) => {
            const message = ts.flattenDiagnosticMessageText(d.messageText, "\n");
            const v = d.file && virtual.get(path.resolve(d.file.fileName));
            if (!d.file || d.start === undefined) return message;
            const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
            if (!v) return `${path.relative(ROOT, d.file.fileName)}:${line + 1}:${character + 1}: ${message}`;
            const where = line < v.preludeLines ? `${v.block.page}:${v.block.line - 1} (ts-prelude)` : `${v.block.page}:${v.block.line + line - v.preludeLines}:${character + 1}`;
            return `${where}: ${message}`;
        });
        expect(problems).toEqual([]);
    }, 120_000);
});

describe("every relative link in README.md and docs/ resolves", () => {
    it.each(LINKED_PAGES)("%s", (page) => {
        const broken: string[] = [];
        for (const { line, target } of relativeLinks(fs.readFileSync(path.join(ROOT, page), "utf8"))) {
            const [file, anchor] = target.split("#", 2);
            const resolved = file ? path.resolve(path.dirname(path.join(ROOT, page)), decodeURIComponent(file)) : path.join(ROOT, page);
            if (!fs.existsSync(resolved)) {
                broken.push(`${page}:${line}: ${target}: no file ${path.relative(ROOT, resolved)}`);
            } else if (anchor !== undefined && resolved.endsWith(".md") && !anchors(fs.readFileSync(resolved, "utf8")).has(anchor)) {
                broken.push(`${page}:${line}: ${target}: no heading #${anchor} in ${path.relative(ROOT, resolved)}`);
            }
        }
        expect(broken).toEqual([]);
    });

    it("links from the README to every docs page", () => {
        const linked = new Set(relativeLinks(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).map((l) => l.target.split("#")[0]));
        expect(PAGES.filter((p) => p.startsWith("docs/") && !linked.has(p))).toEqual([]);
    });
});

describe("the docs and messages recommend what exists", () => {
    it("the digest error names InferenceImage's `ref` output", () => {
        expect(() => assertPinnedImage("svc", "repo/model:latest", false)).toThrow(/image\.ref/);
        expect(() => assertPinnedImage("svc", "repo/model:latest", false)).not.toThrow(/imageRef/);
    });

    it("nothing recommends InferenceImage.imageRef, which does not exist", () => {
        const files = [...PAGES, "inference-image/README.md", ...fs.readdirSync(path.join(ROOT, "components")).filter((f) => f.endsWith(".ts")).map((f) => `components/${f}`)];
        expect(files.filter((f) => /InferenceImage\.imageRef|image:\s*image\s*[,}]/.test(fs.readFileSync(path.join(ROOT, f), "utf8")))).toEqual([]);
    });

    it("the README opens with the two commands", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        expect(readme).toMatch(/^# modelship\n\n```sh\nnpm ci && npm run plan -- --stack cloud .*\nnpm ci && npm test .*\n```\n\n## Serve your own model\n/);
    });
});
