import { validateGpuClusterArgs, type GpuClusterArgs } from "../../components/gpu-cluster";
import { MAX_ALLOWED_ADDRESSES, coveredAddresses, parseCanonicalCidr, type Ipv4Cidr } from "../../components/internal/cidr";

const cidrs = (...values: string[]): Ipv4Cidr[] =>
    values.map((v) => {
        const p = parseCanonicalCidr(v);
        if (!p.ok) throw new Error(`${v}: ${p.reason}`);
        return p.cidr;
    });

describe("parseCanonicalCidr", () => {
    it.each([
        ["203.0.113.0/24", 0xcb007100, 24],
        ["198.51.100.7/32", 0xc6336407, 32],
        ["0.0.0.0/0", 0, 0],
        ["10.0.0.0/8", 0x0a000000, 8],
    ])("accepts %s", (value, network, prefix) => {
        expect(parseCanonicalCidr(value)).toEqual({ ok: true, cidr: { network, prefix } });
    });

    it.each([
        ["0.0.0.0/00", /not written canonically.*write "0\.0\.0\.0\/0"/],
        ["010.0.0.0/8", /not written canonically.*write "10\.0\.0\.0\/8"/],
        ["10.0.0.0/08", /not written canonically.*write "10\.0\.0\.0\/8"/],
        [" 203.0.113.0/24", /not written canonically/],
        ["10.0.0.1/8", /host bits set: the block it names is "10\.0\.0\.0\/8"/],
        ["203.0.113.9/24", /host bits set: the block it names is "203\.0\.113\.0\/24"/],
        ["10.0.0.0/33", /prefix to 32/],
        ["256.0.0.0/8", /octets go to 255/],
        ["10.0.0.0", /is not an IPv4 CIDR/],
        ["::/0", /is not an IPv4 CIDR/],
        ["+10.0.0.0/8", /is not an IPv4 CIDR/],
    ])("refuses %s", (value, reason) => {
        const p = parseCanonicalCidr(value);
        expect(p.ok).toBe(false);
        if (!p.ok) expect(p.reason).toMatch(reason);
    });
});

describe("coveredAddresses", () => {
    it("counts one block", () => {
        expect(coveredAddresses(cidrs("203.0.113.0/24"))).toBe(256);
    });

    it("counts overlaps once", () => {
        expect(coveredAddresses(cidrs("10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24"))).toBe(2 ** 24);
        expect(coveredAddresses(cidrs("203.0.113.0/24", "203.0.113.0/24"))).toBe(256);
    });

    it("adds disjoint and adjacent blocks", () => {
        expect(coveredAddresses(cidrs("203.0.113.0/25", "203.0.113.128/25", "198.51.100.0/24"))).toBe(512);
    });

    it("sees two halves as the whole internet", () => {
        expect(coveredAddresses(cidrs("0.0.0.0/1", "128.0.0.0/1"))).toBe(2 ** 32);
    });

    it("is 0 for no block", () => {
        expect(coveredAddresses([])).toBe(0);
    });
});

describe("GpuCluster publicAccessCidrs rule", () => {
    const base: GpuClusterArgs = { gpuNodeGroups: [{ name: "l4", instanceTypes: ["g6.xlarge"], maxSize: 2 }] };
    const check = (publicAccessCidrs: string[]) => () => validateGpuClusterArgs("ml", { ...base, publicAccessCidrs });

    it.each([
        [["0.0.0.0/0"], /publicAccessCidrs together cover 4,294,967,296 addresses \(overlaps merged\), more than a \/8 worth \(16,777,216\)/],
        [["0.0.0.0/1", "128.0.0.0/1"], /publicAccessCidrs together cover 4,294,967,296 addresses/],
        [["0.0.0.0/00"], /publicAccessCidrs\[0\] "0\.0\.0\.0\/00" is not written canonically/],
        [["10.0.0.1/8"], /publicAccessCidrs\[0\] "10\.0\.0\.1\/8" has host bits set/],
        [["010.0.0.0/8"], /publicAccessCidrs\[0\] "010\.0\.0\.0\/8" is not written canonically/],
        [["11.0.0.0/8", "12.0.0.0/32"], /together cover 16,777,217 addresses/],
        [["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], /together cover 4,294,967,296 addresses/],
    ])("refuses %j", (list, message) => {
        expect(check(list)).toThrow(message);
    });

    it.each([[["203.0.113.0/24", "198.51.100.7/32"]], [["11.0.0.0/8"]], [["11.0.0.0/9", "11.128.0.0/9", "11.0.0.0/16"]]])("accepts %j", (list) => {
        expect(check(list)).not.toThrow();
    });

    it("accepts [] only for a confirmed private endpoint", () => {
        expect(check([])).toThrow(/publicAccessCidrs is empty, so the API endpoint would be private-only/);
        expect(() => validateGpuClusterArgs("ml", { ...base, publicAccessCidrs: [], endpointAccess: "private", privateEndpointReachable: true })).not.toThrow();
    });

    it("states the limit it enforces", () => {
        expect(MAX_ALLOWED_ADDRESSES).toBe(16_777_216);
    });
});
