#!/usr/bin/env node
/* global console, process */
// Runs policy-pack/ the way `pulumi preview --policy-pack policy-pack` does (Pulumi's run-policy-pack host, ts-node,
// the pack's gRPC analyzer server) and calls the analyzer over gRPC as the engine would: GetAnalyzerInfo, Analyze of
// a mutable ECR repository, AnalyzeStack of a Deployment with no default-deny egress. No Pulumi CLI or cloud needed.
//
//   node scripts/policy-pack-smoke.mjs
//
// Not part of jest: the pack's constructor starts a server (the tests call the rules directly instead).
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import * as path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
// The gRPC stack of the @pulumi/pulumi the pack runs with, so that messages match its server.
const pulumiRequire = createRequire(createRequire(path.join(root, "package.json")).resolve("@pulumi/pulumi/package.json"));
const grpc = pulumiRequire("@grpc/grpc-js");
const analyzer = pulumiRequire("./proto/analyzer_pb.js");
const { AnalyzerService } = pulumiRequire("./proto/analyzer_grpc_pb.js");
const { Struct } = pulumiRequire("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = pulumiRequire("google-protobuf/google/protobuf/empty_pb.js");
const LEVELS = Object.fromEntries(Object.entries(analyzer.EnforcementLevel).map(([k, v]) => [v, k.toLowerCase()]));

const started = Date.now();
const host = spawn(process.execPath, [path.join(root, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:0", "."], {
    cwd: path.join(root, "policy-pack"),
    stdio: ["ignore", "pipe", "inherit"],
});
const port = await new Promise((resolve, reject) => {
    let out = "";
    host.stdout.on("data", (d) => {
        out += d;
        const m = /^(\d+)\s*$/m.exec(out);
        if (m) resolve(m[1]);
    });
    host.on("exit", (code) => reject(new Error(`the policy pack exited (${code}) before serving: ${out}`)));
});
console.log(`policy pack serving on port ${port} after ${((Date.now() - started) / 1000).toFixed(1)} s`);

const Client = grpc.makeGenericClientConstructor(AnalyzerService, "Analyzer");
const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const call = (method, req) => new Promise((resolve, reject) => client[method](req, (err, res) => (err ? reject(err) : resolve(res))));
// The engine's message is the policy's description, a newline, then what the rule reported.
const diagnostics = (res) => res.getDiagnosticsList().map((d) => `[${LEVELS[d.getEnforcementlevel()]}] ${d.getPolicyname()}: ${d.getMessage().split("\n").slice(1).join(" ")}`);
const fail = (message) => {
    console.error(`FAIL: ${message}`);
    host.kill();
    process.exit(1);
};

try {
    const info = await call("getAnalyzerInfo", new Empty());
    const names = info.getPoliciesList().map((p) => p.getName());
    console.log(`${info.getName()}: ${names.length} policies: ${names.join(", ")}`);
    if (info.getName() !== "modelship" || !names.includes("k8s-restricted-pod-security")) fail("the pack does not list the modelship policies");

    const repo = new analyzer.AnalyzeRequest();
    repo.setType("aws:ecr/repository:Repository");
    repo.setName("mutable-repo");
    repo.setUrn("urn:pulumi:dev::smoke::aws:ecr/repository:Repository::mutable-repo");
    repo.setProperties(Struct.fromJavaScript({ name: "mutable", imageTagMutability: "MUTABLE", encryptionConfigurations: [{ encryptionType: "KMS", kmsKey: "arn:aws:kms:us-west-2:123456789012:key/k" }] }));
    repo.setOptions(new analyzer.AnalyzerResourceOptions());
    const found = diagnostics(await call("analyze", repo));
    console.log(found.join("\n"));
    if (!found.some((d) => d.startsWith("[mandatory] ecr-immutable-tags: imageTagMutability is MUTABLE. Fix: "))) fail("Analyze did not report the mutable repository");
    if (found.some((d) => d.includes("ecr-kms-encryption"))) fail("Analyze reported KMS on a KMS-encrypted repository");

    const deployment = new analyzer.AnalyzerResource();
    deployment.setType("kubernetes:apps/v1:Deployment");
    deployment.setName("app");
    deployment.setUrn("urn:pulumi:dev::smoke::kubernetes:apps/v1:Deployment::app");
    deployment.setProperties(Struct.fromJavaScript({ metadata: { name: "app", namespace: "apps" }, spec: { template: { spec: { containers: [{ name: "app", image: "nginx:1.27" }] } } } }));
    deployment.setOptions(new analyzer.AnalyzerResourceOptions());
    const stack = new analyzer.AnalyzeStackRequest();
    stack.setResourcesList([deployment]);
    const stackFound = diagnostics(await call("analyzeStack", stack));
    console.log(stackFound.join("\n"));
    if (!stackFound.some((d) => d.startsWith("[mandatory] k8s-default-deny-egress: namespace apps (of app)"))) fail("AnalyzeStack did not report the missing default-deny egress");
    console.log("OK: the pack runs under Pulumi's policy host and reports as the engine shows it");
} finally {
    client.close();
    host.kill();
}
