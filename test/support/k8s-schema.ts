/**
 * Validates Kubernetes objects against the API schemas shipped by `kubernetes-models`, and CRD objects (KEDA, External
 * Secrets, Prometheus Operator, Karpenter) against the CRD schemas of the matching `@kubernetes-models/*` package.
 *
 * kubernetes-models is ESM-only (its package exports have only an `import` condition), which Jest's CommonJS runtime
 * cannot load, so the validation runs in a child Node process that imports the models natively. One process per call:
 * pass every object at once.
 */
import { execFileSync } from "child_process";
import * as path from "path";
import type { RecordedResource } from "./mocks";

export interface K8sObject {
    apiVersion: string;
    kind: string;
    [field: string]: unknown;
}

/** API groups of the CRDs the components emit, and the model package holding their schemas. */
export const CRD_MODEL_PACKAGES: Record<string, string> = {
    "keda.sh": "@kubernetes-models/keda",
    "external-secrets.io": "@kubernetes-models/external-secrets",
    "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
    "karpenter.sh": "@kubernetes-models/karpenter",
    "karpenter.k8s.aws": "@kubernetes-models/karpenter",
};

const SCRIPT = `
const crdPackages = ${JSON.stringify(CRD_MODEL_PACKAGES)};
let input = "";
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const obj of JSON.parse(input)) {
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : [null, obj.apiVersion];
    const base = crdPackages[group] ? crdPackages[group] + "/" + group : "kubernetes-models" + (group ? "/" + group : "");
    const spec = base + "/" + version + "/" + obj.kind;
    try {
        const mod = await import(spec);
        new mod[obj.kind](obj).validate();
        results.push(null);
    } catch (e) {
        results.push(obj.kind + " " + (obj.metadata && obj.metadata.name) + ": " + e.message);
    }
}
process.stdout.write(JSON.stringify(results));
`;

/** Validates each object; returns one entry per object: null when valid, else the schema error. */
export function validateK8sObjects(objects: K8sObject[]): (string | null)[] {
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", SCRIPT], {
        cwd: path.resolve(__dirname, "../.."),
        input: JSON.stringify(objects),
        encoding: "utf8",
    });
    return JSON.parse(out);
}

/** The object a recorded `kubernetes:` resource would send to the API server (its inputs, typed by its token). */
export function toK8sObject(resource: RecordedResource): K8sObject {
    const inputs = { ...resource.inputs };
    if (inputs.apiVersion === undefined || inputs.kind === undefined) {
        // kubernetes:apps/v1:Deployment -> apps/v1, Deployment; kubernetes:core/v1:Service -> v1, Service
        const [, groupVersion, kind] = resource.type.split(":");
        inputs.apiVersion = groupVersion.startsWith("core/") ? groupVersion.slice("core/".length) : groupVersion;
        inputs.kind = kind;
    }
    return inputs as K8sObject;
}
