/**
 * Secrets (issue 5): drive a stdio server and an HTTP server with agents through the paths
 * where a key or token could slip into output — successes, upstream errors that echo the key,
 * retries, timeouts, refused tools, bad and near-miss bearer tokens, debug logging — then scan
 * every log line, audit line, stderr byte and tool result for the Cohere key and the agent
 * tokens. Every secret here carries SECRET_MARKER, so a secret cut short is caught as well.
 * With OAuth (issue 12): access tokens (good, near-miss, expired, opaque), client secrets and
 * the introspection secret; a JWT carries no marker, so each is looked for whole and by parts.
 * (`npm run test:stress` repeats the scan over the logs of every proof suite.)
 *
 * Issue 8: a hostile upstream (the emulator's echo-auth / json / status / not-json faults) that
 * echoes the Authorization header into 2xx bodies of every tool, into x-request-id and
 * Retry-After, at every offset around each cut (the 2,000-character error message, the
 * 80-character non-JSON preview, the output budget's text and structured cuts), split across
 * streamed pieces at every position, and in a stream cut mid-key. Results and progress are
 * checked strictly: not even a 6-character prefix of a secret may come out.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { generateKeyPair, SignJWT } from "jose";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { CATALOG } from "../src/catalog/index.js";
import { byName, CASES, WAITERS, waiterArgs, type Ids } from "./wire-cases.js";
// fetch() here lets idle connections go after 200 ms, so a server a test stops is not kept waiting for them
import "./fetch-pool.js";
import { startIdp, type Idp } from "./oauth-idp.js";
import {
  BENCH_KEY,
  freePort,
  RERANK_ARGS,
  SECRET_MARKER,
  connectHttp,
  connectOurStdio,
  proofDir,
  spawnOurHttp,
  textOf,
  type McpConn,
} from "../bench/lib.js";

const ALICE = "alice-token-SECRET-0f1e2d3c4b5a69788796a5b4";
const BOB = "bob-token-SECRET-aa11bb22cc33dd44ee55ff66";
const SECRETS = [BENCH_KEY, ALICE, BOB];

let emu: CohereEmulator;
const dir = proofDir();
const results: string[] = [];
const keep = (r: unknown) => results.push(JSON.stringify(r));

beforeAll(async () => {
  emu = await startEmulator({ apiKey: BENCH_KEY });
});
afterAll(async () => emu.stop());

/** Lines of `text` that hold a secret or the marker. */
function leaks(text: string): string[] {
  return text.split("\n").filter((l) => l.includes(SECRET_MARKER) || SECRETS.some((s) => l.includes(s) || l.includes(s.slice(0, 12))));
}

async function upstreamTroubles(c: McpConn): Promise<void> {
  keep(await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS }));
  keep(await c.client.callTool({ name: "embed", arguments: { model: "embed-v4.0", input_type: "search_query", texts: ["hello"] } }));
  // Cohere echoing the key in an error, on a status that is retried and on one that is not
  emu.addFault({ path: "/v2/rerank", fault: { kind: "status", status: 401, message: `invalid api token: Bearer ${BENCH_KEY}` } });
  keep(await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS }));
  emu.addFault({ path: "/v2/rerank", times: 5, fault: { kind: "status", status: 503, message: `upstream auth ${BENCH_KEY} failed` } });
  keep(await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS }));
  emu.addFault({ path: "/v2/rerank", fault: { kind: "status", status: 429, retryAfter: "0", message: `slow down, ${BENCH_KEY}` } });
  keep(await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS }));
  emu.addFault({ path: "/v1/models/x", fault: { kind: "status", status: 404, message: `model x not found for key ${BENCH_KEY}` } });
  keep(await c.client.callTool({ name: "get_model", arguments: { model: "x" } }));
  emu.addFault({ path: "/v2/rerank", fault: { kind: "reset" } });
  keep(await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS }));
  emu.addFault({ path: "/v2/rerank", fault: { kind: "not-json" } });
  keep(await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS }));
  emu.addFault({ path: "/v2/rerank", fault: { kind: "delay", ms: 3_000 } });
  keep(await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS }));
  // refused and invalid calls
  keep(await c.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } }));
  keep(await c.client.callTool({ name: "rerank", arguments: { model: "m" } }));
  emu.clearFaults();
}

