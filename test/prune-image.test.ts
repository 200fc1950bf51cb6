/**
 * The container image's pruning (issue 25, scripts/prune-image.ts, run by the Dockerfile's `deps`
 * stage): what Node never loads goes, what it loads stays, and the CommonJS build of a dual
 * package stays whenever a CommonJS file still require()s it. Built on a small node_modules tree
 * made here; the real image is built and run by `npm run test:container`.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { checkLoads, pruneImage } from "../scripts/prune-image.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string | object>): string {
  const root = mkdtempSync(join(tmpdir(), "prune-image-"));
  dirs.push(root);
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), typeof body === "string" ? body : JSON.stringify(body));
  }
  return root;
}

/** A dual package: dist/esm for import, dist/cjs for require (the MCP SDK's and hono's layout). */
const dualDirs = (name: string) => ({
  [`node_modules/${name}/package.json`]: {
    name,
    type: "module",
    exports: {
      ".": { types: "./dist/esm/index.d.ts", import: "./dist/esm/index.js", require: "./dist/cjs/index.js" },
      "./sub/*": { import: "./dist/esm/sub/*", require: "./dist/cjs/sub/*" },
    },
  },
  [`node_modules/${name}/dist/esm/index.js`]: `export const kind = "esm";\n`,
  [`node_modules/${name}/dist/esm/index.d.ts`]: `export declare const kind: string;\n`,
  [`node_modules/${name}/dist/esm/index.js.map`]: `{}`,
  [`node_modules/${name}/dist/esm/sub/a.js`]: `export const a = 1;\n`,
  [`node_modules/${name}/dist/cjs/package.json`]: { type: "commonjs" },
  [`node_modules/${name}/dist/cjs/index.js`]: `exports.kind = "cjs";\n`,
  [`node_modules/${name}/dist/cjs/sub/a.js`]: `exports.a = 1;\n`,
  [`node_modules/${name}/README.md`]: "# readme",
  [`node_modules/${name}/LICENSE.md`]: "MIT",
  [`node_modules/${name}/src/index.ts`]: "export const kind = 'src';",
});

describe("prune-image", () => {
  it("drops declarations, maps, sources, docs, tests and a dual package's CommonJS build; keeps licences and what loads", async () => {
    const app = tree({
      "package.json": { name: "app", type: "module", dependencies: { dual: "1", zodlike: "1", plain: "1" } },
      ...dualDirs("dual"),
      // .cjs siblings of .js files in a "type": "module" package (zod's layout)
      "node_modules/zodlike/package.json": {
        name: "zodlike",
        type: "module",
        exports: { ".": { "@zod/source": "./src/index.ts", import: "./index.js", require: "./index.cjs" } },
      },
      "node_modules/zodlike/index.js": `export * from "./v4/core.js";\n`,
      "node_modules/zodlike/index.cjs": `module.exports = require("./v4/core.cjs");\n`,
      "node_modules/zodlike/v4/core.js": `export const z = "esm";\n`,
      "node_modules/zodlike/v4/core.cjs": `exports.z = "cjs";\n`,
      "node_modules/zodlike/v4/core.d.cts": `export {};\n`,
      "node_modules/zodlike/v4/tests/core.test.ts": `test();\n`,
      // a TypeScript source named by a condition Node never uses
      "node_modules/zodlike/src/index.ts": `export * from "./v4/core";\n`,
      // a CommonJS package whose main lives in a directory named like docs would be: kept
      "node_modules/plain/package.json": { name: "plain", main: "./docs/index.js" },
      "node_modules/plain/docs/index.js": `module.exports = 42;\n`,
      "node_modules/plain/test/index.js": `require("..");\n`,
      "node_modules/plain/.eslintrc": "{}",
      "node_modules/plain/CHANGELOG.md": "changes",
      "node_modules/plain/LICENSE": "MIT",
      "dist/src/main.js": `import { kind } from "dual"; import { z } from "zodlike"; export const both = kind + z;\n`,
      "dist/src/main.js.map": "{}",
    });
    const r = pruneImage(app);
    expect(r.cjsDropped).toEqual(["dual", "zodlike"]);
    expect(r.cjsKept).toEqual([]);
    const gone = [
      "node_modules/dual/dist/cjs",
      "node_modules/dual/dist/esm/index.d.ts",
      "node_modules/dual/dist/esm/index.js.map",
      "node_modules/dual/README.md",
      "node_modules/dual/src",
      "node_modules/zodlike/index.cjs",
      "node_modules/zodlike/v4/core.cjs",
      "node_modules/zodlike/v4/core.d.cts",
      "node_modules/zodlike/v4/tests",
      "node_modules/zodlike/src/index.ts",
      "node_modules/plain/test",
      "node_modules/plain/.eslintrc",
      "node_modules/plain/CHANGELOG.md",
      "dist/src/main.js.map",
    ];
    for (const f of gone) expect(existsSync(join(app, f)), f).toBe(false);
    const kept = [
      "node_modules/dual/dist/esm/index.js",
      "node_modules/dual/dist/esm/sub/a.js",
      "node_modules/dual/LICENSE.md",
      "node_modules/zodlike/index.js",
      "node_modules/zodlike/v4/core.js",
      "node_modules/plain/docs/index.js",
      "node_modules/plain/LICENSE",
      "dist/src/main.js",
    ];
    for (const f of kept) expect(existsSync(join(app, f)), f).toBe(true);
    expect(await checkLoads(app)).toBe(4);
    expect(((await import(pathToFileURL(join(app, "dist/src/main.js")).href)) as { both: string }).both).toBe("esmesm");
  });

  it("keeps a dual package's CommonJS build while a kept CommonJS file require()s it, transitively", () => {
    const app = tree({
      "package.json": { name: "app", type: "module", dependencies: { express: "1", other: "1" } },
      ...dualDirs("dual"),
      ...Object.fromEntries(
        Object.entries(dualDirs("other")).map(([k, v]) => [k, k.endsWith("dist/cjs/index.js") ? `exports.kind = require("dual").kind;\n` : v]),
      ),
      // a CommonJS-only package (express-like) require()s "other", whose CommonJS build require()s "dual"
      "node_modules/express/package.json": { name: "express", main: "index.js" },
      "node_modules/express/index.js": `module.exports = require('other/sub/a.js');\n`,
    });
    const r = pruneImage(app);
    expect(r.cjsKept).toEqual(["dual", "other"]);
    expect(r.cjsDropped).toEqual([]);
    expect(existsSync(join(app, "node_modules/dual/dist/cjs/index.js"))).toBe(true);
    expect(createRequire(join(app, "package.json"))("express")).toEqual({ a: 1 });
    expect(createRequire(join(app, "package.json"))("other")).toEqual({ kind: "cjs" });
  });

  it("fails the check when a module the application imports was cut", async () => {
    const app = tree({
      "package.json": { name: "app", type: "module", dependencies: {} },
      "dist/src/main.js": `import "./gone.js";\n`,
    });
    pruneImage(app);
    await expect(checkLoads(app)).rejects.toThrow(/gone\.js/);
  });
});
