/**
 * A program run in a child process by gpu-cluster-real-up.test.ts: GpuClusters under the mock runtime while an
 * assumed-role session of `deployer` runs `pulumi up`, one listing `deployer` in admins. Prints, as JSON, the failures
 * the update would report and the admin principals each registered eks.Cluster would create access entries for.
 */
import { installMockRuntime } from "./mocks";

const messages: string[] = [];
process.on("unhandledRejection", (reason) => messages.push(reason instanceof Error ? reason.message : String(reason)));
const recorder = installMockRuntime({
    outputs: { "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }) },
    calls: {
        "aws:index/getCallerIdentity:getCallerIdentity": () => ({
            accountId: "123456789012",
            arn: "arn:aws:sts::123456789012:assumed-role/deployer/ci-run-42",
            userId: "AROAMOCK:ci-run-42",
            id: "123456789012",
        }),
    },
});

import { GpuCluster } from "../../components/gpu-cluster";

async function main(): Promise<void> {
    const base = { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 1 }], publicAccessCidrs: ["203.0.113.0/24"] };
    new GpuCluster("dup", { ...base, admins: ["arn:aws:iam::123456789012:role/deployer"] });
    new GpuCluster("other", { ...base, admins: ["arn:aws:iam::123456789012:role/platform-admin"] });
    await recorder.settle();
    await new Promise((resolve) => setTimeout(resolve, 200));
    const entriesFor: Record<string, string[]> = {};
    for (const c of recorder.ofType("eks:index:Cluster")) {
        entriesFor[c.name.replace(/-eks$/, "")] = Object.values(c.inputs.accessEntries ?? {}).map((e) => (e as { principalArn: string }).principalArn);
    }
    const roots = [...new Set(messages.map((m) => m.replace(/^(error serializing property "[^"]*": )+/, "")))];
    process.stdout.write(JSON.stringify({ messages: roots, entriesFor }), () => process.exit(0));
}

void main();
