/**
 * `cohere-mcp reload --store redis://… [--store-prefix P]`: tell every replica sharing that store
 * to re-read its configuration (the announcement every replica polls: src/fleet/converge.ts).
 * Arguments are parsed like every command's (src/cli/args.ts: unknown flags, --json, exit 2).
 */
import { announceReload } from "../fleet/converge.js";
import { openSharedForCommand } from "./shared-store.js";
import { describeStoreUrl } from "../store/redis.js";
import { EXIT, parseCommandArgs, standalone, UsageError, type CommandIO } from "./args.js";

export const RELOAD_USAGE = "Usage: cohere-mcp reload --store redis://[:PASSWORD@]HOST:PORT/DB [--store-prefix PREFIX] [--json]";

export type { CommandIO } from "./args.js";

/** The command table's entry point (src/cli/index.ts): throws UsageError for bad usage (exit 2). */
export async function run(argv: readonly string[], io: CommandIO): Promise<number> {
  const p = parseCommandArgs("reload", argv, { store: { type: "string" }, "store-prefix": { type: "string" } });
  if (p.format !== "table" && p.format !== "json") throw new UsageError(`reload: --format must be table or json, got "${p.format}"`);
  const url = (p.values.store as string | undefined) ?? io.env.COHERE_MCP_STORE;
  if (!url || !/^rediss?:\/\//i.test(url)) throw new UsageError("reload: --store must be the redis:// URL the replicas share. Run cohere-mcp reload --help.");
  let shared;
  try {
    shared = await openSharedForCommand(url, p.values["store-prefix"] as string | undefined, io.env);
    const epoch = await announceReload(shared);
    const where = describeStoreUrl(url);
    io.stdout(
      p.format === "json"
        ? JSON.stringify({ announced: epoch, store: where }) + "\n"
        : `reload announced through ${where} (announcement ${epoch}): every replica re-reads its configuration within a second\n`,
    );
    return EXIT.ok;
  } catch (e) {
    io.stderr(`cohere-mcp reload: ${(e as Error).message}\n`);
    return EXIT.invalid;
  } finally {
    await shared?.close();
  }
}

/** For callers outside the command table (tests): usage errors are printed and exit 2. */
export const reloadCommand = (argv: string[], env?: NodeJS.ProcessEnv, out?: (s: string) => void, err?: (s: string) => void): Promise<number> =>
  standalone(run, argv, env, out, err);
