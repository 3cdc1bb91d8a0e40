/**
 * The "restricted" Pod Security Standard (Kubernetes docs, "Pod Security Standards", v1.33), as a checker over a pod
 * spec: what the API server's PodSecurity admission would refuse in a namespace labelled enforce=restricted.
 * Test-only: the cluster enforces it for real through the namespace labels.
 */
const ALLOWED_VOLUME_KINDS = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
const ALLOWED_ADD_CAPABILITIES = ["NET_BIND_SERVICE"];

/** The violations of the restricted standard in `pod` (a PodSpec), empty when it passes. */
export function restrictedViolations(pod: any): string[] {
    const out: string[] = [];
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) out.push("host namespaces");
    for (const v of pod.volumes ?? []) {
        const kinds = Object.keys(v).filter((k) => k !== "name");
        for (const k of kinds) if (!ALLOWED_VOLUME_KINDS.includes(k)) out.push(`volume ${v.name} of type ${k}`);
    }
    const podCtx = pod.securityContext ?? {};
    const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
    for (const c of containers) {
        const sc = c.securityContext ?? {};
        const at = `container ${c.name}`;
        if (sc.privileged) out.push(`${at}: privileged`);
        if (sc.allowPrivilegeEscalation !== false) out.push(`${at}: allowPrivilegeEscalation must be false`);
        if ((sc.runAsNonRoot ?? podCtx.runAsNonRoot) !== true) out.push(`${at}: runAsNonRoot must be true`);
        if ((sc.runAsUser ?? podCtx.runAsUser) === 0) out.push(`${at}: runAsUser 0`);
        const seccomp = (sc.seccompProfile ?? podCtx.seccompProfile)?.type;
        if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") out.push(`${at}: seccompProfile must be RuntimeDefault or Localhost`);
        if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${at}: capabilities must drop ALL`);
        for (const cap of sc.capabilities?.add ?? []) if (!ALLOWED_ADD_CAPABILITIES.includes(cap)) out.push(`${at}: adds capability ${cap}`);
        for (const p of c.ports ?? []) if (p.hostPort) out.push(`${at}: hostPort ${p.hostPort}`);
    }
    return out;
}
