/**
 * A stand-in for the admin API, written from its contract (docs/console.md, issue 23), for the
 * tests of the PAGES alone: what the scripts render, escape, send and refuse, with no Cohere
 * emulator, Redis or replicas in the way. It serves the real pages through the real serveUi().
 * It is NOT the admin server: the end-to-end behaviours (replicas, MCP clients, audit) are proven
 * against the real one in e2e.test.ts. Hostile strings are seeded on purpose (an agent named like
 * markup, an audit sentence with a script tag) so the pages' escaping is tested.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { CATALOG } from "../../src/catalog/index.js";
import { GROUPS } from "../../src/catalog/types.js";
import { serveUi } from "../../src/admin/ui/index.js";

export const LABELS: Record<string, string> = {
  chat: "Generate chat replies",
  embed: "Create embeddings",
  rerank: "Rerank documents",
  classify: "Classify text",
  tokenize: "Tokenize text",
  models: "Look up models",
  account: "Check the account",
  audio: "Transcribe audio",
  datasets: "Manage datasets",
  embed_jobs: "Run embed jobs",
  batches: "Run batches",
  finetuning: "Fine-tune models",
  connectors: "Manage connectors",
  legacy: "Legacy v1 methods",
};

export const HOSTILE_AGENT = `<img src=x onerror="window.__pwned=1">`;
export const HOSTILE_SENTENCE = `agent-x called <script>window.__pwned=2</script> rerank: allowed`;

type Level = "off" | "read" | "full" | "custom";
interface Admin {
  name: string;
  role: "admin" | "viewer";
}
interface Row {
  agent: string;
  kind: "static" | "oauth_rule";
  profile: string;
  tools: Set<string>;
}

const groups = GROUPS.map((id) => ({
  id,
  label: LABELS[id] ?? id,
  tools: CATALOG.filter((t) => t.group === id).map((t) => ({ name: t.name, title: t.title, class: t.access, deprecated: t.deprecated === true })),
}));
const readSet = (g: string) => groups.find((x) => x.id === g)!.tools.filter((t) => t.class === "read" && !t.deprecated).map((t) => t.name);
const fullSet = (g: string) => groups.find((x) => x.id === g)!.tools.filter((t) => !t.deprecated).map((t) => t.name);

function cellOf(row: Row, g: string): Level {
  const mine = groups.find((x) => x.id === g)!.tools.filter((t) => row.tools.has(t.name)).map((t) => t.name).sort();
  if (!mine.length) return "off";
  const same = (a: string[]) => a.length === mine.length && [...a].sort().every((x, i) => x === mine[i]);
  if (same(readSet(g))) return "read";
  if (same(fullSet(g))) return "full";
  return "custom";
}

export interface ContractServer {
  url: string;
  origin: string;
  tokens: { admin: string; admin2: string; viewer: string };
  /** Append an activity event (pushed to open streams). */
  emit(sentence: string, event: Record<string, unknown>): void;
  /** Requests seen, for "refused, nothing changed" checks. */
  log: Array<{ method: string; path: string; status: number }>;
  version(): number;
  close(): Promise<void>;
}

