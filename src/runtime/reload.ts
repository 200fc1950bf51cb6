/**
 * SIGHUP: read the --config file again and swap the whole configuration (src/runtime/live.ts) for the next
 * request. A file that does not parse, fails validation, or yields an unusable configuration
 * (unknown tool, missing key or token variable, ...) is rejected whole: the old configuration
 * stays. Either way one audit line and one log line say what happened.
 */
import type { App } from "./app.js";
import { loadConfigFile, type ConfigFile } from "../config/file.js";
import { sameTools } from "../policy/allowlist.js";
import { configDiff, type ConfigDiff } from "../policy/diff.js";

export type ReloadResult = { ok: true; generation: number; diff: ConfigDiff; text: string } | { ok: false; error: string; text: string };

/** "configuration reloaded: b's token was rotated; budget of q from 2 to 1 calls a month" */
export function reloadText(d: ConfigDiff, revoked?: Revocation): string {
  const parts = [d.summary];
  // Removal is revocation (issue 20, finding 11): said in the reload's line.
  if (revoked?.agents.length) parts.push(`revoked ${revoked.agents.join(", ")}: their sessions, streams and running calls ended`);
  if (revoked?.oauth) parts.push("revoked the OAuth tokens of the previous issuer, resource or audience: their sessions, streams and running calls ended");
  return `configuration reloaded: ${parts.join("; ")}`;
}

/** Whose credentials a reload takes away: static agents removed or given another token; every OAuth identity when OAuth is turned off or moved. */
export interface Revocation {
  agents: string[];
  oauth: boolean;
}

export function revokedBy(prev: ConfigFile | undefined, next: ConfigFile | undefined): Revocation {
  const after = new Map((next?.agents ?? []).map((a) => [a.name, a]));
  // Revoked: an agent removed, or one of its credentials gone or given another expiry. A token
  // added beside the others (an overlapping rotation) revokes nothing.
  const agents = (prev?.agents ?? [])
    .filter((a) => {
      const now = after.get(a.name);
      if (!now) return true;
      const kept = credentialsOf(now);
      return [...credentialsOf(a)].some((c) => !kept.has(c));
    })
    .map((a) => a.name);
  return { agents, oauth: oauthIdentityChanged(prev?.oauth, next?.oauth) };
}

type AgentEntry = NonNullable<ConfigFile["agents"]>[number];

/** Each credential an agent entry accepts, as "sha256:HASH|not_after", "env:VAR|not_after" or "sha256_env:VAR|not_after". */
function credentialsOf(a: AgentEntry): Set<string> {
  const out = new Set<string>();
  if (a.token_sha256) out.add(`sha256:${a.token_sha256.toLowerCase()}|`);
  if (a.token_env) out.add(`env:${a.token_env}|`);
  if (a.token_sha256_env) out.add(`sha256_env:${a.token_sha256_env}|`);
  for (const t of a.tokens ?? []) {
    if ("sha256" in t && t.sha256) out.add(`sha256:${t.sha256.toLowerCase()}|${t.not_after ?? ""}`);
    if ("env" in t && t.env) out.add(`env:${t.env}|${t.not_after ?? ""}`);
    if (t.sha256_env) out.add(`sha256_env:${t.sha256_env}|${t.not_after ?? ""}`);
  }
  return out;
}

type OAuthSection = NonNullable<ConfigFile["oauth"]>;

/** Do tokens accepted under `prev` stop being accepted under `next` (off, or another issuer, resource or audience)? */
export function oauthIdentityChanged(prev: OAuthSection | undefined, next: OAuthSection | undefined): boolean {
  if (!prev) return false;
  if (!next) return true;
  return prev.issuer !== next.issuer || prev.resource !== next.resource || JSON.stringify(prev.audience) !== JSON.stringify(next.audience);
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
    // --policy-store: the shared policy document, else the file.
    const config = app.loadPolicy ? await app.loadPolicy() : loadConfigFile(path);
    await app.live.prepare(config);
    const swap = app.live.replace(config);
    // The same diff as `cohere-mcp diff OLD NEW` (src/policy/diff.ts), under this server's --exclude-tools.
    const diff = configDiff(swap.prev.config, config, { excludeTools: app.options.excludeTools, profile: app.options.profile });
    const text = reloadText(diff, revokedBy(swap.prev.config, config));
    if (app.options.mode !== "http" && !sameTools(swap.prev.visible, swap.next.visible)) {
      app.logger.warn("the reloaded profile changes this stdio server's tools; the tool list a client has already read stays until it restarts");
    }
    app.logger.info(text, { generation: swap.next.id, file: path, config: swap.next.hash });
    app.audit?.note?.({ time, event: "config_reload", outcome: "ok", text, diff: diff.changes });
    return { ok: true, generation: swap.next.id, diff, text };
  } catch (err) {
    const error = (err as Error)?.message ?? String(err);
    const text = `configuration reload rejected, the previous configuration stays in force: ${error}`;
    app.logger.error(text, { file: path, generation: app.live.current.id });
    app.audit?.note?.({ time, event: "config_reload", outcome: "rejected", text });
    return { ok: false, error, text };
  }
}

const queues = new WeakMap<App, Promise<unknown>>();

/** Reload, one at a time per app: a reload asked for during one waits for it, then reads the source again. */
export function queueReload(app: App): Promise<ReloadResult> {
  const run = (queues.get(app) ?? Promise.resolve()).then(() => reloadConfig(app));
  queues.set(app, run.catch(() => undefined));
  return run;
}

/**
 * SIGHUP reopens the audit file and reloads (instead of ending the process, Node's default);
 * SIGUSR1 only reopens the audit file (logrotate's postrotate, without copytruncate). The reopen
 * is synchronous, between two audit lines: each line lands in exactly one file.
 */
export function installReload(app: App, onReload?: (r: ReloadResult) => void): () => void {
  const handler = () => {
    // the audit file first: the reload's own line goes to the new file
    app.audit?.reopen?.();
    void queueReload(app).then((r) => onReload?.(r));
  };
  const reopen = () => void app.audit?.reopen?.();
  process.on("SIGHUP", handler);
  process.on("SIGUSR1", reopen);
  return () => {
    process.off("SIGHUP", handler);
    process.off("SIGUSR1", reopen);
  };
}