describe("stdio, debug logging to a file, audit on", () => {
  const log = join(dir, `secrets-stdio-log-${process.pid}.jsonl`);
  const audit = join(dir, `secrets-stdio-audit-${process.pid}.jsonl`);
  let c: McpConn;
  beforeAll(async () => {
    c = await connectOurStdio(emu.url, ["--log-level", "debug", "--log-file", log, "--audit-log", audit, "--timeout", "500"], {
      COHERE_MCP_RETRY_BASE_MS: "5",
    });
  });

  it("no key in the log file, the audit file, stderr or any tool result", async () => {
    await upstreamTroubles(c);
    // an agent that pastes the key into its own arguments: logs and audit must still not hold it
    const own = await c.client.callTool({ name: "tokenize", arguments: { model: "command-a-03-2025", text: `my key is ${BENCH_KEY}` } });
    expect(own.isError).toBeFalsy();
    const stderr = c.stderr();
    await c.close();
    const logText = readFileSync(log, "utf8");
    const auditText = readFileSync(audit, "utf8");
    expect(logText.split("\n").length).toBeGreaterThan(3);
    expect(auditText.trim().split("\n").length).toBeGreaterThanOrEqual(12);
    expect(leaks(logText)).toEqual([]);
    expect(leaks(auditText)).toEqual([]);
    expect(leaks(stderr)).toEqual([]);
    expect(leaks(results.join("\n"))).toEqual([]);
  });
});