/** `hostile: false` seeds a plain team instead of the markup-shaped names (the README's screenshots). */
export async function startContractServer(opts: { editable?: boolean; hostile?: boolean } = {}): Promise<ContractServer> {
  const hostile = opts.hostile !== false;
  const odd = hostile ? HOSTILE_AGENT : "support-bot";
  const tokens = { admin: "adm-" + randomBytes(8).toString("hex"), admin2: "adm2-" + randomBytes(8).toString("hex"), viewer: "view-" + randomBytes(8).toString("hex") };
  const admins = new Map<string, Admin>([
    [tokens.admin, { name: "team-lead", role: "admin" }],
    [tokens.admin2, { name: "second-lead", role: "admin" }],
    [tokens.viewer, { name: "auditor", role: "viewer" }],
  ]);
  const sessions = new Map<string, { admin: Admin; csrf: string }>();
  const openSessions = [
    { id: "r1.5f0c2a9e-1111-4a4a-9b9b-000000000001", replica: "r1" },
    { id: "r2.7a1d3b5c-2222-4b4b-8c8c-000000000002", replica: "r2" },
  ];
  let version = 1;
  const history: Array<{ version: number; sentences: string[] }> = [];
  const rows: Row[] = [
    { agent: "curator", kind: "static", profile: "curator", tools: new Set([...readSet("chat"), ...readSet("datasets")]) },
    { agent: "search-agent", kind: "static", profile: "search", tools: new Set([...readSet("rerank"), ...readSet("embed"), "get_dataset"]) },
    { agent: odd, kind: "static", profile: hostile ? "search" : "support", tools: new Set(hostile ? readSet("rerank") : [...readSet("chat"), ...readSet("rerank"), ...readSet("tokenize")]) },
    { agent: "sso:platform", kind: "oauth_rule", profile: "reader", tools: new Set(readSet("models")) },
  ];
  const agentTokens = new Map<string, Array<{ label: string; not_after?: string }>>([
    ["curator", [{ label: "primary" }]],
    ["search-agent", [{ label: "primary", not_after: "2027-01-01T00:00:00Z" }, { label: "ci" }]],
    [odd, [{ label: "primary" }]],
  ]);
  const events: Array<{ time: string; replica: string; sentence: string; event: Record<string, unknown> }> = [];
  const streams = new Set<ServerResponse>();
  const log: ContractServer["log"] = [];

  function emit(sentence: string, event: Record<string, unknown>) {
    const e = { time: new Date().toISOString(), replica: "r1", sentence, event: { time: new Date().toISOString(), ...event } };
    events.unshift(e);
    for (const s of streams) s.write(`data: ${JSON.stringify(e)}\n\n`);
  }
  emit("search-agent called rerank (model rerank-v3.5): allowed, ok in 41 ms", { agent: "search-agent", tool: "rerank", decision: "allowed", outcome: "ok" });
  if (hostile) emit(HOSTILE_SENTENCE, { agent: HOSTILE_AGENT, tool: "<b>rerank</b>", decision: "allowed", outcome: "ok" });
  else emit("support-bot called chat (model command-a-03-2025): allowed, ok in 812 ms; 1,204 input and 310 output tokens", { agent: "support-bot", tool: "chat", decision: "allowed", outcome: "ok" });
  emit("curator called delete_dataset: denied (not in its profile)", { agent: "curator", tool: "delete_dataset", decision: "denied", reason: "not_in_profile" });

  function sentencesFor(changes: Array<Record<string, unknown>>): { sentences: string[]; gains: string[]; loses: string[]; needs: string[]; error?: string } {
    const sentences: string[] = [];
    const gains: string[] = [];
    const loses: string[] = [];
    const needs: string[] = [];
    for (const c of changes) {
      const row = rows.find((r) => r.agent === c.agent);
      if (!row) return { sentences, gains, loses, needs, error: `no agent named ${String(c.agent)}` };
      if (typeof c.group === "string") {
        const g = groups.find((x) => x.id === c.group);
        if (!g || !["off", "read", "full"].includes(String(c.level))) return { sentences, gains, loses, needs, error: "bad group or level" };
        const target = new Set(c.level === "off" ? [] : c.level === "read" ? readSet(g.id) : fullSet(g.id));
        const mine = g.tools.filter((t) => row.tools.has(t.name)).map((t) => t.name);
        const add = [...target].filter((t) => !row.tools.has(t));
        const drop = mine.filter((t) => !target.has(t));
        gains.push(...add);
        loses.push(...drop);
        const destructive = add.filter((t) => g.tools.find((x) => x.name === t)?.class === "destructive");
        needs.push(...destructive);
        const lvl = c.level === "full" ? "Full use" : c.level === "read" ? "Read" : "Off";
        sentences.push(
          `${row.agent}'s ${g.label} → ${lvl}` +
            (add.length ? `; gains ${add.join(", ")}` : "") +
            (drop.length ? `; loses ${drop.join(", ")}` : "") +
            (destructive.length ? ` (${destructive.join(", ")} cannot be undone)` : ""),
        );
      } else if (typeof c.tool === "string") {
        sentences.push(`${row.agent} ${c.on ? "gains" : "loses"} ${c.tool}`);
        (c.on ? gains : loses).push(c.tool);
      }
    }
    return { sentences, gains, loses, needs };
  }

  function apply(changes: Array<Record<string, unknown>>) {
    for (const c of changes) {
      const row = rows.find((r) => r.agent === c.agent)!;
      if (typeof c.group === "string") {
        const g = groups.find((x) => x.id === c.group)!;
        for (const t of g.tools) row.tools.delete(t.name);
        for (const t of c.level === "off" ? [] : c.level === "read" ? readSet(g.id) : fullSet(g.id)) row.tools.add(t);
      } else if (typeof c.tool === "string") {
        if (c.on) row.tools.add(c.tool);
        else row.tools.delete(c.tool);
      }
    }
  }

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };

  async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
    let s = "";
    for await (const c of req) s += String(c);
    try {
      return s ? (JSON.parse(s) as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }

  const server: Server = createServer(async (req, res) => {
    const u = new URL(req.url ?? "/", "http://x");
    res.on("finish", () => log.push({ method: req.method ?? "", path: u.pathname, status: res.statusCode }));
    if (!u.pathname.startsWith("/admin/api/")) {
      if (!serveUi(req, res)) json(res, 404, { error: "not found" });
      return;
    }
    const path = u.pathname.slice("/admin/api/v1/".length);
    const cookie = /(?:^|;\s*)cmc_session=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
    const sess = cookie ? sessions.get(cookie) : undefined;
    const method = req.method ?? "GET";
    if (method !== "GET") {
      const origin = req.headers.origin;
      if (origin !== `http://${req.headers.host}`) return json(res, 403, { error: "foreign or missing Origin" });
    }
    if (path === "login" && method === "POST") {
      const b = await readBody(req);
      const admin = admins.get(String(b.token ?? ""));
      if (!admin) return json(res, 401, { error: "that token is not an admin's" });
      const id = randomBytes(16).toString("hex");
      const csrf = randomBytes(16).toString("hex");
      sessions.set(id, { admin, csrf });
      res.setHeader("set-cookie", `cmc_session=${id}; HttpOnly; SameSite=Strict; Path=/`);
      return json(res, 200, { admin, csrf });
    }
    if (!sess) return json(res, 401, { error: "sign in", oidc: { login_url: "/admin/oidc/login", name: "Example SSO" } });
    if (method !== "GET" && req.headers["x-csrf-token"] !== sess.csrf) return json(res, 403, { error: "missing or wrong CSRF token" });
    if (method !== "GET" && path !== "logout" && path !== "grid/preview" && sess.admin.role !== "admin") return json(res, 403, { error: `${sess.admin.name} is a viewer and may not change anything` });
    if (path === "session") return json(res, 200, { admin: sess.admin, csrf: sess.csrf });
    if (path === "logout") {
      sessions.delete(cookie!);
      return json(res, 200, {});
    }
    if (path === "grid" && method === "GET") {
      const editable = opts.editable !== false;
      return json(res, 200, {
        version,
        editable,
        ...(editable ? {} : { readonly_reason: "the configuration is read-only (--admin-readonly); it lives in /etc/cohere-mcp/config.json" }),
        groups,
        rows: rows.map((r) => ({ agent: r.agent, kind: r.kind, profile: r.profile, cells: Object.fromEntries(GROUPS.map((g) => [g, cellOf(r, g)])), tools: [...r.tools] })),
      });
    }
    if (path === "grid/preview" && method === "POST") {
      const b = await readBody(req);
      const p = sentencesFor((b.changes as Array<Record<string, unknown>>) ?? []);
      if (p.error) return json(res, 400, { error: p.error });
      return json(res, 200, { sentences: p.sentences, gains: p.gains, loses: p.loses, needs_confirmation: p.needs });
    }
    if (path === "grid" && method === "PUT") {
      const b = await readBody(req);
      if (b.version !== version) {
        return json(res, 409, { error: "the policy changed since you loaded it", current_version: version, changed: history.filter((h) => h.version > Number(b.version)).flatMap((h) => h.sentences) });
      }
      const changes = (b.changes as Array<Record<string, unknown>>) ?? [];
      const p = sentencesFor(changes);
      if (p.error) return json(res, 400, { error: p.error });
      const unconfirmed = changes.some((c) => c.level === "full" && !c.confirm_destructive) && p.needs.length;
      if (unconfirmed) return json(res, 400, { error: `Full use includes ${p.needs.join(", ")}: confirm_destructive is required` });
      apply(changes);
      version++;
      const sentences = p.sentences.map((s) => `${sess.admin.name} (${sess.admin.role}) set ${s}`);
      history.push({ version, sentences });
      for (const s of sentences) emit(s, { admin: sess.admin.name, admin_role: sess.admin.role, event: "policy_change" });
      return json(res, 200, { version, sentences });
    }
    if (path === "agents" && method === "GET") {
      return json(
        res,
        200,
        rows.map((r) => ({
          name: r.agent,
          profile: r.profile,
          kind: r.kind,
          tokens: agentTokens.get(r.agent) ?? [],
          limits: r.kind === "static" ? { per_minute: 60, per_month: 10_000 } : {},
          budget: r.agent === "curator" ? [{ unit: "usd", used: 3.25, limit: 10, left: 6.75 }, { unit: "calls", used: 173, limit: 5000, left: 4827 }] : [],
          key: r.agent === "curator" ? "team-key" : "default",
          // the open sessions of every replica, each with the replica holding it
          sessions: r.agent === "search-agent" ? openSessions.map((x) => ({ ...x, opened_at: new Date(Date.now() - 600_000).toISOString() })) : [],
        })),
      );
    }
    if (path === "agents" && method === "POST") {
      const b = await readBody(req);
      const name = String(b.name ?? "");
      if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(name) || rows.some((r) => r.agent === name)) return json(res, 400, { error: `bad or taken name: ${name}` });
      rows.push({ agent: name, kind: "static", profile: String(b.profile ?? ""), tools: new Set() });
      agentTokens.set(name, [{ label: "primary" }]);
      return json(res, 200, { name, token: "tok-" + randomBytes(12).toString("hex") });
    }
    const m = /^agents\/([^/]+)\/(tokens|sessions|budget)(?:\/([^/]+))?$/.exec(path);
    if (m) {
      const name = decodeURIComponent(m[1]!);
      const list = agentTokens.get(name) ?? [];
      if (m[2] === "tokens" && method === "POST") {
        const b = await readBody(req);
        list.push({ label: String(b.label) });
        agentTokens.set(name, list);
        return json(res, 200, { token: "tok-" + randomBytes(12).toString("hex") });
      }
      if (m[2] === "sessions" && method === "DELETE") {
        const id = decodeURIComponent(m[3] ?? "");
        const held = openSessions.find((x) => x.id === id);
        if (!held) return json(res, 404, { error: `no open session "${id}" of ${name} on any replica` });
        openSessions.splice(openSessions.indexOf(held), 1);
        return json(res, 200, { ended: 1, replica: held.replica });
      }
      if (m[2] === "tokens" && method === "DELETE") {
        agentTokens.set(name, list.filter((t) => t.label !== decodeURIComponent(m[3] ?? "")));
        return json(res, 200, {});
      }
      return json(res, 200, {});
    }
    if (path === "activity" && method === "GET") {
      const agent = u.searchParams.get("agent");
      const decision = u.searchParams.get("decision");
      return json(res, 200, { events: events.filter((e) => (!agent || e.event.agent === agent) && (!decision || e.event.decision === decision)) });
    }
    if (path === "activity/stream") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store" });
      res.write(": open\n\n");
      streams.add(res);
      req.on("close", () => streams.delete(res));
      return;
    }
    if (path === "usage") {
      const month = u.searchParams.get("month") ?? "2026-12";
      const days = Array.from({ length: 7 }, (_, i) => ({ day: `${month}-${String(i + 1).padStart(2, "0")}`, calls: [12, 40, 33, 5, 0, 61, 22][i]!, usd: [0.1, 0.4, 0.3, 0.05, 0, 0.6, 0.2][i]! }));
      return json(res, 200, {
        agents: [
          { agent: "curator", calls: 173, denied: 4, units: { search_units: 12, input_tokens: 40_210, output_tokens: 9_800 }, usd: 1.65, budget: [{ unit: "usd", used: 3.25, limit: 10, left: 6.75 }], days },
          { agent: odd, calls: 3, denied: 0, units: { search_units: 3 }, days: days.slice(0, 2) },
        ],
        keys: [{ key: "team-key", calls: 176, denied: 4, units: { search_units: 15 }, usd: 1.65, days }],
      });
    }
    return json(res, 404, { error: "no such endpoint" });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    origin: `http://127.0.0.1:${port}`,
    tokens,
    emit,
    log,
    version: () => version,
    async close() {
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
