/**
 * Leaves out of the container image's production node_modules (and dist/) what Node never loads
 * at run time (issue 25): TypeScript declarations and sources, source maps, documentation, the
 * packages' own tests, examples and lint/CI dotfiles, and the CommonJS build of a package that
 * also ships an ES-module build when nothing left in node_modules require()s that package (this
 * server is ES modules: it reaches those packages through their "import" condition only).
 * Licence files always stay. Then, with --check, every module of the application and every
 * production dependency is imported once, so a file cut by mistake fails the image build.
 *
 *   node dist/scripts/prune-image.js APP_DIR [--check]
 *
 * APP_DIR holds package.json, node_modules/ and dist/ (the Dockerfile's `deps` stage, /app).
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";

/** Files Node never loads: declarations, TypeScript sources, source maps. */
const DEAD_FILE = /\.(d\.[cm]?ts|[cm]?ts|map|tsbuildinfo)$|^(\.eslintrc.*|\.nycrc.*|\.editorconfig|\.npmignore|\.travis\.yml|\.prettierrc.*|tsconfig(\..*)?\.json)$/;
/** Documentation, but never a licence or notice. */
const DOC_FILE = /\.(md|markdown)$/i;
const LICENCE = /^(licen[cs]e|copying|notice|authors)/i;
/** Directories a package ships but never loads: its tests, examples, docs, CI configuration. */
const DEAD_DIR = new Set(["test", "tests", "__tests__", "example", "examples", "docs", ".github", "benchmark", "benchmarks"]);

interface PackageJson {
  name?: string;
  type?: string;
  main?: string;
  exports?: unknown;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
}

export interface PruneResult {
  files: number;
  bytes: number;
  /** Packages whose CommonJS build was left out. */
  cjsDropped: string[];
  /** Dual packages whose CommonJS build stays because a CommonJS file require()s them. */
  cjsKept: string[];
}

const readJson = (p: string): PackageJson => JSON.parse(readFileSync(p, "utf8")) as PackageJson;

/** Every package directory under a node_modules (scoped and nested ones included). */
function packages(nodeModules: string): string[] {
  const out: string[] = [];
  if (!existsSync(nodeModules)) return out;
  for (const entry of readdirSync(nodeModules, { withFileTypes: true })) {
    if (entry.name.startsWith(".") || !entry.isDirectory()) continue;
    const p = join(nodeModules, entry.name);
    if (entry.name.startsWith("@")) {
      for (const sub of readdirSync(p, { withFileTypes: true })) {
        if (sub.isDirectory()) out.push(join(p, sub.name), ...packages(join(p, sub.name, "node_modules")));
      }
    } else out.push(p, ...packages(join(p, "node_modules")));
  }
  return out;
}

/** Every file under dir (not following links), skipping nested node_modules. */
function files(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== "node_modules") files(p, out);
    } else out.push(p);
  }
  return out;
}

/** The export targets of a package.json "exports", each with the conditions on its path. */
function exportTargets(node: unknown, conditions: string[] = [], out: { conditions: string[]; target: string }[] = []) {
  if (typeof node === "string") out.push({ conditions, target: node });
  else if (Array.isArray(node)) for (const n of node) exportTargets(n, conditions, out);
  else if (node && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) exportTargets(v, k.startsWith(".") ? conditions : [...conditions, k], out);
  }
  return out;
}

