/** ECR: immutable tags, scanning on push, KMS encryption, a lifecycle policy on every repository. */
import { arr, bool, obj, resourceRule, stackRule, str } from "./rule";

export const ECR_REPOSITORY = "aws:ecr/repository:Repository";
export const ECR_LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy";
export const ECR_REGISTRY_SCANNING = "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration";

const IMMUTABLE = ["IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION"];

export const ecrImmutableTags = resourceRule(
    {
        name: "ecr-immutable-tags",
        description: "ECR repositories have immutable tags, so that a tag always names the image it was first pushed as",
        remediation: 'set imageTagMutability to "IMMUTABLE" (or "IMMUTABLE_WITH_EXCLUSION" with exclusion filters for moving tags); ImageRegistry does',
        enforcementLevel: "mandatory",
        severity: "high",
    },
    [ECR_REPOSITORY],
    (props, _args, report) => {
        const m = str(props.imageTagMutability) ?? "MUTABLE";
        if (!IMMUTABLE.includes(m)) report(`imageTagMutability is ${m}`);
    },
);

export const ecrKmsEncryption = resourceRule(
    {
        name: "ecr-kms-encryption",
        description: "ECR repositories are encrypted with a KMS key (AES256 is AWS-owned and cannot be audited or revoked)",
        remediation: 'set encryptionConfigurations to [{ encryptionType: "KMS", kmsKey: <your key ARN> }]; ImageRegistry creates a rotated key',
        enforcementLevel: "mandatory",
        severity: "medium",
    },
    [ECR_REPOSITORY],
    (props, _args, report) => {
        const kms = arr(props.encryptionConfigurations).some((c) => str(c.encryptionType)?.startsWith("KMS"));
        if (!kms) report("the repository is not encrypted with KMS (encryptionType is AES256 or unset)");
    },
);

/** Whether a registry scanning filter (`*` wildcards) matches a repository name. Pure. */
export function scanFilterMatches(filter: string, repository: string): boolean {
    const re = new RegExp(`^${filter.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*")}$`);
    return re.test(repository);
}

/** Whether the registry's scanning configuration scans `repository` on push (or continuously). Pure. */
export function registryScans(config: Record<string, unknown>, repository: string): boolean {
    return arr(config.rules).some(
        (rule) =>
            ["SCAN_ON_PUSH", "CONTINUOUS_SCAN"].includes(str(rule.scanFrequency) ?? "") &&
            arr(rule.repositoryFilters).some((f) => str(f.filterType) === "WILDCARD" && scanFilterMatches(str(f.filter) ?? "", repository)),
    );
}

export const ecrScanOnPush = stackRule(
    {
        name: "ecr-scan-on-push",
        description: "every ECR repository scans images for vulnerabilities on push, itself or through the registry's scanning configuration",
        remediation: "set imageScanningConfiguration.scanOnPush to true, or add an aws.ecr.RegistryScanningConfiguration rule (SCAN_ON_PUSH or CONTINUOUS_SCAN) whose filter matches the repository",
        cis: "5.1.1",
        enforcementLevel: "mandatory",
        severity: "high",
    },
    (args, report) => {
        const registry = args.resources.filter((r) => r.type === ECR_REGISTRY_SCANNING).map((r) => r.props);
        for (const repo of args.resources.filter((r) => r.type === ECR_REPOSITORY)) {
            const name = str(repo.props.name) ?? repo.name;
            if (bool(obj(repo.props.imageScanningConfiguration)?.scanOnPush) === true) continue;
            if (registry.some((c) => registryScans(c, name))) continue;
            report(`repository ${name} is not scanned on push`, repo.urn);
        }
    },
);

export const ecrLifecyclePolicy = stackRule(
    {
        name: "ecr-lifecycle-policy",
        description: "every ECR repository has a lifecycle policy, so that untagged and superseded images expire",
        remediation: "add an aws.ecr.LifecyclePolicy for the repository (ImageRegistry's untaggedExpiryDays / keepTaggedImages)",
        enforcementLevel: "advisory",
        severity: "low",
    },
    (args, report) => {
        const covered = new Set(args.resources.filter((r) => r.type === ECR_LIFECYCLE_POLICY).map((r) => str(r.props.repository)));
        for (const repo of args.resources.filter((r) => r.type === ECR_REPOSITORY)) {
            const name = str(repo.props.name) ?? repo.name;
            if (!covered.has(name)) report(`repository ${name} has no lifecycle policy`, repo.urn);
        }
    },
);

export const ecrRules = [ecrImmutableTags, ecrScanOnPush, ecrKmsEncryption, ecrLifecyclePolicy];
