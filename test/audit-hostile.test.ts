/**
 * The audit under a hostile agent (issue 8, findings 3, 4 and 11): caller values are bounded
 * (a 4 MB tool name costs a few hundred bytes, not 8 MB) and escaped (no fake line under
 * `jq -r .text`), refused calls are charged to the agent's rate limit and throttled in the
 * audit (one summary line per window), and every tools/call — malformed, cancelled — gets
 * exactly one line with the right outcome.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { prepare, type AuditEvent } from "../src/audit/index.js";
import { TEST_KEY, textOf } from "./helpers.js";
import { bearer, eventually, MCP_HEADERS, rawRequest, rpc, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";

/** What must never reach a terminal from a caller's value: C0/C1, DEL, bidi overrides/isolates, line separators. */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

const OPEN_TOKEN = "hostile-open-token-6c5d4e3f2a1b";
const LIMITED_TOKEN = "hostile-limited-token-9a8b7c6d5e";
const STRICT_TOKEN = "hostile-strict-token-1f2e3d4c5b";
const RERANK = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };

interface Line extends AuditEvent {
  type: string;
  text: string;
}
const readLines = (path: string): Line[] =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

const call = (name: unknown, args: unknown = {}, id: number | string = 1, extra: Record<string, unknown> = {}) => ({
  jsonrpc: "2.0",
  id,
  method: "tools/call",
  params: { name, arguments: args, ...extra },
});

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

describe("prepare(): what a line holds", () => {
  it("bounds every caller field with a marker and the original length, and escapes it in JSON and text", () => {
    const huge = "x".repeat(4 * 1024 * 1024);
    const { event, text } = prepare(
      {
        time: "t",
        agent: "a",
        transport: "http",
        tool: huge,
        decision: "denied",
        reason: "unknown_tool",
        resource: `dataset ${huge}`,
        detail: huge,
        requestId: huge,
        ignoredTools: Array.from({ length: 100 }, () => huge),
        latencyMs: 1,
      },
      [],
    );
    const line = JSON.stringify({ ...event, text });
    expect(line.length).toBeLessThan(12_000);
    expect(event.tool).toMatch(/^x{200}… \(4194304 characters\)$/);
    expect(event.requestId).toMatch(/… \(4194304 characters\)$/);
    expect(event.resource).toMatch(/… \(4194312 characters\)$/);
    expect(event.ignoredTools).toHaveLength(21);
    expect(text).toMatch(/^t a called "x{200}…" \(4194304 characters\) on dataset x+… \(4194312 characters\): denied \(unknown tool: x+… \(4194304 characters\)\)$/);
  });

  it("redacts a secret across the cut before cutting, so no prefix of it is left", () => {
    const secret = "audit-SECRET-0123456789abcdef";
    for (let at = 180; at <= 205; at++) {
      const tool = "y".repeat(at) + secret + "z".repeat(50);
      const { event, text } = prepare({ time: "t", agent: "a", transport: "http", tool, decision: "denied", latencyMs: 0 }, [secret]);
      const line = JSON.stringify({ ...event, text });
      expect(line, `secret at ${at}`).not.toContain(secret.slice(0, 6));
    }
  });

  it("a known tool and plain values read as before; anything else is quoted and escaped", () => {
    const { text } = prepare(
      { time: "t", agent: "search", transport: "http", tool: "rerank", access: "read", decision: "allowed", resource: "2 documents with rerank-v3.5", status: 200, outcome: "ok", latencyMs: 41 },
      [],
    );
    expect(text).toBe("t search called rerank (read) on 2 documents with rerank-v3.5: allowed, 200 in 41 ms");
    const forged = prepare(
      { time: "t", agent: "search", transport: "http", tool: 'x"\n\u001b[2K\u202eevil', decision: "denied", reason: "unknown_tool", latencyMs: 0 },
      [],
    );
    expect(forged.text).toBe('t search called "x\\"\\n\\u001b[2K\\u202eevil": denied (unknown tool)');
    expect(forged.event.tool).toBe('x\\"\\n\\u001b[2K\\u202eevil');
  });
});

