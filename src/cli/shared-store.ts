/**
 * A command's connection to the state the replicas share (`reload --store`, `policy export
 * --store`): the URL from the flag, the password and prefix from the same variables the server
 * reads, connected within 3 s — or an Error saying the store cannot be reached.
 */
import { DEFAULTS } from "../config/flags.js";
import { describeStoreUrl } from "../store/redis.js";
import { RedisSharedState } from "../store/shared-redis.js";

export async function openSharedForCommand(url: string, prefix: string | undefined, env: NodeJS.ProcessEnv): Promise<RedisSharedState> {
  const shared = new RedisSharedState({
    url,
    password: env.COHERE_MCP_STORE_PASSWORD,
    prefix: prefix ?? env.COHERE_MCP_STORE_PREFIX ?? DEFAULTS.storePrefix,
    timeoutMs: 2_000,
  });
  if (await shared.connect(3_000)) return shared;
  await shared.close();
  throw new Error(`cannot reach ${describeStoreUrl(url)}`);
}
