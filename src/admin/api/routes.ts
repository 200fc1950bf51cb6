/**
 * The admin API, /admin/api/v1/… (JSON). Every route needs a signed-in admin (cookie + CSRF, or
 * an admin token as a bearer) except login; every state change needs the admin role (a viewer
 * gets 403 and an audit line saying who tried what). See docs/admin-api.md.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../../runtime/app.js";
import { policyTools, profileSpec } from "../../runtime/app.js";
import { resolveVisible } from "../../policy/allowlist.js";
import { configHash } from "../../fleet/hash.js";
import type { Admin } from "../signin/auth.js";
import { applyChanges, EditError, parseConfig } from "../grid/edit.js";
import { gridGroups, gridRows, profileTools } from "../grid/grid.js";
import { HttpError, json, query, readJson } from "../http.js";
import * as s from "./schemas.js";
import { auditAdmin, readAt, save, editable, type AdminContext } from "../grid/apply.js";
import { adjustBudget, hashToken, listAgents, newToken } from "./agents.js";
import { queryActivity, type ActivityFilter, type ActivityItem } from "../activity/activity.js";
import { streamActivity } from "../activity/stream.js";
import { usage } from "../activity/usage.js";
import { exportPolicy } from "./export.js";
import { hasNoToken, NO_TOKEN_LABEL } from "../../policy/diff.js";

export interface Caller {
  admin: Admin;
  /** Cookie sessions only: the CSRF token (bearer callers have none). */
  csrf?: string;
}

type Handler = (ctx: AdminContext, req: IncomingMessage, res: ServerResponse, who: Caller, params: string[], url: URL) => Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  /** Changes something: admin role only. */
  change: boolean;
  handler: Handler;
}

const routes: Route[] = [];
const route = (method: string, path: string, change: boolean, handler: Handler) =>
  routes.push({ method, pattern: new RegExp(`^${path.replace(/:[a-z]+/g, "([^/]+)")}$`), change, handler });

export function findRoute(method: string, path: string): { route: Route; params: string[] } | "method" | undefined {
  let other = false;
  for (const r of routes) {
    const m = r.pattern.exec(path);
    if (!m) continue;
    if (r.method === method || (method === "HEAD" && r.method === "GET")) {
      try {
        return { route: r, params: m.slice(1).map((p) => decodeURIComponent(p)) };
      } catch {
        throw new HttpError(400, "the path is not valid percent-encoding");
      }
    }
    other = true;
  }
  return other ? "method" : undefined;
}

const who = (c: Caller) => `${c.admin.name} (${c.admin.role})`;

// ---------------------------------------------------------------------------------------------
// Session

route("GET", "session", false, async (_ctx, _req, res, c) => json(res, 200, { admin: { name: c.admin.name, role: c.admin.role }, csrf: c.csrf ?? null }));

// ---------------------------------------------------------------------------------------------
// Grid

async function gridView(ctx: AdminContext) {
  const { app, source } = ctx;
  const doc = await source.read();
  const gen = app.live.current;
  const applied = gen.hash === configHash(doc.config);
  const tools = (p: string): ReadonlySet<string> => {
    if (applied) return profileTools(gen, p);
    const prof = doc.config.profiles[p];
    return prof ? resolveVisible(policyTools, profileSpec(prof)) : new Set();
  };
  return {
    version: doc.version,
    editable: !source.readonlyReason,
    ...(source.readonlyReason ? { readonly_reason: source.readonlyReason } : {}),
    where: source.where,
    groups: gridGroups(app),
    rows: gridRows(app, { ...gen, config: doc.config }, tools),
  };
}

route("GET", "grid", false, async (ctx, _req, res) => json(res, 200, await gridView(ctx)));

function edit(ctx: AdminContext, raw: Record<string, unknown>, changes: s.GridChangeT[], confirmRequired: boolean) {
  try {
    return applyChanges(ctx.app, raw, changes, { confirmRequired });
  } catch (err) {
    if (err instanceof EditError) throw new HttpError(err.status, err.message);
    throw new HttpError(400, (err as Error).message);
  }
}