describe("over HTTP, hostile agents", () => {
  let srv: HttpServerProc;
  const audit = tempFile("hostile-audit.jsonl");
  beforeAll(async () => {
    const config = writeConfig({
      profiles: {
        open: { tools: ["rerank", "datasets"] },
        limited: { tools: ["rerank"], rate_limit: { per_minute: 3 } },
        strict: { tools: ["rerank"], limits: { refusals_per_minute: 2 } },
      },
      agents: [
        { name: "open-agent", profile: "open", token_env: "OPEN_TOKEN" },
        { name: "limited-agent", profile: "limited", token_env: "LIMITED_TOKEN" },
        { name: "strict-agent", profile: "strict", token_env: "STRICT_TOKEN" },
      ],
    });
    srv = await startHttp(
      emu.url,
      ["--config", config, "--audit-log", audit, "--max-body-bytes", String(9 * 1024 * 1024), "--max-refusals-per-minute", "8", "--request-timeout-ms", "600", "--max-retries", "0"],
      { OPEN_TOKEN, LIMITED_TOKEN, STRICT_TOKEN, COHERE_MCP_RATE_WINDOW_MS: "2000" },
    );
  });
  afterAll(async () => {
    await srv.stop();
  });
  const open = bearer(OPEN_TOKEN);

  /** Wait (bounded) for a fresh refusal window of the open agent (2 s "minutes"). */
  const freshWindow = () => new Promise((r) => setTimeout(r, 2_200));

  it("a 4 MB tool name costs a bounded audit line, marked with its length (finding 3)", async () => {
    const name = "n".repeat(4 * 1024 * 1024);
    const before = readLines(audit).length;
    const r = await rpc(srv.url, call(name), open);
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.messages[0])).toMatch(/Unknown tool/);
    await eventually(() => expect(readLines(audit).length).toBe(before + 1));
    const raw = readFileSync(audit, "utf8").trim().split("\n").at(-1)!;
    expect(Buffer.byteLength(raw)).toBeLessThan(2_000);
    const line = JSON.parse(raw) as Line;
    expect(line.tool).toMatch(/^n{200}… \(4194304 characters\)$/);
    expect(line.text).toContain("(4194304 characters)");
    expect(emu.requests).toEqual([]);
  });

  it("hostile names, ids and types cannot forge a line of `jq -r .text` (finding 4)", async () => {
    await freshWindow();
    const fake = "open-agent called delete_dataset (destructive) on dataset ds-1: allowed, 200 in 3 ms";
    const hostile = [
      `rerank\n${fake}`,
      `rerank\r${fake}`,
      `\u001b[2K\u001b[1G${fake}`,
      `\u202e${fake}`,
      `rerank\u2028${fake}`,
      `rerank\u0085${fake}`,
    ];
    const before = readLines(audit).length;
    for (const [i, name] of hostile.entries()) await rpc(srv.url, call(name, {}, i), open);
    // caller values inside a resource: an id (one path segment, but with escapes) and a dataset type
    await rpc(srv.url, call("get_dataset", { id: "ds\u001b[1A\u001b[2K\u202e" }, 10), open);
    await rpc(srv.url, call("list_datasets", { datasetType: `embed-input\n${fake}` }, 11), open);
    await eventually(() => expect(readLines(audit).length).toBe(before + hostile.length + 2));
    const lines = readLines(audit).slice(before);
    for (const l of lines) {
      const rendered = l.text; // what `jq -r .text` prints
      expect(rendered.split("\n"), rendered).toHaveLength(1);
      expect(FORBIDDEN.test(rendered), JSON.stringify(rendered)).toBe(false);
      expect(FORBIDDEN.test(l.tool), JSON.stringify(l.tool)).toBe(false);
      expect(FORBIDDEN.test(l.resource ?? ""), JSON.stringify(l.resource)).toBe(false);
      expect(rendered.startsWith(`${l.time} open-agent called `)).toBe(true);
    }
    for (const l of lines.slice(0, hostile.length)) {
      expect(l.decision).toBe("denied");
      expect(l.text).toMatch(/^\S+Z open-agent called "/); // the caller's name is quoted
      expect(l.text).toMatch(/: denied \(unknown tool\)$/);
    }
    expect(lines.find((l) => l.tool === "get_dataset")!.resource).toBe('dataset "ds\\u001b[1A\\u001b[2K\\u202e"');
    expect(lines.find((l) => l.tool === "list_datasets")!.text).toContain(`on "embed-input\\n${fake}" datasets`);
  });

  it("refused calls are charged to the agent's per_minute window (finding 3)", async () => {
    await freshWindow();
    const limited = bearer(LIMITED_TOKEN);
    for (let i = 0; i < 3; i++) {
      const r = await rpc(srv.url, call("no_such_tool", {}, i), limited);
      expect(JSON.stringify(r.messages[0])).toMatch(/Unknown tool/);
    }
    const good = await rpc(srv.url, call("rerank", RERANK, 9), limited);
    const result = good.messages[0]!.result as { isError?: boolean; content: Array<{ text: string }> };
    expect(result.isError).toBe(true);
    expect(result.content[0]!.text).toMatch(/^Rate limited \(429\): agent "limited-agent" has used its 3 calls/);
    expect(emu.requests).toEqual([]);
  });

  it("past --max-refusals-per-minute, refusals get a short 429 and one summary line per window (finding 3)", async () => {
    await freshWindow();
    const before = readLines(audit).length;
    const answers: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await rpc(srv.url, call(`nope_${i}`, {}, i), open);
      answers.push(((r.messages[0]!.result as { content: Array<{ text: string }> }).content[0]!).text);
    }
    expect(answers.slice(0, 8).every((t) => t.startsWith("Unknown tool"))).toBe(true);
    for (const t of answers.slice(8)) {
      expect(t).toMatch(/^Refused \(unknown tool\), and rate limited \(429\): agent "open-agent" has had more than 8 refused calls per 2 s \(--max-refusals-per-minute\)/);
      expect(t.length).toBeLessThan(300);
    }
    // the summary is written when the window ends
    const summary = await eventually(() => {
      const s = readLines(audit).slice(before).find((l) => l.reason === "throttled");
      expect(s).toBeDefined();
      return s!;
    }, 8_000, 100);
    const mine = readLines(audit).slice(before).filter((l) => l.agent === "open-agent");
    expect(mine.filter((l) => l.reason === "unknown_tool")).toHaveLength(8);
    expect(summary).toMatchObject({ agent: "open-agent", tool: "(refused calls)", decision: "denied", suppressed: 32 });
    expect(summary.text).toMatch(/^\S+Z open-agent: 32 further refused calls suppressed from \S+ to \S+ \(past 8 per 2 s, --max-refusals-per-minute\)$/);
  });

  it("a profile's limits.refusals_per_minute overrides the flag", async () => {
    const strict = bearer(STRICT_TOKEN);
    const texts: string[] = [];
    for (let i = 0; i < 4; i++) texts.push(textOf((await rpc(srv.url, call("nope", {}, i), strict)).messages[0]!.result));
    expect(texts.slice(0, 2).every((t) => t.startsWith("Unknown tool"))).toBe(true);
    expect(texts[2]).toMatch(/more than 2 refused calls per 2 s \(profile "strict" limits\.refusals_per_minute\)/);
  });

  it("a malformed tools/call gets a short -32602 and one audit line, on the fast path and the SDK path (finding 11)", async () => {
    await freshWindow();
    const before = readLines(audit).length;
    const shapes: Array<[string, unknown, RegExp]> = [
      ["name: number", { name: 123, arguments: {} }, /params\.name must be a string \(the tool's name\), got a number/],
      ["name: missing", { arguments: {} }, /params\.name is missing/],
      ["name: null", { name: null }, /params\.name must be a string .* got null/],
      ["arguments: array", { name: "rerank", arguments: [1, 2] }, /params\.arguments must be an object .* got an array/],
      ["arguments: string", { name: "rerank", arguments: "x" }, /params\.arguments must be an object .* got a string/],
    ];
    let n = 0;
    for (const path of ["fast", "sdk"] as const) {
      if (path === "sdk") await freshWindow(); // 10 refusals would pass this server's 8 per window
      for (const [shape, params, re] of shapes) {
        // _meta (a progress token) sends the call through the SDK's transport instead of the fast path
        const p = path === "sdk" ? { ...(params as object), _meta: { progressToken: 7 } } : params;
        const r = await rpc(srv.url, { jsonrpc: "2.0", id: 100 + n, method: "tools/call", params: p }, open);
        n++;
        expect(r.status, `${shape} (${path})`).toBe(200);
        const error = r.messages.find((m) => m.id === 99 + n)?.error as { code: number; message: string } | undefined;
        expect(error, `${shape} (${path}): ${r.body.slice(0, 300)}`).toBeDefined();
        expect(error!.code, shape).toBe(-32602);
        expect(error!.message, shape).toMatch(re);
        expect(error!.message.length, shape).toBeLessThan(200);
      }
    }
    await eventually(() => expect(readLines(audit).length).toBe(before + n));
    const lines = readLines(audit).slice(before);
    expect(lines.every((l) => l.decision === "denied" && l.reason === "invalid_input" && l.agent === "open-agent")).toBe(true);
    expect(lines.filter((l) => l.tool === "(tools/call)")).toHaveLength(6);
    expect(emu.requests).toEqual([]);
  });

  it("a stateless call cut by --request-timeout-ms or by the client going away is audited once, as cancelled (finding 11)", async () => {
    emu.addFault({ path: "/v2/rerank", times: 4, fault: { kind: "delay", ms: 3_000 } });
    const before = readLines(audit).length;
    // the fast path, and the SDK's transport (a progress token takes the call there)
    const sdk = { _meta: { progressToken: 5 } };
    for (const extra of [{}, sdk]) {
      const timedOut = await rpc(srv.url, call("rerank", RERANK, 1, extra), open);
      expect(JSON.stringify(timedOut.messages)).toMatch(/timed out after 600 ms/);
    }
    // a client that goes away mid-call
    for (const extra of [{}, sdk]) await goAway(JSON.stringify(call("rerank", RERANK, 2, extra)));
    await eventually(() => expect(readLines(audit).slice(before).filter((l) => l.tool === "rerank")).toHaveLength(4), 5_000);
    const lines = readLines(audit).slice(before).filter((l) => l.tool === "rerank");
    expect(lines.map((l) => l.outcome)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    expect(lines.map((l) => l.decision)).toEqual(["allowed", "allowed", "allowed", "allowed"]);
  });

  /** POST a call and close the connection 300 ms later, before the answer. */
  const goAway = (body: string) =>
    new Promise<void>((resolve) => {
      const u = new URL(srv.url);
      const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers: { ...MCP_HEADERS, ...open, "Content-Length": Buffer.byteLength(body) } });
      req.on("error", () => resolve());
      req.end(body);
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 300);
    });

  it("no line holds a token or the key", async () => {
    const text = readFileSync(audit, "utf8");
    for (const s of [TEST_KEY, OPEN_TOKEN, LIMITED_TOKEN, STRICT_TOKEN]) expect(text).not.toContain(s);
    expect((await rawRequest(`${srv.origin}/healthz`, { method: "GET" })).status).toBe(200);
  });
});
