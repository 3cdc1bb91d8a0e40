import { installMockRuntime, valueOf, MOCK_ACCOUNT_ID } from "../support/mocks";

const recorder = installMockRuntime();
import { ImageRegistry, validateImageRegistryArgs } from "../../components/image-registry";
import { InferenceImage } from "../../components/inference-image";
import {
    NOTATION_SIGNER_PLATFORM,
    signingConfigurationState,
    signingProfileNamePrefix,
    SIGNER_REVOCATION_ACTION,
} from "../../components/internal/image-signing";
import * as path from "path";

const PROFILE = "aws:signer/signingProfile:SigningProfile";
const CONFIG = "aws:cloudcontrol/resource:Resource";
const PERMISSION = "aws:signer/signingProfilePermission:SigningProfilePermission";

describe("ImageRegistry signing: validation", () => {
    it("requires the explicit owner flag of the account-and-region-wide signing configuration", () => {
        expect(() => validateImageRegistryArgs("r", { signing: {} as never })).toThrow(/signing\.ownsRegistryConfiguration.*one registry per account and region/);
    });
    it("refuses a push principal that is not one, and an out-of-range validity", () => {
        expect(() => validateImageRegistryArgs("r", { signing: { ownsRegistryConfiguration: true, pushPrincipals: ["ci-role"] } })).toThrow(/signing\.pushPrincipals\[0\]/);
        expect(() => validateImageRegistryArgs("r", { signing: { ownsRegistryConfiguration: true, signatureValidityMonths: 200 } })).toThrow(/signing\.signatureValidityMonths.*1 to 135/);
    });
    it("names profiles within AWS Signer's alphabet (letters, digits, _), leaving room for the unique suffix", () => {
        const prefix = signingProfileNamePrefix("team/model-server.v2");
        expect(prefix).toBe("team_model_server_v2_");
        expect(signingProfileNamePrefix("a".repeat(200)).length + 26).toBeLessThanOrEqual(64);
        expect(/^[A-Za-z0-9_]+$/.test(prefix)).toBe(true);
    });
});

describe("ImageRegistry signing: resources", () => {
    let registry: ImageRegistry;
    beforeAll(async () => {
        registry = new ImageRegistry("signed", {
            signing: { ownsRegistryConfiguration: true, pushPrincipals: [`arn:aws:iam::${MOCK_ACCOUNT_ID}:role/ci`] },
            pullRole: { trustedPrincipals: [MOCK_ACCOUNT_ID] },
        });
        new ImageRegistry("other", { repositoryName: "other", signing: { ownsRegistryConfiguration: false } });
        new InferenceImage("img", { context: path.resolve(__dirname, "../../inference-image"), registry });
        await recorder.settle();
    });

    it("creates a Notation signing profile", () => {
        const profile = recorder.one(PROFILE, "signed-signing-profile");
        expect(profile.inputs.platformId).toBe(NOTATION_SIGNER_PLATFORM);
        expect(profile.inputs.platformId).toBe("Notation-OCI-SHA384-ECDSA");
        expect(profile.inputs.signatureValidityPeriod).toEqual({ type: "MONTHS", value: 135 });
    });

    it("writes the registry signing configuration once, with a rule for exactly this repository", () => {
        const configs = recorder.ofType(CONFIG);
        expect(configs.map((c) => c.name)).toEqual(["signed-signing-configuration"]);
        expect(configs[0].inputs.typeName).toBe("AWS::ECR::SigningConfiguration");
        const state = JSON.parse(configs[0].inputs.desiredState);
        const profile = recorder.one(PROFILE, "signed-signing-profile");
        expect(state).toEqual({ Rules: [{ SigningProfileArn: profile.state.arn, RepositoryFilters: [{ Filter: "signed", FilterType: "WILDCARD_MATCH" }] }] });
        expect(signingConfigurationState("arn:p", "a/b").Rules).toHaveLength(1);
    });

    it("grants pushers exactly signer:SignPayload on the profile, and publishes the same as an identity policy", async () => {
        const perms = recorder.ofType(PERMISSION);
        expect(perms).toHaveLength(1);
        expect(perms[0].inputs).toMatchObject({ action: "signer:SignPayload", principal: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/ci` });
        expect(perms[0].inputs.profileName).toBe(recorder.one(PROFILE, "signed-signing-profile").state.name);
        const policy = JSON.parse((await valueOf(registry.signingPolicyJson)) as string);
        expect(policy.Statement).toEqual([{ Sid: "SignPushedImages", Effect: "Allow", Action: ["signer:SignPayload"], Resource: recorder.one(PROFILE, "signed-signing-profile").state.arn }]);
    });

    it("lets the pull role check revocation (strict verification on devices) and nothing more of Signer", () => {
        const policy = JSON.parse(recorder.one("aws:iam/rolePolicy:RolePolicy", "signed-pull-role-policy").inputs.policy);
        const signer = policy.Statement.filter((s: { Action: string | string[] }) => String(s.Action).startsWith("signer:"));
        expect(signer).toEqual([{ Sid: "SignatureRevocation", Effect: "Allow", Action: SIGNER_REVOCATION_ACTION, Resource: "*" }]);
    });

    it("outputs the profile ARN, the verifiers' trusted identity", async () => {
        expect(await valueOf(registry.signingProfileArn)).toBe(recorder.one(PROFILE, "signed-signing-profile").state.arn);
        expect(await valueOf(registry.signingProfileArn)).toMatch(/^arn:aws:signer:[a-z0-9-]+:\d{12}:\/signing-profiles\/signed_/);
    });

    it("pushes the first image only after the signing rule and permissions exist, so it is signed", () => {
        const build = recorder.one("docker-build:index:Image", "img-image");
        expect(recorder.dependsOn(build, recorder.one(CONFIG, "signed-signing-configuration"))).toBe(true);
        expect(recorder.dependsOn(build, recorder.ofType(PERMISSION)[0])).toBe(true);
    });

    it("a registry that does not own the signing configuration still gets its own profile (its rule goes in the owner's configuration)", () => {
        expect(recorder.ofType(PROFILE).map((p) => p.name).sort()).toEqual(["other-signing-profile", "signed-signing-profile"]);
    });
});