describe("HTTP with two agents, debug logging, audit on", () => {
  const log = join(dir, `secrets-http-log-${process.pid}.jsonl`);
  const audit = join(dir, `secrets-http-audit-${process.pid}.jsonl`);

  it("no key or token in logs, audit, stderr, results, 401 answers or headers", async (ctx) => {
    const cfg = join(dir, `secrets-agents-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: { all: { tools: "default" }, small: { tools: ["rerank"] } },
        agents: [
          { name: "alice", profile: "all", token_env: "ALICE_TOKEN" },
          { name: "bob", profile: "small", token_env: "BOB_TOKEN" },
        ],
      }),
    );
    const started = await spawnOurHttp(
      emu.url,
      ["--config", cfg, "--log-level", "debug", "--log-file", log, "--audit-log", audit, "--timeout", "500"],
      { ALICE_TOKEN: ALICE, BOB_TOKEN: BOB, COHERE_MCP_RETRY_BASE_MS: "5" },
    );
    if (!started.server) return ctx.skip(`HTTP: not available (${started.reason})`);
    const srv = started.server;
    const answers: string[] = [];
    try {
      const alice = await connectHttp(srv.mcpUrl, { authorization: `Bearer ${ALICE}` });
      await upstreamTroubles(alice);
      await alice.close();
      const bob = await connectHttp(srv.mcpUrl, { authorization: `Bearer ${BOB}` });
      keep(await bob.client.callTool({ name: "embed", arguments: { model: "embed-v4.0", input_type: "search_query", texts: ["x"] } }));
      await bob.close();
      // an upstream that somehow holds agent tokens: every token the HTTP server knows is redacted too
      const tokenEcho: string[] = [];
      const alice2 = await connectHttp(srv.mcpUrl, { authorization: `Bearer ${ALICE}` });
      emu.addFault({ path: "/v1/models", fault: { kind: "json", body: { models: [{ name: `m ${ALICE} ${BOB}`, endpoints: ["chat"] }] }, headers: { "x-request-id": BOB } } });
      tokenEcho.push(JSON.stringify(await alice2.client.callTool({ name: "list_models", arguments: {} })));
      emu.addFault({ path: "/v2/rerank", fault: { kind: "status", status: 400, message: `bad ${BOB} ${"y".repeat(1990)}${ALICE}`, headers: { "x-request-id": ALICE } } });
      tokenEcho.push(JSON.stringify(await alice2.client.callTool({ name: "rerank", arguments: RERANK_ARGS })));
      await alice2.close();
      expect(tokenEcho.join("\n")).toMatch(/\[REDACTED\]/);
      expect(strictLeaks(tokenEcho.join("\n"))).toEqual([]);
      results.push(...tokenEcho);
      // bad and near-miss credentials: none may be echoed back or written down
      for (const auth of [
        `Bearer ${ALICE}x`,
        `Bearer ${ALICE.slice(0, -1)}`,
        `bearer ${BOB.toUpperCase()}`,
        `Basic ${Buffer.from(`alice:${ALICE}`).toString("base64")}`,
        `Bearer ${BENCH_KEY}`,
        `Bearer ${ALICE} ${BOB}`,
        `Token ${BOB}`,
      ]) {
        const res = await fetch(srv.mcpUrl, {
          method: "POST",
          headers: { authorization: auth, "content-type": "application/json", accept: "application/json, text/event-stream" },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "rerank", arguments: RERANK_ARGS } }),
        });
        expect(res.status, auth.slice(0, 12)).toBe(401);
        answers.push(`${JSON.stringify([...res.headers])} ${await res.text()}`);
      }
    } finally {
      await srv.stop();
    }
    const logText = readFileSync(log, "utf8");
    const auditText = readFileSync(audit, "utf8");
    expect(auditText).toMatch(/"reason":"auth"/);
    expect(leaks(logText)).toEqual([]);
    expect(leaks(auditText)).toEqual([]);
    expect(leaks(srv.stderr())).toEqual([]);
    expect(leaks(answers.join("\n"))).toEqual([]);
    expect(leaks(results.join("\n"))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Issue 8: a hostile upstream that echoes the Authorization header

const AUTH = `Bearer ${BENCH_KEY}`;
/** The strict check: a whole secret, or the first 6 characters of one, anywhere. */
function strictLeaks(text: string): string[] {
  return text.split("\n").filter((l) => l.includes(SECRET_MARKER) || SECRETS.some((s) => l.includes(s.slice(0, 6))));
}
/** The JSON a tool answered (structuredContent, else the text's JSON). */
function dataOf(r: unknown): Record<string, any> {
  const res = r as { structuredContent?: Record<string, any> };
  if (res.structuredContent) return res.structuredContent;
  try {
    return JSON.parse(textOf(r)) as Record<string, any>;
  } catch {
    const m = /\{[\s\S]*\}/.exec(textOf(r));
    return m ? (JSON.parse(m[0]) as Record<string, any>) : {};
  }
}

describe("a hostile upstream echoing the Authorization header (stdio)", () => {
  let hostile: CohereEmulator;
  let c: McpConn;
  const log = join(dir, `secrets-hostile-log-${process.pid}.jsonl`);
  const audit = join(dir, `secrets-hostile-audit-${process.pid}.jsonl`);
  const out: string[] = [];
  const call = async (name: string, args: Record<string, unknown>, progress?: string[]) => {
    const r = await c.client.callTool({ name, arguments: args }, undefined, progress ? { onprogress: (p) => progress.push(p.message ?? "") } : undefined);
    out.push(JSON.stringify(r));
    return r as { isError?: boolean; content?: Array<{ text?: string }>; structuredContent?: Record<string, unknown> };
  };
  beforeAll(async () => {
    hostile = await startEmulator({ apiKey: BENCH_KEY });
    c = await connectOurStdio(
      hostile.url,
      ["--tools", CATALOG.map((t) => t.name).join(","), "--confirm-destructive", "never", "--max-retries", "0", "--log-level", "debug", "--log-file", log, "--audit-log", audit],
      { COHERE_MCP_RETRY_BASE_MS: "5" },
    );
  });
  afterAll(async () => {
    await c?.close();
    await hostile?.stop();
    console.log(`secrets: ${out.length} results from the hostile upstream, each scanned for a secret or its 6-character prefix: 0 found`);
    expect(strictLeaks(readFileSync(log, "utf8"))).toEqual([]);
    expect(strictLeaks(readFileSync(audit, "utf8"))).toEqual([]);
  });

  it("every tool: the key echoed in 2xx bodies and x-request-id never reaches the agent (text or structuredContent)", async () => {
    hostile.addFault({ path: /./, times: Infinity, fault: { kind: "echo-auth" } });
    const ids: Ids = {};
    const tools = new Set<string>();
    let shown = 0;
    let ok = 0;
    for (const k of CASES) {
      const r = await call(k.tool, k.args(ids));
      tools.add(k.tool);
      if (!r.isError) ok++;
      if (!r.isError && k.capture) k.capture(dataOf(r), ids);
      if (JSON.stringify(r).includes("[REDACTED]")) shown++;
      for (const [name, w] of Object.entries(WAITERS)) {
        if (w.after !== k.tool || k.status !== undefined || !ids[w.id]) continue;
        const rw = await call(name, waiterArgs(byName.get(name)!, ids[w.id]!));
        tools.add(name);
        if (JSON.stringify(rw).includes("[REDACTED]")) shown++;
      }
    }
    hostile.clearFaults();
    console.log(`secrets: echo-auth over ${tools.size} tools (${out.length} calls, ${ok} of ${CASES.length} table calls succeeded): the echoed key reached ${shown} results, redacted every time`);
    expect(tools.size).toBe(CATALOG.length);
    expect(hostile.requests.every((q) => q.headers.authorization === AUTH)).toBe(true);
    // the echo did reach the agent-visible output of most tools (so the redaction is what kept it out)
    expect(shown).toBeGreaterThanOrEqual(30);
    expect(strictLeaks(out.join("\n"))).toEqual([]);
  });

  it("error messages: the key at every offset around the 2,000-character cut, a prefix left at the cut, and in x-request-id / Retry-After", async () => {
    const before = out.length;
    for (let off = 1993 - AUTH.length - 2; off <= 2001; off++) {
      hostile.addFault({
        path: "/v2/rerank",
        fault: { kind: "status", status: 400, message: `${"x".repeat(off)}${AUTH} and more`, headers: { "x-request-id": `req-${off} ${AUTH}` } },
      });
      const r = await call("rerank", RERANK_ARGS);
      expect(r.isError).toBe(true);
    }
    // (d) only a prefix of the key, ending exactly at the cut (no whole key to redact first)
    for (let n = 6; n <= BENCH_KEY.length - 1; n++) {
      hostile.addFault({ path: "/v2/rerank", fault: { kind: "status", status: 400, message: `${"x".repeat(2000 - n)}${BENCH_KEY.slice(0, n)}zzzz` } });
      const r = await call("rerank", RERANK_ARGS);
      expect(textOf(r)).toMatch(/\[REDACTED\]/);
    }
    // Retry-After on a 429 (shown to the agent) and a 503
    hostile.addFault({ path: "/v2/rerank", fault: { kind: "status", status: 429, retryAfter: `1 ${AUTH}`, headers: { "x-request-id": AUTH } } });
    const limited = await call("rerank", RERANK_ARGS);
    expect(textOf(limited)).toMatch(/Retry-After/);
    hostile.addFault({ path: "/v2/rerank", fault: { kind: "status", status: 503, retryAfter: AUTH, headers: { "x-cohere-request-id": AUTH } } });
    await call("rerank", RERANK_ARGS);
    expect(out.length - before).toBeGreaterThan(60);
    expect(strictLeaks(out.slice(before).join("\n"))).toEqual([]);
  });

  it("non-JSON 2xx bodies: the key at every offset around the 80-character preview", async () => {
    const before = out.length;
    for (let off = 80 - AUTH.length - 2; off <= 81; off++) {
      hostile.addFault({ path: "/v2/rerank", fault: { kind: "not-json", body: `${"<".repeat(off)}${AUTH}</html>` } });
      const r = await call("rerank", RERANK_ARGS);
      expect(textOf(r)).toMatch(/not JSON/);
    }
    // (d) only a prefix of the key, cut by the preview
    hostile.addFault({ path: "/v2/rerank", fault: { kind: "not-json", body: `${"<".repeat(70)}${BENCH_KEY.slice(0, 15)}zzzz` } });
    expect(textOf(await call("rerank", RERANK_ARGS))).toMatch(/\[REDACTED\]/);
    expect(strictLeaks(out.slice(before).join("\n"))).toEqual([]);
  });

  it("the output budget: the key at every offset around the text cut and the structured cut", async () => {
    const small = await connectOurStdio(hostile.url, ["--tools", "chat,get_dataset", "--max-output-chars", "500"]);
    const before = out.length;
    try {
      for (let off = 0; off <= 480; off += 1) {
        const text = `${"z".repeat(off)}${AUTH}${"w".repeat(600)}`;
        hostile.addFault({
          path: "/v2/chat",
          fault: {
            kind: "json",
            body: { id: "c1", finish_reason: "COMPLETE", message: { role: "assistant", content: [{ type: "text", text }] }, usage: { billed_units: { input_tokens: 1, output_tokens: 1 } } },
          },
        });
        const r = await small.client.callTool({ name: "chat", arguments: { model: "command-a-03-2025", messages: [{ role: "user", content: "hi" }] } });
        out.push(JSON.stringify(r));
      }
      for (let off = 0; off <= 480; off += 1) {
        hostile.addFault({
          path: "/v1/datasets/ds-1",
          fault: { kind: "json", body: { dataset: { id: "ds-1", name: `${"n".repeat(off)}${AUTH}${"m".repeat(600)}`, dataset_type: "embed-input", validation_status: "validated" } } },
        });
        const r = await small.client.callTool({ name: "get_dataset", arguments: { id: "ds-1" } });
        out.push(JSON.stringify(r));
      }
    } finally {
      await small.close();
    }
    const results = out.slice(before);
    expect(results.filter((r) => r.includes("truncated")).length).toBeGreaterThan(900);
    expect(strictLeaks(results.join("\n"))).toEqual([]);
  });

  it("streamed pieces: the key split across two deltas at every position, and a stream cut mid-key", async () => {
    const before = out.length;
    const progress: string[] = [];
    let split = 0;
    let cutWithText = 0;
    for (const cut of [false, true]) {
      for (let at = 0; at <= AUTH.length; at++) {
        hostile.addFault({ path: "/v2/chat", fault: { kind: "echo-auth", splitAt: at, cut } });
        const pieces: string[] = [];
        const r = await call("chat", { model: "command-a-03-2025", messages: [{ role: "user", content: "hello there" }] }, pieces);
        if (cut) {
          // a reset may drop the last pieces in flight: the cut is what matters, and no prefix shows
          expect(textOf(r)).toMatch(/cut mid-stream/);
          if (pieces.length) cutWithText++;
        } else {
          expect(pieces.join(""), `split at ${at}`).toContain("[REDACTED]");
        }
        progress.push(...pieces);
        split++;
      }
    }
    console.log(
      `secrets: ${split} streamed chats with the key split across deltas (${cutWithText} of ${AUTH.length + 1} cut mid-key with pieces delivered; ${progress.length} progress messages): none shows a secret or its 6-character prefix`,
    );
    expect(strictLeaks(progress.join("\n"))).toEqual([]);
    expect(strictLeaks(out.slice(before).join("\n"))).toEqual([]);
  });
});

describe("HTTP with OAuth agents beside static ones, debug logging, audit on", () => {
  const log = join(dir, `secrets-oauth-log-${process.pid}.jsonl`);
  const audit = join(dir, `secrets-oauth-audit-${process.pid}.jsonl`);
  const CLIENT_SECRET = "oauth-client-secret-SECRET-5e6f7a8b9c0d";
  const INTROSPECTION_SECRET = "introspection-secret-SECRET-1f2e3d4c";
  let idp: Idp | undefined;
  afterAll(async () => idp?.stop());

  /** Lines holding a token whole, its signature (or a long piece of it), or its header+payload. */
  function tokenLeaks(text: string, tokens: readonly string[]): string[] {
    const needles = tokens.flatMap((t) => {
      const parts = t.split(".");
      const sig = parts.length === 3 ? parts[2]! : t;
      return [t, sig.slice(0, 20), sig.slice(-20), ...(parts.length === 3 ? [`${parts[0]}.${parts[1]}`] : [])].filter((n) => n.length >= 12);
    });
    return text.split("\n").filter((l) => needles.some((n) => l.includes(n)));
  }

  it("no access token, client secret or introspection secret in logs, audit, stderr, answers or headers", async (ctx) => {
    idp = await startIdp(
      [
        { client_id: "bot", client_secret: CLIENT_SECRET, scope: "cohere:read", groups: ["g"] },
        { client_id: "opaque-bot", client_secret: CLIENT_SECRET, scope: "cohere:read", groups: ["g"], format: "opaque" },
      ],
      { introspector: { client_id: "rs", client_secret: INTROSPECTION_SECRET } },
    );
    const port = await freePort();
    const resource = `http://127.0.0.1:${port}/mcp`;
    idp.resources.add(resource).add("http://127.0.0.1:9/elsewhere");
    const cfg = join(dir, `secrets-oauth-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: { all: { tools: "default" } },
        agents: [{ name: "alice", profile: "all", token_env: "ALICE_TOKEN" }],
        oauth: { issuer: idp.issuer, resource, default_profile: "all", introspection: { client_id: "rs", client_secret_env: "RS_CREDENTIAL" } },
      }),
    );
    const started = await spawnOurHttp(
      emu.url,
      ["--config", cfg, "--log-level", "debug", "--log-file", log, "--audit-log", audit, "--timeout", "500"],
      { ALICE_TOKEN: ALICE, RS_CREDENTIAL: INTROSPECTION_SECRET, COHERE_MCP_RETRY_BASE_MS: "5" },
      10_000,
      port,
    );
    if (!started.server) return ctx.skip(`HTTP: not available (${started.reason})`);
    const srv = started.server;
    const tokens: string[] = [];
    const answers: string[] = [];
    const send = async (token: string, name = "rerank", args: Record<string, unknown> = RERANK_ARGS) => {
      const res = await fetch(srv.mcpUrl, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args } }),
      });
      answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
      return res.status;
    };
    try {
      const good = (await idp.token("bot", resource, "cohere:read")).access_token;
      const opaque = (await idp.token("opaque-bot", resource, "cohere:read")).access_token;
      const elsewhere = (await idp.token("bot", "http://127.0.0.1:9/elsewhere", "cohere:read")).access_token;
      const expired = await idp.sign({ iss: idp.issuer, aud: resource, client_id: "bot", sub: "bot", scope: "cohere:read", exp: Math.floor(Date.now() / 1000) - 600 });
      tokens.push(good, opaque, elsewhere, expired);
      expect(await send(good)).toBe(200);
      expect(await send(opaque)).toBe(200);
      // an agent pasting its own token into arguments: logs and audit must still not hold it
      expect(await send(good, "tokenize", { model: "command-a-03-2025", text: `my token is ${good}` })).toBe(200);
      // upstream echoing the bearer it was shown (it never is shown one; the key is what it sees)
      emu.addFault({ path: "/v2/rerank", fault: { kind: "status", status: 401, message: `invalid api token: Bearer ${BENCH_KEY}` } });
      expect(await send(good)).toBe(200);
      emu.clearFaults();
      const near = [good.slice(0, -2) + (good.endsWith("A") ? "BB" : "AA"), good.slice(0, -10), `${good}.x`, opaque.slice(0, -1), elsewhere, expired];
      // issue 20: the new refusal paths (typ, iat, lifetime, a key id not fetched yet, a repeated token)
      const now = Math.floor(Date.now() / 1000);
      const base = { iss: idp.issuer, aud: resource, client_id: "bot", sub: "bot", scope: "cohere:read", iat: now, exp: now + 300 };
      const { privateKey } = await generateKeyPair("RS256");
      near.push(
        await idp.sign(base, { typ: "JWT" }),
        await idp.sign({ ...base, iat: now + 600, exp: now + 900 }),
        await idp.sign({ ...base, exp: now + 30 * 86400 }),
        await new SignJWT(base).setProtectedHeader({ alg: "RS256", kid: "rotated-key", typ: "at+jwt" }).sign(privateKey),
      );
      near.push(near[0]!, near[0]!, near[0]!); // one stale token, retried
      tokens.push(...near);
      for (const t of near) expect(await send(t), t.slice(0, 10)).toBe(401);
      expect(await send(ALICE)).toBe(200);
    } finally {
      await srv.stop();
    }
    const logText = readFileSync(log, "utf8");
    const auditText = readFileSync(audit, "utf8");
    expect(auditText).toMatch(/"client_id":"bot"/);
    expect(auditText).toMatch(/"reason":"auth"/);
    for (const [what, text] of [
      ["log", logText],
      ["audit", auditText],
      ["stderr", srv.stderr()],
      ["answers", answers.join("\n")],
    ] as const) {
      expect(tokenLeaks(text, tokens), what).toEqual([]);
      expect(leaks(text), what).toEqual([]);
      expect(text, what).not.toContain(CLIENT_SECRET.slice(0, 16));
      expect(text, what).not.toContain(INTROSPECTION_SECRET.slice(0, 16));
    }
  });
});

describe("HTTP, a hostile agent and a token guesser (issue 8): secrets pasted into names, ids and malformed calls, auth floods", () => {
  const log = join(dir, `secrets-hostile-log-${process.pid}.jsonl`);
  const audit = join(dir, `secrets-hostile-audit-${process.pid}.jsonl`);

  it("no key or token, nor a prefix a cut could leave, in audit, logs, stderr, results or answers", async (ctx) => {
    const cfg = join(dir, `secrets-hostile-agents-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: { ops: { tools: ["rerank", "get_dataset"], arguments: { dataset_ids: ["ds-ok-*"] }, limits: { refusals_per_minute: 1000 } } },
        agents: [{ name: "alice", profile: "ops", token_env: "ALICE_TOKEN" }],
      }),
    );
    const started = await spawnOurHttp(
      emu.url,
      ["--config", cfg, "--log-level", "debug", "--log-file", log, "--audit-log", audit, "--max-auth-failures", "3", "--max-body-bytes", String(9 * 1024 * 1024)],
      { ALICE_TOKEN: ALICE },
    );
    if (!started.server) return ctx.skip(`HTTP: not available (${started.reason})`);
    const srv = started.server;
    const answers: string[] = [];
    const post = async (body: unknown, auth = `Bearer ${ALICE}`) => {
      const res = await fetch(srv.mcpUrl, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify(body),
      });
      answers.push(`${res.status} ${JSON.stringify([...res.headers])} ${await res.text()}`);
      return res.status;
    };
    const tc = (params: unknown, id = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params });
    let n = 0;
    try {
      // the secret across every cut: the audit's 200 characters, the answer's 100, at every offset near them
      for (const secret of [BENCH_KEY, ALICE]) {
        for (const at of [90, 95, 99, 100, 101, 185, 190, 195, 199, 200, 201]) {
          await post(tc({ name: "n".repeat(at) + secret + "z".repeat(300), arguments: {} }, ++n));
        }
        await post(tc({ name: `${"m".repeat(190)}${secret}${"q".repeat(4 * 1024 * 1024)}`, arguments: {} }, ++n)); // 4 MB name
        await post(tc({ name: `rerank\n${secret}\u001b[2K`, arguments: {} }, ++n));
        await post(tc({ name: { key: secret }, arguments: [secret] }, ++n)); // malformed
        await post(tc(secret, ++n)); // params: a string
        await post(tc({ name: "get_dataset", arguments: { id: `${secret}\u202e` } }, ++n)); // argument rule quotes the id
        await post(tc({ name: "rerank", arguments: { model: secret, query: "q", documents: "not-an-array" } }, ++n)); // invalid input
      }
      // a token guesser: near-miss tokens until the address is throttled, then a burst more
      for (let i = 0; i < 30; i++) {
        const status = await post(tc({ name: "rerank", arguments: RERANK_ARGS }), `Bearer ${ALICE.slice(0, -2)}${i}x`);
        expect(status).toBe(i < 3 ? 401 : 429);
      }
      const probe = await fetch(`${srv.url}/readyz`, { headers: { authorization: `Bearer ${BENCH_KEY}` } });
      answers.push(await probe.text());
    } finally {
      await srv.stop();
    }
    const logText = readFileSync(log, "utf8");
    const auditText = readFileSync(audit, "utf8");
    expect(auditText.trim().split("\n").length).toBeGreaterThanOrEqual(2 * 17 + 3);
    expect(auditText).toMatch(/"reason":"throttled"/);
    expect(Math.max(...auditText.split("\n").map((l) => l.length))).toBeLessThan(4_000);
    expect(leaks(logText)).toEqual([]);
    expect(leaks(auditText)).toEqual([]);
    expect(leaks(srv.stderr())).toEqual([]);
    expect(leaks(answers.join("\n"))).toEqual([]);
    // and no prefix of 6+ characters of a secret is left at the end of a cut value
    for (const text of [auditText, answers.join("\n")]) {
      for (const s of SECRETS) expect(text.includes(`${s.slice(0, 6)}…`), s.slice(0, 6)).toBe(false);
    }
  }, 60_000);
});

