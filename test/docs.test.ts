/**
 * The documentation as a newcomer reads it: every relative link in README.md and docs/*.md leads to a
 * file of this repository (and to a heading of it, when the link names one), the README stays short
 * and indexes every page of docs/, every `npm run` script the docs name exists, and nothing in the
 * repository's docs, code or workflows points outside the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(__dirname, "..");
const README = "README.md";
const DOCS = readdirSync(join(ROOT, "docs"))
  .filter((f) => f.endsWith(".md"))
  .sort()
  .map((f) => `docs/${f}`);
const PAGES = [README, ...DOCS];

/** Words README.md and docs/*.md may hold together (issue 20: half of what they held). */
const WORD_BUDGET = 12000;

const read = (file: string) => readFileSync(join(ROOT, file), "utf8");

/** `markdown` without fenced code blocks (their lines kept empty, so line numbers stay right). */
function withoutFences(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split("\n")
    .map((line) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence === undefined && marker) {
        fence = marker[0];
        return "";
      }
      if (fence !== undefined) {
        if (marker && marker[0] === fence) fence = undefined;
        return "";
      }
      return line;
    })
    .join("\n");
}

/** The anchor GitHub gives a heading's text (github-slugger: lower case, punctuation dropped, spaces to hyphens). */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every heading anchor of a Markdown page, with GitHub's `-1`, `-2` suffixes for repeats. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const line of withoutFences(markdown).split("\n")) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

/** Every Markdown link and image of a page outside code (fenced blocks and inline code spans). */
function links(file: string): Link[] {
  const found: Link[] = [];
  withoutFences(read(file))
    .split("\n")
    .forEach((text, i) => {
      const prose = text.replace(/(`+)[^`]*?\1/g, "code");
      for (const m of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
        found.push({ file, line: i + 1, target: m[1] });
      }
    });
  return found;
}

/** Why `link` does not resolve inside the repository, or undefined when it does. */
function problemOf(link: Link): string | undefined {
  const { target } = link;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto:
  const [path, anchor] = target.split("#", 2);
  const file = path === "" ? join(ROOT, link.file) : resolve(dirname(join(ROOT, link.file)), path);
  if (file !== ROOT && !file.startsWith(ROOT + sep)) return `${target} leaves the repository`;
  if (!existsSync(file)) return `${target}: no such file (${relative(ROOT, file)})`;
  if (anchor !== undefined && file.endsWith(".md") && statSync(file).isFile()) {
    if (!anchors(readFileSync(file, "utf8")).has(anchor)) {
      return `${target}: ${relative(ROOT, file)} has no heading with anchor #${anchor}`;
    }
  }
  return undefined;
}

