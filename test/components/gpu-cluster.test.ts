import { installMockRuntime, isSecret, valueOf, MOCK_ACCOUNT_ID, MOCK_REGION } from "../support/mocks";

// A launch template's version is computed by AWS; the default mock echoes inputs and would leave it undefined.
const recorder = installMockRuntime({ outputs: { "aws:ec2/launchTemplate:LaunchTemplate": () => ({ latestVersion: 1 }) } });
import { GpuCluster } from "../../components/gpu-cluster";

const CLUSTER = "eks:index:Cluster";
const MNG = "eks:index:ManagedNodeGroup";
const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const ASG_TAG = "aws:autoscaling/tag:Tag";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const ROLE = "aws:iam/role:Role";
const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
const LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup";
const KEY = "aws:kms/key:Key";
const VPC_CNI = "eks:index:VpcCniAddon";

/** The ASG tags created for one group, as key -> { value, asg }. */
function asgTags(prefix: string): Record<string, { value: string; asg: string; propagateAtLaunch: boolean }> {
    const out: Record<string, { value: string; asg: string; propagateAtLaunch: boolean }> = {};
    for (const t of recorder.ofType(ASG_TAG).filter((r) => r.name.startsWith(prefix))) {
        out[t.inputs.tag.key] = { value: t.inputs.tag.value, asg: t.inputs.autoscalingGroupName, propagateAtLaunch: t.inputs.tag.propagateAtLaunch };
    }
    return out;
}

