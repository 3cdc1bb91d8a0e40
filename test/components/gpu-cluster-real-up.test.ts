/**
 * Issue #12, GpuCluster: what the mock runtime accepts but a real `pulumi up` refuses. Pure helpers and validation,
 * no mock runtime (see gpu-cluster-real-up-mocks.test.ts for what the component registers).
 */
import { spawnSync } from "child_process";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    accessEntryPrincipal,
    deployerAdminProblem,
    gpuClusterAutonamedChildren,
    validateGpuClusterArgs,
    type GpuClusterArgs,
} from "../../components/gpu-cluster";
import { AUTONAME_SUFFIX_LENGTH, AWS_NAME_LIMITS, autonameOverflow, maxLogicalNameLength } from "../../components/internal/aws-name-limits";
import { ASG_TAG_KEY_MAX, nodeTemplateTagKey, nodeTemplateTagProblems } from "../../components/internal/capacity";
import { autoScalingVolumeKeyPolicy } from "../../components/internal/kms";
import { labelKeyProblem, nodeLabelValueProblem } from "../../components/internal/validation";

const ok: GpuClusterArgs = { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }], publicAccessCidrs: ["203.0.113.0/24"] };
const validate = (name: string, args: Partial<GpuClusterArgs> = {}) => () => validateGpuClusterArgs(name, { ...ok, ...args });
const withLabels = (labels: Record<string, string>) => ({ gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2, labels }] });

describe("AWS name limits with Pulumi's autoname suffix", () => {
    it("keeps one table of limits by type token, and the suffix Pulumi adds", () => {
        expect(AUTONAME_SUFFIX_LENGTH).toBe(8);
        expect(AWS_NAME_LIMITS["aws:iam/role:Role"]).toBe(64);
        expect(AWS_NAME_LIMITS["aws:eks/nodeGroup:NodeGroup"]).toBe(63);
        expect(AWS_NAME_LIMITS["aws:ec2/launchTemplate:LaunchTemplate"]).toBe(128);
        expect(maxLogicalNameLength("aws:iam/role:Role")).toBe(56);
        expect(maxLogicalNameLength("aws:unknown/x:X")).toBeUndefined();
        expect(autonameOverflow({ type: "aws:iam/role:Role", logicalName: "x".repeat(57) })).toEqual({ limit: 64, length: 65, over: 1 });
        expect(autonameOverflow({ type: "aws:iam/role:Role", logicalName: "x".repeat(56) })).toBeUndefined();
    });

    it("lists pulumi-eks's control-plane role among the children, which bounds the component name", () => {
        const children = gpuClusterAutonamedChildren("ml", ["l4"]);
        expect(children).toEqual(expect.arrayContaining([{ type: "aws:iam/role:Role", logicalName: "ml-eks-eksRole-role" }, { type: "aws:eks/nodeGroup:NodeGroup", logicalName: "ml-gpu-l4", group: 0 }]));
    });

    it("accepts a 37-character name, the longest whose IAM roles fit 64 characters", () => {
        expect(validate("a".repeat(37))).not.toThrow();
    });

    it("refuses a 38-character name, naming the role that overflows and by how much", () => {
        expect(validate("a".repeat(38))).toThrow(
            new RegExp(`GpuCluster "a{38}": name is too long for AWS: the Role "a{38}-cluster-autoscaler" plus Pulumi's 8-character autoname suffix has 65 characters, more than the 64 AWS allows: shorten the component name by 1`),
        );
    });

    it("accepts component + group names of 50 characters, refuses 51, naming the group and EKS's 63", () => {
        const group = (name: string) => ({ gpuNodeGroups: [{ name, instanceTypes: ["g6.xlarge"], maxSize: 2 }] });
        expect(validate("a".repeat(30), group("g".repeat(20)))).not.toThrow();
        expect(validate("a".repeat(31), group("g".repeat(20)))).toThrow(
            /gpuNodeGroups\[0\]\.name is too long for AWS: the NodeGroup "a{31}-gpu-g{20}" plus Pulumi's 8-character autoname suffix has 64 characters, more than the 63 AWS allows: shorten the group name or the component name by 1 \(together\)/,
        );
    });
});

