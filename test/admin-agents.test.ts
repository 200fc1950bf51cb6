/**
 * The console's Agents, Activity, Usage endpoints over real HTTP (file mode, --sessions): create
 * an agent (token once, stored as a hash), rotate and revoke (open sessions end), end a session,
 * reset / top up a budget — each audited; bad input is a 4xx that changes nothing. Activity:
 * newest first, filters, live stream (SSE), JSONL/CSV export; usage per agent and key.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { TEST_KEY } from "./helpers.js";
import { bearer, connectHttp, eventually, sha256Hex, tempFile, writeConfig } from "./http-support.js";
import { api, auditLines, LEAD_TOKEN, login, SEARCH_TOKEN, startConsole, teamConfig, TEAM_ENV, type Console, type Session } from "./admin-support.js";

let emu: CohereEmulator;
let c: Console;
let configPath: string;
let auditPath: string;
let lead: Session;

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  configPath = writeConfig(teamConfig());
  auditPath = tempFile("audit.jsonl");
  c = await startConsole(emu.url, ["--config", configPath, "--sessions", "--audit-log", auditPath]);
  lead = await login(c, LEAD_TOKEN);
}, 30_000);
afterAll(async () => {
  await c?.srv.stop();
  await emu?.stop();
});

const fileText = () => readFileSync(configPath, "utf8");
const auditOf = (action: string) =>
  eventually(() => {
    const l = auditLines(auditPath).filter((x) => x.event === "admin_change" && x.action === action).pop();
    if (!l) throw new Error(`no audit line for ${action}`);
    // the sentence starts with its time (issue 22 item 9): compared without it
    expect(l.text).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z /);
    return { ...l, text: String(l.text).replace(/^\S+Z /, "") };
  });
const rerank = { model: "rerank-v3.5", query: "capital", documents: ["paris", "bananas"] };

describe("agents", () => {
  it("lists agents with profile, token labels, limits, budget, key and open sessions — never a hash", async () => {
    const s = await connectHttp(c.srv.url, bearer(SEARCH_TOKEN));
    try {
      const r = await api(c, "GET", "agents", { session: lead });
      expect(r.status).toBe(200);
      const search = r.json.find((a: { name: string }) => a.name === "search-agent");
      expect(search.profile).toBe("search");
      expect(search.tokens).toEqual([{ label: "token" }]);
      expect(search.key).toBe("default");
      expect(search.sessions.length).toBe(1);
      const budget = r.json.find((a: { name: string }) => a.name === "budget-agent");
      expect(budget.budget).toEqual([{ unit: "calls", used: 0, limit: 100, left: 100 }]);
      expect(r.body).not.toMatch(/[a-f0-9]{64}/);
      for (const t of [SEARCH_TOKEN, ...Object.values(TEAM_ENV)]) expect(r.body).not.toContain(t);
    } finally {
      await s.close();
    }
  });

  it("creating an agent gives its token once (stored as its SHA-256); the token works at once; audited", async () => {
    const r = await api(c, "POST", "agents", { session: lead, body: { name: "new-agent", profile: "search" } });
    expect(r.status, r.body).toBe(201);
    const token = r.json.token as string;
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(fileText()).not.toContain(token);
    expect(fileText()).toContain(sha256Hex(token));
    const agent = await connectHttp(c.srv.url, bearer(token));
    expect((await agent.client.listTools()).tools.map((t) => t.name)).toContain("rerank");
    await agent.close();
    const line = await auditOf("POST agents");
    expect(line.text).toBe("team-lead (admin) created the agent new-agent with the profile search");
    expect(JSON.stringify(auditLines(auditPath))).not.toContain(token);
  });

  it("bad input: 4xx with a clear message, nothing changed", async () => {
    const before = fileText();
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ["POST", "agents", { name: "bad name!", profile: "search" }, 400, /letters, digits/],
      ["POST", "agents", { name: "x-agent", profile: "no-such-profile" }, 400, /no profile "no-such-profile"/],
      ["POST", "agents", { name: "search-agent", profile: "search" }, 409, /already exists/],
      ["POST", "agents", { name: "x-agent" }, 400, /profile/],
      ["POST", "agents/nobody/tokens", { label: "t2" }, 404, /no agent "nobody"/],
      ["DELETE", "agents/search-agent/tokens/nope", undefined, 404, /no token labelled "nope"/],
      ["DELETE", "agents/search-agent/sessions/zzz", undefined, 404, /no open session/],
      ["POST", "agents/search-agent/budget", { action: "reset" }, 400, /has no budget/],
      ["POST", "agents/budget-agent/budget", { action: "top_up" }, 400, /top_up needs an amount/],
      ["POST", "agents/budget-agent/budget", { action: "explode" }, 400, /action/],
      ["GET", "activity?decision=maybe", undefined, 400, /decision/],
      ["GET", "activity?since=yesterday-ish", undefined, 400, /ISO time/],
      ["GET", "usage?month=2026-1", undefined, 400, /YYYY-MM/],
      ["GET", "no-such-path", undefined, 404, /no such API path/],
      ["PATCH", "grid", {}, 405, /not allowed/],
    ];
    for (const [method, path, body, status, msg] of cases) {
      const r = await api(c, method, path, { session: lead, body });
      expect(r.status, `${method} ${path}: ${r.body}`).toBe(status);
      expect(r.json.error, `${method} ${path}`).toMatch(msg);
    }
    expect(fileText()).toBe(before);
  });

  it("a second token works beside the first (overlap); revoking the old one ends its open sessions at once; both audited", async () => {
    const create = await api(c, "POST", "agents", { session: lead, body: { name: "rot-agent", profile: "search" } });
    const first = create.json.token as string;
    const open = await connectHttp(c.srv.url, bearer(first));
    await open.client.listTools();
    const r = await api(c, "POST", "agents/rot-agent/tokens", { session: lead, body: { label: "2026-12" } });
    expect(r.status, r.body).toBe(201);
    const second = r.json.token as string;
    expect((await auditOf("POST agents/:name/tokens")).text).toBe('team-lead (admin) added the token "2026-12" to rot-agent');
    expect((await api(c, "POST", "agents/rot-agent/tokens", { session: lead, body: { label: "2026-12" } })).status).toBe(409);
    const listed = (await api(c, "GET", "agents", { session: lead })).json.find((a: { name: string }) => a.name === "rot-agent");
    expect(listed.tokens).toEqual([{ label: "token" }, { label: "2026-12" }]);
    // both work during the overlap
    const fresh = await connectHttp(c.srv.url, bearer(second));
    await fresh.client.listTools();
    await open.client.listTools();
    const del = await api(c, "DELETE", "agents/rot-agent/tokens/token", { session: lead });
    expect(del.status, del.body).toBe(200);
    expect(del.json.sessions_ended).toBe(2);
    expect((await auditOf("DELETE agents/:name/tokens/:label")).text).toBe('team-lead (admin) revoked rot-agent\'s token "token"');
    await expect(open.client.listTools()).rejects.toThrow();
    await expect(connectHttp(c.srv.url, bearer(first))).rejects.toThrow();
    // the new token still works
    const again = await connectHttp(c.srv.url, bearer(second));
    expect((await again.client.listTools()).tools.length).toBeGreaterThan(0);
    await again.close();
    // revoking the last token leaves the agent with none that works
    expect((await api(c, "DELETE", "agents/rot-agent/tokens/2026-12", { session: lead })).status).toBe(200);
    await expect(connectHttp(c.srv.url, bearer(second))).rejects.toThrow();
    await open.close().catch(() => undefined);
    await fresh.close().catch(() => undefined);
  });

  it("revoking the last token says so in plain English (console and reload lines); a new token lets the agent in again", async () => {
    const create = await api(c, "POST", "agents", { session: lead, body: { name: "lap-agent", profile: "search" } });
    expect(create.status, create.body).toBe(201);
    const laptop = (await api(c, "POST", "agents/lap-agent/tokens", { session: lead, body: { label: "laptop" } })).json.token as string;
    expect((await api(c, "DELETE", "agents/lap-agent/tokens/token", { session: lead })).status).toBe(200);
    const reloads = () => auditLines(auditPath).filter((l) => l.event === "config_reload").map((l) => String(l.text));
    const seen = reloads().length;
    expect((await api(c, "DELETE", "agents/lap-agent/tokens/laptop", { session: lead })).status).toBe(200);
    expect((await auditOf("DELETE agents/:name/tokens/:label")).text).toBe(
      "team-lead (admin) revoked lap-agent's token 'laptop'; lap-agent has no token left (add one to let it in again)",
    );
    const reload = await eventually(() => {
      const l = reloads().slice(seen).pop();
      if (!l) throw new Error("no reload line yet");
      return l;
    });
    expect(reload).toContain("lap-agent's token 'laptop' was revoked; lap-agent has no token left");
    expect(reload).not.toMatch(/gains token|rotated/);
    await expect(connectHttp(c.srv.url, bearer(laptop))).rejects.toThrow();
    const listed = (await api(c, "GET", "agents", { session: lead })).json.find((a: { name: string }) => a.name === "lap-agent");
    expect(listed.tokens).toEqual([]);
    // a new token replaces the stand-in
    const seen2 = reloads().length;
    const desk = await api(c, "POST", "agents/lap-agent/tokens", { session: lead, body: { label: "desk" } });
    expect(desk.status, desk.body).toBe(201);
    const again = await eventually(() => {
      const l = reloads().slice(seen2).pop();
      if (!l) throw new Error("no reload line yet");
      return l;
    });
    expect(again).toContain("lap-agent has a token again: 'desk'");
    const relisted = (await api(c, "GET", "agents", { session: lead })).json.find((a: { name: string }) => a.name === "lap-agent");
    expect(relisted.tokens).toEqual([{ label: "desk" }]);
    const s = await connectHttp(c.srv.url, bearer(desk.json.token));
    expect((await s.client.listTools()).tools.length).toBeGreaterThan(0);
    await s.close();
  });

  it("ending one session: that session is gone, audited", async () => {
    const s = await connectHttp(c.srv.url, bearer(SEARCH_TOKEN));
    await s.client.listTools();
    const id = s.transport.sessionId!;
    const r = await api(c, "DELETE", `agents/search-agent/sessions/${encodeURIComponent(id)}`, { session: lead });
    expect(r.status, r.body).toBe(200);
    await expect(s.client.listTools()).rejects.toThrow();
    expect((await auditOf("DELETE agents/:name/sessions/:id")).text).toBe(`team-lead (admin) ended search-agent's session ${id}`);
    await s.close().catch(() => undefined);
  });

  it("budget: reset and top up this month's counter, audited", async () => {
    const agent = await connectHttp(c.srv.url, bearer(TEAM_ENV.BUDGET_TOKEN));
    for (let i = 0; i < 3; i++) expect((await agent.client.callTool({ name: "rerank", arguments: rerank })).isError).toBeFalsy();
    await agent.close();
    const used = async () => (await api(c, "GET", "agents", { session: lead })).json.find((a: { name: string }) => a.name === "budget-agent").budget[0];
    expect((await used()).used).toBe(3);
    const top = await api(c, "POST", "agents/budget-agent/budget", { session: lead, body: { action: "top_up", amount: 10 } });
    expect(top.status, top.body).toBe(200);
    expect((await used()).used).toBe(-7);
    expect((await used()).left).toBe(107);
    expect((await auditOf("POST agents/:name/budget")).text).toMatch(/^team-lead \(admin\) topped up budget-agent's budget for \d{4}-\d{2} by 10 calls$/);
    const reset = await api(c, "POST", "agents/budget-agent/budget", { session: lead, body: { action: "reset" } });
    expect(reset.status).toBe(200);
    expect((await used()).used).toBe(0);
  });
});

function sse(url: string, cookie: string): { events: Array<Record<string, any>>; close(): void; ready: Promise<void> } {
  const events: Array<Record<string, any>> = [];
  let buf = "";
  let resolveReady: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  const req = http.get(url, { headers: { Cookie: cookie, Accept: "text/event-stream" } }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (d: string) => {
      buf += d;
      resolveReady();
      let i;
      while ((i = buf.indexOf("\n\n")) >= 0) {
        const chunk = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = chunk.split("\n").find((l) => l.startsWith("data: "));
        if (data) events.push(JSON.parse(data.slice(6)));
      }
    });
  });
  req.on("error", () => undefined);
  return { events, close: () => req.destroy(), ready };
}

describe("activity and usage", () => {
  it("newest first in plain English, filtered; the live stream shows a new call within 2 s; exports", async () => {
    const stream = sse(`${c.base}/admin/api/v1/activity/stream?agent=search-agent`, lead.cookie);
    await stream.ready;
    const agent = await connectHttp(c.srv.url, bearer(SEARCH_TOKEN));
    const t0 = Date.now();
    await agent.client.callTool({ name: "rerank", arguments: rerank });
    await agent.client.callTool({ name: "delete_dataset", arguments: { id: "x" } }); // refused
    await agent.close();
    await eventually(() => expect(stream.events.length).toBeGreaterThanOrEqual(2), 2_000);
    console.log(`a call reached the live activity stream in ${Date.now() - t0} ms (or less)`);
    stream.close();
    expect(stream.events[0]!.sentence).toMatch(/search-agent called rerank \(read\)/);
    // `time` is its own field: the sentence does not repeat it (the page shows the time once)
    expect(stream.events[0]!.sentence).toMatch(/^search-agent called rerank/);
    expect(stream.events.every((e) => e.event.agent === "search-agent")).toBe(true);

    const all = (await api(c, "GET", "activity?agent=search-agent&limit=10", { session: lead })).json.events;
    expect(all[0].event.tool).toBe("delete_dataset"); // newest first
    expect(all[0].event.decision).toBe("denied");
    expect(all[0].replica).toMatch(/^[0-9a-f]{6}$/);
    const denied = (await api(c, "GET", "activity?agent=search-agent&decision=denied", { session: lead })).json.events;
    expect(denied.every((e: { event: { decision: string } }) => e.event.decision === "denied")).toBe(true);
    const byTool = (await api(c, "GET", "activity?tool=rerank&outcome=ok&limit=1", { session: lead })).json.events;
    expect(byTool).toHaveLength(1);
    // paging with before
    const older = (await api(c, "GET", `activity?agent=search-agent&before=${all[0].id}&limit=1`, { session: lead })).json.events;
    expect(older[0].id).toBe(all[1].id);
    const future = (await api(c, "GET", "activity?since=2999-01-01T00:00:00Z", { session: lead })).json.events;
    expect(future).toEqual([]);

    const jsonl = await api(c, "GET", "activity/export?format=jsonl&agent=search-agent", { session: lead });
    expect(jsonl.headers["content-type"]).toMatch(/ndjson/);
    expect(jsonl.headers["content-disposition"]).toMatch(/attachment; filename="activity-.*\.jsonl"/);
    const lines = jsonl.body.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.every((l) => l.agent === "search-agent")).toBe(true);
    const csv = await api(c, "GET", "activity/export?format=csv&agent=search-agent", { session: lead });
    expect(csv.headers["content-type"]).toMatch(/text\/csv/);
    expect(csv.body.split("\r\n")[0]).toBe("time,replica,agent,tool,access,decision,reason,outcome,sentence");
    expect(csv.body).toMatch(/search-agent,delete_dataset/);
    for (const t of [SEARCH_TOKEN, TEST_KEY]) expect(jsonl.body + csv.body).not.toContain(t);
  });

  it("usage per agent and key for the month: calls, refusals, billed units, budget, days", async () => {
    const month = new Date().toISOString().slice(0, 7);
    // counts are written every 200 ms
    const r = await eventually(async () => {
      const u = await api(c, "GET", `usage?month=${month}`, { session: lead });
      expect(u.json.agents.find((a: { agent: string }) => a.agent === "search-agent").calls).toBeGreaterThanOrEqual(1);
      return u;
    });
    expect(r.status).toBe(200);
    const search = r.json.agents.find((a: { agent: string }) => a.agent === "search-agent");
    expect(search.calls).toBeGreaterThanOrEqual(1);
    expect(search.denied).toBeGreaterThanOrEqual(1);
    expect(search.units.search_units).toBeGreaterThanOrEqual(1);
    expect(search.days[0].day.slice(0, 7)).toBe(month);
    expect(r.json.keys.find((k: { key: string }) => k.key === "default").calls).toBeGreaterThanOrEqual(1);
    const budget = r.json.agents.find((a: { agent: string }) => a.agent === "budget-agent");
    expect(budget.budget[0].unit).toBe("calls");
    const empty = await api(c, "GET", "usage?month=2001-01", { session: lead });
    expect(empty.json.agents.every((a: { calls: number }) => a.calls === 0)).toBe(true);
  });
});
