/**
 * Secrets (issue 5): drive a stdio server and an HTTP server with agents through the paths
 * where a key or token could slip into output — successes, upstream errors that echo the key,
 * retries, timeouts, refused tools, bad and near-miss bearer tokens, debug logging — then scan
 * every log line, audit line, stderr byte and tool result for the Cohere key and the agent
 * tokens. Every secret here carries SECRET_MARKER, so a secret cut short is caught as well.
 * (`npm run test:stress` repeats the scan over the logs of every proof suite.)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import {
  BENCH_KEY,
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
