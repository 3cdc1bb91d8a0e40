/** Markdown helpers for the docs tests: ```ts blocks with their `<!-- ts-prelude: ... -->`, GitHub anchors, relative links. */

export interface TsBlock {
    page: string;
    /** 1-based line of the block's first code line in its page. */
    line: number;
    prelude: string;
    code: string;
}

/** The ```ts blocks of a Markdown text, each with the `<!-- ts-prelude: ... -->` comment that precedes it, if any. */
export function tsBlocks(page: string, markdown: string): TsBlock[] {
    const lines = markdown.split("\n");
    const blocks: TsBlock[] = [];
    let fence: { indent: string; ts: boolean; start: number; prelude: string } | undefined;
    let body: string[] = [];
    let pendingPrelude = "";
    for (let i = 0; i < lines.length; i++) {
        const m = /^(\s*)(`{3,})\s*([\w+-]*)/.exec(lines[i]);
        if (fence) {
            if (m && m[3] === "") {
                if (fence.ts) blocks.push({ page, line: fence.start + 1, prelude: fence.prelude, code: body.join("\n") });
                fence = undefined;
            } else {
                body.push(lines[i].startsWith(fence.indent) ? lines[i].slice(fence.indent.length) : lines[i]);
            }
            continue;
        }
        if (m) {
            const lang = m[3].toLowerCase();
            fence = { indent: m[1], ts: lang === "ts" || lang === "typescript", start: i + 1, prelude: pendingPrelude };
            body = [];
            pendingPrelude = "";
            continue;
        }
        const prelude = /^\s*<!--\s*ts-prelude:/.exec(lines[i]);
        if (prelude) {
            // The comment may span lines; it ends at the first `-->`.
            let text = lines[i].slice(prelude[0].length);
            while (!text.includes("-->") && i + 1 < lines.length) text += "\n" + lines[++i];
            pendingPrelude = text.slice(0, text.indexOf("-->")).trim();
        } else if (lines[i].trim() !== "") {
            pendingPrelude = "";
        }
    }
    return blocks;
}

/** GitHub's heading anchor: lowercase, punctuation other than `-` and `_` removed, spaces to `-`. */
export function githubSlug(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/ /g, "-");
}

/** The anchors of a Markdown text's headings (outside code fences), with GitHub's `-1`, `-2` for repeats. */
export function anchors(markdown: string): Set<string> {
    const seen = new Map<string, number>();
    const out = new Set<string>();
    let inFence = false;
    for (const line of markdown.split("\n")) {
        if (/^\s*`{3,}/.test(line)) inFence = !inFence;
        const m = !inFence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
        if (!m) continue;
        const base = githubSlug(m[1]);
        const n = seen.get(base) ?? 0;
        seen.set(base, n + 1);
        out.add(n === 0 ? base : `${base}-${n}`);
    }
    return out;
}

/** Relative link targets of a Markdown text, outside code fences and code spans, with their line. */
export function relativeLinks(markdown: string): { line: number; target: string }[] {
    const out: { line: number; target: string }[] = [];
    let inFence = false;
    markdown.split("\n").forEach((line, i) => {
        if (/^\s*`{3,}/.test(line)) {
            inFence = !inFence;
            return;
        }
        if (inFence) return;
        const text = line.replace(/`[^`]*`/g, "``");
        for (const m of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
            if (!/^[a-z][a-z0-9+.-]*:/i.test(m[1])) out.push({ line: i + 1, target: m[1] });
        }
    });
    return out;
}
