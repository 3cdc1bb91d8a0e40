#!/usr/bin/env node
/** The `modelship` command. `modelship plan --stack cloud [--json] [--out DIR]`. */
import { plan, parsePlanArgs } from "./plan";

const USAGE = "usage: modelship plan [--stack cloud|edge|hybrid] [--json] [--out DIR] [--project-dir DIR]";

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
    if (command === "--help" || command === "-h" || command === undefined) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    if (command !== "plan") fail(`unknown command "${command}": ${USAGE}`);
    // An error thrown inside an Output (e.g. a bad value only known once resolved) surfaces here.
    process.on("unhandledRejection", (err) => fail(err instanceof Error ? err.message : String(err)));
    const result = await plan(parsePlanArgs(rest));
    process.stdout.write(`${result.text}\n`);
    if (result.written.length > 0) process.stderr.write(`wrote ${result.written.length} Kubernetes objects as YAML\n`);
}

main(process.argv.slice(2)).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
