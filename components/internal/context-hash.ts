/**
 * A content hash of a Docker build context that is the same on every machine for the same sources.
 *
 * It honours `.dockerignore` (or `<Dockerfile>.dockerignore`, which BuildKit prefers), hashes each included file's
 * path, content and executable bit only (git records no other mode bits, so umask and mtimes never leak in), and mixes
 * in the Dockerfile and every build setting that changes the image.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import dockerignore from "@balena/dockerignore";

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
    for (const rel of listContextFiles(input.context, readIgnorePatterns(input.context, input.dockerfile))) {
        const full = path.join(input.context, rel);
        const stat = fs.lstatSync(full);
        if (stat.isSymbolicLink()) {
            field(`link:${rel}`, fs.readlinkSync(full));
        } else {
            const executable = (stat.mode & 0o111) !== 0 ? "x" : "-";
            field(`file:${rel}:${executable}`, createHash("sha256").update(fs.readFileSync(full)).digest("hex"));
        }
    }
    return h.digest("hex");
}