/** A target like "./dist/cjs/*.js" as the path before its first "*", relative to the package. */
const targetPath = (t: string) => t.replace(/^\.\//, "").split("*")[0]!.replace(/\/$/, "");

/** The export conditions Node itself resolves (others, as "types" or "@zod/source", it never uses). */
const NODE_CONDITIONS = new Set(["node", "import", "require", "default", "module-sync", "node-addons"]);

/** Files a package's main, bin and exports (for Node's conditions) point at: never removed by the generic rules. */
function entryFiles(dir: string, pkg: PackageJson): Set<string> {
  const out = new Set<string>();
  const add = (t: string | undefined) => {
    if (t && !t.includes("*")) out.add(join(dir, t.replace(/^\.\//, "")));
  };
  add(pkg.main);
  if (typeof pkg.bin === "string") add(pkg.bin);
  else for (const b of Object.values(pkg.bin ?? {})) add(b);
  for (const { conditions, target } of exportTargets(pkg.exports)) if (conditions.every((c) => NODE_CONDITIONS.has(c))) add(target);
  return out;
}

/**
 * The files of a dual package reachable only through its "require" condition: its .cjs files
 * (in a "type": "module" package), and whole directories every require target lies in that hold
 * no import target (dist/cjs beside dist/esm). Empty when the package is not dual.
 */
function cjsOnlyFiles(dir: string, pkg: PackageJson): string[] {
  const targets = exportTargets(pkg.exports).filter((t) => !t.conditions.includes("types"));
  const req = targets.filter((t) => t.conditions.includes("require")).map((t) => targetPath(t.target));
  const imp = targets.filter((t) => t.conditions.includes("import")).map((t) => targetPath(t.target));
  if (req.length === 0 || imp.length === 0) return [];
  const other = targets.filter((t) => !t.conditions.includes("require")).map((t) => targetPath(t.target));
  const under = (d: string, p: string) => p === d || p.startsWith(d + "/");
  const dirs = new Set<string>();
  const single = new Set<string>();
  for (const r of req) {
    if (other.includes(r)) continue; // the same file serves import too
    // the highest directory above r that holds no other-condition target
    let best: string | undefined;
    for (let d = dirname(r); d !== "." && d !== ""; d = dirname(d)) {
      if (other.some((o) => under(d, o))) break;
      best = d;
    }
    if (best) dirs.add(best);
    else single.add(r);
  }
  const out: string[] = [];
  for (const f of files(dir)) {
    const rel = relative(dir, f).split(sep).join("/");
    if ([...dirs].some((d) => under(d, rel))) out.push(f);
    else if (pkg.type === "module" && rel.endsWith(".cjs")) out.push(f);
    else if (single.has(rel)) out.push(f);
  }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

export function pruneImage(appDir: string): PruneResult {
  const nm = join(appDir, "node_modules");
  let count = 0;
  let bytes = 0;
  const remove = (f: string) => {
    if (!existsSync(f)) return;
    const st = lstatSync(f);
    if (st.isDirectory()) for (const g of files(f)) remove(g);
    else {
      bytes += st.size;
      count++;
    }
    rmSync(f, { recursive: true, force: true });
  };

  // 1. What no package loads: declarations, sources, maps, docs, tests, examples, dotfiles.
  const pkgs = packages(nm).map((dir) => ({ dir, pkg: readJson(join(dir, "package.json")) }));
  for (const { dir, pkg } of pkgs) {
    const entries = entryFiles(dir, pkg);
    const holdsEntry = (d: string) => [...entries].some((e) => e.startsWith(d + sep));
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) {
          if (e.name === "node_modules") continue;
          if (DEAD_DIR.has(e.name) && !holdsEntry(p)) remove(p);
          else walk(p);
        } else if (!entries.has(p) && !LICENCE.test(e.name) && (DEAD_FILE.test(e.name) || DOC_FILE.test(e.name))) remove(p);
      }
    };
    walk(dir);
  }
  for (const f of existsSync(join(appDir, "dist")) ? files(join(appDir, "dist")) : []) if (f.endsWith(".map")) remove(f);

  // 2. CommonJS builds of dual packages nothing require()s. A package stays whole when any file
  //    that is kept (outside every dropped CommonJS build) require()s it; repeated until stable,
  //    since keeping one package's CommonJS build keeps its own require()s.
  const dual = new Map<string, { name: string; cjs: Set<string> }>();
  for (const { dir, pkg } of pkgs) {
    const cjs = cjsOnlyFiles(dir, pkg);
    if (cjs.length > 0 && pkg.name) dual.set(dir, { name: pkg.name, cjs: new Set(cjs) });
  }
  const scripts = packages(nm)
    .flatMap((d) => files(d))
    .filter((f) => /\.(c?js)$/.test(f))
    .map((f) => ({ f, text: readFileSync(f, "utf8") }))
    .filter((s) => s.text.includes("require"));
  const kept = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    const dropping = new Set<string>();
    for (const [dir, d] of dual) if (!kept.has(dir)) for (const f of d.cjs) dropping.add(f);
    for (const [dir, d] of dual) {
      if (kept.has(dir)) continue;
      const re = new RegExp(`require(\\.resolve)?\\(\\s*["'\`]${escape(d.name)}(["'\`/])`);
      if (scripts.some((s) => !dropping.has(s.f) && re.test(s.text))) {
        kept.add(dir);
        changed = true;
      }
    }
  }
  const cjsDropped: string[] = [];
  for (const [dir, d] of dual) {
    if (kept.has(dir)) continue;
    for (const f of d.cjs) remove(f);
    cjsDropped.push(d.name);
  }
  // directories the removals emptied
  const prune = (d: string): boolean => {
    let empty = true;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory() ? !prune(join(d, e.name)) : true) empty = false;
    }
    if (empty) rmSync(d, { recursive: true, force: true });
    return empty;
  };
  if (existsSync(nm)) for (const e of readdirSync(nm, { withFileTypes: true })) if (e.isDirectory()) prune(join(nm, e.name));
  return {
    files: count,
    bytes,
    cjsDropped: cjsDropped.sort(),
    cjsKept: [...kept].map((d) => dual.get(d)!.name).sort(),
  };
}