// Issue 20, finding 12: a config file swapped (through its symlink) for a file holding a secret
// the server does not know — so nothing would redact it — is reported as "not JSON" only: none of
// its characters reach the log, the reload's audit line or stderr.
describe("a config symlink swapped for a secret file, then SIGHUP", () => {
  it("the rejected reload names no character of the file", async () => {
    const { mkdtempSync, symlinkSync, renameSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { startHttp, eventually } = await import("./http-support.js");
    const dir = mkdtempSync(join(tmpdir(), "cmcp-swap-"));
    const good = join(dir, "good.json");
    writeFileSync(good, JSON.stringify({ profiles: { p: { tools: ["tokenize"] } }, default_profile: "p" }));
    const unknownSecret = "zq-UNKNOWN-SHADOW-9f8e7d6c5b4a";
    const shadow = join(dir, "shadow");
    writeFileSync(shadow, `${unknownSecret}:x:0:0\n`);
    const link = join(dir, "config.json");
    symlinkSync(good, link);
    const audit = join(dir, "audit.jsonl");
    const emu2 = await startEmulator({ apiKey: BENCH_KEY });
    const srv = await startHttp(emu2.url, ["--config", link, "--audit-log", audit], { CO_API_KEY: BENCH_KEY });
    try {
      symlinkSync(shadow, `${link}.new`);
      renameSync(`${link}.new`, link);
      srv.child.kill("SIGHUP");
      await eventually(() => expect(readFileSync(audit, "utf8")).toMatch(/"event":"config_reload","outcome":"rejected"/));
      const text = `${readFileSync(audit, "utf8")}\n${srv.stderr()}`;
      expect(text).toMatch(/is not JSON/);
      for (const part of [unknownSecret, unknownSecret.slice(0, 6), "zq-UNK", ":x:0:0"]) expect(text).not.toContain(part);
    } finally {
      await srv.stop();
      await emu2.stop();
    }
  });
});
