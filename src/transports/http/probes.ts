/**
 * /healthz (process up) and /readyz (config loaded, the audit file can be written, Cohere's host
 * resolves, the shared counter store answers when there is one; 503 while shutting down). They answer GET without auth and
 * without the Host check (orchestrators probe by pod IP), and say nothing about agents or tools.
 * Which host Cohere is reached at, what it resolves to and why not, only a loopback caller or one
 * with a valid token is told (`detailed`).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { lookup } from "node:dns/promises";
import net from "node:net";
import type { App } from "../../runtime/app.js";
import { sendJson } from "./io.js";

export const PROBE_PATHS = new Set(["/healthz", "/readyz"]);

async function readiness(app: App, draining: boolean): Promise<{ ok: boolean; checks: Record<string, string> }> {
  // The configuration's hash and whether the other replicas agree (src/fleet/): detail only.
  const checks: Record<string, string> = { config: app.config ? "loaded" : "none (flags only)", ...(app.fleet?.detail() ?? { config_hash: app.live.current.hash }) };
  if (draining) return { ok: false, checks: { ...checks, server: "shutting down" } };
  // An audit file that cannot be written (a full disk): not ready while calls are refused for it.
  const audit = app.audit?.health?.();
  if (audit) {
    if (audit.ok) checks.audit = "writable";
    else {
      const waiting = `${audit.pending} line${audit.pending === 1 ? "" : "s"} waiting${audit.dropped ? `, ${audit.dropped} dropped` : ""}`;
      checks.audit = `cannot be written since ${audit.since}: ${audit.error} (${waiting})`;
      if (app.options.auditFailure === "deny") {
        checks.audit += "; calls are refused until it can (--audit-failure deny)";
        return { ok: false, checks };
      }
      checks.audit += "; calls still run (--audit-failure allow)";
    }
  }
  // A profile an agent (or an OAuth rule) uses whose calls would have no Cohere key: not ready.
  const keyless = profilesWithoutKey(app);
  if (keyless.length) {
    return {
      ok: false,
      checks: {
        ...checks,
        keys:
          `no Cohere key for ${keyless.map((p) => (p === undefined ? "agents without a profile" : `profile "${p}"`)).join(", ")}: ` +
          "set CO_API_KEY (or COHERE_API_KEY) for the server, or give the profile a cohere_key",
      },
    };
  }
  // A shared counter store (--store) that cannot be reached: not ready until it is back.
  if (app.store.kind !== "memory") {
    try {
      await app.store.ping();
      checks.store = `${app.store.kind} reachable`;
    } catch (err) {
      return { ok: false, checks: { ...checks, store: (err as Error).message } };
    }
  }
  const host = new URL(app.client.options.baseUrl).hostname.replace(/^\[|\]$/g, "");
  if (net.isIP(host)) return { ok: true, checks: { ...checks, cohere: `${host} (address)` } };
  let timer: NodeJS.Timeout | undefined;
  try {
    const addr = await Promise.race([
      lookup(host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("DNS lookup timed out after 2 s")), 2_000);
      }),
    ]);
    return { ok: true, checks: { ...checks, cohere: `${host} resolves to ${addr.address}` } };
  } catch (err) {
    return { ok: false, checks: { ...checks, cohere: `${host} does not resolve: ${(err as Error).message}` } };
  } finally {
    clearTimeout(timer);
  }
}

/** The profiles in use (by agents and OAuth rules) whose calls would be sent without a Cohere key. */
export function profilesWithoutKey(app: App): Array<string | undefined> {
  if (app.options.apiKey) return [];
  const gen = app.live.current;
  const used = new Set<string | undefined>(gen.agentProfiles().map((a) => a.profile));
  const oauth = app.config?.oauth;
  for (const r of oauth?.rules ?? []) used.add(r.profile);
  if (oauth?.default_profile !== undefined) used.add(oauth.default_profile);
  return [...used].filter((p) => !gen.keys.forProfile(p).declared);
}

/** The checks without the upstream's name or addresses: "resolves", "does not resolve". */
function undetailed(checks: Record<string, string>, ok: boolean): Record<string, string> {
  const out = { ...checks };
  if (out.keys !== undefined) out.keys = "no Cohere key for some profiles";
  delete out.config_hash;
  delete out.replicas;
  delete out.config_agreement;
  if (out.cohere !== undefined) out.cohere = ok ? "resolves" : "does not resolve";
  return out;
}

export async function answerProbe(
  app: App,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  draining: boolean,
  detailed = true,
): Promise<void> {
  const method = req.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" }, { Allow: "GET, HEAD" });
  if (path === "/healthz") return sendJson(res, 200, { status: "ok" });
  const r = await readiness(app, draining);
  const checks = detailed ? r.checks : undetailed(r.checks, r.ok);
  return sendJson(res, r.ok ? 200 : 503, { status: r.ok ? "ready" : "not ready", checks });
}
