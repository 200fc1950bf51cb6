/**
 * Every relative link in README.md, docs/*.md, SECURITY.md and CHANGELOG.md resolves: the file
 * exists, and a #anchor names a heading of the target (GitHub's slugs). Links inside code blocks
 * are not links. Also: the docs cite no file that is not in the repository.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PAGES = ["README.md", "SECURITY.md", "CHANGELOG.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];

/** Markdown without fenced code blocks and inline code spans. */
function prose(md: string): string {
  return md.replace(/^(```|~~~)[\s\S]*?^\1/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's heading anchor: lowercase, punctuation dropped (not - or _), spaces → -. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchors(file: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  for (const m of prose(readFileSync(file, "utf8")).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    out.add(n ? `${base}-${n}` : base);
    seen.set(base, n + 1);
  }
  return out;
}

function links(md: string): string[] {
  return [...prose(md).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}

describe("documentation links", () => {
  it("every page exists (README, SECURITY, CHANGELOG, LICENSE, docs/)", () => {
    for (const f of ["README.md", "SECURITY.md", "CHANGELOG.md", "LICENSE", "docs/cli.md"]) expect(existsSync(join(ROOT, f)), f).toBe(true);
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} cohere-mcp contributors/);
  });

  it("every relative link and #anchor resolves", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const page of PAGES) {
      const file = join(ROOT, page);
      for (const link of links(readFileSync(file, "utf8"))) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(link)) continue; // https:, mailto:
        checked++;
        const [path, anchor] = link.split("#") as [string, string | undefined];
        const target = path ? join(dirname(file), decodeURIComponent(path)) : file;
        if (!existsSync(target)) {
          broken.push(`${page}: ${link} (no ${relative(ROOT, target)})`);
          continue;
        }
        if (anchor !== undefined && target.endsWith(".md") && !anchors(target).has(anchor)) {
          broken.push(`${page}: ${link} (no heading #${anchor} in ${relative(ROOT, target)})`);
        }
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(20);
  });

  it("slugs follow GitHub's rules", () => {
    expect(slug("Claude Desktop against a remote server (mcp-remote)")).toBe("claude-desktop-against-a-remote-server-mcp-remote");
    expect(slug("Profiles (`--config FILE --profile NAME`)")).toBe("profiles---config-file---profile-name");
  });

  it("every \"$schema\" in the docs works from a checkout (a config saved at its root), and the fixtures' too", () => {
    let seen = 0;
    for (const page of PAGES) {
      for (const m of readFileSync(join(ROOT, page), "utf8").matchAll(/"\$schema":\s*"([^"]+)"/g)) {
        seen++;
        expect(existsSync(join(ROOT, m[1]!)), `${page}: ${m[1]}`).toBe(true);
      }
    }
    expect(seen).toBeGreaterThan(0);
    const fixtureDir = join(ROOT, "test/fixtures/cli");
    const schema = (JSON.parse(readFileSync(join(fixtureDir, "team.json"), "utf8")) as { $schema: string }).$schema;
    expect(existsSync(join(fixtureDir, schema))).toBe(true);
  });

  it("the docs cite no file that is not in the repository", () => {
    for (const page of PAGES.filter((p) => p !== "CHANGELOG.md")) expect(readFileSync(join(ROOT, page), "utf8"), page).not.toContain("shared/cohere/seeds");
  });

  it("npx -y cohere-mcp appears only as what works after the first release", () => {
    for (const page of PAGES) {
      for (const line of readFileSync(join(ROOT, page), "utf8").split("\n")) {
        if (/npx (-y )?cohere-mcp/.test(line)) expect(line, page).toMatch(/first release|not yet on the npm registry|404/);
      }
    }
  });
});
