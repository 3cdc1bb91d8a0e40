/**
 * `modelship plan`'s signing check: a warning for every image the program pushes to a repository that no ECR signing
 * rule of the program covers (so it is stored unsigned, and admission control or a device check would refuse it).
 */
import type { PlanResource } from "./plan";

/** The CloudFormation type ImageRegistry's `signing` writes through Cloud Control. */
const SIGNING_CONFIGURATION = "AWS::ECR::SigningConfiguration";

/** The repository name of a pushed ECR tag (`<account>.dkr.ecr.<region>.amazonaws.com/<name>:<tag>`), or undefined. Pure. */
export function ecrRepositoryOfTag(tag: string): string | undefined {
    // The plan shows values AWS computes (the account) as `<placeholder:…>`.
    const m = /^(?:\d{12}|<placeholder:[\w-]+>)\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/(.+?)(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/.exec(tag);
    return m ? m[1] : undefined;
}

/** Whether an ECR signing filter (`WILDCARD_MATCH`: `*` matches any run of characters) covers a repository. Pure. */
export function signingFilterMatches(filter: string, repository: string): boolean {
    const pattern = filter.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&")).join(".*");
    return new RegExp(`^${pattern}$`).test(repository);
}

/** The repository filters of the program's signing configurations (a rule without filters covers everything: `*`). Pure. */
export function signingFilters(resources: readonly PlanResource[]): string[] {
    const filters: string[] = [];
    for (const r of resources) {
        if (r.type !== "aws:cloudcontrol/resource:Resource" || r.inputs.typeName !== SIGNING_CONFIGURATION || typeof r.inputs.desiredState !== "string") continue;
        let state: { Rules?: { RepositoryFilters?: { Filter: string }[] }[] };
        try {
            state = JSON.parse(r.inputs.desiredState);
        } catch {
            continue;
        }
        for (const rule of state.Rules ?? []) filters.push(...(rule.RepositoryFilters?.length ? rule.RepositoryFilters.map((f) => f.Filter) : ["*"]));
    }
    return filters;
}

/** One warning per pushed image whose ECR repository no signing rule of the program covers. Pure. */
export function unsignedImageWarnings(resources: readonly PlanResource[]): string[] {
    const filters = signingFilters(resources);
    const warnings: string[] = [];
    for (const r of resources) {
        if (r.type !== "docker-build:index:Image" || r.inputs.push !== true) continue;
        const repositories = new Set(((r.inputs.tags as unknown[]) ?? []).filter((t): t is string => typeof t === "string").map(ecrRepositoryOfTag));
        for (const repository of repositories) {
            if (repository === undefined || filters.some((f) => signingFilterMatches(f, repository))) continue;
            warnings.push(
                `image ${r.name} is pushed unsigned to ECR repository ${repository}: no signing rule of this program covers it; set modelship:signing true (or ImageRegistry signing), see docs/signing.md`,
            );
        }
    }
    return warnings;
}

/**
 * A warning when more than one resource of the program writes the registry's signing configuration, of which ECR keeps
 * one per account and region: the last one applied would replace the others' rules. Pure.
 */
export function signingOwnerWarnings(resources: readonly PlanResource[]): string[] {
    const owners = resources.filter((r) => r.type === "aws:cloudcontrol/resource:Resource" && r.inputs.typeName === SIGNING_CONFIGURATION).map((r) => r.name);
    return owners.length > 1
        ? [`${owners.join(", ")} each write the ECR signing configuration, one per account and region: keep signing.ownsRegistryConfiguration true in one ImageRegistry and false in the others`]
        : [];
}
