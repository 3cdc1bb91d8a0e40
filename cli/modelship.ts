#!/usr/bin/env node
/** The `modelship` command: `modelship plan [--stack NAME] [--json] [--diff FILE] [--out DIR] [--project-dir DIR]`. */
import { plan, parsePlanArgs, renderViolations, USAGE } from "./plan";

function fail(message: string): never {
    process.stderr.write(`modelship: ${message}\n`);
    process.exit(1);
}

// A reader that stops early (`| head`) is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
});

async function main(argv: string[]): Promise<void> {
    const [command, ...rest] = argv;
    if (command === "--help" || command === "-h" || command === "help" || command === undefined) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    if (command !== "plan") fail(`unknown command "${command}": the only command is plan (modelship --help)`);
    const opts = parsePlanArgs(rest);
    if (opts === "help") {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    // An error thrown inside an Output (e.g. a bad value only known once resolved) surfaces here.
    process.on("unhandledRejection", (err) => fail(err instanceof Error ? err.message : String(err)));
    const result = await plan(opts);
    process.stdout.write(`${result.text}\n`);
    if (opts.out) process.stderr.write(`wrote ${result.written.length} Kubernetes objects as YAML under ${opts.out}\n`);
    if (result.violations.length > 0) fail(renderViolations(result.violations));
}

main(process.argv.slice(2)).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
