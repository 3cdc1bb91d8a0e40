#!/usr/bin/env node
/** The `modelship` command: `modelship plan [--stack NAME] [--json] [--diff FILE] [--out DIR] [--project-dir DIR] [--enforce] [--policy-config FILE] [--max-monthly USD]`. */
import { plan, parsePlanArgs, renderContractViolations, USAGE } from "./plan";

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
    // Contracts first: a real pulumi up would fail on them, whatever the policies or the budget say.
    if (result.contractViolations.length > 0) fail(renderContractViolations(result.contractViolations));
    if (result.refused) fail(`plan refused (--enforce): ${result.violations.filter((v) => v.enforcementLevel === "mandatory").length} mandatory policy violations, listed above`);
    // After the plan is printed, so that the estimate that failed is in front of the reader.
    if (result.budgetError) fail(result.budgetError);
}

main(process.argv.slice(2)).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
