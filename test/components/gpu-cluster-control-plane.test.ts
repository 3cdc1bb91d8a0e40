import { checkResolvedRepositoryArn } from "../../components/gpu-cluster";
import { CONTROL_PLANE_LOG_TYPES, EKS_CLUSTER_NAME, controlPlaneLogGroupName, defaultClusterName } from "../../components/internal/eks-control-plane";
import { NODE_ROLE_POLICY_ARNS, nodeImagePullPolicy } from "../../components/internal/eks-nodes";

describe("defaultClusterName", () => {
    it("is <name>-<stack>-<hash of project and stack>", () => {
        expect(defaultClusterName("ml", "modelship", "prod")).toMatch(/^ml-prod-[0-9a-f]{6}$/);
    });

    it("differs between two projects with the same stack name", () => {
        expect(defaultClusterName("ml", "team-a", "dev")).not.toBe(defaultClusterName("ml", "team-b", "dev"));
    });

    it("is stable for one project and stack", () => {
        expect(defaultClusterName("ml", "p", "dev")).toBe(defaultClusterName("ml", "p", "dev"));
    });

    it("replaces characters EKS refuses (organisation-qualified stacks, dots)", () => {
        const n = defaultClusterName("ml", "p", "acme/prod.eu");
        expect(n).toMatch(/^ml-acme-prod-eu-[0-9a-f]{6}$/);
        expect(EKS_CLUSTER_NAME.test(n)).toBe(true);
    });

    it("fits EKS's 100 characters for the longest names, and the log group name fits CloudWatch's 512", () => {
        const n = defaultClusterName("a".repeat(40), "p", "s".repeat(200));
        expect(n.length).toBeLessThanOrEqual(100);
        expect(EKS_CLUSTER_NAME.test(n)).toBe(true);
        expect(controlPlaneLogGroupName(n).length).toBeLessThanOrEqual(512);
    });
});

describe("control-plane logging facts", () => {
    it("lists all five EKS log types", () => {
        expect([...CONTROL_PLANE_LOG_TYPES]).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
    });

    it("uses the log group name EKS writes to", () => {
        expect(controlPlaneLogGroupName("ml-prod-abc123")).toBe("/aws/eks/ml-prod-abc123/cluster");
    });
});

describe("node role permissions", () => {
    it("attaches only the worker-node policy", () => {
        expect([...NODE_ROLE_POLICY_ARNS]).toEqual(["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]);
    });

    it("scopes own-account pulls to the listed repositories and excludes the own account from the cross-account grant", () => {
        const doc = nodeImagePullPolicy({ accountId: "111122223333", repositoryArns: ["arn:aws:ecr:us-west-2:111122223333:repository/app"] });
        const bySid = Object.fromEntries(doc.Statement.map((s) => [s.Sid, s]));
        expect(bySid.PullListedRepositories.Resource).toEqual(["arn:aws:ecr:us-west-2:111122223333:repository/app"]);
        expect(bySid.PullSharedRepositoriesOfOtherAccounts.Condition).toEqual({ StringNotEquals: { "aws:ResourceAccount": "111122223333" } });
        const actions = doc.Statement.flatMap((s) => [s.Action].flat());
        expect(actions.every((a) => ["ecr:GetAuthorizationToken", "ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"].includes(a))).toBe(true);
        const unconditionalStar = doc.Statement.filter((s) => s.Resource === "*" && s.Condition === undefined).map((s) => s.Action);
        expect(unconditionalStar).toEqual(["ecr:GetAuthorizationToken"]);
    });
});

describe("imageRepositoryArns given as Outputs, checked when they resolve", () => {
    it("passes a repository ARN through", () => {
        expect(checkResolvedRepositoryArn("ml", 0, "arn:aws:ecr:us-west-2:123456789012:repository/team/app")).toBe("arn:aws:ecr:us-west-2:123456789012:repository/team/app");
    });

    it("fails with the construction-time message on a wildcard", () => {
        expect(() => checkResolvedRepositoryArn("ml", 1, "arn:aws:ecr:us-west-2:123456789012:repository/*")).toThrow(
            /^GpuCluster "ml": imageRepositoryArns\[1\] "arn:aws:ecr:us-west-2:123456789012:repository\/\*" must be one ECR repository's ARN/,
        );
    });
});
