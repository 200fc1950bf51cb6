/**
 * The process's counter store from the flags: memory without --store; with --store, Redis behind
 * the failover policy of --store-failure. The Redis client is loaded only when asked for.
 */
import type { Options } from "../config/options.js";
import type { Logger } from "../runtime/logger.js";
import { MemoryCounterStore } from "./memory.js";
import type { CounterStore } from "./types.js";

/** Every secret --store brings (the URL's password, COHERE_MCP_STORE_PASSWORD). */
export function storeSecrets(options: Pick<Options, "store" | "storePassword">): string[] {
  const out: string[] = [];
  if (options.storePassword) out.push(options.storePassword);
  if (options.store) {
    try {
      const u = new URL(options.store);
      if (u.password) out.push(u.password, decodeURIComponent(u.password));
      // The whole URL too: a message quoting it must not leak its password.
      if (u.password) out.push(options.store);
    } catch {
      /* parseOptions already refused a bad URL */
    }
  }
  return [...new Set(out)];
}

export async function openStore(options: Options, log: Logger): Promise<CounterStore> {
  if (!options.store) return new MemoryCounterStore();
  for (const s of storeSecrets(options)) log.addSecret(s);
  const { RedisCounterStore } = await import("./redis.js");
  const { FailoverCounterStore } = await import("./failover.js");
  let failover: InstanceType<typeof FailoverCounterStore> | undefined;
  const redis = new RedisCounterStore({
    url: options.store,
    password: options.storePassword,
    prefix: options.storePrefix,
    timeoutMs: options.storeTimeoutMs,
    onEvent: (event, detail) => (event === "ready" ? failover?.noteUp() : failover?.noteDown(detail ?? "connection lost")),
  });
  failover = new FailoverCounterStore(redis, options.storeFailure, log);
  const connected = await redis.connect(Math.max(2_000, options.storeTimeoutMs));
  if (connected) {
    log.info("counters are shared through Redis", { store: redis.where, prefix: options.storePrefix, onFailure: options.storeFailure });
  } else {
    failover.noteDown("not reachable at start-up");
  }
  return failover;
}
