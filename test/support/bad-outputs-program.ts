/**
 * A program run in a child process by component-bad-outputs.test.ts: every component given an Output that resolves to
 * a bad value, under the mock runtime as an update. It prints, as JSON, the messages of the failures the update would
 * report (Jest would attribute them to whichever test runs, so they are observed here, outside it).
 */
import { installMockRuntime } from "./mocks";

const messages: string[] = [];
process.on("unhandledRejection", (reason) => messages.push(reason instanceof Error ? reason.message : String(reason)));
const recorder = installMockRuntime({ outputs: { "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }) } });

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as m from "../../components";

async function main(): Promise<void> {
    const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
    const late = (v: string) => pulumi.output(new Promise<string>((resolve) => setTimeout(() => resolve(v), 5)));
    const image = `123456789012.dkr.ecr.us-west-2.amazonaws.com/m@sha256:${"a".repeat(64)}`;
    new m.GpuCluster("gc", { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 1 }], publicAccessCidrs: ["203.0.113.0/24"], admins: [late("123456789012")] });
    new m.GpuCluster("gw", { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 1 }], publicAccessCidrs: [late("0.0.0.0/0")] });
    new m.ImageRegistry("ir", { pullPrincipals: [late("role/x")] });
    new m.InferenceService("is", { image, egressCidrs: [late("10.0.0.0/33")] }, { provider });
    new m.SecretWiring("sw", { mode: "kubernetes", namespace: late("Bad_NS"), secrets: { A: pulumi.secret("a") } }, { provider });
    new m.ServingAddons("sa", { prometheus: false, existingPrometheusUrl: late("prom:9090") }, { provider });
    new m.EdgeDevice("ed", { host: late("tcp://10.0.0.5:2375"), image });
    await recorder.settle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Each dependent resource reports the same root failure, wrapped in "error serializing property ...": keep the root, once.
    const roots = [...new Set(messages.map((m) => m.replace(/^(error serializing property "[^"]*": )+/, "")))];
    process.stdout.write(JSON.stringify(roots), () => process.exit(0));
}

void main();
