/**
 * A component name long enough that an AWS resource inside it overflows AWS's limit once Pulumi autonames it never
 * reaches AWS: the component's validation refuses it at construction, or the mock runtime refuses the resource as the
 * provider would (issue 12: IAM role names of 64, EKS node group names of 63). The name one character shorter passes.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { installMockRuntime, MOCK_ACCOUNT_ID } from "../support/mocks";
import { GpuCluster, ImageRegistry, SecretWiring } from "../../components";

const recorder = installMockRuntime({ enforceContracts: false });
const OIDC_URL = "oidc.eks.us-west-2.amazonaws.com/id/ABC";
const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });

/** Whether constructing the component with `name` is refused, by its validation or by a contract of the mock. */
async function refused(name: string, build: (name: string) => void): Promise<boolean> {
    const before = recorder.refused.length;
    try {
        build(name);
    } catch {
        return true;
    }
    await recorder.settle();
    return recorder.refused.slice(before).some((v) => v.contract === "aws-name-length");
}

const named = (length: number) => `n${"x".repeat(length - 1)}`;

describe("component names within AWS's limits once autonamed", () => {
    it("ImageRegistry with a pull role: `${name}-pull-role` fits IAM's 64 characters", async () => {
        const build = (name: string) => new ImageRegistry(name, { pullRole: { trustedPrincipals: [`arn:aws:iam::${MOCK_ACCOUNT_ID}:role/onprem-nodes`] } });
        expect(await refused(named(46), build)).toBe(false);
        expect(await refused(named(47), build)).toBe(true);
    });
    it("SecretWiring (aws mode): its IRSA role's name fits IAM's 64 characters", async () => {
        const build = (name: string) =>
            new SecretWiring(name, { mode: "aws", namespace: "ns", cluster: { oidcProviderArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:oidc-provider/${OIDC_URL}`, oidcProviderUrl: `https://${OIDC_URL}` }, secrets: { A: pulumi.output("a") }, installOperator: false, operatorReady: [] }, { provider });
        expect(await refused(named(49), build)).toBe(false);
        expect(await refused(named(50), build)).toBe(true);
    });
    it("GpuCluster: pulumi-eks's service role fits IAM's 64 characters, each GPU node group EKS's 63", async () => {
        const build = (name: string, group = "l4") => new GpuCluster(name, { publicAccessCidrs: ["203.0.113.0/24"], gpuNodeGroups: [{ name: group, instanceTypes: ["g6.xlarge"], maxSize: 2 }] });
        expect(await refused(named(37), build)).toBe(false);
        // `${name}-eks-eksRole-role` + 8 = 65 at 40 characters.
        expect(await refused(named(40), build)).toBe(true);
        // `${name}-gpu-${group}` + 8 over 63 (cluster name + group name over 50): a short cluster name, a long group name.
        expect(await refused("ml", (name) => build(name, "g".repeat(49)))).toBe(true);
    });
});
