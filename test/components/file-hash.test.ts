import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { defaultCacheFile, fileSha256, HASH_CHUNK_BYTES, resetLoadedCaches, streamSha256 } from "../../components/internal/file-hash";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "modelship-hash-"));
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
/** A clock far enough ahead that a file written now counts as settled. */
const later = () => Date.now() + 60_000;

describe("streamSha256", () => {
    it("hashes a file larger than one read chunk exactly as a one-shot hash does", () => {
        const file = path.join(tmp(), "big.onnx");
        const bytes = Buffer.alloc(HASH_CHUNK_BYTES + 12345, 7);
        bytes[bytes.length - 1] = 1;
        fs.writeFileSync(file, bytes);
        expect(streamSha256(file)).toBe(sha(bytes));
    });
});

describe("fileSha256 cache", () => {
    let dir: string;
    let cacheFile: string;
    let file: string;
    beforeEach(() => {
        dir = tmp();
        cacheFile = path.join(dir, "cache", "file-hashes.json");
        file = path.join(dir, "m.onnx");
        fs.writeFileSync(file, "weights-v1");
        resetLoadedCaches();
    });
    const opts = () => ({ cacheFile, cacheMinBytes: 0, now: later });
    const poison = () => {
        const entries = JSON.parse(fs.readFileSync(cacheFile, "utf8"));
        entries[file].sha256 = "f".repeat(64);
        fs.writeFileSync(cacheFile, JSON.stringify(entries));
        resetLoadedCaches();
    };

    it("stores the hash with the file's stamp and serves it while the file is unchanged", () => {
        expect(fileSha256(file, opts())).toBe(sha("weights-v1"));
        const entry = JSON.parse(fs.readFileSync(cacheFile, "utf8"))[file];
        expect(entry).toMatchObject({ size: "10", sha256: sha("weights-v1") });
        expect(Object.keys(entry).sort()).toEqual(["ctimeNs", "dev", "ino", "mtimeNs", "sha256", "size"]);
        expect(fs.statSync(cacheFile).mode & 0o777).toBe(0o600);
        // A poisoned entry is returned: proof that the second call read the cache and not the file.
        poison();
        expect(fileSha256(file, opts())).toBe("f".repeat(64));
    });

    it("re-hashes a changed file of the same size with a new mtime", () => {
        fileSha256(file, opts());
        poison();
        fs.writeFileSync(file, "weights-v2");
        const t = new Date(Date.now() + 5_000);
        fs.utimesSync(file, t, t);
        expect(fileSha256(file, opts())).toBe(sha("weights-v2"));
    });

    it("re-hashes a changed file whose mtime was put back (ctime moves on any write)", () => {
        const t0 = new Date(Math.floor(Date.now() / 1000) * 1000 - 10_000);
        fs.utimesSync(file, t0, t0);
        const before = fs.statSync(file, { bigint: true });
        fileSha256(file, opts());
        poison();
        // Let the clock tick so that ctime differs even on a coarse filesystem.
        const until = Date.now() + 20;
        while (Date.now() < until);
        fs.writeFileSync(file, "weights-v3");
        fs.utimesSync(file, t0, t0);
        expect(fs.statSync(file, { bigint: true }).mtimeNs).toBe(before.mtimeNs);
        expect(fs.statSync(file).size).toBe(Number(before.size));
        expect(fileSha256(file, opts())).toBe(sha("weights-v3"));
    });

    it("does not cache a file changed just before it was read (racily clean), nor small files", () => {
        fileSha256(file, { cacheFile, cacheMinBytes: 0 });
        expect(fs.existsSync(cacheFile)).toBe(false);
        fileSha256(file, { cacheFile, now: later });
        expect(fs.existsSync(cacheFile)).toBe(false);
    });

    it("survives a corrupt cache file", () => {
        fs.mkdirSync(path.dirname(cacheFile), { recursive: true });
        fs.writeFileSync(cacheFile, "{not json");
        expect(fileSha256(file, opts())).toBe(sha("weights-v1"));
        expect(JSON.parse(fs.readFileSync(cacheFile, "utf8"))[file].sha256).toBe(sha("weights-v1"));
    });

    it("lives under the XDG cache directory by default; MODELSHIP_HASH_CACHE moves or disables it", () => {
        expect(defaultCacheFile({ XDG_CACHE_HOME: "/c" })).toBe(path.join("/c", "modelship", "file-hashes.json"));
        expect(defaultCacheFile({})).toBe(path.join(os.homedir(), ".cache", "modelship", "file-hashes.json"));
        expect(defaultCacheFile({ MODELSHIP_HASH_CACHE: "/x/h.json" })).toBe("/x/h.json");
        expect(defaultCacheFile({ MODELSHIP_HASH_CACHE: "off" })).toBe(false);
    });
});
