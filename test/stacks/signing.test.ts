import * as path from "path";
import { installMockRuntime, valueOf, freshRequire } from "../support/mocks";

const recorder = installMockRuntime();
import { cloudTarget, type CloudTargetOutputs } from "../../stacks/cloud";
import { edgeTarget, type EdgeTargetOutputs } from "../../stacks/edge";
import { formatProblems, parseTargetConfig, zodProblems, cloudSchema, edgeSchema } from "../../stacks/config";
import { toPlanResources, plan as runPlan } from "../../cli/plan";
import { ecrRepositoryOfTag, signingFilterMatches, signingOwnerWarnings, unsignedImageWarnings } from "../../cli/signing-check";
import { SIGNED_IMAGES_KIND } from "../../components/image-verification";
import { verifyScript } from "../../components/internal/edge-verification";

const CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGZha2VrZXlmb3J0ZXN0cw==";
const cluster = { version: "1.33", publicAccessCidrs: ["203.0.113.0/24"], gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], minSize: 0, maxSize: 3 }] };
const CONSTRAINT = `kubernetes:constraints.gatekeeper.sh/v1beta1:${SIGNED_IMAGES_KIND}`;

describe("config: modelship:signing", () => {
    it("is off by default", () => {
        expect(parseTargetConfig("cloud", (k) => ({ cluster })[k as "cluster"]).signing).toBe(false);
    });
    it("needs AWS Signer's root certificate for the cluster's verifier", () => {
        const r = cloudSchema.safeParse({ cluster, signing: true });
        expect(r.success).toBe(false);
        expect(formatProblems(zodProblems(cloudSchema, r.error!.issues))).toMatch(/modelship:signerRootCertificate.*is required with signing: true.*pulumi config set modelship:signerRootCertificate/);
    });
    it("needs each edge device's SSH host key, and an ssh:// host", () => {
        const base = { deviceRegion: "eu-central-1", devicePrincipals: ["123456789012"], signing: true };
        const noKey = edgeSchema.safeParse({ ...base, devices: [{ name: "j1", host: "ssh://deploy@j1.example.com" }] });
        expect(formatProblems(zodProblems(edgeSchema, noKey.error!.issues))).toMatch(/modelship:devices\[0\]\.hostKey.*is required with signing: true/);
        const tcp = edgeSchema.safeParse({ ...base, devices: [{ name: "g", host: "tcp://g:2376", tls: { caCert: "a", clientCert: "b", clientKey: "c" } }] });
        expect(formatProblems(zodProblems(edgeSchema, tcp.error!.issues))).toMatch(/modelship:devices\[0\]\.host.*over SSH/);
    });
});

describe("cloud target with signing on", () => {
    let out: CloudTargetOutputs;
    beforeAll(async () => {
        const config = parseTargetConfig("cloud", (k) => ({ name: "sg", cluster, signing: true, signerRootCertificate: CERT })[k as "name"]);
        out = cloudTarget({ ...config, secretValues: {} });
        await recorder.settle();
    });

    it("signs pushes to the stack's repository: a Notation profile and the registry's signing rule", () => {
        const profile = recorder.one("aws:signer/signingProfile:SigningProfile", "sg-signing-profile");
        expect(profile.inputs.platformId).toBe("Notation-OCI-SHA384-ECDSA");
        const state = JSON.parse(recorder.one("aws:cloudcontrol/resource:Resource", "sg-signing-configuration").inputs.desiredState);
        expect(state.Rules[0].RepositoryFilters[0].Filter).toBe(recorder.one("aws:ecr/repository:Repository", "sg-repo").inputs.name);
    });

    it("refuses unsigned images in the service's namespace, trusting the stack's profile", async () => {
        expect(out.verification).toBeDefined();
        const constraint = recorder.one(CONSTRAINT, "sg-verify-constraint");
        expect(constraint.inputs.spec.match.namespaces).toEqual(["inference"]);
        expect(constraint.inputs.spec.parameters.signingProfileArn).toBe(await valueOf(out.registry!.signingProfileArn));
        const ratify = recorder.one("kubernetes:helm.sh/v3:Release", "sg-verify-ratify");
        expect(ratify.inputs.values.notation.trustPolicies[0].registryScopes).toEqual([await valueOf(out.registry!.repositoryUrl)]);
        expect(ratify.provider).toContain("sg-cluster");
    });

    it("admits the service only after the policy is in force", () => {
        const deployment = recorder.ofType("kubernetes:apps/v1:Deployment").find((d) => d.name.startsWith("sg-"))!;
        expect(recorder.dependsOn(deployment, recorder.one(CONSTRAINT, "sg-verify-constraint"))).toBe(true);
    });

    it("plan does not warn: every pushed image is covered by a signing rule", () => {
        expect(unsignedImageWarnings(toPlanResources(recorder).filter((r) => r.name.startsWith("sg")))).toEqual([]);
    });
});

