/**
 * A content hash of a Docker build context that is the same on every machine for the same sources.
 *
 * It honours `.dockerignore` (or `<Dockerfile>.dockerignore`, which BuildKit prefers), hashes each included file's
 * path, content and executable bit only (git records no other mode bits, so umask and mtimes never leak in), and mixes
 * in the Dockerfile and every build setting that changes the image. Named build contexts (the model directory) are
 * hashed whole, as BuildKit sends them whole. File contents are streamed; large files go through the hash cache of
 * `file-hash.ts`.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import dockerignore from "@balena/dockerignore";
import { fileSha256, type FileHashOptions } from "./file-hash";

export interface ContextHashInput {
    /** Build context directory. */
    context: string;
    /** Dockerfile path. */
    dockerfile: string;
    /** Build stage, if any. */
    target?: string;
    /** Target platforms. */
    platforms: string[];
    /** Build arguments (plain values). */
    buildArgs?: Record<string, string>;
    /** Free-form value that forces a new hash (and so a new tag and a rebuild) when changed. */
    rebuildTrigger?: string;
    /** Named build contexts (`FROM <name>` / `COPY --from=<name>`) that are local directories, by name. Default none. */
    namedContexts?: Record<string, string>;
    /** Options of the file hash (its cache). Default: the shared cache for files of 64 MiB and more. */
    fileHash?: FileHashOptions;
}

/** Reads the ignore patterns BuildKit would use for this context and Dockerfile. */
export function readIgnorePatterns(context: string, dockerfile: string): string[] {
    for (const candidate of [`${dockerfile}.dockerignore`, path.join(context, ".dockerignore")]) {
        if (fs.existsSync(candidate)) {
            return fs
                .readFileSync(candidate, "utf8")
                .split(/\r?\n/)
                .map((l) => l.trim())
                .filter((l) => l.length > 0 && !l.startsWith("#"));
        }
    }
    return [];
}

/** Lists the files of the context that a build would see, as sorted POSIX paths relative to the context. */
export function listContextFiles(context: string, patterns: string[]): string[] {
    const ig = dockerignore().add(patterns);
    // A pattern starting with `!` can re-include a file below an ignored directory; only then must we descend.
    const hasNegation = patterns.some((p) => p.startsWith("!"));
    const files: string[] = [];
    const walk = (dirRel: string): void => {
        const entries = fs.readdirSync(path.join(context, dirRel), { withFileTypes: true });
        for (const entry of entries) {
            const rel = dirRel ? `${dirRel}/${entry.name}` : entry.name;
            if (entry.isDirectory()) {
                if (!hasNegation && ig.ignores(rel)) continue;
                walk(rel);
            } else if ((entry.isFile() || entry.isSymbolicLink()) && !ig.ignores(rel)) {
                files.push(rel);
            }
        }
    };
    walk("");
    return files.sort();
}

/** Every file, link and directory of a named context: BuildKit sends a named local context without ignore rules. */
export function listAllFiles(dir: string): string[] {
    return listContextFiles(dir, []);
}

/** The hex SHA-256 of the build inputs. */
export function contextHash(input: ContextHashInput): string {
    const h = createHash("sha256");
    const field = (label: string, value: string): void => {
        h.update(label);
        h.update("\0");
        h.update(value);
        h.update("\0");
    };
    field("dockerfile", fs.readFileSync(input.dockerfile, "utf8"));
    field("target", input.target ?? "");
    field("platforms", [...input.platforms].sort().join(","));
    for (const key of Object.keys(input.buildArgs ?? {}).sort()) field(`arg:${key}`, input.buildArgs![key]);
    field("rebuild", input.rebuildTrigger ?? "");
    const files = (dir: string, rels: string[], prefix: string): void => {
        for (const rel of rels) {
            const full = path.join(dir, rel);
            const stat = fs.lstatSync(full);
            if (stat.isSymbolicLink()) {
                field(`${prefix}link:${rel}`, fs.readlinkSync(full));
            } else {
                const executable = (stat.mode & 0o111) !== 0 ? "x" : "-";
                field(`${prefix}file:${rel}:${executable}`, fileSha256(full, input.fileHash));
            }
        }
    };
    files(input.context, listContextFiles(input.context, readIgnorePatterns(input.context, input.dockerfile)), "");
    // Only named contexts are labelled, so a build without any keeps the hash (and the tag) it had before they existed.
    for (const name of Object.keys(input.namedContexts ?? {}).sort()) {
        const dir = input.namedContexts![name];
        field("named", name);
        files(dir, listAllFiles(dir), `${name}:`);
    }
    return h.digest("hex");
}
