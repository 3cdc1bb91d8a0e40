/**
 * Streamed SHA-256 of a file, with an optional on-disk cache for large files (model weights) so that `pulumi preview`
 * does not re-read gigabytes it has already hashed.
 *
 * The cache is keyed by absolute path and validated against (size, mtime, ctime, inode, device) in nanoseconds. ctime
 * cannot be set by tools that restore mtimes (`cp -p`, `rsync -t`, `tar x`): any write or rename moves it to "now".
 * An entry is only stored when the file was unchanged while it was read and its ctime is older than the read by more
 * than {@link RACY_MARGIN_MS} (git's "racily clean" rule), so a write in the same timestamp tick cannot hide behind it.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** Read size of the streamed hash: large enough for throughput, small enough to keep memory flat. */
export const HASH_CHUNK_BYTES = 8 * 1024 * 1024;
/** Files smaller than this are hashed every time: reading them costs less than keeping an entry. */
export const CACHE_MIN_BYTES = 64 * 1024 * 1024;
/** A file changed less than this long before it was read is never cached (coarse filesystem timestamps). */
export const RACY_MARGIN_MS = 2_000;
/** Environment variable: a cache file path, or `off` to disable the cache (e.g. in CI). */
export const CACHE_ENV = "MODELSHIP_HASH_CACHE";

export interface FileHashOptions {
    /** Cache file, or `false` for none. Default: `$MODELSHIP_HASH_CACHE`, else `<XDG cache dir>/modelship/file-hashes.json`. */
    cacheFile?: string | false;
    /** Smallest file worth caching, in bytes. Default {@link CACHE_MIN_BYTES}. */
    cacheMinBytes?: number;
    /** Clock, in ms since the epoch; for tests. Default `Date.now`. */
    now?: () => number;
}

interface CacheEntry {
    size: string;
    mtimeNs: string;
    ctimeNs: string;
    ino: string;
    dev: string;
    sha256: string;
}

type Stamp = Omit<CacheEntry, "sha256">;

/** The default cache file: `$MODELSHIP_HASH_CACHE` (`off` disables it), else under `$XDG_CACHE_HOME` or `~/.cache`. */
export function defaultCacheFile(env: NodeJS.ProcessEnv = process.env): string | false {
    const configured = env[CACHE_ENV];
    if (configured === "off") return false;
    if (configured) return path.resolve(configured);
    return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "modelship", "file-hashes.json");
}

function stampOf(st: fs.BigIntStats): Stamp {
    return { size: String(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs), ino: String(st.ino), dev: String(st.dev) };
}

const sameStamp = (a: Stamp, b: Stamp): boolean => a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs && a.ino === b.ino && a.dev === b.dev;

/** Loaded cache files, by path, so one program run reads each once. */
const loaded = new Map<string, Record<string, CacheEntry>>();

function readCache(file: string): Record<string, CacheEntry> {
    let entries = loaded.get(file);
    if (!entries) {
        try {
            const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
            entries = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, CacheEntry>) : {};
        } catch {
            entries = {}; // missing or corrupt: it only costs a re-hash
        }
        loaded.set(file, entries);
    }
    return entries;
}

function writeCache(file: string, entries: Record<string, CacheEntry>): void {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        // Write then rename: a concurrent reader sees the old or the new file, never half of one.
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, JSON.stringify(entries), { mode: 0o600 });
        fs.renameSync(tmp, file);
    } catch {
        // A read-only home directory must not fail a deployment: the cache is an optimisation.
    }
}

/** Reads the file in {@link HASH_CHUNK_BYTES} chunks: memory stays flat whatever the file's size. */
export function streamSha256(file: string): string {
    const h = createHash("sha256");
    const buf = Buffer.allocUnsafe(HASH_CHUNK_BYTES);
    const fd = fs.openSync(file, "r");
    try {
        for (;;) {
            const n = fs.readSync(fd, buf, 0, buf.length, null);
            if (n === 0) break;
            h.update(n === buf.length ? buf : buf.subarray(0, n));
        }
    } finally {
        fs.closeSync(fd);
    }
    return h.digest("hex");
}

/** The hex SHA-256 of a file's bytes; large files are looked up in (and added to) the cache. */
export function fileSha256(file: string, opts: FileHashOptions = {}): string {
    const abs = path.resolve(file);
    const before = fs.statSync(abs, { bigint: true });
    const cacheFile = opts.cacheFile === undefined ? defaultCacheFile() : opts.cacheFile;
    if (cacheFile === false || Number(before.size) < (opts.cacheMinBytes ?? CACHE_MIN_BYTES)) return streamSha256(abs);

    const entries = readCache(cacheFile);
    const stamp = stampOf(before);
    const hit = entries[abs];
    if (hit && sameStamp(hit, stamp) && /^[0-9a-f]{64}$/.test(hit.sha256)) return hit.sha256;

    const startedMs = (opts.now ?? Date.now)();
    const sha256 = streamSha256(abs);
    const after = stampOf(fs.statSync(abs, { bigint: true }));
    const settled = Number(before.ctimeNs / 1_000_000n) < startedMs - RACY_MARGIN_MS;
    if (!sameStamp(stamp, after)) throw new Error(`${abs} changed while it was being hashed: run again once it is completely written`);
    if (settled) {
        entries[abs] = { ...stamp, sha256 };
        writeCache(cacheFile, entries);
    }
    return sha256;
}

/** Forgets the loaded cache files (tests). */
export function resetLoadedCaches(): void {
    loaded.clear();
}