describe("edge target with signing on", () => {
    let out: EdgeTargetOutputs;
    beforeAll(async () => {
        const config = parseTargetConfig("edge", (k) =>
            ({
                name: "esg",
                deviceRegion: "eu-central-1",
                devicePrincipals: ["123456789012"],
                signing: true,
                devices: [{ name: "jetson-01", host: "ssh://deploy@jetson-01.example.com", platform: "linux/arm64", hostKey: HOST_KEY }],
            })[k as "name"],
        );
        out = edgeTarget({ ...config, secretValues: {}, providerRegion: "us-west-2" });
        await recorder.settle();
    });

    it("verifies on the device, against the stack's profile and the digest the device pulls, before pulling and running", async () => {
        const check = recorder.one("command:remote:Command", "esg-jetson-01-verify-signature");
        expect(check.inputs.create).toBe(verifyScript(await valueOf(out.deviceImageRef), (await valueOf(out.registry!.signingProfileArn)) as string));
        expect(check.inputs.connection).toMatchObject({ host: "jetson-01.example.com", user: "deploy", hostKey: HOST_KEY });
        expect(recorder.dependsOn(recorder.one("docker:index/container:Container", "esg-jetson-01-container"), check)).toBe(true);
        expect(recorder.dependsOn(recorder.one("docker:index/remoteImage:RemoteImage", "esg-jetson-01-image"), check)).toBe(true);
    });

    it("lets the devices' pull role check revocation for strict verification", () => {
        const statements = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "esg-pull-role-policy").inputs.policy).Statement;
        expect(statements).toContainEqual({ Sid: "SignatureRevocation", Effect: "Allow", Action: "signer:GetRevocationStatus", Resource: "*" });
    });

    it("signs the images the devices pull (the signing rule covers the replicated repository)", () => {
        expect(unsignedImageWarnings(toPlanResources(recorder).filter((r) => r.name.startsWith("esg")))).toEqual([]);
    });
});

describe("modelship plan: unsigned images", () => {
    it("matches ECR tags and signing filters as ECR does", () => {
        expect(ecrRepositoryOfTag("123456789012.dkr.ecr.us-west-2.amazonaws.com/team/model:abc")).toBe("team/model");
        expect(ecrRepositoryOfTag("ghcr.io/acme/model:1")).toBeUndefined();
        expect(signingFilterMatches("team/*", "team/model")).toBe(true);
        expect(signingFilterMatches("model", "model-2")).toBe(false);
    });

    it("warns when two registries of one program each own the account's signing configuration", () => {
        const config = (name: string) => ({ type: "aws:cloudcontrol/resource:Resource", name, parent: null, inputs: { typeName: "AWS::ECR::SigningConfiguration", desiredState: "{}" } });
        expect(signingOwnerWarnings([config("a-signing-configuration")])).toEqual([]);
        expect(signingOwnerWarnings([config("a-signing-configuration"), config("b-signing-configuration")])[0]).toMatch(/a-signing-configuration, b-signing-configuration each write .* signing\.ownsRegistryConfiguration true in one ImageRegistry/);
    });

    it("warns, naming the image, the repository and the fix, when the stack pushes unsigned", async () => {
        const result = await runPlan({ load: freshRequire, stack: "cloud", json: false, projectDir: path.resolve(__dirname, "..", "..") });
        expect(result.text).toMatch(/warning: image modelship-image-image is pushed unsigned to ECR repository modelship-cloud-[0-9a-f]{6}: .*set modelship:signing true/);
    });
});

