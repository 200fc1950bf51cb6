/**
 * `cohere-mcp policy export --config FILE [--store URL] [--store-prefix P] [--out FILE]`: the
 * policy as a complete config file — from the shared store's document with --store (what
 * replicas with --policy-store apply), else FILE itself after validation. Token hashes are kept:
 * this is the operator's file (for teams who keep config in git). A plain exported function; the
 * command table (src/cli/index.ts) calls it.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfigFile } from "../config/file.js";
import { POLICY_KEY } from "../admin/policy-source.js";
import { parseConfig } from "../admin/grid-edit.js";
import { openSharedForCommand } from "./shared-store.js";
import { describeStoreUrl } from "../store/redis.js";
import { fileRaw } from "../admin/policy-source.js";

export const POLICY_EXPORT_USAGE = "Usage: cohere-mcp policy export --config FILE [--store redis://…] [--store-prefix PREFIX] [--out FILE]";

export async function policyExportCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: { config: { type: "string" }, store: { type: "string" }, "store-prefix": { type: "string" }, out: { type: "string" } },
    }));
  } catch (e) {
    err(`cohere-mcp policy export: ${(e as Error).message}\n${POLICY_EXPORT_USAGE}\n`);
    return 2;
  }
  const store = values.store ?? env.COHERE_MCP_STORE;
  const config = values.config ?? env.COHERE_MCP_CONFIG;
  if (!store && !config) {
    err(`cohere-mcp policy export: give --config FILE (and --store URL when replicas keep the policy in the store)\n${POLICY_EXPORT_USAGE}\n`);
    return 2;
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
export async function run(argv: readonly string[], io: { stdout(t: string): void; stderr(t: string): void; env: NodeJS.ProcessEnv }): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "export") {
    io.stderr(`cohere-mcp policy: the only subcommand is export\n${POLICY_EXPORT_USAGE}\n`);
    return 2;
  }
  return policyExportCommand(rest, io.env, (s) => io.stdout(s), (s) => io.stderr(s));
}
