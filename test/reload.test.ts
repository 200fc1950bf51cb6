/**
 * SIGHUP reloads the config file without a restart, under load: a rotated or removed token is
 * refused from the next request on, an added agent works, changed rules apply, a removed agent's
 * sessions are closed, calls already running finish, agents that did not change see no failure
 * at all; an invalid file is rejected whole and the old configuration stays. One audit line per
 * reload. A real cohere-mcp --http process, real sockets, the emulator upstream.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { textOf } from "./helpers.js";
import { bearer, connectHttp, eventually, rpc, sha256Hex, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";

const T = {
  a: "reload-token-a-0123456789abcdef",
  bOld: "reload-token-b-old-0123456789ab",
  bNew: "reload-token-b-new-0123456789ab",
  c: "reload-token-c-0123456789abcdef",
  d: "reload-token-d-0123456789abcdef",
  e: "reload-token-e-0123456789abcdef",
  f: "reload-token-f-0123456789abcdef",
};

const agent = (name: string, token: string, profile = "p") => ({ name, profile, token_sha256: sha256Hex(token) });
const PROFILES = { p: { tools: ["tokenize", "rerank", "chat"] }, q: { tools: ["tokenize"] } };

const V1 = { profiles: PROFILES, agents: [agent("a", T.a), agent("b", T.bOld, "q"), agent("c", T.c), agent("e", T.e)] };
// b's token rotated and its profile given a budget; c removed; d added; e moved to profile q; a untouched.
const V2 = {
  profiles: { ...PROFILES, q: { tools: ["tokenize"], budget: { calls: 1 } } },
  agents: [agent("a", T.a), agent("b", T.bNew, "q"), agent("d", T.d), agent("e", T.e, "q")],
};

/** Replace the file in one step, as an operator's tooling would. */
function rewrite(path: string, content: string): void {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}

let callId = 1;
async function tokenize(url: string, token: string): Promise<{ status: number; ok: boolean; text: string }> {
  const r = await rpc(
    url,
    { jsonrpc: "2.0", id: callId++, method: "tools/call", params: { name: "tokenize", arguments: { model: "command-a-03-2025", text: "hi" } } },
    bearer(token),
  );
  const result = r.messages[0]?.result as { isError?: boolean; content?: Array<{ text: string }> } | undefined;
  return { status: r.status, ok: r.status === 200 && !!result && !result.isError, text: result?.content?.[0]?.text ?? r.body };
}

const reloads = (auditPath: string) =>
  readFileSync(auditPath, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event === "config_reload");

describe("SIGHUP reload (stateless, under load)", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  let config: string;
  let auditPath: string;

  beforeAll(async () => {
    emu = await startEmulator();
    config = writeConfig(V1);
    auditPath = tempFile("audit.jsonl");
    srv = await startHttp(emu.url, ["--config", config, "--audit-log", auditPath, "--log-level", "info"]);
  });
  afterAll(async () => {
    await srv?.stop();
    await emu?.stop();
  });

  it("rotated and removed tokens are refused at once, added agents and changed budgets apply, unchanged agents never fail; an invalid file changes nothing", async () => {
    expect((await tokenize(srv.url, T.bOld)).ok).toBe(true);
    expect((await tokenize(srv.url, T.c)).ok).toBe(true);
    expect((await tokenize(srv.url, T.d)).status).toBe(401);

    // Load from the unchanged agent a: four callers in a loop for the whole test.
    let running = true;
    const failures: string[] = [];
    let done = 0;
    const loops = Array.from({ length: 4 }, async () => {
      while (running) {
        const r = await tokenize(srv.url, T.a);
        if (r.ok) done++;
        else failures.push(`${r.status} ${r.text}`);
      }
    });

    // c has a call in flight (the emulator holds it 8 s) when the reload removes it.
    emu.addFault({ path: "/v2/rerank", fault: { kind: "delay", ms: 8_000 } });
    const inFlight = rpc(
      srv.url,
      { jsonrpc: "2.0", id: 99_999, method: "tools/call", params: { name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["x"] } } },
      bearer(T.c),
    );
    await eventually(() => expect(emu.requests.some((r) => r.path === "/v2/rerank")).toBe(true));

    rewrite(config, JSON.stringify(V2));
    srv.child.kill("SIGHUP");
    await eventually(() => expect(reloads(auditPath)).toHaveLength(1));
    const first = reloads(auditPath)[0]!;
    expect(first).toMatchObject({ type: "audit", event: "config_reload", outcome: "ok" });
    expect(first.text).toBe(
      `${String(first.time)} configuration reloaded: b's token was rotated; d is added with profile p (3 read, 0 write, 0 destructive tools); ` +
        "e moves from profile p to q; e loses chat (read); e loses rerank (read); c is removed (its token no longer works); " +
        "budget of q: at most 1 call a month (was unlimited); revoked b, c: their sessions, streams and running calls ended",
    );
    expect((first.diff as Array<{ kind: string }>).map((c) => c.kind)).toEqual(["agent_token", "agent_added", "agent_profile", "tool_lost", "tool_lost", "agent_removed", "budget"]);

    // The very next requests see the new configuration.
    const oldB = await tokenize(srv.url, T.bOld);
    expect(oldB.status).toBe(401);
    expect((await tokenize(srv.url, T.c)).status).toBe(401);
    expect((await tokenize(srv.url, T.d)).ok).toBe(true);
    expect((await tokenize(srv.url, T.bNew)).ok).toBe(true);
    const overBudget = await tokenize(srv.url, T.bNew);
    expect(overBudget.ok).toBe(false);
    expect(overBudget.text).toMatch(/^Budget spent: agent "b" has used 1 of its 1 call this month/);

    // Removal is revocation (issue 20, finding 11): c's call that was running is cancelled at
    // once, not left to run on under a credential that no longer exists.
    const finished = await inFlight;
    expect(finished.status).toBe(200);
    const error = finished.messages[0]?.error as { code?: number; message?: string } | undefined;
    expect(error?.message, JSON.stringify(finished.messages)).toMatch(/credential was removed or replaced by a configuration reload/);

    // An invalid file (an agent naming no profile) is rejected whole: f is not added, the rest stays.
    rewrite(config, JSON.stringify({ ...V2, agents: [...V2.agents, agent("f", T.f), agent("g", T.c, "missing")] }));
    srv.child.kill("SIGHUP");
    await eventually(() => expect(reloads(auditPath)).toHaveLength(2));
    const second = reloads(auditPath)[1]!;
    expect(second).toMatchObject({ outcome: "rejected" });
    expect(second.text).toMatch(/^\S+Z configuration reload rejected, the previous configuration stays in force: .*agents\.5\.profile: no profile named "missing"/);
    // the log line travels through a pipe, the audit line through a file: wait for both
    await eventually(() => expect(srv.stderr()).toMatch(/"level":"error","msg":"configuration reload rejected/));
    expect((await tokenize(srv.url, T.f)).status).toBe(401);
    expect((await tokenize(srv.url, T.d)).ok).toBe(true);
    expect((await tokenize(srv.url, T.bOld)).status).toBe(401);

    // A file that is not JSON at all: rejected too.
    rewrite(config, "{ not json");
    srv.child.kill("SIGHUP");
    await eventually(() => expect(reloads(auditPath)).toHaveLength(3));
    expect(reloads(auditPath)[2]).toMatchObject({ outcome: "rejected" });
    expect((await tokenize(srv.url, T.d)).ok).toBe(true);

    running = false;
    await Promise.all(loops);
    expect(failures).toEqual([]);
    expect(done).toBeGreaterThan(20);
    // The process is the same one: it did not restart.
    expect(srv.child.exitCode).toBeNull();
  }, 60_000);
});

