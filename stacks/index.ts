/** The Pulumi program: `modelship:target` picks cloud, edge or hybrid (`pulumi up -s cloud`, ...). */
import { runStack } from "./run";

const run = runStack();

export = { target: run.target, ...run.outputs };
