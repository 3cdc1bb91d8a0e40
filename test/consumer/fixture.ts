/**
 * A consumer project created from scratch, as a Pulumi user would: `pulumi new typescript`'s files (its tsconfig, with
 * "strict"), a program composing modelship's components with other resources' Outputs, a jest test using
 * `modelship/testing`. Written to a temporary directory by the consumer tests; nothing here is compiled by this repo.
 */
import * as fs from "fs";
import * as path from "path";

/** `pulumi new typescript`'s tsconfig.json (commonjs, node10 resolution: package.json `exports` are ignored). */
export const TEMPLATE_TSCONFIG = {
    compilerOptions: {
        strict: true,
        outDir: "bin",
        target: "es2020",
        module: "commonjs",
        moduleResolution: "node",
        sourceMap: true,
        experimentalDecorators: true,
        pretty: true,
        noFallthroughCasesInSwitch: true,
        noImplicitReturns: true,
        forceConsistentCasingInFileNames: true,
    },
    files: ["index.ts", "targets.ts"],
};

/** The same project under Node's own resolution (package.json `exports`), as `module: node16` projects have it. */
export const NODE16_TSCONFIG = {
    extends: "./tsconfig.json",
    compilerOptions: { module: "node16", moduleResolution: "node16", skipLibCheck: true },
};

/** The program: a registry and a service wired with Outputs of other resources. */
export const INDEX_TS = `import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ImageRegistry, InferenceService } from "modelship";

const key = new aws.kms.Key("images", { enableKeyRotation: true });
const ci = new aws.iam.Role("ci", {
    assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "codebuild.amazonaws.com" }, Action: "sts:AssumeRole" }] }),
});
const podRole = new aws.iam.Role("pods", {
    assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Principal: { Service: "pods.eks.amazonaws.com" }, Action: ["sts:AssumeRole", "sts:TagSession"] }] }),
});

export const registry = new ImageRegistry("models", {
    kmsKeyArn: key.arn,
    pullRole: { trustedPrincipals: [ci.arn] },
    pullPrincipals: [ci.arn],
});

const digest = "sha256:" + "ab".repeat(32);
export const service = new InferenceService("llm", {
    image: pulumi.interpolate\`\${registry.repositoryUrl}@\${digest}\`,
    gpu: 0,
    serviceAccount: { roleArn: podRole.arn },
    egressCidrs: [pulumi.output("10.20.0.0/16")],
});

export const repositoryUrl = registry.repositoryUrl;
`;

/** A target from `modelship/stacks`, called with only the fields one cares about. */
export const TARGETS_TS = `import { cloudTarget, type CloudTargetInput } from "modelship/stacks";

export const small: CloudTargetInput = {
    cluster: { version: "1.33", gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] },
};

export function deploySmall() {
    return cloudTarget(small);
}
`;

/** A jest test of the program, with Pulumi's documented mocks wrapped by modelship/testing. */
export const INDEX_TEST_TS = `import * as pulumi from "@pulumi/pulumi";
import { modelshipMocks } from "modelship/testing";

pulumi.runtime.setMocks(
    // The mocks Pulumi's docs show: echo the inputs.
    modelshipMocks({ newResource: (args) => ({ id: args.name + "_id", state: args.inputs }) }),
    "consumer",
    "dev",
    false,
);

const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("the consumer program", () => {
    it("pins the service to the registry's image by digest", async () => {
        const program = await import("./index");
        const url = await value(program.repositoryUrl);
        expect(url).toMatch(/\\.dkr\\.ecr\\./);
        expect(program.service).toBeDefined();
    });
});
`;

/** The consumer's own devDependencies (those `pulumi new typescript` adds), at the versions this repository installed. */
export const CONSUMER_DEV_DEPENDENCIES = ["typescript", "@types/node"];

interface LockEntry {
    version?: string;
    dev?: boolean;
    devOptional?: boolean;
    dependencies?: Record<string, string>;
    [key: string]: unknown;
}

/**
 * The consumer's package-lock.json: modelship from the tarball, its dependencies at the versions this repository's
 * lock holds (so `npm ci --offline` finds every one in the npm cache by integrity, no registry metadata needed). Pure.
 */
export function consumerLockfile(repoLock: { packages: Record<string, LockEntry> }, modelship: { spec: string; version: string; dependencies: Record<string, string>; bin?: Record<string, string> }) {
    const devDependencies = Object.fromEntries(CONSUMER_DEV_DEPENDENCIES.map((n) => [n, repoLock.packages[`node_modules/${n}`].version!]));
    const packages: Record<string, LockEntry> = {
        "": { name: "consumer", version: "0.0.0", dependencies: { modelship: modelship.spec }, devDependencies },
        "node_modules/modelship": { version: modelship.version, resolved: modelship.spec, dependencies: modelship.dependencies, bin: modelship.bin },
    };
    // What modelship needs at run time: the repository's non-dev entries (a dependency of a dependency included).
    for (const [key, entry] of Object.entries(repoLock.packages)) {
        if (key !== "" && !entry.dev && !entry.devOptional) packages[key] = entry;
    }
    // The consumer's devDependencies and theirs.
    const addDev = (name: string) => {
        const key = `node_modules/${name}`;
        const entry = repoLock.packages[key];
        if (!entry || (packages[key] && !packages[key].dev)) return;
        const { devOptional: _devOptional, ...rest } = entry;
        packages[key] = { ...rest, dev: true };
        for (const dep of Object.keys(entry.dependencies ?? {})) addDev(dep);
    };
    for (const n of CONSUMER_DEV_DEPENDENCIES) addDev(n);
    return { name: "consumer", version: "0.0.0", lockfileVersion: 3, requires: true, packages };
}

/** Writes the project (without node_modules) into `dir`; `lock` from {@link consumerLockfile}. */
export function writeConsumerProject(dir: string, lock: ReturnType<typeof consumerLockfile>): void {
    const { dependencies, devDependencies } = lock.packages[""];
    const files: Record<string, string> = {
        "package.json": JSON.stringify({ name: "consumer", version: "0.0.0", private: true, main: "index.ts", dependencies, devDependencies }, null, 2),
        "package-lock.json": JSON.stringify(lock, null, 2),
        "Pulumi.yaml": "name: consumer\nruntime:\n  name: nodejs\n  options:\n    typescript: true\ndescription: a project using modelship\n",
        "Pulumi.dev.yaml": "config:\n  aws:region: eu-west-1\n",
        "tsconfig.json": JSON.stringify(TEMPLATE_TSCONFIG, null, 2),
        "tsconfig.node16.json": JSON.stringify(NODE16_TSCONFIG, null, 2),
        "index.ts": INDEX_TS,
        "targets.ts": TARGETS_TS,
        "index.test.ts": INDEX_TEST_TS,
    };
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}