describe("SIGHUP reload with --sessions", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  let config: string;

  beforeAll(async () => {
    emu = await startEmulator();
    config = writeConfig(V1);
    srv = await startHttp(emu.url, ["--config", config, "--sessions"]);
  });
  afterAll(async () => {
    await srv?.stop();
    await emu?.stop();
  });

  it("sessions of removed or re-profiled agents are closed; an unchanged agent's session carries on", async () => {
    const a = await connectHttp(srv.url, bearer(T.a));
    const c = await connectHttp(srv.url, bearer(T.c));
    const e = await connectHttp(srv.url, bearer(T.e));
    const args = { name: "tokenize", arguments: { model: "command-a-03-2025", text: "hi" } };
    expect((await a.client.callTool(args)).isError).toBeFalsy();
    expect((await c.client.callTool(args)).isError).toBeFalsy();
    expect((await e.client.listTools()).tools.map((t) => t.name).sort()).toEqual(["chat", "rerank", "tokenize"]);
    const sessionA = a.transport.sessionId;

    rewrite(config, JSON.stringify(V2));
    srv.child.kill("SIGHUP");
    await eventually(() => expect(srv.stderr()).toMatch(/configuration reloaded: .*d is added with profile p.*c is removed/));
    // c was removed: revoked at once; e was re-profiled: its session ends when idle (now)
    expect(srv.stderr()).toMatch(/"msg":"reload revoked credentials","agents":\["b","c"\],"calls":0,"sessions":1/);
    expect(srv.stderr()).toMatch(/"msg":"reload closed sessions","sessions":1,"agents":\["c","e"\]/);

    // e's token still works, but its session is gone (404): it initializes again and sees its new tools.
    const stale = await rpc(srv.url, { jsonrpc: "2.0", id: 4, method: "tools/list" }, { ...bearer(T.e), "Mcp-Session-Id": e.transport.sessionId ?? "" });
    expect(stale.status).toBe(404);
    const e2 = await connectHttp(srv.url, bearer(T.e));
    expect((await e2.client.listTools()).tools.map((t) => t.name)).toEqual(["tokenize"]);
    await e2.close();
    await e.close().catch(() => undefined);

    const r = await a.client.callTool(args);
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(a.transport.sessionId).toBe(sessionA);
    // c's session is gone: its next request fails (404 for the session, or 401 for the token).
    await expect(c.client.callTool(args)).rejects.toThrow();
    const raw = await rpc(srv.url, { jsonrpc: "2.0", id: 5, method: "tools/list" }, { ...bearer(T.c), "Mcp-Session-Id": c.transport.sessionId ?? "" });
    expect(raw.status).toBe(401);
    await a.close();
    await c.close().catch(() => undefined);
  });
});
