/**
 * Distribution files (issue 14): the MCPB manifest.json is generated and fresh, accepted by the
 * official mcpb CLI's newest schema, and resolves to a working environment with only the
 * required field filled in; .mcpbignore keeps the compiled server; server.json for the MCP
 * Registry is in sync with package.json and has the fields the registry requires.
 *
 * The bundle itself is packed, unpacked and started by `npm run test:mcpb` (scripts/check-mcpb.ts).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { inflateSync } from "node:zlib";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { LATEST_MANIFEST_VERSION, MANIFEST_SCHEMAS, readMcpbIgnorePatterns, shouldExclude } from "@anthropic-ai/mcpb";
import { describe, expect, it } from "vitest";
import { buildMcpbManifest, ICON, resolveMcpConfig, USER_CONFIG, type PackageJson, type UserConfigField } from "../scripts/bundle-manifest.js";
import { iconPng } from "../scripts/icon.js";
import { stringify } from "../src/catalog/manifest.js";
import { ENV, FLAGS } from "../src/config/options.js";
import { SERVER_INFO } from "../src/server.js";
import { runCli } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const read = (f: string) => readFileSync(join(ROOT, f), "utf8");
const pkg = JSON.parse(read("package.json")) as PackageJson & { bin: Record<string, string>; files: string[] };

interface Manifest {
  manifest_version: string;
  name: string;
  version: string;
  tools: Array<{ name: string; description: string }>;
  server: { entry_point: string; mcp_config: { command: string; args: string[]; env: Record<string, string> } };
  user_config: Record<string, UserConfigField>;
  icon?: string;
  repository?: { type: string; url: string };
  homepage?: string;
}
const manifest = JSON.parse(read("manifest.json")) as Manifest;

describe("MCPB manifest.json", () => {
  it("is fresh (run `npm run manifest` when this fails)", () => {
    expect(read("manifest.json")).toBe(stringify(buildMcpbManifest(pkg)));
  });

  it("uses the newest manifest_version the official mcpb CLI accepts, and passes its schema", () => {
    expect(manifest.manifest_version).toBe(LATEST_MANIFEST_VERSION);
    const r = MANIFEST_SCHEMAS[LATEST_MANIFEST_VERSION].safeParse(manifest);
    expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
  });

  it("has the package's name and version, and starts the package's bin", () => {
    expect(manifest.name).toBe(pkg.name);
    expect(manifest.version).toBe(pkg.version);
    expect(manifest.server.entry_point).toBe(pkg.bin["cohere-mcp"]);
    expect(manifest.server.mcp_config.args).toEqual([`\${__dirname}/${pkg.bin["cohere-mcp"]}`]);
  });

  it("lists exactly the default tool set, with the catalog's descriptions", () => {
    const catalog = JSON.parse(read("tools.manifest.json")) as { tools: Array<{ name: string; description: string; defaultVisible: boolean }> };
    expect(manifest.tools).toEqual(catalog.tools.filter((t) => t.defaultVisible).map((t) => ({ name: t.name, description: t.description })));
    expect(manifest.tools).toHaveLength(17);
  });

  it("user_config: the key is required and sensitive; every optional field has a default", () => {
    expect(manifest.user_config).toEqual(USER_CONFIG);
    expect(Object.keys(manifest.user_config).sort()).toEqual(["allow_destructive", "allow_write", "base_url", "cohere_api_key", "confirm_destructive", "tools"]);
    expect(manifest.user_config.cohere_api_key).toMatchObject({ required: true, sensitive: true, type: "string" });
    for (const [k, f] of Object.entries(manifest.user_config)) {
      if (!f.required) expect(f.default, `${k} needs a default, or it arrives as the literal \${user_config.${k}}`).not.toBeUndefined();
    }
    expect(manifest.user_config.allow_write!.default).toBe(false);
    expect(manifest.user_config.allow_destructive!.default).toBe(false);
  });

  it("mcp_config names only defined fields, and only environment variables the server reads", () => {
    const known = new Set<string>([...ENV.map((e) => e.env), ...FLAGS.map((f) => f.env.replace(/=.*$/, "")).filter(Boolean)]);
    for (const [name, value] of Object.entries(manifest.server.mcp_config.env)) {
      expect(known.has(name), `${name} is not read by the server`).toBe(true);
      const keys = [...value.matchAll(/\$\{user_config\.([A-Za-z0-9_]+)\}/g)].map((m) => m[1]!);
      expect(keys.length, value).toBe(1);
      for (const k of keys) expect(manifest.user_config[k], `${name} → user_config.${k}`).toBeDefined();
    }
  });

  it("resolved as a host does with only the key filled in, nothing is left as a literal placeholder", () => {
    const r = resolveMcpConfig(manifest, "/bundle", { cohere_api_key: "k" });
    expect(r.args).toEqual(["/bundle/dist/src/index.js"]);
    expect(r.env).toEqual({
      CO_API_KEY: "k",
      CO_API_URL: "https://api.cohere.com",
      COHERE_MCP_TOOLS: "default",
      COHERE_MCP_ALLOW_WRITE: "false",
      COHERE_MCP_ALLOW_DESTRUCTIVE: "false",
      COHERE_MCP_CONFIRM_DESTRUCTIVE: "ask",
    });
    // and the resolver does leave what it cannot resolve (so the check above means something)
    expect(resolveMcpConfig(manifest, "/bundle", {}).env.CO_API_KEY).toBe("${user_config.cohere_api_key}");
  });

  it("the server reads those values as the form meant them: defaults give the 17 read tools, a cleared Tools field too", async () => {
    const base = { CO_API_KEY: "k", CO_API_URL: "https://api.cohere.com", COHERE_MCP_ALLOW_WRITE: "false", COHERE_MCP_ALLOW_DESTRUCTIVE: "false" };
    const names = async (tools: string) => {
      const r = await runCli(["--list-tools", "--json"], { ...base, COHERE_MCP_TOOLS: tools });
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as Array<{ name: string }>).map((t) => t.name);
    };
    expect(await names("default")).toEqual(manifest.tools.map((t) => t.name));
    expect(await names("")).toEqual(manifest.tools.map((t) => t.name));
    const wide = await runCli(["--list-tools", "--json"], { ...base, COHERE_MCP_TOOLS: "datasets", COHERE_MCP_ALLOW_WRITE: "true" });
    expect((JSON.parse(wide.stdout) as Array<{ name: string }>).map((t) => t.name)).toContain("create_dataset");
  });
});

describe("the bundle a user can live with (issue 22, item 14)", () => {
  it("offers the confirmation mode beside Allow destructive tools, describing both choices", () => {
    const keys = Object.keys(manifest.user_config);
    expect(keys.indexOf("confirm_destructive")).toBe(keys.indexOf("allow_destructive") + 1);
    const f = manifest.user_config.confirm_destructive!;
    expect(f).toMatchObject({ type: "string", required: false, default: "ask" });
    expect(f.description).toMatch(/'ask' \(default\):.*elicitation.*refused/s);
    expect(f.description).toMatch(/'never': destructive calls run without asking/);
    expect(manifest.server.mcp_config.env.COHERE_MCP_CONFIRM_DESTRUCTIVE).toBe("${user_config.confirm_destructive}");
  });

  it("the server reads the form's values: ask, never, and a cleared field; anything else stops the start", async () => {
    const base = { CO_API_KEY: "k", COHERE_MCP_TOOLS: "datasets", COHERE_MCP_ALLOW_DESTRUCTIVE: "true" };
    for (const v of ["ask", "never", ""]) {
      const r = await runCli(["--list-tools", "--json"], { ...base, COHERE_MCP_CONFIRM_DESTRUCTIVE: v });
      expect(r.code, `${v}: ${r.stderr}`).toBe(0);
    }
    const bad = await runCli(["--list-tools"], { ...base, COHERE_MCP_CONFIRM_DESTRUCTIVE: "sometimes" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--confirm-destructive must be elicit (or ask) or never, got "sometimes"`);
  });

  it("has an icon (a 512×512 PNG, the drawing in scripts/icon.ts), a repository and a homepage", () => {
    expect(manifest.icon).toBe(ICON);
    const png = readFileSync(join(ROOT, ICON));
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([512, 512]);
    // the same pixels as the drawing (compressed bytes may differ between zlib builds)
    const idat = (b: Buffer) => {
      const parts: Buffer[] = [];
      for (let o = 8; o < b.length; ) {
        const len = b.readUInt32BE(o);
        if (b.toString("latin1", o + 4, o + 8) === "IDAT") parts.push(b.subarray(o + 8, o + 8 + len));
        o += 12 + len;
      }
      return inflateSync(Buffer.concat(parts));
    };
    expect(idat(png).equals(idat(iconPng()))).toBe(true);
    expect(manifest.repository).toEqual({ type: "git", url: "https://github.com/cohere-mcp/cohere-mcp" });
    expect(manifest.homepage).toBe("https://github.com/cohere-mcp/cohere-mcp#readme");
    expect(pkg.repository?.url).toContain("github.com/cohere-mcp/cohere-mcp");
  });
});

describe(".mcpbignore", () => {
  const patterns = readMcpbIgnorePatterns(ROOT);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : [relative(ROOT, p)];
    });

  it("keeps every file of the compiled server (dist/src), the manifests and runtime dependencies", () => {
    const kept = walk(join(ROOT, "dist/src")).filter((f) => f.endsWith(".js"));
    expect(kept.length).toBeGreaterThan(30);
    for (const f of [...kept, "manifest.json", "tools.manifest.json", "package.json", "README.md", "node_modules/zod/package.json", "node_modules/undici/index.js", "node_modules/@modelcontextprotocol/sdk/dist/esm/server/index.js"]) {
      expect(shouldExclude(f, patterns), f).toBe(false);
    }
  });

  it("leaves out sources, tests, tooling, the emulator and dependency docs", () => {
    for (const f of ["src/index.ts", "test/http.test.ts", "scripts/manifest.ts", "emulator/server.ts", "bench/run.ts", "dist/test/x.js", "dist/emulator/server.js", "dist/scripts/manifest.js", "server.json", "node_modules/zod/README.md", "node_modules/undici/docs/x.md"]) {
      expect(shouldExclude(f, patterns), f).toBe(true);
    }
  });
});

describe("server.json (MCP Registry, schema 2025-12-11)", () => {
  const server = JSON.parse(read("server.json")) as {
    $schema: string;
    name: string;
    description: string;
    version: string;
    title?: string;
    repository?: { url: string; source: string };
    packages: Array<{
      registryType: string;
      identifier: string;
      version?: string;
      fileSha256?: string;
      transport: { type: string };
      environmentVariables?: Array<{ name: string; isRequired?: boolean; isSecret?: boolean; default?: string }>;
    }>;
    remotes: Array<{ type: string; url: string; headers?: Array<{ name: string }>; variables?: Record<string, unknown> }>;
  };
  const versionRange = /^[\^~><=*]|\.x$|\.\*$|^latest$/;

  it("names the 2025-12-11 schema and has the required fields in their shapes", () => {
    expect(server.$schema).toBe("https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json");
    expect(server.name).toMatch(/^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/);
    expect(server.description.length).toBeGreaterThan(0);
    expect(server.description.length).toBeLessThanOrEqual(100);
    expect(server.version).not.toMatch(versionRange);
    if (server.repository) expect(server.repository).toMatchObject({ url: expect.stringMatching(/^https:\/\//), source: expect.any(String) });
    for (const p of server.packages) {
      expect(p.registryType).toMatch(/^(npm|pypi|nuget|oci|mcpb)$/);
      expect(p.identifier.length).toBeGreaterThan(0);
      expect(["stdio", "streamable-http", "sse"]).toContain(p.transport.type);
    }
    for (const r of server.remotes) {
      expect(["streamable-http", "sse"]).toContain(r.type);
      expect(r.url).toMatch(/^(https?:\/\/|\{)/);
      // every {variable} in the URL is declared
      for (const [, v] of r.url.matchAll(/\{([^}]+)\}/g)) expect(r.variables?.[v!], v).toBeDefined();
    }
  });

  it("is in sync with package.json: mcpName, npm identifier and versions", () => {
    expect(pkg.mcpName).toBe(server.name);
    expect(server.version).toBe(pkg.version);
    expect(SERVER_INFO.version).toBe(pkg.version);
    const npm = server.packages.find((p) => p.registryType === "npm")!;
    expect(npm).toMatchObject({ identifier: pkg.name, version: pkg.version, transport: { type: "stdio" } });
    const key = npm.environmentVariables?.find((e) => e.name === "CO_API_KEY");
    expect(key).toMatchObject({ isRequired: true, isSecret: true });
    // every environment variable offered is one the server reads
    const known = new Set<string>([...ENV.map((e) => e.env), ...FLAGS.map((f) => f.env.replace(/=.*$/, "")).filter(Boolean)]);
    for (const e of npm.environmentVariables ?? []) expect(known.has(e.name), e.name).toBe(true);
  });

  it("offers the .mcpb of this version with a SHA-256, and an example streamable-http remote with a bearer header", () => {
    const mcpb = server.packages.find((p) => p.registryType === "mcpb")!;
    expect(mcpb.identifier).toMatch(new RegExp(`^https://github\\.com/.+/releases/download/v${pkg.version.replace(/\./g, "\\.")}/cohere-mcp\\.mcpb$`));
    expect(mcpb.fileSha256).toMatch(/^[a-f0-9]{64}$/);
    expect(mcpb.transport.type).toBe("stdio");
    if (mcpb.version) expect(mcpb.version).toBe(pkg.version);
    const remote = server.remotes.find((r) => r.type === "streamable-http")!;
    expect(remote.url).toMatch(/\/mcp$/);
    expect(remote.headers?.map((h) => h.name)).toContain("Authorization");
  });

  it("offers the container image of this version as an OCI package, named as the Dockerfile labels it and the compose file runs it", () => {
    const oci = server.packages.find((p) => p.registryType === "oci")!;
    // The 2025-12-11 form: registry/namespace/repository:tag in `identifier`, no separate version.
    expect(oci).toMatchObject({ identifier: `ghcr.io/cohere-mcp/cohere-mcp:${pkg.version}`, transport: { type: "stdio" } });
    expect(oci.version).toBeUndefined();
    const key = oci.environmentVariables?.find((e) => e.name === "CO_API_KEY");
    expect(key).toMatchObject({ isRequired: true, isSecret: true });
    const known = new Set<string>([...ENV.map((e) => e.env), ...FLAGS.map((f) => f.env.replace(/=.*$/, "")).filter(Boolean)]);
    for (const e of oci.environmentVariables ?? []) expect(known.has(e.name), e.name).toBe(true);
    // The registry checks the image's io.modelcontextprotocol.server.name label against `name`.
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toContain(`io.modelcontextprotocol.server.name="${server.name}"`);
    expect(dockerfile).toMatch(new RegExp(`^ARG VERSION=${pkg.version.replace(/\./g, "\\.")}$`, "m"));
    expect(read("deploy/compose/compose.yaml")).toContain(`\${COHERE_MCP_IMAGE:-${oci.identifier}}`);
  });

  it("the npm package ships what the npm entry needs (bin, tools.manifest.json)", () => {
    expect(pkg.files).toEqual(expect.arrayContaining(["dist/src", "tools.manifest.json"]));
  });
});
