/**
 * Start-up wiring of the shared state (--store), the policy document (--policy-store), the
 * configuration agreement between replicas (converge.ts), every replica's open sessions (sessions.ts) and the console's activity stream.
 */
import type { App } from "../runtime/app.js";
import { ConfigError } from "../config/file.js";
import { queueReload } from "../runtime/reload.js";
import { storeSecrets } from "../store/open.js";
import { startFleet, type Fleet } from "./converge.js";
import { startSessionFleet } from "./sessions.js";

export async function installFleet(app: App): Promise<Fleet> {
  const o = app.options;
  // The shared state is for HTTP replicas (announcements, the console): stdio keeps to counters.
  if (o.store && o.mode === "http") {
    const { RedisSharedState } = await import("../store/shared-redis.js");
    const { describeStoreUrl } = await import("../store/redis.js");
    for (const s of storeSecrets(o)) app.addSecret(s);
    const shared = new RedisSharedState({ url: o.store, password: o.storePassword, prefix: o.storePrefix, timeoutMs: o.storeTimeoutMs });
    // Waited for only when the policy lives there; otherwise it connects in the background.
    const connecting = shared.connect(Math.max(2_000, o.storeTimeoutMs));
    const ok = o.policyStore ? await connecting : true;
    if (!ok) app.logger.warn("the shared state (reload announcements, console) is not reachable yet; retrying in the background", { store: describeStoreUrl(o.store) });
    app.shared = shared;
  }
  if (o.policyStore) {
    if (!o.configPath) throw new ConfigError("--policy-store needs --config FILE (it seeds the policy document at the first start)");
    const { StorePolicy, fileRaw } = await import("../admin/grid/policy-source.js");
    const { describeStoreUrl } = await import("../store/redis.js");
    const source = new StorePolicy(app.shared, describeStoreUrl(o.store ?? ""), o.adminReadonly);
    let seeded = false;
    try {
      seeded = await source.seed(fileRaw(o.configPath));
    } catch (err) {
      throw new ConfigError(`--policy-store: the policy document could not be seeded from ${o.configPath}: ${(err as Error).message}`);
    }
    const doc = await source.read().catch((err: unknown) => {
      throw new ConfigError(`--policy-store: the policy document in the store cannot be read: ${(err as Error).message}`);
    });
    app.loadPolicy = async () => (await source.read()).config;
    await app.live.prepare(doc.config);
    app.live.replace(doc.config);
    app.logger.info(seeded ? "the policy document was seeded from --config" : "the policy comes from the shared store's document", {
      version: doc.version,
      config: app.live.current.hash,
    });
  }
  if (o.adminPort !== undefined || o.policyStore) {
    const { installActivity } = await import("../admin/activity/activity.js");
    installActivity(app);
  }
  const fleet = startFleet(app, () => queueReload(app));
  app.fleet = fleet;
  app.onClose(() => fleet.close());
  const sessions = startSessionFleet(app);
  app.sessionFleet = sessions;
  app.onClose(() => sessions.close());
  return fleet;
}