route("POST", "grid/preview", false, async (ctx, req, res) => {
  const body = await readJson(req, s.previewBody);
  const doc = await ctx.source.read();
  const r = edit(ctx, doc.raw, body.changes, false);
  json(res, 200, { sentences: r.sentences, gains: r.gains, loses: r.loses, needs_confirmation: r.needs_confirmation });
});

route("PUT", "grid", true, async (ctx, req, res, c) => {
  editable(ctx);
  const body = await readJson(req, s.gridPutBody);
  const doc = await readAt(ctx, body.version);
  const r = edit(ctx, doc.raw, body.changes, true);
  const gains = summarise(r.gains, "gains");
  const loses = summarise(r.loses, "loses");
  const text = `${who(c)} ${r.actions.join("; ")}${gains ? `; ${gains}` : ""}${loses ? `; ${loses}` : ""}`;
  const version = await save(ctx, r.raw, doc, { admin: c.admin, action: "PUT grid", text });
  auditAdmin(ctx.app, c.admin, "admin_change", "PUT grid", text);
  json(res, 200, { version, sentences: r.sentences });
});

function summarise(list: Array<{ agent: string; tool: string }>, verb: string): string {
  const by = new Map<string, string[]>();
  for (const x of list) by.set(x.agent, [...(by.get(x.agent) ?? []), x.tool]);
  return [...by].map(([a, tools]) => `${a} ${verb} ${tools.join(", ")}`).join("; ");
}

// ---------------------------------------------------------------------------------------------
// Agents

route("GET", "agents", false, async (ctx, _req, res) => {
  const doc = await ctx.source.read();
  json(res, 200, await listAgents(ctx.app, doc.raw, doc.config));
});

type RawAgent = Record<string, unknown>;
function rawAgent(raw: Record<string, unknown>, name: string): RawAgent {
  const a = ((raw.agents as RawAgent[] | undefined) ?? []).find((x) => x.name === name);
  if (!a) throw new HttpError(404, `no agent "${name.slice(0, 100)}"`);
  return a;
}