describe("node labels AWS and Kubernetes refuse", () => {
    it("takes qualified names: prefix up to 253, name up to 63", () => {
        expect(labelKeyProblem("team.example.com/owner")).toBeUndefined();
        expect(labelKeyProblem(`${"a".repeat(63)}`)).toBeUndefined();
        expect(labelKeyProblem(`example.com/${"a".repeat(64)}`)).toMatch(/name part of 64 characters after the prefix: it must be 1-63/);
        expect(labelKeyProblem("a".repeat(64))).toMatch(/name part of 64 characters/);
        expect(labelKeyProblem(`${"a".repeat(254)}/x`)).toMatch(/not a DNS subdomain of at most 253/);
        expect(labelKeyProblem("a/b/c")).toMatch(/more than one "\/"/);
        expect(labelKeyProblem("Example.com/x")).toMatch(/prefix "Example.com"/);
    });

    it("refuses empty and over-long values (EKS takes 1-63 characters)", () => {
        expect(nodeLabelValueProblem("")).toMatch(/is empty: EKS node group labels need a value of 1-63 characters/);
        expect(nodeLabelValueProblem("a".repeat(64))).toMatch(/64 characters/);
        expect(nodeLabelValueProblem("search")).toBeUndefined();
    });

    it("fails the construction for a label whose name part exceeds 63, and for an empty value, naming the group and label", () => {
        expect(validate("c", withLabels({ [`example.com/${"a".repeat(64)}`]: "x" }))).toThrow(/gpuNodeGroups\[0\]\.labels key "example\.com\/a{64}" has a name part of 64 characters/);
        expect(validate("c", withLabels({ "example.com/team": "" }))).toThrow(/gpuNodeGroups\[0\]\.labels\["example\.com\/team"\] "" is empty: EKS node group labels need a value/);
    });

    it("refuses a label whose cluster-autoscaler node-template tag key exceeds 128 characters", () => {
        const prefixLength = nodeTemplateTagKey("label", "").length;
        expect(prefixLength).toBe(46);
        const fits = `${"p".repeat(ASG_TAG_KEY_MAX - prefixLength - 4)}/abc`;
        const over = `${"p".repeat(ASG_TAG_KEY_MAX - prefixLength - 3)}/abc`;
        expect(labelKeyProblem(over)).toBeUndefined(); // a valid Kubernetes label: only the ASG tag overflows
        expect(nodeTemplateTagProblems({ labels: { [fits]: "v" }, taints: [] })).toEqual([]);
        expect(nodeTemplateTagProblems({ labels: { [over]: "v" }, taints: [] })).toEqual([expect.stringMatching(/longer than Auto Scaling's 128 characters: use a label key of at most 82 characters/)]);
        expect(nodeTemplateTagProblems({ labels: {}, taints: [{ key: "x".repeat(90), value: "v", effect: "NoSchedule" }] })).toEqual([expect.stringMatching(/taint "x{90}"/)]);
        expect(validate("c", withLabels({ [over]: "v" }))).toThrow(/gpuNodeGroups\[0\]\.labels label "p+\/abc" \(83 characters\) makes the autoscaler tag/);
    });
});

describe("the principal running pulumi up listed in admins", () => {
    it("maps a caller to the principal its access entry names", () => {
        expect(accessEntryPrincipal("arn:aws:sts::123456789012:assumed-role/deployer/ci-run-42")).toBe("arn:aws:iam::123456789012:role/deployer");
        expect(accessEntryPrincipal("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1f9f")).toBe("arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_1f9f");
        expect(accessEntryPrincipal("arn:aws:iam::123456789012:user/ops/alice")).toBe("arn:aws:iam::123456789012:user/alice");
    });

    it("finds the deployer among the admins (session or role ARN), and no one else", () => {
        const caller = "arn:aws:sts::123456789012:assumed-role/deployer/ci-run-42";
        expect(deployerAdminProblem("arn:aws:iam::123456789012:role/deployer", caller)).toMatch(/is the principal running pulumi up .* a second entry would fail with 409: remove it from admins/);
        expect(deployerAdminProblem("arn:aws:iam::123456789012:role/ci/deployer", caller)).toBeDefined();
        expect(deployerAdminProblem("arn:aws:iam::123456789012:role/platform-admin", caller)).toBeUndefined();
        expect(deployerAdminProblem("arn:aws:iam::210987654321:role/deployer", caller)).toBeUndefined();
    });

    it("under the mock runtime, a caller equal to an admin fails the update before any access entry for it is registered", () => {
        const TS_HOOK = `
const ts = require("typescript"); const fs = require("fs");
require.extensions[".ts"] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, "utf8"), { fileName: filename, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
  module._compile(out.outputText, filename);
};
require(process.argv[1]);
`;
        const program = path.join(__dirname, "..", "support", "deployer-admin-program.ts");
        const child = spawnSync(process.execPath, ["-e", TS_HOOK, program], { encoding: "utf8", timeout: 120_000 });
        if (child.status !== 0) throw new Error(`the program failed: ${child.stderr}`);
        const result = JSON.parse(child.stdout) as { messages: string[]; entriesFor: Record<string, string[]> };
        expect(result.messages.some((m) => m.includes('GpuCluster "dup": admins[0] "arn:aws:iam::123456789012:role/deployer" is the principal running pulumi up'))).toBe(true);
        // The cluster carrying the duplicate is never registered; the one without it is, with its admin's entry only.
        expect(result.entriesFor.dup).toBeUndefined();
        expect(result.entriesFor.other).toEqual(["arn:aws:iam::123456789012:role/platform-admin"]);
    }, 130_000);
});

describe("node volume key policy", () => {
    it("lets the account administer it and Auto Scaling's service-linked role use and grant it, nothing else", async () => {
        const doc = await new Promise<Record<string, unknown>>((resolve) =>
            pulumi.jsonStringify(pulumi.output(autoScalingVolumeKeyPolicy({ partition: "aws", accountId: "123456789012" }) as never)).apply((s) => resolve(JSON.parse(s))),
        );
        const slr = "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling";
        const only = { "aws:PrincipalArn": slr, "kms:CallerAccount": "123456789012" };
        expect(doc.Statement).toEqual([
            { Sid: "AccountAdministersKeyThroughIam", Effect: "Allow", Principal: { AWS: "arn:aws:iam::123456789012:root" }, Action: "kms:*", Resource: "*" },
            {
                Sid: "AutoScalingUsesKeyForNodeVolumes",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                Resource: "*",
                Condition: { StringEquals: only },
            },
            {
                Sid: "AutoScalingGrantsKeyToItsInstances",
                Effect: "Allow",
                Principal: { AWS: "*" },
                Action: "kms:CreateGrant",
                Resource: "*",
                Condition: { StringEquals: only, Bool: { "kms:GrantIsForAWSResource": "true" } },
            },
        ]);
    });
});
