/**
 * Security contexts that meet the Kubernetes "restricted" Pod Security Standard
 * (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted). Plain objects, typed with the
 * provider's input types, so the tests can assert on them directly.
 */
import type * as k8s from "@pulumi/kubernetes";

type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/** The ids a pod runs as. The modelship server image runs as 10001:10001. */
export interface RunAs {
    user: number;
    group: number;
    fsGroup: number;
}

export const DEFAULT_RUN_AS: RunAs = { user: 10001, group: 10001, fsGroup: 10001 };

/** Pod-level context: non-root with fixed ids, RuntimeDefault seccomp. */
export function restrictedPodSecurityContext(runAs: RunAs = DEFAULT_RUN_AS): PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: runAs.user,
        runAsGroup: runAs.group,
        fsGroup: runAs.fsGroup,
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** Container-level context: no privilege escalation, no capabilities, read-only root filesystem. */
export function restrictedContainerSecurityContext(runAs: RunAs = DEFAULT_RUN_AS): SecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: runAs.user,
        runAsGroup: runAs.group,
        allowPrivilegeEscalation: false,
        privileged: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}