async function change(ctx: AdminContext, c: Caller, action: string, mutate: (raw: Record<string, unknown>) => string): Promise<string> {
  editable(ctx);
  const doc = await ctx.source.read();
  const raw = JSON.parse(JSON.stringify(doc.raw)) as Record<string, unknown>;
  const text = mutate(raw);
  try {
    parseConfig(raw);
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
  await save(ctx, raw, doc, { admin: c.admin, action, text: `${who(c)} ${text}` });
  auditAdmin(ctx.app, c.admin, "admin_change", action, `${who(c)} ${text}`);
  return text;
}

route("POST", "agents", true, async (ctx, req, res, c) => {
  const body = await readJson(req, s.createAgentBody);
  const token = newToken();
  await change(ctx, c, "POST agents", (raw) => {
    const profiles = (raw.profiles as Record<string, unknown> | undefined) ?? {};
    if (!Object.hasOwn(profiles, body.profile)) {
      throw new HttpError(400, `no profile "${body.profile}"; profiles: ${Object.keys(profiles).join(", ") || "(none)"}`);
    }
    const agents = ((raw.agents as RawAgent[] | undefined) ?? []);
    if (agents.some((a) => a.name === body.name)) throw new HttpError(409, `an agent named "${body.name}" already exists`);
    agents.push({ name: body.name, profile: body.profile, token_sha256: hashToken(token) });
    raw.agents = agents;
    return `created the agent ${body.name} with the profile ${body.profile}`;
  });
  ctx.app.addSecret(token);
  json(res, 201, { name: body.name, token, note: "shown once: only its SHA-256 is stored" });
});

route("POST", "agents/:name/tokens", true, async (ctx, req, res, c, [name]) => {
  const body = await readJson(req, s.tokenBody);
  const token = newToken();
  await change(ctx, c, "POST agents/:name/tokens", (raw) => {
    const a = rawAgent(raw, name!);
    // Overlapping tokens (`tokens`): the new one is added beside the agent's token(s), so a
    // rotation can overlap — hand the new one out, then revoke the old one.
    // an agent whose last token was revoked holds only the stand-in: the new token replaces it
    const list = Array.isArray(a.tokens) && !hasNoToken(a as Parameters<typeof hasNoToken>[0]) ? (a.tokens as RawAgent[]) : [];
    const taken = new Set([...list.map((t) => t.label), ...(a.token_sha256 || a.token_env || a.token_sha256_env ? [SINGLE] : [])]);
    if (taken.has(body.label)) throw new HttpError(409, `${name} already has a token labelled "${body.label}"`);
    list.push({ sha256: hashToken(token), label: body.label });
    a.tokens = list;
    return `added the token "${body.label}" to ${name}`;
  });
  ctx.app.addSecret(token);
  json(res, 201, { token, label: body.label, note: "shown once: only its SHA-256 is stored" });
});

/** The label the console gives an agent's single token_sha256 / token_env / token_sha256_env. */
const SINGLE = "token";

route("DELETE", "agents/:name/tokens/:label", true, async (ctx, _req, res, c, [name, label]) => {
  // The reload that applies the change may end the agent's sessions itself (a credential gone
  // revokes them): count what was open before, so the answer says how many ended either way.
  const before = new Set((ctx.app.openSessions?.() ?? []).filter((sess) => sess.agent === name).map((sess) => sess.id));
  await change(ctx, c, "DELETE agents/:name/tokens/:label", (raw) => {
    const a = rawAgent(raw, name!);
    const list = Array.isArray(a.tokens) ? (a.tokens as RawAgent[]) : [];
    const single = Boolean(a.token_sha256 || a.token_env || a.token_sha256_env);
    const labels = [...(single ? [SINGLE] : []), ...list.map((t) => String(t.label))];
    if (!labels.includes(label!)) throw new HttpError(404, `${name} has no token labelled "${label!.slice(0, 64)}"; it has: ${labels.join(", ")}`);
    if (single && label === SINGLE) {
      delete a.token_sha256;
      delete a.token_env;
      delete a.token_sha256_env;
    } else a.tokens = list.filter((t) => t.label !== label);
    if (!(a.tokens as RawAgent[] | undefined)?.length) delete a.tokens;
    if (!a.token_sha256 && !a.token_env && !a.token_sha256_env && !a.tokens) {
      // the last one: replaced by a hash nobody holds (the agent stays, with no usable token)
      a.tokens = [{ sha256: hashToken(newToken()), label: NO_TOKEN_LABEL }];
      return `revoked ${name}'s token '${label}'; ${name} has no token left (add one to let it in again)`;
    }
    return `revoked ${name}'s token "${label}"`;
  });
  ctx.app.endSessions?.((sess) => sess.agent === name, "its token was revoked in the console");
  const still = new Set((ctx.app.openSessions?.() ?? []).map((sess) => sess.id));
  json(res, 200, { revoked: label, sessions_ended: [...before].filter((id) => !still.has(id)).length });
});

route("DELETE", "agents/:name/sessions/:id", true, async (ctx, _req, res, c, [name, id]) => {
  const why = "ended in the console";
  const local = () => {
    const open = ctx.app.openSessions?.() ?? [];
    if (!open.some((x) => x.id === id && x.agent === name)) return undefined;
    return { ended: ctx.app.endSessions?.((sess) => sess.id === id && sess.agent === name, why) ?? 0, replica: ctx.app.options.replicaId };
  };
  // With --store the replica holding the session ends it (announced through the store).
  const r = ctx.app.sessionFleet ? await ctx.app.sessionFleet.end(id!, name!, why) : local();
  if (!r) throw new HttpError(404, `no open session "${id!.slice(0, 80)}" of ${name!.slice(0, 64)} on any replica`);
  const where = r.replica === ctx.app.options.replicaId ? "" : ` (held by replica ${r.replica})`;
  const pending = r.ended ? "" : "; the replica holding it has not confirmed yet";
  auditAdmin(ctx.app, c.admin, "admin_change", "DELETE agents/:name/sessions/:id", `${who(c)} ended ${name}'s session ${id}${where}${pending}`);
  json(res, 200, { ended: r.ended, replica: r.replica });
});

route("POST", "agents/:name/budget", true, async (ctx, req, res, c, [name]) => {
  const body = await readJson(req, s.budgetBody);
  const doc = await ctx.source.read();
  let text: string;
  try {
    text = await adjustBudget(ctx.app, doc.config, name!, body.action, body.amount, body.unit);
  } catch (err) {
    throw new HttpError(/no agent/.test((err as Error).message) ? 404 : 400, (err as Error).message);
  }
  auditAdmin(ctx.app, c.admin, "admin_change", "POST agents/:name/budget", `${who(c)} ${text}`);
  const agents = await listAgents(ctx.app, doc.raw, doc.config);
  json(res, 200, { text, budget: agents.find((a) => a.name === name)?.budget ?? [] });
});

// ---------------------------------------------------------------------------------------------
// Activity and usage

function filterOf(q: ReturnType<typeof s.activityQuery.parse>): ActivityFilter {
  const time = (v: string | undefined, what: string) => {
    if (v === undefined) return undefined;
    const t = Date.parse(v);
    if (!Number.isFinite(t)) throw new HttpError(400, `${what} must be an ISO time (e.g. 2026-12-07T10:00:00Z)`);
    return t;
  };
  return { agent: q.agent, tool: q.tool, decision: q.decision, outcome: q.outcome, since: time(q.since, "since"), until: time(q.until, "until") };
}

const publicItem = (i: ActivityItem) => ({ id: i.id, time: i.time, replica: i.replica, sentence: i.sentence, event: i.event });

route("GET", "activity", false, async (ctx, _req, res, _c, _p, url) => {
  const q = query(url, s.activityQuery);
  const limit = Math.min(1000, Math.max(1, Number(q.limit ?? 100)));
  const items = await queryActivity(ctx.app, filterOf(q), limit, q.before);
  json(res, 200, { events: items.map(publicItem) });
});

route("GET", "activity/stream", false, async (ctx, req, res, _c, _p, url) => {
  const q = query(url, s.activityQuery);
  await streamActivity(ctx.app, req, res, filterOf(q));
});

const CSV_COLUMNS = ["time", "replica", "agent", "tool", "access", "decision", "reason", "outcome", "sentence"] as const;
function csvCell(v: unknown): string {
  let t = v === undefined || v === null ? "" : String(v);
  if (/^[=+\-@\t\r]/.test(t)) t = `'${t}`; // a spreadsheet must not run it as a formula
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

route("GET", "activity/export", false, async (ctx, _req, res, _c, _p, url) => {
  const q = query(url, s.activityQuery);
  const limit = Math.min(ctx.app.options.activityMax, Math.max(1, Number(q.limit ?? ctx.app.options.activityMax)));
  const items = await queryActivity(ctx.app, filterOf(q), limit, q.before);
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
  if ((q.format ?? "jsonl") === "csv") {
    const lines = [CSV_COLUMNS.join(",")];
    for (const i of items) {
      const e = i.event;
      lines.push([i.time, i.replica, e.agent ?? e.admin, e.tool ?? e.event, e.access, e.decision, e.reason, e.outcome, i.sentence].map(csvCell).join(","));
    }
    res.writeHead(200, {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="activity-${stamp}.csv"`,
      "Cache-Control": "no-store",
    });
    return void res.end(lines.join("\r\n") + "\r\n");
  }
  res.writeHead(200, {
    "Content-Type": "application/x-ndjson; charset=utf-8",
    "Content-Disposition": `attachment; filename="activity-${stamp}.jsonl"`,
    "Cache-Control": "no-store",
  });
  res.end(items.map((i) => JSON.stringify({ replica: i.replica, ...i.event })).join("\n") + (items.length ? "\n" : ""));
});

route("GET", "usage", false, async (ctx, _req, res, _c, _p, url) => {
  const q = query(url, s.usageQuery);
  const month = q.month ?? new Date().toISOString().slice(0, 7);
  const doc = await ctx.source.read();
  json(res, 200, await usage(ctx.app, doc.raw, doc.config, month));
});

// ---------------------------------------------------------------------------------------------
// Policy

route("GET", "policy/export", false, async (ctx, _req, res) => {
  const doc = await ctx.source.read();
  json(res, 200, exportPolicy(doc.raw, doc.version, ctx.source.where));
});

export { routes, who, auditAdmin };
export type { App };
