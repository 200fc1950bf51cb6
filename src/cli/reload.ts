/**
 * `cohere-mcp reload --store redis://… [--store-prefix P]`: tell every replica sharing that store
 * to re-read its configuration (the announcement every replica polls: src/fleet/converge.ts).
 * A plain exported function; the command table (src/cli/index.ts) calls it.
 */
import { parseArgs } from "node:util";
import { announceReload } from "../fleet/converge.js";
import { openSharedForCommand } from "./shared-store.js";
import { describeStoreUrl } from "../store/redis.js";

export const RELOAD_USAGE = "Usage: cohere-mcp reload --store redis://[:PASSWORD@]HOST:PORT/DB [--store-prefix PREFIX]";

export async function reloadCommand(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { store: { type: "string" }, "store-prefix": { type: "string" } } }));
  } catch (e) {
    err(`cohere-mcp reload: ${(e as Error).message}\n${RELOAD_USAGE}\n`);
    return 2;
  }
  const url = values.store ?? env.COHERE_MCP_STORE;
  if (!url || !/^rediss?:\/\//i.test(url)) {
    err(`cohere-mcp reload: --store must be the redis:// URL the replicas share\n${RELOAD_USAGE}\n`);
    return 2;
  }
  let shared;
  try {
    shared = await openSharedForCommand(url, values["store-prefix"], env);
    const epoch = await announceReload(shared);
    out(`reload announced through ${describeStoreUrl(url)} (announcement ${epoch}): every replica re-reads its configuration within a second\n`);
    return 0;
  } catch (e) {
    err(`cohere-mcp reload: ${(e as Error).message}\n`);
    return 1;
  } finally {
    await shared?.close();
  }
}

/** The command table's entry point (src/cli/index.ts). */
export async function run(argv: readonly string[], io: { stdout(t: string): void; stderr(t: string): void; env: NodeJS.ProcessEnv }): Promise<number> {
  return reloadCommand([...argv], io.env, (s) => io.stdout(s), (s) => io.stderr(s));
}
