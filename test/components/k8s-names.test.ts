import * as pulumi from "@pulumi/pulumi";
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, isHelmReleaseName, isLabelValue, isQualifiedName } from "../../components/internal/k8s-names";
import { validateInferenceServiceArgs } from "../../components/inference-service";
import { SECRET_WIRING_NAME_MAX, validateSecretWiringArgs } from "../../components/secret-wiring";
import { SERVING_ADDONS_NAME_MAX, validateServingAddonsArgs } from "../../components/serving-addons";

const IMAGE = `r.example.com/m@sha256:${"a".repeat(64)}`;
const CLUSTER = { oidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/x", oidcProviderUrl: "https://x" };

describe("Kubernetes name formats (what the API server accepts)", () => {
    it("DNS-1123 labels: lowercase alphanumerics and '-', alphanumeric at both ends, at most 63", () => {
        for (const v of ["a", "0", "a-b", "1abc", "a".repeat(63)]) expect(isDns1123Label(v)).toBe(true);
        for (const v of ["", "A", "a_b", "-a", "a-", "a.b", "a".repeat(64)]) expect(isDns1123Label(v)).toBe(false);
        expect(isDns1123Label("abcd", 3)).toBe(false);
        // A max above 63 never lifts the label limit.
        expect(isDns1123Label("a".repeat(64), 100)).toBe(false);
    });

    it("DNS-1035 labels (Service names) must start with a letter", () => {
        expect(isDns1035Label("svc-1")).toBe(true);
        for (const v of ["1svc", "0", "-a", "a-", "A"]) expect(isDns1035Label(v)).toBe(false);
    });

    it("DNS-1123 subdomains: dotted labels, at most 253", () => {
        for (const v of ["a", "a.b", "my-sa.team-1", `${"a".repeat(63)}.${"b".repeat(63)}`]) expect(isDns1123Subdomain(v)).toBe(true);
        for (const v of ["", "a..b", ".a", "a.", "A.b", "a_b", "a".repeat(254)]) expect(isDns1123Subdomain(v)).toBe(false);
    });

    it("qualified names (label, annotation and taint keys): [subdomain/]name, the name at most 63", () => {
        for (const v of ["app", "nvidia.com/gpu", "app.kubernetes.io/name", "A_b.c-D", `x/${"n".repeat(63)}`]) expect(isQualifiedName(v)).toBe(true);
        for (const v of ["", "/a", "a/", "a/b/c", "Ex.com/a", "-a", `x/${"n".repeat(64)}`, "a b"]) expect(isQualifiedName(v)).toBe(false);
    });

    it("label values: empty, or at most 63 with alphanumerics at both ends", () => {
        for (const v of ["", "true", "v1.2_3", "a".repeat(63)]) expect(isLabelValue(v)).toBe(true);
        for (const v of ["-a", "a-", "a/b", "a".repeat(64)]) expect(isLabelValue(v)).toBe(false);
    });

    it("Helm release names: DNS-1123 labels of at most 53", () => {
        expect(isHelmReleaseName("a".repeat(53))).toBe(true);
        expect(isHelmReleaseName("a".repeat(54))).toBe(false);
    });
});

describe("every name a component derives is checked at construction", () => {
    it("InferenceService refuses a name starting with a digit: it names the Service (DNS-1035)", () => {
        expect(() => validateInferenceServiceArgs("1llama", { image: IMAGE })).toThrow('InferenceService "1llama": name "1llama" must be a DNS-1035 label of at most 50 characters');
        expect(() => validateInferenceServiceArgs("llama1", { image: IMAGE })).not.toThrow();
    });

    it("InferenceService checks node selector keys and values, toleration keys, env names and subdomain names", () => {
        const longKey = `example.com/${"k".repeat(64)}`;
        expect(() => validateInferenceServiceArgs("s", { image: IMAGE, scheduling: { nodeSelector: { [longKey]: "x" } } })).toThrow(`scheduling.nodeSelector has "${longKey}", which is not a label key`);
        expect(() => validateInferenceServiceArgs("s", { image: IMAGE, scheduling: { nodeSelector: { gpu: "-yes" } } })).toThrow('scheduling.nodeSelector.gpu "-yes" is not a label value');
        expect(() => validateInferenceServiceArgs("s", { image: IMAGE, scheduling: { tolerations: [{ key: "bad key", operator: "Exists" }] } })).toThrow('scheduling.tolerations[0].key "bad key" is not a taint key');
        expect(() => validateInferenceServiceArgs("s", { image: IMAGE, env: { "1X": "v" } })).toThrow("env.1X is not a valid environment variable name");
        // Service account and Secret names are subdomains: dots are fine, uppercase is not.
        expect(() => validateInferenceServiceArgs("s", { image: IMAGE, serviceAccount: { name: "team.reader" }, secret: "hf.token" })).not.toThrow();
        expect(() => validateInferenceServiceArgs("s", { image: IMAGE, serviceAccount: { name: "Reader" } })).toThrow('serviceAccount.name "Reader" is not a valid service account name');
    });

    it(`SecretWiring in aws mode caps its name at ${SECRET_WIRING_NAME_MAX}: the IAM role "<name>-reader" plus Pulumi's 8 characters fits IAM's 64`, () => {
        const aws = { mode: "aws" as const, namespace: "ns", cluster: CLUSTER, secrets: { A: pulumi.output("a") } };
        expect(SECRET_WIRING_NAME_MAX).toBe(49);
        expect(`${"a".repeat(49)}-reader`.length + 8).toBe(64);
        expect(() => validateSecretWiringArgs("a".repeat(49), aws)).not.toThrow();
        expect(() => validateSecretWiringArgs("a".repeat(50), aws)).toThrow("must be a DNS-1123 label of at most 49 characters");
        expect(() => validateSecretWiringArgs("a".repeat(50), aws)).toThrow("IAM's 64");
        // kubernetes mode creates no IAM role: the Secret's name is the only limit.
        expect(() => validateSecretWiringArgs("a".repeat(63), { mode: "kubernetes", namespace: "ns", secrets: { A: pulumi.output("a") } })).not.toThrow();
    });

    it("SecretWiring checks the Secrets Manager name prefix", () => {
        const aws = { mode: "aws" as const, namespace: "ns", cluster: CLUSTER, secrets: { A: pulumi.output("a") } };
        expect(() => validateSecretWiringArgs("w", { ...aws, secretNamePrefix: "team/app-1" })).not.toThrow();
        expect(() => validateSecretWiringArgs("w", { ...aws, secretNamePrefix: "bad prefix" })).toThrow('secretNamePrefix "bad prefix" may hold only');
        expect(() => validateSecretWiringArgs("w", { ...aws, secretNamePrefix: "p".repeat(490) })).toThrow("secretNamePrefix is too long");
    });

    it(`ServingAddons caps its name at ${SERVING_ADDONS_NAME_MAX} ("<name>-prometheus" is a Helm release name) and needs a leading letter (a Service name)`, () => {
        expect(SERVING_ADDONS_NAME_MAX).toBe(42);
        expect(() => validateServingAddonsArgs("a".repeat(42), {})).not.toThrow();
        expect(() => validateServingAddonsArgs("a".repeat(43), {})).toThrow("must be a DNS-1035 label of at most 42 characters");
        expect(() => validateServingAddonsArgs("1addons", {})).toThrow('ServingAddons "1addons": name "1addons" must be a DNS-1035 label');
    });
});
