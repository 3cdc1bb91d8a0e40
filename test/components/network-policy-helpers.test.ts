import { podSecurityLabels } from "../../components/internal/namespaces";
import { checkPodPeer, cidrPeer, ingressRule, isLabelKey, isLabelValue, podPeer } from "../../components/internal/network-policy";
import { ArgChecker } from "../../components/internal/validation";

describe("label syntax", () => {
    it("accepts Kubernetes label keys, with or without a DNS prefix", () => {
        for (const key of ["app", "app.kubernetes.io/name", "k8s-app", "team_1", "a/b", "example.com/x.y-z"]) expect(isLabelKey(key)).toBe(true);
    });
    it("refuses malformed keys", () => {
        for (const key of ["", "bad key", "-app", "app-", "Example.com/x", "a//b", "/x", `${"a".repeat(64)}`]) expect(isLabelKey(key)).toBe(false);
    });
    it("accepts label values, including the empty one, and refuses the rest", () => {
        for (const v of ["", "prometheus", "v1.2_3", "A-b"]) expect(isLabelValue(v)).toBe(true);
        for (const v of [" x", "x ", "-x", "a/b", "a".repeat(64)]) expect(isLabelValue(v)).toBe(false);
    });
});

describe("peers", () => {
    it("builds a namespace-by-name peer, a labels peer and a same-namespace pod peer", () => {
        expect(podPeer({ namespace: "monitoring", podLabels: { app: "p" } })).toEqual({
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } },
            podSelector: { matchLabels: { app: "p" } },
        });
        expect(podPeer({ namespaceLabels: { team: "ml" } })).toEqual({ namespaceSelector: { matchLabels: { team: "ml" } } });
        expect(podPeer({ podLabels: { app: "gw" } })).toEqual({ podSelector: { matchLabels: { app: "gw" } } });
        expect(cidrPeer("10.0.0.0/8")).toEqual({ ipBlock: { cidr: "10.0.0.0/8" } });
    });
    it("leaves `from` out only when asked for any source", () => {
        expect(ingressRule("anywhere", [443])).toEqual({ ports: [{ protocol: "TCP", port: 443 }] });
        expect(ingressRule([], [443])).toEqual({ from: [], ports: [{ protocol: "TCP", port: 443 }] });
    });
    it("refuses an empty peer", () => {
        const c = new ArgChecker("X", "x");
        checkPodPeer(c, "peer", {});
        expect(() => c.done()).toThrow('X "x": peer is empty, which would admit every pod');
    });
});

describe("podSecurityLabels", () => {
    it("sets enforce, warn and audit to the same level", () => {
        expect(podSecurityLabels("baseline")).toEqual({
            "pod-security.kubernetes.io/enforce": "baseline",
            "pod-security.kubernetes.io/warn": "baseline",
            "pod-security.kubernetes.io/audit": "baseline",
        });
    });
});