describe("GpuCluster with defaults (one L4 group, created VPC)", () => {
    let cluster: GpuCluster;
    beforeAll(async () => {
        cluster = new GpuCluster("ml", {
            gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge", "g6.2xlarge"], maxSize: 4 }],
            endpointAccess: "private",
            privateEndpointReachable: true,
        });
        await recorder.settle();
    });

    describe("control plane", () => {
        it("uses access entries (API mode), an OIDC provider, a pinned version and no default node group", () => {
            const c = recorder.one(CLUSTER, "ml-eks").inputs;
            expect(c.authenticationMode).toBe("API");
            expect(c.accessEntries).toEqual({});
            expect(c.createOidcProvider).toBe(true);
            expect(c.version).toBe("1.33");
            expect(c.skipDefaultNodeGroup).toBe(true);
            expect(c.nodeAssociatePublicIpAddress).toBe(false);
        });

        it("encrypts Kubernetes secrets with a KMS key it creates, rotation on", () => {
            const key = recorder.one("aws:kms/key:Key", "ml-secrets-key");
            expect(key.inputs.enableKeyRotation).toBe(true);
            expect(key.inputs.deletionWindowInDays).toBe(30);
            expect(recorder.one(CLUSTER, "ml-eks").inputs.encryptionConfigKeyArn).toBe(key.state.arn);
        });

        it("gives the cluster a fixed physical name derived from the component, stack and project", () => {
            expect(recorder.one(CLUSTER, "ml-eks").inputs.name).toBe("ml-test-093e41");
        });
    });

    describe("control-plane logs", () => {
        it("sends all five control-plane log types to CloudWatch", () => {
            expect(recorder.one(CLUSTER, "ml-eks").inputs.enabledClusterLogTypes).toEqual(["api", "audit", "authenticator", "controllerManager", "scheduler"]);
        });

        it("owns the log group EKS writes to, created before the cluster, kept 90 days, KMS-encrypted", () => {
            const group = recorder.one(LOG_GROUP, "ml-control-plane-logs");
            expect(group.inputs.name).toBe("/aws/eks/ml-test-093e41/cluster");
            expect(group.inputs.retentionInDays).toBe(90);
            expect(group.inputs.kmsKeyId).toBe(recorder.one(KEY, "ml-logs-key").state.arn);
            expect(group.inputs.tags).toEqual({ "modelship:component": "GpuCluster", "modelship:name": "ml", "managed-by": "pulumi" });
            expect(recorder.dependsOn(recorder.one(CLUSTER, "ml-eks"), group)).toBe(true);
            expect(cluster.controlPlaneLogGroupName).toBeDefined();
        });

        it("lets CloudWatch Logs use the logs key for that log group only, the account administering it through IAM", () => {
            const key = recorder.one(KEY, "ml-logs-key").inputs;
            expect(key.enableKeyRotation).toBe(true);
            const policy = JSON.parse(key.policy);
            expect(policy.Statement).toEqual([
                { Sid: "AccountAdministersKeyThroughIam", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${MOCK_ACCOUNT_ID}:root` }, Action: "kms:*", Resource: "*" },
                {
                    Sid: "CloudWatchLogsEncryptsThisLogGroupOnly",
                    Effect: "Allow",
                    Principal: { Service: `logs.${MOCK_REGION}.amazonaws.com` },
                    Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                    Resource: "*",
                    Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${MOCK_REGION}:${MOCK_ACCOUNT_ID}:log-group:/aws/eks/ml-test-093e41/cluster` } },
                },
            ]);
        });

        it("exposes the log group and its key", async () => {
            expect(await valueOf(cluster.controlPlaneLogGroupName)).toBe("/aws/eks/ml-test-093e41/cluster");
            expect(await valueOf(cluster.logsKmsKeyArn)).toBe(recorder.one(KEY, "ml-logs-key").state.arn);
        });
    });

    describe("pod networking", () => {
        it("lets EKS's bootstrap CNI be replaced by a vpc-cni add-on the component manages", () => {
            expect(recorder.one(CLUSTER, "ml-eks").inputs.useDefaultVpcCni).toBe(true);
        });

        it("enforces NetworkPolicies: the vpc-cni add-on runs the network-policy agent", () => {
            const addon = recorder.one(VPC_CNI, "ml-vpc-cni").inputs;
            expect(addon.enableNetworkPolicy).toBe(true);
            expect(addon.clusterName).toBe("ml-test-093e41");
            expect(addon.clusterVersion).toBe("1.33");
            expect(addon.resolveConflictsOnCreate).toBe("OVERWRITE");
        });

        it("gives aws-node its own IRSA role, trusted by kube-system:aws-node only, with the CNI policy", () => {
            const role = recorder.one(ROLE, "ml-vpc-cni");
            expect(recorder.one(VPC_CNI, "ml-vpc-cni").inputs.serviceAccountRoleArn).toBe(role.state.arn);
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            const c = recorder.one(CLUSTER, "ml-eks").state;
            expect(trust.Statement).toEqual([
                {
                    Effect: "Allow",
                    Principal: { Federated: c.oidcProviderArn },
                    Action: "sts:AssumeRoleWithWebIdentity",
                    Condition: { StringEquals: { [`${c.oidcProviderUrl}:sub`]: "system:serviceaccount:kube-system:aws-node", [`${c.oidcProviderUrl}:aud`]: "sts.amazonaws.com" } },
                },
            ]);
            const attachment = recorder.one(ATTACHMENT, "ml-vpc-cni").inputs;
            expect(attachment).toMatchObject({ role: role.state.name, policyArn: "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy" });
            expect(recorder.dependsOn(recorder.one(VPC_CNI, "ml-vpc-cni"), recorder.one(ATTACHMENT, "ml-vpc-cni"))).toBe(true);
        });

        it("starts no node before the add-on: every node group waits for it", () => {
            for (const g of recorder.ofType(MNG).filter((x) => x.name.startsWith("ml-"))) expect(recorder.dependsOn(g, recorder.one(VPC_CNI, "ml-vpc-cni"))).toBe(true);
        });

        it("keeps the API endpoint private with endpointAccess \"private\" (and the confirmation)", () => {
            const c = recorder.one(CLUSTER, "ml-eks").inputs;
            expect(c.endpointPrivateAccess).toBe(true);
            expect(c.endpointPublicAccess).toBe(false);
            expect(c.publicAccessCidrs).toBeUndefined();
        });
    });

    describe("network", () => {
        it("creates a VPC across 3 zones with a NAT gateway per zone, tagged for load balancers", () => {
            const vpc = recorder.one("awsx:ec2:Vpc", "ml-vpc").inputs;
            expect(vpc.cidrBlock).toBe("10.0.0.0/16");
            expect(vpc.numberOfAvailabilityZones).toBe(3);
            expect(vpc.natGateways).toEqual({ strategy: "OnePerAz" });
            expect(vpc.subnetSpecs.map((s: any) => [s.type, s.tags["kubernetes.io/role/internal-elb"] ?? s.tags["kubernetes.io/role/elb"]])).toEqual([
                ["Private", "1"],
                ["Public", "1"],
            ]);
        });

        it("puts the cluster and every node group in the VPC's private subnets", () => {
            const c = recorder.one(CLUSTER, "ml-eks").inputs;
            const vpc = recorder.one("awsx:ec2:Vpc", "ml-vpc").state;
            expect(c.vpcId).toBe(vpc.vpcId);
            expect(c.privateSubnetIds).toEqual(vpc.privateSubnetIds);
            expect(c.publicSubnetIds).toEqual(vpc.publicSubnetIds);
            for (const g of recorder.ofType(MNG)) expect(g.inputs.subnetIds).toEqual(vpc.privateSubnetIds);
        });
    });

    describe("GPU node group", () => {
        it("sets the NVIDIA AL2023 AMI type explicitly, on-demand, scaling from 0", () => {
            const g = recorder.one(MNG, "ml-gpu-l4").inputs;
            expect(g.amiType).toBe("AL2023_x86_64_NVIDIA");
            expect(g.gpu).toBeUndefined();
            expect(g.instanceTypes).toEqual(["g6.xlarge", "g6.2xlarge"]);
            expect(g.capacityType).toBe("ON_DEMAND");
            expect(g.scalingConfig).toEqual({ minSize: 0, maxSize: 4, desiredSize: 0 });
        });

        it("taints GPU nodes nvidia.com/gpu=true:NoSchedule", () => {
            expect(recorder.one(MNG, "ml-gpu-l4").inputs.taints).toEqual([{ key: "nvidia.com/gpu", value: "true", effect: "NO_SCHEDULE" }]);
        });

        it("labels GPU nodes with the accelerator, GPU model, group and OS", () => {
            expect(recorder.one(MNG, "ml-gpu-l4").inputs.labels).toEqual({
                "modelship.dev/accelerator": "nvidia",
                "modelship.dev/gpu-model": "nvidia-l4",
                "modelship.dev/node-group": "l4",
                "modelship.dev/node-role": "gpu",
                "modelship.dev/os": "al2023",
                "nvidia.com/gpu.present": "true",
                // cluster-autoscaler's AWS provider treats nodes with this label as GPU nodes.
                "k8s.amazonaws.com/accelerator": "nvidia-l4",
            });
        });

        it("lets the autoscaler own the size (ignoreScalingChanges)", () => {
            expect(recorder.one(MNG, "ml-gpu-l4").inputs.ignoreScalingChanges).toBe(true);
        });

        it("launches from a template requiring IMDSv2 with hop limit 1 and an encrypted 100 GiB gp3 root volume", () => {
            const lt = recorder.one(LT, "ml-gpu-l4-lt");
            expect(lt.inputs.metadataOptions).toEqual({ httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1, instanceMetadataTags: "disabled" });
            expect(lt.inputs.blockDeviceMappings).toEqual([
                { deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true", deleteOnTermination: "true", volumeSize: 100, kmsKeyId: recorder.one(KEY, "ml-node-volumes-key").state.arn } },
            ]);
            expect(lt.inputs.imageId).toBeUndefined();
            expect(lt.inputs.userData).toBeUndefined();
            expect(recorder.one(MNG, "ml-gpu-l4").inputs.launchTemplate).toEqual({ id: "ml-gpu-l4-lt-id", version: "1" });
            expect(recorder.one(MNG, "ml-gpu-l4").inputs.diskSize).toBeUndefined();
        });

        it("uses a node role with the worker policy only: no CNI policy, no account-wide ECR read", () => {
            const attachments = recorder.ofType(ATTACHMENT).filter((a) => a.name.startsWith("ml-node-"));
            expect(attachments.map((a) => a.inputs.policyArn)).toEqual(["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy"]);
            const nodeRoleName = recorder.one(ROLE, "ml-node-role").state.name;
            const onNodeRole = recorder.ofType(ATTACHMENT).filter((a) => a.inputs.role === nodeRoleName).map((a) => a.inputs.policyArn);
            expect(onNodeRole).not.toContain("arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy");
            expect(onNodeRole).not.toContain("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly");
            expect(onNodeRole).not.toContain("arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly");
            const trust = JSON.parse(recorder.one(ROLE, "ml-node-role").inputs.assumeRolePolicy);
            expect(trust.Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
        });

        it("lets nodes pull from no repository of their own account when none is listed, only from other accounts' shared ones", () => {
            const pull = recorder.one("aws:iam/rolePolicy:RolePolicy", "ml-node-image-pull");
            expect(pull.inputs.role).toBe(recorder.one(ROLE, "ml-node-role").state.name);
            expect(JSON.parse(pull.inputs.policy).Statement).toEqual([
                { Sid: "EcrAuthorizationToken", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
                {
                    Sid: "PullSharedRepositoriesOfOtherAccounts",
                    Effect: "Allow",
                    Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                    Resource: "*",
                    Condition: { StringNotEquals: { "aws:ResourceAccount": MOCK_ACCOUNT_ID } },
                },
            ]);
            for (const g of recorder.ofType(MNG).filter((x) => x.name.startsWith("ml-"))) expect(recorder.dependsOn(g, pull)).toBe(true);
        });
    });

    describe("system node group", () => {
        it("is a small on-demand AL2023 CPU group of 2-3 m6i.large, labelled for add-ons, untainted", () => {
            const g = recorder.one(MNG, "ml-system").inputs;
            expect(g.amiType).toBe("AL2023_x86_64_STANDARD");
            expect(g.instanceTypes).toEqual(["m6i.large"]);
            expect(g.capacityType).toBe("ON_DEMAND");
            expect(g.scalingConfig).toEqual({ minSize: 2, maxSize: 3, desiredSize: 2 });
            expect(g.labels).toEqual({ "modelship.dev/node-role": "system" });
            expect(g.taints).toBeUndefined();
            expect(g.ignoreScalingChanges).toBeUndefined();
            expect(recorder.one(LT, "ml-system-lt").inputs.metadataOptions.httpTokens).toBe("required");
        });
    });

    describe("scale from zero", () => {
        it("tags the group's ASG with the node template: GPU count, every label and the taint", () => {
            const tags = asgTags("ml-gpu-l4-ca-");
            const asg = "eks-ml-gpu-l4-mock-asg";
            const p = "k8s.io/cluster-autoscaler/node-template";
            expect(Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, v.value]))).toEqual({
                [`${p}/resources/nvidia.com/gpu`]: "1",
                [`${p}/label/modelship.dev/accelerator`]: "nvidia",
                [`${p}/label/modelship.dev/gpu-model`]: "nvidia-l4",
                [`${p}/label/modelship.dev/node-group`]: "l4",
                [`${p}/label/modelship.dev/node-role`]: "gpu",
                [`${p}/label/modelship.dev/os`]: "al2023",
                [`${p}/label/nvidia.com/gpu.present`]: "true",
                [`${p}/label/k8s.amazonaws.com/accelerator`]: "nvidia-l4",
                [`${p}/taint/nvidia.com/gpu`]: "true:NoSchedule",
            });
            for (const t of Object.values(tags)) {
                expect(t.asg).toBe(asg);
                expect(t.propagateAtLaunch).toBe(false);
            }
        });

        it("does not re-create the discovery tags EKS puts on managed node group ASGs", () => {
            const keys = recorder.ofType(ASG_TAG).map((t) => t.inputs.tag.key);
            expect(keys.some((k) => k === "k8s.io/cluster-autoscaler/enabled" || /^k8s\.io\/cluster-autoscaler\/ml-/.test(k))).toBe(false);
        });

        it("installs cluster-autoscaler pinned, auto-discovering this cluster, removing idle nodes after 10m", () => {
            const r = recorder.one(RELEASE, "ml-cluster-autoscaler").inputs;
            expect(r.chart).toBe("cluster-autoscaler");
            expect(r.version).toBe("9.50.0");
            expect(r.repositoryOpts).toEqual({ repo: "https://kubernetes.github.io/autoscaler" });
            expect(r.namespace).toBe("kube-system");
            expect(r.values.autoDiscovery).toEqual({ clusterName: "ml-test-093e41" });
            expect(r.values.awsRegion).toBe(MOCK_REGION);
            expect(r.values.image).toEqual({ tag: "v1.33.0" });
            expect(r.values.extraArgs).toEqual({
                "scale-down-unneeded-time": "10m",
                "scale-down-delay-after-add": "10m",
                expander: "least-waste",
                "balance-similar-node-groups": true,
                "skip-nodes-with-system-pods": false,
            });
            expect(r.values.nodeSelector).toEqual({ "modelship.dev/node-role": "system" });
        });

        it("gives cluster-autoscaler an IRSA role trusted by its service account only", () => {
            const role = recorder.one(ROLE, "ml-cluster-autoscaler");
            const release = recorder.one(RELEASE, "ml-cluster-autoscaler").inputs;
            expect(release.values.rbac.serviceAccount).toEqual({
                create: true,
                name: "cluster-autoscaler",
                annotations: { "eks.amazonaws.com/role-arn": role.state.arn },
            });
            const trust = JSON.parse(role.inputs.assumeRolePolicy);
            const issuer = recorder.one(CLUSTER, "ml-eks").state.oidcProviderUrl;
            expect(trust.Statement[0].Principal).toEqual({ Federated: recorder.one(CLUSTER, "ml-eks").state.oidcProviderArn });
            expect(trust.Statement[0].Condition.StringEquals).toEqual({
                [`${issuer}:sub`]: "system:serviceaccount:kube-system:cluster-autoscaler",
                [`${issuer}:aud`]: "sts.amazonaws.com",
            });
        });

        it("scopes the autoscaler's mutating actions to ASGs this cluster owns", () => {
            const policy = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "ml-cluster-autoscaler").inputs.policy);
            const byId = Object.fromEntries(policy.Statement.map((s: any) => [s.Sid, s]));
            expect(byId.ScaleThisClustersGroupsOnly).toEqual({
                Sid: "ScaleThisClustersGroupsOnly",
                Effect: "Allow",
                Action: ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
                Resource: "*",
                Condition: { StringEquals: { "aws:ResourceTag/k8s.io/cluster-autoscaler/ml-test-093e41": "owned" } },
            });
            expect(byId.DescribeThisClustersNodegroups.Resource).toBe(`arn:aws:eks:${MOCK_REGION}:${MOCK_ACCOUNT_ID}:nodegroup/ml-test-093e41/*/*`);
            const mutating = policy.Statement.filter((s: any) => s.Sid !== "ScaleThisClustersGroupsOnly").flatMap((s: any) => s.Action);
            expect(mutating.every((a: string) => /:(Describe|Get)/.test(a))).toBe(true);
        });
    });

    describe("add-ons", () => {
        it("installs the NVIDIA device plugin pinned, tolerating the GPU taint, only on non-Bottlerocket GPU nodes", () => {
            const r = recorder.one(RELEASE, "ml-nvidia-device-plugin").inputs;
            expect(r.chart).toBe("nvidia-device-plugin");
            expect(r.version).toBe("0.18.0");
            expect(r.repositoryOpts).toEqual({ repo: "https://nvidia.github.io/k8s-device-plugin" });
            expect(r.values.tolerations).toContainEqual({ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" });
            expect(r.values.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms).toEqual([
                {
                    matchExpressions: [
                        { key: "modelship.dev/accelerator", operator: "In", values: ["nvidia"] },
                        { key: "modelship.dev/os", operator: "NotIn", values: ["bottlerocket"] },
                    ],
                },
            ]);
        });

        it("installs metrics-server pinned, on the system nodes", () => {
            const r = recorder.one(RELEASE, "ml-metrics-server").inputs;
            expect(r.chart).toBe("metrics-server");
            expect(r.version).toBe("3.13.0");
            expect(r.repositoryOpts).toEqual({ repo: "https://kubernetes-sigs.github.io/metrics-server/" });
            expect(r.values.nodeSelector).toEqual({ "modelship.dev/node-role": "system" });
        });

        it("creates no namespace: its add-ons go to kube-system (EKS's, left unlabelled) and no release creates one", () => {
            expect(recorder.ofType("kubernetes:core/v1:Namespace").filter((r) => r.name.startsWith("ml-"))).toHaveLength(0);
            const releases = recorder.ofType(RELEASE).filter((x) => x.name.startsWith("ml-"));
            expect(releases.map((r) => [r.name, r.inputs.namespace, r.inputs.createNamespace ?? false])).toEqual(releases.map((r) => [r.name, "kube-system", false]));
        });

        it("deploys every Helm release through the cluster's provider", () => {
            const provider = recorder.one("pulumi:providers:kubernetes", "ml-k8s");
            for (const r of recorder.ofType(RELEASE).filter((x) => x.name.startsWith("ml-"))) expect(r.provider).toMatch(new RegExp(`^${provider.urn.replace(/[$]/g, "\\$")}::`));
        });
    });

    describe("outputs", () => {
        it("exposes a secret kubeconfig and a provider built from it with server-side apply", async () => {
            expect(await isSecret(cluster.kubeconfig)).toBe(true);
            const kubeconfig = JSON.parse(await valueOf(cluster.kubeconfig));
            expect(kubeconfig["current-context"]).toBe("ml-test-093e41");
            const provider = recorder.one("pulumi:providers:kubernetes", "ml-k8s");
            expect(provider.inputs.enableServerSideApply).toBe("true");
            expect(JSON.parse(provider.inputs.kubeconfig)).toEqual(kubeconfig);
        });

        it("exposes the cluster name, OIDC provider, VPC and group names", async () => {
            expect(await valueOf(cluster.clusterName)).toBe("ml-test-093e41");
            expect(await valueOf(cluster.oidcProviderArn)).toMatch(new RegExp(`^arn:aws:iam::${MOCK_ACCOUNT_ID}:oidc-provider/oidc\\.eks\\.`));
            expect(await valueOf(cluster.oidcProviderUrl)).toMatch(/^oidc\.eks\./);
            expect(await valueOf(cluster.vpcId)).toBe(recorder.one("awsx:ec2:Vpc", "ml-vpc").state.vpcId);
            expect(cluster.gpuNodeGroupNames).toEqual(["l4"]);
            expect(cluster.capacityStrategy).toBe("cluster-autoscaler");
        });

        it("gives GPU pods a plain nodeSelector and the GPU toleration", () => {
            expect(cluster.gpuScheduling).toEqual({
                nodeSelector: { "modelship.dev/accelerator": "nvidia" },
                tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
            });
        });

        it("parents every child to the component and names it after it", () => {
            const component = recorder.one("modelship:index:GpuCluster", "ml");
            const children = recorder.childrenOf(component);
            expect(children.length).toBeGreaterThan(10);
            expect(children.every((c) => c.name.startsWith("ml-"))).toBe(true);
            expect(children.map((c) => c.type)).toEqual(expect.arrayContaining([CLUSTER, MNG, RELEASE, ASG_TAG, "awsx:ec2:Vpc", "pulumi:providers:kubernetes"]));
        });

        it("tags AWS resources with the component and instance names", () => {
            const expected = { "modelship:component": "GpuCluster", "modelship:name": "ml", "managed-by": "pulumi" };
            expect(recorder.one(CLUSTER, "ml-eks").inputs.tags).toEqual(expected);
            expect(recorder.one(MNG, "ml-gpu-l4").inputs.tags).toEqual(expected);
            expect(recorder.one("aws:kms/key:Key", "ml-secrets-key").inputs.tags).toEqual(expected);
        });
    });
});

