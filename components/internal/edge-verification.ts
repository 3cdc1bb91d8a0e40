/**
 * Signature verification on an edge device, before anything of the image reaches its engine: `notation verify` with
 * the AWS Signer plugin, run over SSH as a `@pulumi/command` remote Command that the pull and the container depend on.
 * EdgeDevice calls {@link createSignatureCheck}; the pure helpers are tested directly.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { type ArgChecker } from "./validation";
import { checkPlain } from "./inputs";

/** Notation's trust store that the AWS Signer plugin installer provisions with the AWS Signer root (commercial regions). */
export const AWS_SIGNER_TRUST_STORE = "signingAuthority:aws-signer-ts";

/** Verifies the image's signature on the device before it is pulled and run. */
export interface EdgeSignatureCheckArgs {
    /** The AWS Signer profile whose signatures the device trusts (`ImageRegistry.signingProfileArn`). Required. */
    signingProfileArn: pulumi.Input<string>;
    /**
     * The device's SSH host public key (`ssh-ed25519 AAAA…`, as in known_hosts without the host name). Required: the
     * check runs over its own SSH connection, which must not trust whoever answers.
     */
    hostKey: pulumi.Input<string>;
    /** SSH private key (PEM/OpenSSH) for that connection; kept secret. Default: the ssh-agent at `$SSH_AUTH_SOCK`, as the Docker provider uses. */
    privateKey?: pulumi.Input<string>;
}

/** Records the problems of `verifySignature` on `c` (the host must be `ssh://`). Pure. */
export function validateEdgeSignatureCheck(c: ArgChecker, check: EdgeSignatureCheckArgs, host: unknown): void {
    c.check(check.signingProfileArn !== undefined && check.signingProfileArn !== "", "verifySignature.signingProfileArn", "is required: pass ImageRegistry.signingProfileArn");
    c.check(check.hostKey !== undefined && check.hostKey !== "", "verifySignature.hostKey", "is required: the device's SSH host key (ssh-keyscan it once, verify it, paste the `ssh-ed25519 AAAA…` part)");
    checkPlain(c, "verifySignature.hostKey", check.hostKey, hostKeyProblem);
    if (typeof host === "string") c.check(host.startsWith("ssh://"), "verifySignature", `needs an ssh:// host to run notation on the device (got "${host}"): connect with ssh://user@host`);
}

/** What is wrong with an SSH host public key, or undefined. Pure. */
export function hostKeyProblem(key: string): string | undefined {
    return /^(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|rsa-sha2-(256|512)) [A-Za-z0-9+/]+=*$/.test(key.trim())
        ? undefined
        : "is not an SSH public key: give `<type> <base64>`, e.g. the `ssh-ed25519 AAAA…` part of `ssh-keyscan -t ed25519 <host>`";
}

/** User, host and port of an `ssh://user@host[:port]` Docker host. Pure. */
export function sshTarget(host: string): { user: string; host: string; port: number } {
    const m = /^ssh:\/\/([^@\s/]+)@([^\s/:]+)(?::(\d+))?$/.exec(host);
    if (!m) throw new Error(`"${host}" is not an ssh://user@host[:port] address`);
    return { user: m[1], host: m[2], port: m[3] ? Number(m[3]) : 22 };
}

/** The repository of a reference (`registry/repo` without tag or digest): the trust policy's registry scope. Pure. */
export function repositoryOf(ref: string): string {
    return ref.replace(/@sha256:[0-9a-f]{64}$/, "").replace(/:[^/:]+$/, "");
}

/**
 * The Notation trust policy the device verifies with: images of this repository must carry a signature from the
 * profile (trusted identity) chaining to the AWS Signer root, at level strict (integrity, authenticity, expiry and
 * revocation enforced). Pure.
 */
export function deviceTrustPolicy(profileArn: string, repository: string): Record<string, unknown> {
    return {
        version: "1.0",
        trustPolicies: [
            { name: "modelship", registryScopes: [repository], signatureVerification: { level: "strict" }, trustStores: [AWS_SIGNER_TRUST_STORE], trustedIdentities: [profileArn] },
        ],
    };
}

/** A single-quoted shell word. Pure. */
export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The first line of the refusal the update fails with. Pure. */
export function refusalLine(ref: string, profileArn: string): string {
    return `modelship: refusing ${ref}: its signature does not verify against AWS Signer profile ${profileArn} (trust level strict); the running container is left in place`;
}

/**
 * The POSIX sh script run on the device. It verifies against a private Notation configuration (our trust policy,
 * the device's trust store and plugins linked in), so the device's own Notation settings are neither used nor
 * changed; registry credentials arrive on stdin (two lines: user, password), never on a command line. Pure.
 */
export function verifyScript(ref: string, profileArn: string): string {
    const policy = JSON.stringify(deviceTrustPolicy(profileArn, repositoryOf(ref)));
    return [
        "set -eu",
        `command -v notation >/dev/null 2>&1 || { echo ${shellQuote("modelship: notation is not installed on this device: install Notation with the AWS Signer plugin (docs/signing.md)")} >&2; exit 1; }`,
        'conf="${XDG_CONFIG_HOME:-$HOME/.config}/notation"',
        'tmp="$(mktemp -d)"',
        "trap 'rm -rf \"$tmp\"' EXIT",
        'mkdir -p "$tmp/notation"',
        'ln -s "$conf/truststore" "$tmp/notation/truststore"',
        'if [ -d "$conf/plugins" ]; then ln -s "$conf/plugins" "$tmp/notation/plugins"; fi',
        // Notation 1.2+ reads trustpolicy.oci.json, earlier releases trustpolicy.json.
        `printf '%s' ${shellQuote(policy)} > "$tmp/notation/trustpolicy.oci.json"`,
        'cp "$tmp/notation/trustpolicy.oci.json" "$tmp/notation/trustpolicy.json"',
        "IFS= read -r NOTATION_USERNAME || true",
        "IFS= read -r NOTATION_PASSWORD || true",
        "export NOTATION_USERNAME NOTATION_PASSWORD",
        `if ! XDG_CONFIG_HOME="$tmp" notation verify ${shellQuote(ref)} >&2; then echo ${shellQuote(refusalLine(ref, profileArn))} >&2; exit 1; fi`,
        `echo ${shellQuote(`verified ${ref}`)}`,
    ].join("\n");
}

/**
 * The remote Command verifying `image` on the device. It is re-run whenever the image (or the registry token) changes,
 * and the pull and the container depend on it: a failed verification fails the update before either is touched.
 */
export function createSignatureCheck(
    name: string,
    args: { host: pulumi.Output<string>; image: pulumi.Output<string>; check: EdgeSignatureCheckArgs; registryAuth?: { username: pulumi.Input<string>; password: pulumi.Input<string> } },
    parent: pulumi.Resource,
): command.remote.Command {
    const target = args.host.apply(sshTarget);
    const credentials = args.registryAuth ? pulumi.secret(pulumi.interpolate`${args.registryAuth.username}\n${args.registryAuth.password}\n`) : undefined;
    return new command.remote.Command(
        `${name}-verify-signature`,
        {
            connection: {
                host: target.host,
                user: target.user,
                port: target.port,
                hostKey: pulumi.output(args.check.hostKey).apply((k) => k.trim()),
                privateKey: args.check.privateKey === undefined ? undefined : pulumi.secret(args.check.privateKey),
            },
            create: pulumi.all([args.image, args.check.signingProfileArn]).apply(([ref, arn]) => verifyScript(ref, arn)),
            stdin: credentials,
            logging: "stdoutAndStderr",
        },
        { parent, additionalSecretOutputs: ["stdin"] },
    );
}