describe("the README and docs/", () => {
  it("link only to files of this repository that exist, and to headings that exist", () => {
    const all = PAGES.flatMap(links);
    expect(all.length).toBeGreaterThan(100);
    const broken = all.flatMap((l) => {
      const problem = problemOf(l);
      return problem ? [`${l.file}:${l.line}: ${problem}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it("README.md and docs/*.md stay within 12,000 words, counted as `wc -w README.md docs/*.md` counts", () => {
    const words = PAGES.map((file) => ({ file, words: read(file).split(/\s+/).filter(Boolean).length }));
    const total = words.reduce((sum, w) => sum + w.words, 0);
    const perPage = words.map((w) => `${w.file} ${w.words}`).join(", ");
    expect(
      total,
      `README.md and docs/*.md hold ${total} words (${perPage}); the budget is ${WORD_BUDGET}`,
    ).toBeLessThanOrEqual(WORD_BUDGET);
  });

  it("README.md stays short: at most 12.5 KB", () => {
    expect(statSync(join(ROOT, README)).size).toBeLessThanOrEqual(12.5 * 1024);
  });

  it("README.md indexes every page of docs/ and shows what a stack creates as a Mermaid diagram", () => {
    const readme = read(README);
    const linked = new Set(
      links(README)
        .map((l) => l.target.split("#")[0])
        .filter((t) => t.startsWith("docs/")),
    );
    expect(DOCS.filter((d) => !linked.has(d))).toEqual([]);
    expect(readme).toMatch(/^```mermaid\n/m);
  });

  it("name only npm scripts that package.json defines", () => {
    const scripts = Object.keys(JSON.parse(read("package.json")).scripts as Record<string, string>);
    const named = PAGES.flatMap((file) =>
      [...read(file).matchAll(/\bnpm run(?: -s| --silent)? ([a-z][a-z0-9:-]*)/g)].map((m) => ({
        file,
        script: m[1],
      })),
    );
    expect(named.filter((n) => n.file === README).length).toBeGreaterThan(3);
    expect(named.filter((n) => !scripts.includes(n.script))).toEqual([]);
  });
});

describe("docs/troubleshooting.md", () => {
  const page = withoutFences(read("docs/troubleshooting.md"));
  /** Each `###` entry's heading, under the `##` part it belongs to. */
  const entries = [...page.matchAll(/^## (.*)$|^### (.*)$/gm)]
    .reduce<{ part: string; heading: string }[]>(
      (out, m) =>
        m[1] !== undefined
          ? [...out, { part: m[1], heading: "" }]
          : [...out, { part: out.at(-1)?.part ?? "", heading: m[2] }],
      [],
    )
    .filter((e) => e.heading !== "");
  /** The source of what the tool prints: its code and the pipeline's workflow, not tests, stand-ins, benches or docs. */
  const printedFrom = (dir = ""): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        return [
          "node_modules",
          "dist",
          "test",
          "standin",
          "bench",
          "docs",
          ".git",
          ".scratch",
          ".pulumi-state",
          "coverage",
        ].includes(entry.name)
          ? []
          : printedFrom(path);
      }
      return /\.(ts|mts|mjs|yml)$/.test(entry.name) && !entry.name.endsWith(".test.ts") ? [path] : [];
    });

  it("indexes every entry by the exact text printed: each heading is one or more code spans", () => {
    expect(entries.length).toBeGreaterThan(40);
    expect(entries.filter((e) => !/^`[^`]+`/.test(e.heading)).map((e) => e.heading)).toEqual([]);
  });

  it("lists only messages the tool still prints, verbatim in its source, under Printed by flow-trigger-auth", () => {
    const ours = entries.filter((e) => e.part === "Printed by flow-trigger-auth");
    expect(ours.length).toBeGreaterThan(25);
    const source = printedFrom().map(read).join("\n");
    const stale = ours.flatMap(({ heading }) =>
      [...heading.matchAll(/`([^`]+)`/g)].map((m) => m[1]).filter((text) => !source.includes(text)),
    );
    expect(stale).toEqual([]);
  });
});

describe("references", () => {
  /** Files whose text people read as the project's own: docs, code and comments, workflows. */
  function projectFiles(dir = ""): string[] {
    const skip = new Set(["node_modules", "dist", ".scratch", ".git", "coverage", ".pulumi-state"]);
    return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
      const path = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return skip.has(entry.name) ? [] : projectFiles(path);
      return /\.(ts|mts|cts|mjs|cjs|js|md|yml|yaml)$/.test(entry.name) ? [path] : [];
    });
  }

  it("all resolve inside the repository: nothing cites documents kept outside it", () => {
    // Spelled in pieces so that this file does not match itself.
    const outside = [["..", "shared"].join("/"), ["contract", "md"].join("."), ["domain", "md"].join(".")];
    const files = projectFiles();
    expect(files).toContain("README.md");
    const hits = files.flatMap((file) =>
      read(file)
        .split("\n")
        .flatMap((text, i) =>
          outside.some((o) => text.toLowerCase().includes(o)) ? [`${file}:${i + 1}: ${text.trim()}`] : [],
        ),
    );
    expect(hits).toEqual([]);
  });

  it("from code, comments and workflows to docs/ name pages and headings that exist", () => {
    const cited = projectFiles()
      .filter((file) => !file.endsWith(".md"))
      .flatMap((file) =>
        read(file)
          .split("\n")
          .flatMap((text, i) =>
            [...text.matchAll(/\bdocs\/([a-z0-9-]+\.md)(?:#([a-z0-9-]+))?/g)].map((m) => ({
              where: `${file}:${i + 1}`,
              page: `docs/${m[1]}`,
              anchor: m[2],
            })),
          ),
      );
    expect(cited.length).toBeGreaterThan(20);
    const broken = cited.flatMap(({ where, page, anchor }) => {
      if (!existsSync(join(ROOT, page))) return [`${where}: ${page} does not exist`];
      if (anchor !== undefined && !anchors(read(page)).has(anchor))
        return [`${where}: ${page} has no #${anchor}`];
      return [];
    });
    expect(broken).toEqual([]);
  });
});
