/**
 * manifest.json of the MCP Bundle (`npm run pack:mcpb` → cohere-mcp.mcpb), generated from
 * package.json and the catalog by `npm run manifest`; test/distribution.test.ts fails when the
 * checked-in file is stale.
 *
 * The host (Claude Desktop) shows `user_config` as a form, then starts `mcp_config` with every
 * `${user_config.x}` replaced by the user's value and `${__dirname}` by the unpacked bundle.
 * An optional field without a default would arrive as the literal text `${user_config.x}`, so
 * every optional field has one. Everything reaches the server as the environment variables it
 * already reads (no new flags): CO_API_KEY, CO_API_URL, COHERE_MCP_TOOLS, COHERE_MCP_ALLOW_*,
 * COHERE_MCP_CONFIRM_DESTRUCTIVE.
 */
import { CATALOG } from "../src/catalog/index.js";
import { policyOf } from "../src/catalog/light.js";
import { resolveVisible } from "../src/policy/allowlist.js";
import { DEFAULTS } from "../src/config/options.js";

/** The newest manifest_version that @anthropic-ai/mcpb 2.1.2 (`mcpb validate`/`pack`) accepts. */
export const MCPB_MANIFEST_VERSION = "0.4";

export interface PackageJson {
  name: string;
  version: string;
  description: string;
  license?: string;
  repository?: { type: string; url: string };
  homepage?: string;
  engines?: { node?: string };
  mcpName?: string;
}

export interface UserConfigField {
  type: "string" | "number" | "boolean" | "directory" | "file";
  title: string;
  description: string;
  required?: boolean;
  sensitive?: boolean;
  default?: string | number | boolean | string[];
}

export const USER_CONFIG: Record<string, UserConfigField> = {
  cohere_api_key: {
    type: "string",
    title: "Cohere API key",
    description: "Your Cohere API key (dashboard.cohere.com → API keys). Stored in the OS keychain; never logged.",
    required: true,
    sensitive: true,
  },
  base_url: {
    type: "string",
    title: "Cohere base URL",
    description: "Where Cohere's API is. Change it only for a proxy, a private deployment or a local emulator.",
    required: false,
    default: DEFAULTS.baseUrl,
  },
  tools: {
    type: "string",
    title: "Tools",
    description:
      "Which tools Claude sees: tool names, groups (datasets, embed_jobs, batches, …) or globs, comma-separated. " +
      "'default' = the 17 read tools; e.g. 'default,datasets'.",
    required: false,
    default: "default",
  },
  allow_write: {
    type: "boolean",
    title: "Allow write tools",
    description: "Let groups and globs in Tools select tools that create or change things (create_dataset, create_embed_job, …).",
    required: false,
    default: false,
  },
  allow_destructive: {
    type: "boolean",
    title: "Allow destructive tools",
    description:
      "Let groups and globs in Tools select tools that delete or cancel (delete_dataset, cancel_batch, …). " +
      "Whether you are asked before each one is set just below, in Confirm destructive calls.",
    required: false,
    default: false,
  },
  confirm_destructive: {
    type: "string",
    title: "Confirm destructive calls",
    description:
      "'ask' (default): before each delete or cancel, the app shows you what will be deleted and runs it only if you accept; " +
      "this needs an app that supports MCP elicitation (asking the user), and in one that does not, every destructive call " +
      "is refused with a message saying so. 'never': destructive calls run without asking you; only choose it if you trust " +
      "every prompt Claude acts on, since a deletion cannot be undone.",
    required: false,
    default: "ask",
  },
};

/** user_config key → the environment variable the server reads. */
export const USER_CONFIG_ENV: Record<keyof typeof USER_CONFIG & string, string> = {
  cohere_api_key: "CO_API_KEY",
  base_url: "CO_API_URL",
  tools: "COHERE_MCP_TOOLS",
  allow_write: "COHERE_MCP_ALLOW_WRITE",
  allow_destructive: "COHERE_MCP_ALLOW_DESTRUCTIVE",
  confirm_destructive: "COHERE_MCP_CONFIRM_DESTRUCTIVE",
};

/** The bundle's icon, drawn by scripts/icon.ts and written by `npm run manifest`. */
export const ICON = "icon.png";

const REPOSITORY = "https://github.com/cohere-mcp/cohere-mcp";

export const ENTRY_POINT = "dist/src/index.js";

export function buildMcpbManifest(pkg: PackageJson): Record<string, unknown> {
  const defaults = resolveVisible(CATALOG.map(policyOf), {});
  const env: Record<string, string> = {};
  for (const [key, name] of Object.entries(USER_CONFIG_ENV)) env[name] = `\${user_config.${key}}`;
  return {
    manifest_version: MCPB_MANIFEST_VERSION,
    name: pkg.name,
    display_name: "Cohere",
    version: pkg.version,
    description: "The whole Cohere API as typed tools (chat, embed, rerank, datasets, jobs…), read-only unless you allow more.",
    long_description:
      "cohere-mcp gives Claude Cohere's chat, embed, rerank, tokenize, models, datasets, embed jobs, batches, fine-tuning, " +
      "connectors, audio transcription and document parsing as typed tools (42 operations plus three wait_for_* tools). By default Claude " +
      "sees only the 17 read tools; write and destructive tools stay hidden and uncallable until you name them under " +
      "Tools and allow their class. Destructive calls ask you first. Bad input is refused before anything reaches Cohere, " +
      "and your key never appears in a result or a log.",
    author: { name: "cohere-mcp contributors" },
    repository: { type: "git", url: (pkg.repository?.url ?? REPOSITORY).replace(/^git\+/, "").replace(/\.git$/, "") },
    homepage: pkg.homepage ?? `${REPOSITORY}#readme`,
    icon: ICON,
    license: pkg.license ?? "MIT",
    keywords: ["cohere", "embeddings", "rerank", "rag", "llm"],
    server: {
      type: "node",
      entry_point: ENTRY_POINT,
      mcp_config: {
        command: "node",
        args: [`\${__dirname}/${ENTRY_POINT}`],
        env,
      },
    },
    // The default set; the Tools field can widen it, hence tools_generated.
    tools: CATALOG.filter((t) => defaults.has(t.name)).map((t) => ({ name: t.name, description: t.description })),
    tools_generated: true,
    compatibility: {
      platforms: ["darwin", "win32", "linux"],
      runtimes: { node: pkg.engines?.node ?? ">=20.18.1" },
    },
    user_config: USER_CONFIG,
  };
}

/**
 * What the host does before starting the server: replace `${__dirname}` and every
 * `${user_config.x}` (a value the user gave, else the field's default) in args and env.
 * Booleans become "true"/"false". A placeholder left unresolved is returned as is, so a test
 * can see it.
 */
export function resolveMcpConfig(
  manifest: { server: { mcp_config: { command: string; args?: string[]; env?: Record<string, string> } }; user_config?: Record<string, UserConfigField> },
  dirname: string,
  values: Record<string, string | number | boolean>,
): { command: string; args: string[]; env: Record<string, string> } {
  const fields = manifest.user_config ?? {};
  const sub = (s: string) =>
    s.replace(/\$\{__dirname\}/g, dirname).replace(/\$\{user_config\.([A-Za-z0-9_]+)\}/g, (whole, key: string) => {
      const v = key in values ? values[key] : fields[key]?.default;
      return v === undefined ? whole : String(v);
    });
  const c = manifest.server.mcp_config;
  return {
    command: c.command,
    args: (c.args ?? []).map(sub),
    env: Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, sub(v)])),
  };
}
