/**
 * `cohere-mcp policy export --config FILE [--store URL] [--store-prefix P] [--out FILE]`: the
 * policy as a complete config file — from the shared store's document with --store (what
 * replicas with --policy-store apply), else FILE itself after validation. Token hashes are kept:
 * this is the operator's file (for teams who keep config in git). A plain exported function; the
 * command table (src/cli/index.ts) calls it; arguments are parsed like every command's
 * (src/cli/args.ts: unknown flags are exit 2 with the same message).
 */
import { writeFileSync } from "node:fs";
import { loadConfigFile } from "../config/file.js";
import { POLICY_KEY } from "../admin/grid/policy-source.js";
import { parseConfig } from "../admin/grid/edit.js";
import { openSharedForCommand } from "./shared-store.js";
import { describeStoreUrl } from "../store/redis.js";
import { fileRaw } from "../admin/grid/policy-source.js";
import { EXIT, parseCommandArgs, standalone, UsageError, type CommandIO } from "./args.js";

export const POLICY_EXPORT_USAGE = "Usage: cohere-mcp policy export --config FILE [--store redis://…] [--store-prefix PREFIX] [--out FILE]";

/** `policy export …` (argv after "export"): throws UsageError for bad usage (exit 2). */
export async function exportRun(argv: readonly string[], io: CommandIO): Promise<number> {
  const env = io.env;
  const out = (t: string) => io.stdout(t);
  const err = (t: string) => io.stderr(t);
  const p = parseCommandArgs("policy export", argv, {
    config: { type: "string" },
    store: { type: "string" },
    "store-prefix": { type: "string" },
    out: { type: "string" },
  });
  // the output is a config file: JSON whatever the format
  if (p.format !== "table" && p.format !== "json") throw new UsageError(`policy export: --format must be json (the output is a config file), got "${p.format}"`);
  const values = p.values as { config?: string; store?: string; "store-prefix"?: string; out?: string };
  const store = values.store ?? env.COHERE_MCP_STORE;
  const config = values.config ?? env.COHERE_MCP_CONFIG;
  if (!store && !config) {
    throw new UsageError("policy export: give --config FILE (and --store URL when replicas keep the policy in the store). Run cohere-mcp policy export --help.");
  }
  let raw: Record<string, unknown>;
  let from: string;
  try {
    if (store) {
      if (!/^rediss?:\/\//i.test(store)) throw new Error("--store must be a redis:// or rediss:// URL");
      const shared = await openSharedForCommand(store, values["store-prefix"], env);
      try {
        const doc = await shared.getDoc(POLICY_KEY);
        if (!doc) throw new Error(`${describeStoreUrl(store)} holds no policy document (replicas seed it at their first start with --policy-store)`);
        raw = JSON.parse(doc.value) as Record<string, unknown>;
        from = `version ${doc.version} of the policy document in ${describeStoreUrl(store)}`;
      } finally {
        await shared.close();
      }
    } else {
      loadConfigFile(config!);
      raw = fileRaw(config!);
      from = config!;
    }
    parseConfig(raw);
  } catch (e) {
    err(`cohere-mcp policy export: ${(e as Error).message}\n`);
    return 1;
  }
  const text = JSON.stringify(raw, null, 2) + "\n";
  if (values.out) {
    writeFileSync(values.out, text, { mode: 0o600 });
    err(`wrote ${from} to ${values.out}\n`);
  } else out(text);
  return 0;
}

/** The command table's entry point (src/cli/index.ts): `policy export …`. */
export async function run(argv: readonly string[], io: CommandIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "export") throw new UsageError(`policy: the only subcommand is export. ${POLICY_EXPORT_USAGE}`);
  return exportRun(rest, io);
}

/** For callers outside the command table (tests): usage errors are printed and exit 2. */
export const policyExportCommand = (argv: string[], env?: NodeJS.ProcessEnv, out?: (s: string) => void, err?: (s: string) => void): Promise<number> =>
  standalone(exportRun, argv, env, out, err);
