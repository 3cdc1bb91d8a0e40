import { checkReplicationRegions } from "../../components/image-registry";

describe("ImageRegistry refuses a replica in the provider's own region (checked once the region resolves)", () => {
    it("names the region and the fix", () => {
        expect(() => checkReplicationRegions("edge", ["eu-central-1", "us-west-2"], "us-west-2")).toThrow(
            'ImageRegistry "edge": replicationRegions lists us-west-2, the AWS provider\'s own region, where the source repository already is: remove it (pulls there use the source repository)',
        );
    });
    it("passes other regions", () => {
        expect(() => checkReplicationRegions("edge", ["eu-central-1"], "us-west-2")).not.toThrow();
        expect(() => checkReplicationRegions("edge", [], "us-west-2")).not.toThrow();
    });
});