/** The entry scripts (they start a server) and the console's browser scripts (they need a DOM). */
const NOT_IMPORTED = /^(src\/index\.js|emulator\/cli\.js|src\/admin\/ui\/assets\/.*)$/;

/**
 * Imports every module of the application under dist/ (but its entry scripts, which start a
 * server) and every production dependency by name: a file the pruning cut by mistake throws here.
 */
export async function checkLoads(appDir: string): Promise<number> {
  const dist = join(appDir, "dist");
  const mods = (existsSync(dist) ? files(dist) : [])
    .filter((f) => f.endsWith(".js") && !NOT_IMPORTED.test(relative(dist, f).split(sep).join("/")))
    .sort();
  for (const m of mods) await import(pathToFileURL(m).href);
  // Bare names resolve from the importing file: a module written into APP_DIR imports each
  // production dependency by name, through the "import" condition this server uses.
  // (a package whose "." entry names no file, as the MCP SDK's, is imported by subpath above)
  const deps = Object.keys(readJson(join(appDir, "package.json")).dependencies ?? {}).filter((d) => {
    const dir = join(appDir, "node_modules", d);
    const pkg = readJson(join(dir, "package.json"));
    const dot =
      pkg.exports && typeof pkg.exports === "object" && !Array.isArray(pkg.exports) && "." in pkg.exports
        ? (pkg.exports as Record<string, unknown>)["."]
        : Object.keys((pkg.exports as object | undefined) ?? {}).some((k) => k.startsWith("."))
          ? undefined
          : pkg.exports;
    const root = exportTargets(dot).find((t) => t.conditions.every((c) => NODE_CONDITIONS.has(c)) && !t.conditions.includes("require"));
    return existsSync(join(dir, root ? targetPath(root.target) : (pkg.main ?? "index.js")));
  });
  const probe = join(appDir, `.load-check-${process.pid}.mjs`);
  writeFileSync(probe, deps.map((d) => `await import(${JSON.stringify(d)});`).join("\n") + "\n");
  try {
    await import(pathToFileURL(probe).href);
  } finally {
    rmSync(probe, { force: true });
  }
  return mods.length + deps.length;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const appDir = process.argv[2];
  if (!appDir) {
    process.stderr.write("usage: node dist/scripts/prune-image.js APP_DIR [--check]\n");
    process.exit(2);
  }
  const r = pruneImage(appDir);
  process.stdout.write(
    `pruned ${r.files} files Node never loads (${(r.bytes / 1024 / 1024).toFixed(1)} MB); CommonJS builds left out: ${r.cjsDropped.join(", ") || "none"}` +
      (r.cjsKept.length ? `; kept (require()d): ${r.cjsKept.join(", ")}` : "") +
      "\n",
  );
  if (process.argv.includes("--check")) {
    const n = await checkLoads(appDir);
    process.stdout.write(`loaded ${n} modules and dependencies after pruning\n`);
    process.exit(0);
  }
}