describe("GpuCluster with an existing VPC, public CIDRs, admins, a key, Bottlerocket, Graviton and spot", () => {
    beforeAll(async () => {
        new GpuCluster("prod", {
            version: "1.32",
            vpcId: "vpc-0123",
            privateSubnetIds: ["subnet-a", "subnet-b"],
            publicAccessCidrs: ["203.0.113.0/24"],
            admins: ["arn:aws:iam::123456789012:role/platform-admin"],
            kmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/existing",
            logsKmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/logs",
            nodeVolumeKmsKeyArn: "arn:aws:kms:us-west-2:123456789012:key/volumes",
            clusterName: "Prod_GPU-1",
            logRetentionDays: 365,
            imageRepositoryArns: ["arn:aws:ecr:us-west-2:123456789012:repository/modelship", "arn:aws:ecr:eu-west-1:123456789012:repository/team/model"],
            scaleDownDelay: "30m",
            systemNodeGroup: { instanceTypes: ["m7g.large"], minSize: 3, maxSize: 5 },
            gpuNodeGroups: [
                { name: "a10g", instanceTypes: ["g5.12xlarge"], minSize: 1, maxSize: 2, capacityType: "SPOT", amiType: "BOTTLEROCKET_x86_64_NVIDIA", diskSizeGb: 200, labels: { "team.example.com/owner": "search" } },
                { name: "t4g", instanceTypes: ["g5g.xlarge"], maxSize: 3 },
            ],
            tags: { team: "ml" },
        });
        await recorder.settle();
    });

    it("names the cluster and its log group as given, keeping logs as long as asked", () => {
        expect(recorder.one(CLUSTER, "prod-eks").inputs.name).toBe("Prod_GPU-1");
        const group = recorder.one(LOG_GROUP, "prod-control-plane-logs").inputs;
        expect(group.name).toBe("/aws/eks/Prod_GPU-1/cluster");
        expect(group.retentionInDays).toBe(365);
    });

    it("lets nodes pull the listed repositories of their own account", () => {
        const statements = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "prod-node-image-pull").inputs.policy).Statement;
        expect(statements.find((st: { Sid: string }) => st.Sid === "PullListedRepositories")).toEqual({
            Sid: "PullListedRepositories",
            Effect: "Allow",
            Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            Resource: ["arn:aws:ecr:us-west-2:123456789012:repository/modelship", "arn:aws:ecr:eu-west-1:123456789012:repository/team/model"],
        });
    });

    it("uses the given VPC and creates none", () => {
        const c = recorder.one(CLUSTER, "prod-eks").inputs;
        expect(recorder.ofType("awsx:ec2:Vpc").filter((v) => v.name.startsWith("prod"))).toHaveLength(0);
        expect(c.vpcId).toBe("vpc-0123");
        expect(c.privateSubnetIds).toEqual(["subnet-a", "subnet-b"]);
        expect(c.publicSubnetIds).toBeUndefined();
    });

    it("opens the public endpoint to the listed CIDRs only, keeping private access", () => {
        const c = recorder.one(CLUSTER, "prod-eks").inputs;
        expect(c.endpointPublicAccess).toBe(true);
        expect(c.endpointPrivateAccess).toBe(true);
        expect(c.publicAccessCidrs).toEqual(["203.0.113.0/24"]);
    });

    it("grants admins cluster admin through access entries", () => {
        expect(recorder.one(CLUSTER, "prod-eks").inputs.accessEntries).toEqual({
            "admin-0": {
                principalArn: "arn:aws:iam::123456789012:role/platform-admin",
                accessPolicies: { "cluster-admin": { policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", accessScope: { type: "cluster" } } },
                tags: { "managed-by": "pulumi", "modelship:component": "GpuCluster", "modelship:name": "prod", team: "ml" },
            },
        });
    });

    it("encrypts secrets with the given key and creates none", () => {
        expect(recorder.one(CLUSTER, "prod-eks").inputs.encryptionConfigKeyArn).toBe("arn:aws:kms:us-west-2:123456789012:key/existing");
        expect(recorder.ofType("aws:kms/key:Key").filter((k) => k.name.startsWith("prod"))).toHaveLength(0);
        expect(recorder.one(LOG_GROUP, "prod-control-plane-logs").inputs.kmsKeyId).toBe("arn:aws:kms:us-west-2:123456789012:key/logs");
        expect(recorder.one(CLUSTER, "prod-eks").inputs.version).toBe("1.32");
    });

    it("runs a Bottlerocket spot group with an encrypted OS volume and a 200 GiB data volume", () => {
        const g = recorder.one(MNG, "prod-gpu-a10g").inputs;
        expect(g.amiType).toBe("BOTTLEROCKET_x86_64_NVIDIA");
        expect(g.capacityType).toBe("SPOT");
        expect(g.scalingConfig).toEqual({ minSize: 1, maxSize: 2, desiredSize: 1 });
        expect(g.labels).toMatchObject({ "team.example.com/owner": "search", "modelship.dev/os": "bottlerocket", "modelship.dev/gpu-model": "nvidia-a10g" });
        expect(recorder.one(LT, "prod-gpu-a10g-lt").inputs.blockDeviceMappings).toEqual([
            { deviceName: "/dev/xvda", ebs: { volumeType: "gp3", encrypted: "true", deleteOnTermination: "true", kmsKeyId: "arn:aws:kms:us-west-2:123456789012:key/volumes" } },
            { deviceName: "/dev/xvdb", ebs: { volumeType: "gp3", encrypted: "true", deleteOnTermination: "true", kmsKeyId: "arn:aws:kms:us-west-2:123456789012:key/volumes", volumeSize: 200 } },
        ]);
    });

    it("advertises 4 GPUs for g5.12xlarge and 1 for g5g.xlarge in the node templates, with user labels", () => {
        const a10g = asgTags("prod-gpu-a10g-ca-");
        expect(a10g["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"].value).toBe("4");
        expect(a10g["k8s.io/cluster-autoscaler/node-template/label/team.example.com/owner"].value).toBe("search");
        expect(a10g["k8s.io/cluster-autoscaler/node-template/label/modelship.dev/os"].value).toBe("bottlerocket");
        expect(asgTags("prod-gpu-t4g-ca-")["k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu"].value).toBe("1");
    });

    it("picks the ARM64 NVIDIA AMI for Graviton GPUs and the ARM64 standard AMI for a Graviton system group", () => {
        expect(recorder.one(MNG, "prod-gpu-t4g").inputs.amiType).toBe("AL2023_ARM_64_NVIDIA");
        expect(recorder.one(MNG, "prod-gpu-t4g").inputs.labels["modelship.dev/gpu-model"]).toBe("nvidia-t4g");
        const sys = recorder.one(MNG, "prod-system").inputs;
        expect(sys.amiType).toBe("AL2023_ARM_64_STANDARD");
        expect(sys.scalingConfig).toEqual({ minSize: 3, maxSize: 5, desiredSize: 3 });
    });

    it("passes the scale-down delay and the version-matched image to cluster-autoscaler", () => {
        const v = recorder.one(RELEASE, "prod-cluster-autoscaler").inputs.values;
        expect(v.extraArgs["scale-down-unneeded-time"]).toBe("30m");
        expect(v.image).toEqual({ tag: "v1.32.0" });
    });
});

