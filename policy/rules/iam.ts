/** IAM: no `Resource: "*"` on actions of services whose resources have a known ARN form. */
import { arr, obj, resourceRule, str } from "./rule";

export const IAM_POLICY_TYPES = {
    "aws:iam/policy:Policy": "policy",
    "aws:iam/rolePolicy:RolePolicy": "policy",
    "aws:iam/userPolicy:UserPolicy": "policy",
    "aws:iam/groupPolicy:GroupPolicy": "policy",
} as const;
export const IAM_ROLE = "aws:iam/role:Role";

/** Services whose resources have an ARN form a policy can name (the ARN pattern shown in the message). */
export const KNOWN_ARN_FORMS: Record<string, string> = {
    ecr: "arn:aws:ecr:<region>:<account>:repository/<name>",
    s3: "arn:aws:s3:::<bucket>[/<key>]",
    secretsmanager: "arn:aws:secretsmanager:<region>:<account>:secret:<name>-*",
    kms: "arn:aws:kms:<region>:<account>:key/<key-id>",
    sqs: "arn:aws:sqs:<region>:<account>:<queue>",
    sns: "arn:aws:sns:<region>:<account>:<topic>",
    dynamodb: "arn:aws:dynamodb:<region>:<account>:table/<table>",
    logs: "arn:aws:logs:<region>:<account>:log-group:<name>",
    ssm: "arn:aws:ssm:<region>:<account>:parameter/<name>",
    eks: "arn:aws:eks:<region>:<account>:cluster/<name>",
    signer: "arn:aws:signer:<region>:<account>:/signing-profiles/<name>",
    lambda: "arn:aws:lambda:<region>:<account>:function:<name>",
};

/**
 * Actions of those services that take no resource-level permission (the IAM Service Authorization Reference lists
 * them with no resource type): "*" is their only possible Resource.
 */
export const ACCOUNT_LEVEL_ACTIONS = new Set(
    [
        "ecr:GetAuthorizationToken",
        // Notation's AWS Signer plugin checks revocation with it; the Service Authorization Reference lists no resource.
        "signer:GetRevocationStatus",
        "ecr:DescribeRegistry",
        "ecr:GetRegistryPolicy",
        "ecr:PutRegistryPolicy",
        "ecr:DeleteRegistryPolicy",
        "ecr:PutReplicationConfiguration",
        "ecr:GetRegistryScanningConfiguration",
        "ecr:PutRegistryScanningConfiguration",
        "ecr:DescribePullThroughCacheRules",
        "s3:ListAllMyBuckets",
        "secretsmanager:GetRandomPassword",
        "secretsmanager:ListSecrets",
        "secretsmanager:BatchGetSecretValue",
        "kms:CreateKey",
        "kms:ListKeys",
        "kms:ListAliases",
        "kms:GenerateRandom",
        "kms:CreateCustomKeyStore",
        "kms:DescribeCustomKeyStores",
        "sqs:ListQueues",
        "sns:ListTopics",
        "sns:ListSubscriptions",
        "dynamodb:ListTables",
        "logs:DescribeLogGroups",
        "ssm:DescribeParameters",
        "eks:ListClusters",
        "eks:CreateCluster",
        "eks:DescribeAddonVersions",
        "eks:ListAccessPolicies",
        "signer:ListSigningProfiles",
        "signer:ListSigningPlatforms",
        "signer:GetSigningPlatform",
        "signer:ListSigningJobs",
        "lambda:ListFunctions",
    ].map((a) => a.toLowerCase()),
);

/** Condition keys that scope a wildcard Resource to known resources (ABAC by tag, account, encryption context...). */
const SCOPING_CONDITION_KEY = /^(aws:ResourceTag\/|aws:ResourceAccount$|aws:ResourceOrgID$|aws:ResourceOrgPaths$|aws:SourceArn$|aws:SourceAccount$|kms:EncryptionContext|kms:ViaService$)/i;

/** Whether a statement's Condition scopes the resources it applies to. Pure. */
function scopedByCondition(condition: unknown): boolean {
    return Object.values(obj(condition) ?? {}).some((block) => Object.keys(obj(block) ?? {}).some((k) => SCOPING_CONDITION_KEY.test(k)));
}

/** The actions of one statement, lower-cased. */
function list(v: unknown): string[] {
    return (typeof v === "string" ? [v] : arr<string>(v).filter((x) => typeof x === "string")).map((x) => x.toLowerCase());
}

/**
 * The problems of one policy document (a JSON string or an object): each Allow statement whose Resource is "*" and
 * that grants a resource-scopable action of a service in {@link KNOWN_ARN_FORMS}, without a scoping condition. Pure.
 */
export function wildcardResourceProblems(document: unknown): string[] {
    let doc: unknown = document;
    if (typeof document === "string") {
        try {
            doc = JSON.parse(document);
        } catch {
            return [];
        }
    }
    const statements = obj(doc)?.Statement;
    const problems: string[] = [];
    for (const [i, s] of (Array.isArray(statements) ? statements : statements ? [statements] : []).entries()) {
        const st = obj(s);
        if (!st || str(st.Effect) !== "Allow" || !list(st.Resource).includes("*") || scopedByCondition(st.Condition)) continue;
        const actions = list(st.Action);
        const offending = actions.filter((a) => {
            if (a === "*") return true;
            const service = a.split(":")[0];
            return service in KNOWN_ARN_FORMS && !ACCOUNT_LEVEL_ACTIONS.has(a);
        });
        if (offending.length === 0) continue;
        const services = [...new Set(offending.map((a) => (a === "*" ? "*" : a.split(":")[0])))];
        const forms = services.map((svc) => (svc === "*" ? "every service" : KNOWN_ARN_FORMS[svc])).join("; ");
        problems.push(`statement ${str(st.Sid) ?? `#${i}`} allows ${offending.join(", ")} on Resource "*" (name the ARNs: ${forms})`);
    }
    return problems;
}

export const iamNoWildcardResource = resourceRule(
    {
        name: "iam-no-wildcard-resource",
        description: 'IAM policies name the resources they grant (no Resource "*") where the service has an ARN form',
        remediation: "scope each statement to the exact ARNs (aws.iam.getPolicyDocumentOutput with the resources' .arn outputs), or to a resource-tag / resource-account condition",
        enforcementLevel: "mandatory",
        severity: "high",
    },
    [...Object.keys(IAM_POLICY_TYPES), IAM_ROLE],
    (props, args, report) => {
        const docs = args.type === IAM_ROLE ? arr(props.inlinePolicies).map((p) => p.policy) : [props.policy];
        for (const d of docs) for (const p of wildcardResourceProblems(d)) report(p);
    },
);

export const iamRules = [iamNoWildcardResource];
