/**
 * The install path that works before the first release: `npm pack` the checkout, install the
 * tarball into an empty project (dependencies from the npm registry, or npm's cache), and run the
 * installed `cohere-mcp` bin: --version, --list-tools and `check` (docs/claude-desktop.md).
 * Needs a built dist/ (npm test builds first).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fixture, TEAM_ENV } from "./cli-support.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("npm pack tarball", () => {
  it("installs into an empty project and its cohere-mcp bin runs", () => {
    expect(existsSync(join(ROOT, "dist/src/index.js")), "run npm run build first").toBe(true);
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    const dir = mkdtempSync(join(tmpdir(), "cohere-mcp-pack-"));
    // --ignore-scripts: dist/ is already built (prepack would build it again)
    execFileSync("npm", ["pack", "--ignore-scripts", "--silent", "--pack-destination", dir], { cwd: ROOT, stdio: "pipe" });
    const tarball = join(dir, `cohere-mcp-${version}.tgz`);
    expect(existsSync(tarball)).toBe(true);
    const project = join(dir, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package.json"), JSON.stringify({ name: "pack-test", version: "1.0.0", private: true }));
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball], { cwd: project, stdio: "pipe" });
    const bin = join(project, "node_modules/.bin/cohere-mcp");
    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(bin, args, { cwd: project, env: { PATH: process.env.PATH ?? "", ...env }, encoding: "utf8" });
    expect(run(["--version"]).stdout).toBe(`${version}\n`);
    const list = run(["--list-tools", "--tools", "tokenize"]);
    expect(list.status).toBe(0);
    expect(list.stdout).toMatch(/^tokenize\s+read\s+tokenize$/m);
    const check = run(["check", "--config", fixture("team.json")], TEAM_ENV);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/: valid\n$/);
    // the schema a config's "$schema" points at after an install
    expect(existsSync(join(project, "node_modules/cohere-mcp/config.schema.json"))).toBe(true);
    expect(existsSync(join(project, "node_modules/cohere-mcp/LICENSE"))).toBe(true);
  }, 180_000);
});