describe("GpuCluster fails at construction on invalid args", () => {
    const base = { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] };
    const build = (args: any) => () => new GpuCluster("bad", args);

    it.each([
        ["empty gpuNodeGroups", { gpuNodeGroups: [] }, /gpuNodeGroups is empty/],
        ["maxSize < minSize", { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], minSize: 3, maxSize: 1 }] }, /gpuNodeGroups\[0\]\.maxSize \(1\) is less than minSize \(3\)/],
        ["a non-GPU instance type", { gpuNodeGroups: [{ name: "l4", instanceTypes: ["m5.xlarge"], maxSize: 1 }] }, /gpuNodeGroups\[0\]\.instanceTypes\[0\] "m5\.xlarge" has no NVIDIA GPU/],
        ["an AMI for the wrong architecture", { gpuNodeGroups: [{ name: "t4g", instanceTypes: ["g5g.xlarge"], maxSize: 1, amiType: "AL2023_x86_64_NVIDIA" }] }, /gpuNodeGroups\[0\]\.amiType AL2023_x86_64_NVIDIA is for x86_64 but g5g\.xlarge is arm64: use AL2023_ARM_64_NVIDIA/],
        ["a non-NVIDIA AMI", { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 1, amiType: "AL2_x86_64_GPU" }] }, /gpuNodeGroups\[0\]\.amiType "AL2_x86_64_GPU" is not an NVIDIA AMI type/],
        [
            "overlapping group names",
            { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 1 }, { name: "l4", instanceTypes: ["g6.2xlarge"], maxSize: 1 }] },
            /gpuNodeGroups\[1\]\.name "l4" is also the name of gpuNodeGroups\[0\]/,
        ],
        ["a world-open API endpoint", { ...base, publicAccessCidrs: ["0.0.0.0/0"] }, /publicAccessCidrs together cover 4,294,967,296 addresses/],
        ["the internet in two halves", { ...base, publicAccessCidrs: ["0.0.0.0/1", "128.0.0.0/1"] }, /publicAccessCidrs together cover 4,294,967,296 addresses/],
        ["subnets without a VPC", { ...base, privateSubnetIds: ["subnet-a", "subnet-b"] }, /vpcId is required with privateSubnetIds/],
        ["a cluster name EKS refuses", { ...base, clusterName: "-bad.name" }, /clusterName "-bad\.name" must be 1-100 letters, digits, "-" or "_"/],
        ["a cluster name over 100 characters", { ...base, clusterName: "a".repeat(101) }, /clusterName "a+" must be 1-100/],
        ["a retention CloudWatch refuses", { ...base, logRetentionDays: 45 }, /logRetentionDays 45 is not a retention CloudWatch accepts: use one of 1, 3, 5, 7, 14, 30, 60, 90/],
        ["an account-wide repository wildcard", { ...base, imageRepositoryArns: ["arn:aws:ecr:us-west-2:123456789012:repository/*"] }, /imageRepositoryArns\[0\] "arn:aws:ecr:us-west-2:123456789012:repository\/\*" must be one ECR repository's ARN/],
        ["a repository URL instead of an ARN", { ...base, imageRepositoryArns: ["123456789012.dkr.ecr.us-west-2.amazonaws.com/modelship"] }, /imageRepositoryArns\[0\] .* must be one ECR repository's ARN/],
    ])("rejects %s", (_what, args, message) => {
        expect(build(args)).toThrow(message);
        expect(build(args)).toThrow(/^GpuCluster "bad": /);
    });

    it("creates nothing when the args are invalid", () => {
        const before = recorder.resources.length;
        expect(build({ gpuNodeGroups: [] })).toThrow();
        expect(recorder.resources.length).toBe(before);
    });
});
