/**
 * Leaves out of the MCP Bundle's node_modules what a desktop (stdio) server never loads
 * (issue 22, item 14): the HTTP-server side of the MCP SDK (express, hono and their middleware),
 * the SDK's client-side transports and auth, the OAuth resource server's JWT library and the Redis
 * client. Every package still reachable from the kept dependencies stays (a package both sides
 * use is kept); everything else in node_modules is removed. `npm run test:mcpb` then starts the
 * bundle as a host would and calls tools through it, so a package cut by mistake fails there.
 *
 *   node dist/scripts/prune-bundle.js STAGE_DIR
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

/** Packages only `--http`, `--store` or an MCP client load; the desktop server never does. */
export const DESKTOP_NEVER_LOADS = [
  // the SDK's HTTP server (streamable HTTP / SSE server transports, its auth router)
  "express",
  "cors",
  "express-rate-limit",
  "@hono/node-server",
  "hono",
  "raw-body",
  "content-type",
  // the SDK's client side (SSE and stdio client transports, OAuth client); SDK v2's client package
  // is loaded only by --http with OAuth (src/oauth/verify.ts imports it lazily, for issuer discovery)
  "@modelcontextprotocol/client",
  "eventsource",
  "eventsource-parser",
  "cross-spawn",
  "pkce-challenge",
  // cohere-mcp --http with OAuth (src/oauth), the console's single sign-on (src/admin/signin/oidc.ts,
  // imported only when an admin signs in with the identity provider) and --store (src/store/redis.ts)
  "jose",
  "openid-client",
  "oauth4webapi",
  "@redis/client",
  // OpenTelemetry export (src/telemetry/otel.ts, imported only with --otel or --audit-otlp): a
  // gateway's concern; the desktop server says so and stops if asked for it (@opentelemetry/api
  // stays: prom-client depends on it)
  "@opentelemetry/api-logs",
  "@opentelemetry/context-async-hooks",
  "@opentelemetry/core",
  "@opentelemetry/exporter-logs-otlp-http",
  "@opentelemetry/exporter-logs-otlp-proto",
  "@opentelemetry/exporter-metrics-otlp-http",
  "@opentelemetry/exporter-metrics-otlp-proto",
  "@opentelemetry/exporter-trace-otlp-http",
  "@opentelemetry/exporter-trace-otlp-proto",
  "@opentelemetry/resources",
  "@opentelemetry/sdk-logs",
  "@opentelemetry/sdk-metrics",
  "@opentelemetry/sdk-trace-base",
  "@opentelemetry/semantic-conventions",
] as const;

interface Pkg {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const readPkg = (dir: string): Pkg => JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Pkg;

/** Where Node would find `name` when required from `fromDir`: the nearest node_modules up the tree. */
function resolvePackage(name: string, fromDir: string, root: string): string | undefined {
  for (let d = fromDir; ; d = dirname(d)) {
    const candidate = join(d, "node_modules", name);
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (d === root || relative(root, d).startsWith("..") || d === dirname(d)) return undefined;
  }
}

/** Every package directory under node_modules (scoped and nested ones included). */
function allPackages(nodeModules: string): string[] {
  const out: string[] = [];
  if (!existsSync(nodeModules)) return out;
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith(".")) continue;
    const p = join(nodeModules, entry);
    if (!statSync(p).isDirectory()) continue;
    if (entry.startsWith("@")) {
      for (const sub of readdirSync(p)) {
        const q = join(p, sub);
        if (statSync(q).isDirectory()) out.push(q, ...allPackages(join(q, "node_modules")));
      }
    } else out.push(p, ...allPackages(join(p, "node_modules")));
  }
  return out;
}

function sizeOf(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? sizeOf(p) : statSync(p).size;
  }
  return n;
}

export function pruneBundle(stage: string, drop: readonly string[] = DESKTOP_NEVER_LOADS): { removed: string[]; bytes: number } {
  const dropped = new Set<string>(drop);
  const keep = new Set<string>();
  // The drop list cuts the edges from this package and from the SDK only: a dropped package that
  // something else kept needs stays.
  const cutsFrom = (dir: string) => dir === stage || dir.endsWith(join("node_modules", "@modelcontextprotocol", "sdk"));
  const visit = (name: string, fromDir: string) => {
    if (dropped.has(name) && cutsFrom(fromDir)) return;
    const dir = resolvePackage(name, fromDir, stage);
    if (!dir || keep.has(dir)) return;
    keep.add(dir);
    const p = readPkg(dir);
    const deps = { ...p.dependencies, ...p.optionalDependencies };
    // a peer dependency that is installed is loaded from here too (zod for the SDK)
    for (const peer of Object.keys(p.peerDependencies ?? {})) if (resolvePackage(peer, dir, stage)) deps[peer] = "*";
    for (const d of Object.keys(deps)) visit(d, dir);
  };
  for (const d of Object.keys(readPkg(stage).dependencies ?? {})) visit(d, stage);
  const removed: string[] = [];
  let bytes = 0;
  for (const dir of allPackages(join(stage, "node_modules"))) {
    if (keep.has(dir) || !existsSync(dir)) continue;
    // a kept package may sit inside a removed one's node_modules: keep the path down to it
    if ([...keep].some((k) => k.startsWith(dir + "/"))) continue;
    bytes += sizeOf(dir);
    removed.push(relative(join(stage, "node_modules"), dir));
    rmSync(dir, { recursive: true, force: true });
  }
  return { removed: removed.sort(), bytes };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const stage = process.argv[2];
  if (!stage) {
    process.stderr.write("usage: node dist/scripts/prune-bundle.js STAGE_DIR\n");
    process.exit(2);
  }
  const r = pruneBundle(stage);
  process.stdout.write(`pruned ${r.removed.length} packages a desktop server never loads (${(r.bytes / 1024 / 1024).toFixed(1)} MB): ${r.removed.join(", ")}\n`);
}
