/**
 * SIGHUP: read the --config file again and swap the whole configuration (src/live.ts) for the next
 * request. A file that does not parse, fails validation, or yields an unusable configuration
 * (unknown tool, missing key or token variable, ...) is rejected whole: the old configuration
 * stays. Either way one audit line and one log line say what happened.
 */
import type { App } from "./app.js";
import { loadConfigFile, type ConfigFile } from "./config/file.js";
import { sameTools } from "./policy/allowlist.js";

export interface ReloadDiff {
  agentsAdded: string[];
  agentsRemoved: string[];
  /** Agents whose token, profile or profile content changed. */
  agentsChanged: string[];
  /** Removed agents and agents whose credential changed: their sessions, streams and calls end at once. */
  agentsRevoked: string[];
  /** OAuth turned off, or another issuer, resource or audience: OAuth sessions and calls end at once. */
  oauthRevoked: boolean;
  profilesAdded: string[];
  profilesRemoved: string[];
  profilesChanged: string[];
  keysAdded: string[];
  keysRemoved: string[];
  keysChanged: string[];
  /** Anything else (prices, default profile). */
  otherChanged: string[];
}

export type ReloadResult = { ok: true; generation: number; diff: ReloadDiff; text: string } | { ok: false; error: string; text: string };

const json = (v: unknown) => JSON.stringify(v ?? null);

function diffRecords<T>(before: Record<string, T>, after: Record<string, T>, changed: (a: T, b: T, name: string) => boolean) {
  const added = Object.keys(after).filter((k) => !Object.hasOwn(before, k));
  const removed = Object.keys(before).filter((k) => !Object.hasOwn(after, k));
  const diff = Object.keys(after).filter((k) => Object.hasOwn(before, k) && changed(before[k]!, after[k]!, k));
  return { added, removed, changed: diff };
}

export function diffConfigs(prev: ConfigFile | undefined, next: ConfigFile | undefined): ReloadDiff {
  const profiles = diffRecords(prev?.profiles ?? {}, next?.profiles ?? {}, (a, b) => json(a) !== json(b));
  const byName = (c: ConfigFile | undefined) => Object.fromEntries((c?.agents ?? []).map((a) => [a.name, a]));
  const profileChanged = new Set(profiles.changed);
  const agents = diffRecords(byName(prev), byName(next), (a, b) => json(a) !== json(b) || profileChanged.has(b.profile));
  const keys = diffRecords(prev?.cohere_keys ?? {}, next?.cohere_keys ?? {}, (a, b) => json(a) !== json(b));
  const otherChanged: string[] = [];
  if (json(prev?.prices_usd_per_million) !== json(next?.prices_usd_per_million)) otherChanged.push("prices_usd_per_million");
  if (prev?.default_profile !== next?.default_profile) otherChanged.push("default_profile");
  if (json(prev?.oauth) !== json(next?.oauth)) otherChanged.push("oauth");
  const before = byName(prev);
  const credential = (a: { token_sha256?: string; token_env?: string }) => json([a.token_sha256 ?? null, a.token_env ?? null]);
  const rotated = agents.changed.filter((n) => credential(before[n]!) !== credential(byName(next)[n]!));
  return {
    agentsAdded: agents.added,
    agentsRemoved: agents.removed,
    agentsChanged: agents.changed,
    agentsRevoked: [...agents.removed, ...rotated],
    oauthRevoked: oauthIdentityChanged(prev?.oauth, next?.oauth),
    profilesAdded: profiles.added,
    profilesRemoved: profiles.removed,
    profilesChanged: profiles.changed,
    keysAdded: keys.added,
    keysRemoved: keys.removed,
    keysChanged: keys.changed,
    otherChanged,
  };
}

/** "configuration reloaded: agents added a, b; removed c; profiles changed p" */
export function diffText(d: ReloadDiff): string {
  const parts: string[] = [];
  const group = (what: string, added: string[], removed: string[], changed: string[]) => {
    const bits: string[] = [];
    if (added.length) bits.push(`added ${added.join(", ")}`);
    if (removed.length) bits.push(`removed ${removed.join(", ")}`);
    if (changed.length) bits.push(`changed ${changed.join(", ")}`);
    if (bits.length) parts.push(`${what} ${bits.join(", ")}`);
  };
  group("agents", d.agentsAdded, d.agentsRemoved, d.agentsChanged);
  group("profiles", d.profilesAdded, d.profilesRemoved, d.profilesChanged);
  group("cohere keys", d.keysAdded, d.keysRemoved, d.keysChanged);
  if (d.otherChanged.length) parts.push(`changed ${d.otherChanged.join(", ")}`);
  // Removal is revocation (issue 20, finding 11): said in the reload's line.
  if (d.agentsRevoked.length) parts.push(`revoked ${d.agentsRevoked.join(", ")}: their sessions, streams and running calls ended`);
  if (d.oauthRevoked) parts.push("revoked the OAuth tokens of the previous issuer, resource or audience: their sessions, streams and running calls ended");
  return `configuration reloaded: ${parts.length ? parts.join("; ") : "no changes"}`;
}

/** Read the config file again and swap it in, or keep the old one. Never rejects. */
export async function reloadConfig(app: App): Promise<ReloadResult> {
  const path = app.options.configPath;
  const time = new Date().toISOString();
  if (!path) {
    const text = "configuration reload skipped: the server was started without --config";
    app.logger.warn(text);
    return { ok: false, error: "no --config", text };
  }
  try {
    const config = loadConfigFile(path);
    await app.live.prepare(config);
    const swap = app.live.replace(config);
    const diff = diffConfigs(swap.prev.config, config);
    const text = diffText(diff);
    if (app.options.mode !== "http" && !sameTools(swap.prev.visible, swap.next.visible)) {
      app.logger.warn("the reloaded profile changes this stdio server's tools; the tool list a client has already read stays until it restarts");
    }
    app.logger.info(text, { generation: swap.next.id, file: path });
    app.audit?.note?.({ time, event: "config_reload", outcome: "ok", text });
    return { ok: true, generation: swap.next.id, diff, text };
  } catch (err) {
    const error = (err as Error)?.message ?? String(err);
    const text = `configuration reload rejected, the previous configuration stays in force: ${error}`;
    app.logger.error(text, { file: path, generation: app.live.current.id });
    app.audit?.note?.({ time, event: "config_reload", outcome: "rejected", text });
    return { ok: false, error, text };
  }
}

/** SIGHUP reloads (instead of ending the process, Node's default). */
export function installReload(app: App, onReload?: (r: ReloadResult) => void): () => void {
  // One reload at a time: a second SIGHUP during one waits for it, then reads the file again.
  let running: Promise<void> = Promise.resolve();
  const handler = () => {
    running = running.then(async () => {
      const r = await reloadConfig(app);
      onReload?.(r);
    });
  };
  process.on("SIGHUP", handler);
  return () => process.off("SIGHUP", handler);
}

type OAuthSection = NonNullable<ConfigFile["oauth"]>;

/** Do tokens accepted under `prev` stop being accepted under `next` (off, or another issuer, resource or audience)? */
export function oauthIdentityChanged(prev: OAuthSection | undefined, next: OAuthSection | undefined): boolean {
  if (!prev) return false;
  if (!next) return true;
  return prev.issuer !== next.issuer || prev.resource !== next.resource || JSON.stringify(prev.audience) !== JSON.stringify(next.audience);
}
