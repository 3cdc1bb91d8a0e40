/**
 * Strict IPv4 CIDR parsing and coverage arithmetic, for allow-lists that guard something reachable from the internet
 * (the EKS public API endpoint). Pure: no Pulumi calls.
 *
 * Hand-written rather than taken from an IP library on purpose: the libraries accept forms this module must refuse
 * (`010.0.0.0/8` read as octal, `/00`, host bits set), and the whole rule is a few lines a reviewer can read.
 */

/** Largest share of the IPv4 internet an allow-list may open: a /8 worth of addresses (1/256 of IPv4). */
export const MAX_ALLOWED_ADDRESSES = 2 ** 24;

/** Canonical dotted quad with prefix: no leading zeros in an octet or the prefix, no sign, no spaces. */
const CANONICAL = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\/(0|[1-9]\d?)$/;
/** Anything that looks like an IPv4 CIDR, canonical or not, so the error can name the canonical form. */
const LOOSE = /^\s*(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)\s*$/;

/** A parsed IPv4 CIDR: the first address (as an unsigned 32-bit number) and the prefix length. */
export interface Ipv4Cidr {
    network: number;
    prefix: number;
}

export type CidrParse = { ok: true; cidr: Ipv4Cidr } | { ok: false; reason: string };

function toDotted(n: number): string {
    return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/** Number of addresses a prefix length covers. */
export function addressCount(prefix: number): number {
    return 2 ** (32 - prefix);
}

/**
 * Parses a CIDR written exactly as canonical IPv4 (`203.0.113.0/24`). Refuses leading zeros (`010.0.0.0/8`,
 * `0.0.0.0/00`), octets above 255, prefixes above 32 and host bits set (`10.0.0.1/8`); the reason says the fix.
 */
export function parseCanonicalCidr(value: string): CidrParse {
    const loose = LOOSE.exec(value);
    if (!loose) return { ok: false, reason: `is not an IPv4 CIDR such as "203.0.113.0/24"` };
    const octets = loose.slice(1, 5).map(Number);
    const prefix = Number(loose[5]);
    if (octets.some((o) => o > 255) || prefix > 32) return { ok: false, reason: `is not an IPv4 CIDR: octets go to 255 and the prefix to 32` };
    const address = ((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) >>> 0;
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const network = (address & mask) >>> 0;
    const canonical = `${toDotted(network)}/${prefix}`;
    if (!CANONICAL.test(value)) return { ok: false, reason: `is not written canonically (no leading zeros, no spaces): write "${canonical}"` };
    if (network !== address) return { ok: false, reason: `has host bits set: the block it names is "${canonical}"; write that (or a /32 for one address)` };
    return { ok: true, cidr: { network, prefix } };
}

/**
 * How many distinct addresses a set of CIDRs covers, overlaps counted once (`0.0.0.0/1` + `128.0.0.0/1` is all 2^32).
 */
export function coveredAddresses(cidrs: Ipv4Cidr[]): number {
    const ranges = cidrs.map((c) => [c.network, c.network + addressCount(c.prefix)] as const).sort((a, b) => a[0] - b[0]);
    let total = 0;
    let start = -1;
    let end = -1;
    for (const [s, e] of ranges) {
        if (s > end) {
            total += end - start;
            start = s;
            end = e;
        } else if (e > end) {
            end = e;
        }
    }
    return total + (end - start);
}
