/**
 * The HTTP side of OAuth: serve the protected resource metadata (RFC 9728), refuse a call that
 * needs a scope the token lacks, and hand the request's identity to the SDK transport.
 *
 * Scopes inside JSON-RPC: a tools/call naming a tool that the agent's profile allows but whose
 * access class the token's scopes do not grant is refused for the whole HTTP request, before
 * anything runs: 403 with `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`.
 * That is what the MCP authorization spec and the SDK client's step-up flow expect (the client
 * gets a token with the scopes named and sends the request again), where a tool error inside a
 * 200 would leave the client nothing to act on. `scope` lists the token's class scopes plus the
 * needed one, so a client that replaces its scopes keeps what it had. A tool outside the profile
 * is a tool error as for every agent (no token would help). tools/list shows only what the
 * token's scopes grant.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AuthInfo } from "@modelcontextprotocol/server";
import type { App } from "../../../runtime/app.js";
import type { Access } from "../../../catalog/types.js";
import type { Identity } from "../../../identity/index.js";
import type { OAuthResource } from "../../../oauth/index.js";
import { ACCESS_CLASSES } from "../../../oauth/mapping.js";
import { remoteOf, rpcError, sendJson } from "../io.js";
import type { HttpPlan } from "../plan.js";
import { accessOf } from "./scopes.js";

/** GET the protected resource metadata: public, cacheable, readable from any origin. */
export function answerResourceMetadata(oauth: OAuthResource, req: IncomingMessage, res: ServerResponse): void {
  const cors = { "Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff" };
  if (req.method === "OPTIONS") {
    res.writeHead(204, { ...cors, "Access-Control-Allow-Methods": "GET, OPTIONS", "Access-Control-Max-Age": "600" });
    return void res.end();
  }
  if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" }, { ...cors, Allow: "GET, OPTIONS" });
  sendJson(res, 200, oauth.metadata, { ...cors, "Cache-Control": "public, max-age=300" });
}

/** The tools/call names in a body that the profile allows but the token's scopes do not. */
export function scopeShortfall(plan: HttpPlan, who: Identity, body: unknown): Array<{ tool: string; access: Access }> {
  if (who.kind !== "oauth" || !who.profile) return [];
  const ceiling = plan.profileCeiling(who.profile).visible;
  const out: Array<{ tool: string; access: Access }> = [];
  for (const m of Array.isArray(body) ? body : [body]) {
    if (!m || typeof m !== "object") continue;
    const msg = m as { method?: unknown; params?: { name?: unknown } };
    if (msg.method !== "tools/call" || typeof msg.params?.name !== "string") continue;
    const name = msg.params.name;
    const access = accessOf(name);
    if (access && ceiling.has(name) && !who.classes.has(access)) out.push({ tool: name, access });
  }
  return out;
}

/**
 * 403 insufficient_scope for the whole request. ONE audit line whatever the number of calls the
 * request held (issue 20, finding 2: a batch of 40,000 calls wrote 40,000 lines), and only while
 * the agent is within its refusal throttle (--max-refusals-per-minute; past it, one summary line
 * per window).
 */
export async function refuseInsufficientScope(
  app: App,
  oauth: OAuthResource,
  req: IncomingMessage,
  res: ServerResponse,
  who: Identity,
  short: Array<{ tool: string; access: Access }>,
  started: number,
): Promise<void> {
  const needed = new Set<Access>([...who.classes, ...short.map((s) => s.access)]);
  const scope = ACCESS_CLASSES.filter((c) => needed.has(c)).map((c) => oauth.scopes[c]);
  const first = short[0]!;
  const message =
    `Tool ${first.tool} (${first.access}) needs the scope ${oauth.scopes[first.access]}, which this access token does not carry; ` +
    "nothing was sent to Cohere. Get a token with that scope (the WWW-Authenticate header names the scopes to ask for).";
  const verdict = await app.refusals.refused({ agent: who.agent, profile: who.profile, transport: "http" }, "insufficient_scope");
  if (verdict.write) {
    const lacking = [...new Set(short.map((s) => oauth.scopes[s.access]))].join(", ");
    app.audit?.record({
      time: new Date().toISOString(),
      agent: who.agent,
      ...who.claims,
      transport: "http",
      tool: first.tool,
      access: first.access,
      decision: "denied",
      reason: "insufficient_scope",
      detail:
        short.length === 1
          ? `token lacks ${lacking}`
          : `token lacks ${lacking}; the request held ${short.length} such calls (this line stands for all of them)`,
      latencyMs: performance.now() - started,
      remote: remoteOf(req),
    });
  }
  sendJson(res, 403, rpcError(-32001, `Forbidden: ${message}`), {
    "WWW-Authenticate": oauth.challenge({ error: "insufficient_scope", description: `${first.tool} needs ${oauth.scopes[first.access]}`, scope }),
    "X-MCP-Agent": who.agent,
  });
}

/**
 * What the SDK transport hands its handlers as `extra.authInfo`. The token itself is left out
 * on purpose: nothing behind this server may pass it on (the MCP spec forbids token passthrough).
 */
export function authInfoOf(oauth: OAuthResource, who: Identity): AuthInfo {
  return {
    token: "",
    clientId: who.claims?.client_id ?? who.agent,
    scopes: [...(who.scopes ?? [])],
    resource: new URL(oauth.config.resource),
    extra: { identity: who },
  };
}

export function identityOf(authInfo: AuthInfo | undefined): Identity | undefined {
  return authInfo?.extra?.identity as Identity | undefined;
}
