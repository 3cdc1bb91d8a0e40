#!/usr/bin/env node
/* global console, process, URL */
// Measures what hashing a large model adds to `pulumi preview`: the tag's content hash over the demo build context plus
// a model directory holding one file of SIZE_GIB (default 2) GiB, cold (no hash cache) and warm (cache hit).
//
//   npm run build && node scripts/hash-bench.mjs [SIZE_GIB]
//
// The file is written under the OS temp directory and deleted afterwards. "Cold" evicts the file from the page cache
// first where GNU dd can (iflag=nocache), so it includes reading from disk.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const dist = path.join(root, "dist", "components", "internal");
if (!fs.existsSync(path.join(dist, "file-hash.js"))) {
    console.error("dist/ is missing: run `npm run build` first");
    process.exit(1);
}
const { contextHash } = require(path.join(dist, "context-hash.js"));
const { resetLoadedCaches, streamSha256 } = require(path.join(dist, "file-hash.js"));

const sizeGiB = Number(process.argv[2] ?? 2);
const work = fs.mkdtempSync(path.join(os.tmpdir(), "modelship-hash-bench-"));
const modelDir = path.join(work, "model");
const model = path.join(modelDir, "model.onnx.data");
const cacheFile = path.join(work, "file-hashes.json");
fs.mkdirSync(modelDir);
fs.writeFileSync(path.join(modelDir, "model.onnx"), "graph");

const seconds = (fn) => {
    const t = process.hrtime.bigint();
    const value = fn();
    return { value, s: Number(process.hrtime.bigint() - t) / 1e9 };
};
const evict = () => {
    try {
        execFileSync("dd", [`if=${model}`, "iflag=nocache", "count=0", "status=none"]);
        return true;
    } catch {
        return false;
    }
};

try {
    // Real, non-sparse bytes: a sparse or zero-filled file would read faster than a real model.
    const chunk = randomBytes(64 * 1024 * 1024);
    const fd = fs.openSync(model, "w");
    const written = seconds(() => {
        for (let i = 0; i < sizeGiB * 16; i++) {
            chunk.writeUInt32LE(i, 0);
            fs.writeSync(fd, chunk);
        }
        fs.fsyncSync(fd);
    });
    fs.closeSync(fd);
    const bytes = fs.statSync(model).size;
    console.log(`model: ${(bytes / 2 ** 30).toFixed(2)} GiB at ${model} (written in ${written.s.toFixed(1)} s)`);

    const input = {
        context: path.join(root, "inference-image"),
        dockerfile: path.join(root, "inference-image", "Dockerfile"),
        target: "gpu",
        platforms: ["linux/amd64"],
        buildArgs: { SOURCE_DATE_EPOCH: "0", MODEL_NAME: "bench", MODEL_FILE: "model.onnx" },
        namedContexts: { model: modelDir },
        // The file was written a moment ago; the clock is moved past the racily-clean margin, as for a model exported earlier.
        fileHash: { cacheFile, now: () => Date.now() + 60_000 },
    };
    const row = (label, r, rate = true) => console.log(`${label.padEnd(58)} ${r.s.toFixed(3).padStart(7)} s${rate ? `  ${(bytes / 2 ** 20 / r.s).toFixed(0).padStart(5)} MiB/s` : ""}`);

    const evicted = evict();
    row(`streamed sha256 alone, cold${evicted ? " (page cache evicted)" : ""}`, seconds(() => streamSha256(model)));
    row("streamed sha256 alone, page cache warm", seconds(() => streamSha256(model)));
    evict();
    const cold = seconds(() => contextHash(input));
    row(`tag hash (context + model), no hash cache${evicted ? ", cold" : ""}`, cold);
    resetLoadedCaches(); // a new `pulumi preview` process reads the cache file afresh
    const warm = seconds(() => contextHash(input));
    row("tag hash (context + model), hash cache hit (next preview)", warm, false);
    if (warm.value !== cold.value) throw new Error("warm and cold hashes differ");
    console.log(`same tag hash both ways: ${cold.value.slice(0, 16)}; ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), node ${process.version}`);
} finally {
    fs.rmSync(work, { recursive: true, force: true });
}
