/**
 * Which zod a server loads: `node --import dist/bench/zod-probe.js SERVER …` with
 * ZOD_PROBE_OUT=FILE appends the file URL of every zod module the process resolves (ESM through
 * a resolve hook, CommonJS through require's resolver) to FILE, one a line. The bench runs each
 * server once this way (never in a measured run) and prints the zod package(s) and version(s).
 */
import { appendFileSync, readFileSync } from "node:fs";
import { createRequire, register } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const OUT = process.env.ZOD_PROBE_OUT;
const ZOD = /\/node_modules\/zod\//;

export interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

/** The ESM resolve hook (runs on the loader thread; registered below). */
export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<{ url: string }> {
  const r = await next(specifier, context);
  const out = process.env.ZOD_PROBE_OUT;
  if (out && ZOD.test(r.url)) appendFileSync(out, `${r.url}\n`);
  return r;
}

if (OUT && !process.env.ZOD_PROBE_HOOKED) {
  process.env.ZOD_PROBE_HOOKED = "1";
  register(import.meta.url, pathToFileURL("./"));
  // CommonJS: wrap the resolver every require() goes through
  const Module = createRequire(import.meta.url)("node:module") as { _resolveFilename: (...a: unknown[]) => string };
  const original = Module._resolveFilename;
  Module._resolveFilename = function (this: unknown, ...a: unknown[]): string {
    const file = original.apply(this, a);
    if (ZOD.test(file)) appendFileSync(OUT, `${pathToFileURL(file).href}\n`);
    return file;
  };
}

/** `zod 4.6.7 at node_modules/zod (zod/v3, zod/v4)` for each package in a probe's file. */
export function describeZod(file: string, root: string): string {
  let urls: string[];
  try {
    urls = [...new Set(readFileSync(file, "utf8").split("\n").filter(Boolean))];
  } catch {
    return "no zod loaded";
  }
  const packages = new Map<string, Set<string>>();
  for (const url of urls) {
    const path = fileURLToPath(url);
    const i = path.lastIndexOf("/node_modules/zod/");
    const pkg = path.slice(0, i + "/node_modules/zod".length);
    const rest = path.slice(pkg.length + 1);
    // the package's entry points are its top-level folders (v3, v4, mini, …); its index is zod 4
    const entry = rest.includes("/") ? `zod/${rest.split("/")[0]}` : "zod";
    if (!packages.has(pkg)) packages.set(pkg, new Set());
    packages.get(pkg)!.add(entry);
  }
  if (!packages.size) return "no zod loaded";
  return [...packages]
    .map(([pkg, entries]) => {
      let version = "?";
      try {
        version = (JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { version: string }).version;
      } catch {
        /* unreadable */
      }
      const where = pkg.startsWith(root) ? pkg.slice(root.length + 1) : pkg;
      const parts = [...entries].sort();
      return `zod ${version} at ${where}${parts.length ? ` (${parts.join(", ")})` : ""}`;
    })
    .join("; ");
}

