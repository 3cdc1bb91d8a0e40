// The program `pulumi preview --policy-pack policy-pack` runs: it serves modelship's policies to the engine. The rules
// and their dependencies (@pulumi/policy) resolve from the repository root: run `npm ci` there first.
import { createPolicyPack } from "../policy";

createPolicyPack();
