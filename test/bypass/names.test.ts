/**
 * Allowlist bypass by name (issue 5) over stdio: case changes, unicode look-alikes, zero-width
 * characters, whitespace, trailing dots and separators, prefixes, the exact names of every
 * hidden tool, non-string names; raw JSON-RPC: a second `initialize`, batch arrays, messages that
 * are not JSON-RPC. Every audit line's `text` is one line with no control or bidi character
 * whatever the name held (issue 8). An agent that keeps trying is throttled: past
 * --max-refusals-per-minute its refusals are a short 429 and one summary line (issue 8).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_KEY, ENTRY, connectOurStdio, scrubbedEnv, textOf, type McpConn } from "../../bench/lib.js";
import { GROUPS_AND_GLOBS, HIDDEN_TARGETS, dir, emu, expectSafeAudit, note, useBypassWorld, variants, RawStdio } from "./support.js";

useBypassWorld("names");

describe("over stdio (default flags: 17 read tools visible)", () => {
  let c: McpConn;
  const audit = join(dir, `bypass-stdio-audit-${process.pid}.jsonl`);
  let visible: Set<string>;
  let hidden: string[];
  let attempts = 0;

  beforeAll(async () => {
    // every attempt audited one by one (the refusal throttle has its own test below)
    c = await connectOurStdio(emu.url, ["--audit-log", audit, "--max-refusals-per-minute", "0"]);
    visible = new Set((await c.client.listTools()).tools.map((t) => t.name));
    hidden = (JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "tools.manifest.json"), "utf8")) as { tools: Array<{ name: string }> }).tools
      .map((t) => t.name)
      .filter((n) => !visible.has(n));
  });
  afterAll(async () => c?.close());

  let protocolRefusals = 0;
  async function refused(name: unknown, args: Record<string, unknown>, shape: string): Promise<void> {
    attempts++;
    note("stdio", shape);
    let r: unknown;
    try {
      r = await c.client.callTool({ name: name as string, arguments: args });
    } catch {
      protocolRefusals++; // a JSON-RPC error is a refusal too (the SDK checks the request's shape first)
      return;
    }
    expect((r as { isError?: boolean }).isError, `${shape}: ${JSON.stringify(name)} → ${textOf(r)}`).toBe(true);
  }

  it("every hidden tool by its exact name is refused, and says how to enable it", async () => {
    expect(hidden.length).toBeGreaterThanOrEqual(25);
    for (const name of hidden) {
      await refused(name, HIDDEN_TARGETS[name] ?? {}, "tools/call name: exact name of a hidden tool");
    }
    expect(emu.requests).toEqual([]);
  });

  it("look-alike spellings of hidden tools are refused", async () => {
    for (const [target, args] of Object.entries(HIDDEN_TARGETS)) {
      for (const [shape, name] of variants(target)) await refused(name, args, `tools/call name: ${shape}`);
    }
    for (const g of GROUPS_AND_GLOBS) await refused(g, { id: "ds-1" }, "tools/call name: group, glob or keyword");
    expect(emu.requests).toEqual([]);
  });

  it("non-string and structured names, and non-object arguments, are refused", async () => {
    for (const [shape, name] of [
      ["name: number", 123],
      ["name: null", null],
      ["name: true", true],
      ["name: array", ["delete_dataset"]],
      ["name: object", { name: "delete_dataset" }],
    ] as const) {
      await refused(name, { id: "ds-1" }, `tools/call ${shape}`);
    }
    for (const [shape, args] of [
      ["arguments: array", ["ds-1"]],
      ["arguments: string", "ds-1"],
      ["arguments: null", null],
    ] as const) {
      await refused("delete_dataset", args as unknown as Record<string, unknown>, `tools/call ${shape}`);
    }
    expect(emu.requests).toEqual([]);
  });

  it("arguments or _meta that name tools or flags do not widen anything", async () => {
    for (const [shape, args] of [
      ["arguments.tools = '*'", { id: "ds-1", tools: "*" }],
      ["arguments.allow_destructive = true", { id: "ds-1", allow_destructive: true, "--allow-destructive": true }],
      ["arguments.__proto__ widening", JSON.parse('{"id":"ds-1","__proto__":{"allowDestructive":true,"visible":["delete_dataset"]}}') as Record<string, unknown>],
    ] as const) {
      await refused("delete_dataset", args, `tools/call with ${shape}`);
    }
    attempts++;
    note("stdio", "tools/call with params._meta naming tools");
    const r = await c.client.request(
      { method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" }, _meta: { tools: "*", profile: "admin" } } },
      (await import("@modelcontextprotocol/sdk/types.js")).CallToolResultSchema,
    );
    expect(r.isError).toBe(true);
    expect(emu.requests).toEqual([]);
  });

  it("one denied audit line per attempt (malformed ones included), none of them a hidden tool allowed, none forged", async () => {
    await c.close();
    const raw = readFileSync(audit, "utf8");
    const lines = raw.trim().split("\n").map((l) => JSON.parse(l) as { decision: string; tool: string; reason: string });
    // malformed calls (non-string names, non-object arguments) are answered -32602 and audited too
    expect(lines.length).toBe(attempts);
    expect(protocolRefusals).toBe(8);
    expect(lines.filter((l) => l.decision !== "denied")).toEqual([]);
    expect(lines.filter((l) => l.reason === "invalid_input" && l.tool === "(tools/call)")).toHaveLength(5);
    expectSafeAudit(raw);
    expect(raw).not.toContain(BENCH_KEY);
  });
});

// ---------------------------------------------------------------------------------------------
// Raw JSON-RPC over stdio: a second initialize, batches

describe("raw JSON-RPC over stdio", () => {
  let child: ChildProcess;
  let raw: RawStdio;
  beforeAll(async () => {
    child = spawn(process.execPath, [ENTRY], {
      env: scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emu.url }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stderr!.resume();
    raw = new RawStdio(child);
    const init = await raw.request(1, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "bypass", version: "1" },
    });
    expect(init.result).toBeTruthy();
    raw.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  });
  afterAll(() => {
    child.stdin!.end();
    child.kill();
  });

  it("a second initialize (other client info, elicitation, sampling, roots) widens nothing", async () => {
    note("stdio", "second initialize, then tools/list and a hidden call");
    const again = await raw.request(2, "initialize", {
      protocolVersion: "2025-06-18",
      capabilities: { elicitation: {}, sampling: {}, roots: { listChanged: true }, experimental: { tools: "*" } },
      clientInfo: { name: "admin", version: "9" },
    });
    expect(again.error ?? again.result).toBeTruthy();
    const list = await raw.request(3, "tools/list", {});
    const names = ((list.result as { tools: Array<{ name: string }> }).tools ?? []).map((t) => t.name);
    expect(names).not.toContain("delete_dataset");
    expect(names.length).toBe(17);
    const call = await raw.request(4, "tools/call", { name: "delete_dataset", arguments: { id: "ds-1" } });
    expect(call.error ?? (call.result as { isError?: boolean }).isError).toBeTruthy();
    expect(emu.requests).toEqual([]);
  });

  it("batch arrays (hidden calls, initialize + call) reach nothing, and the server keeps answering", async () => {
    const batches: Array<[string, unknown[]]> = [
      ["batch: two hidden calls", [
        { jsonrpc: "2.0", id: 10, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" } } },
        { jsonrpc: "2.0", id: 11, method: "tools/call", params: { name: "cancel_batch", arguments: { id: "b-1" } } },
      ]],
      ["batch: initialize + hidden call", [
        { jsonrpc: "2.0", id: 12, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } },
        { jsonrpc: "2.0", id: 13, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" } } },
      ]],
      ["batch: visible + hidden call", [
        { jsonrpc: "2.0", id: 14, method: "tools/call", params: { name: "list_datasets", arguments: {} } },
        { jsonrpc: "2.0", id: 15, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" } } },
      ]],
      ["batch: nested array", [[{ jsonrpc: "2.0", id: 16, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-1" } } }]]],
    ];
    for (const [shape, batch] of batches) {
      note("stdio", shape);
      raw.send(batch);
    }
    // then a normal request must still be answered
    const ping = await raw.request(20, "ping", {});
    expect(ping.result).toEqual({});
    await new Promise((r) => setTimeout(r, 200));
    const hiddenHits = emu.requests.filter((r) => /datasets\/ds-1|batches\/b-1/.test(r.path));
    expect(hiddenHits).toEqual([]);
    // whatever answered a batched hidden call, it was not a success
    for (const m of raw.all) {
      if (m.id === 10 || m.id === 11 || m.id === 13 || m.id === 15 || m.id === 16) {
        expect(m.error ?? (m.result as { isError?: boolean } | undefined)?.isError).toBeTruthy();
      }
    }
  });

  it("a message that is not JSON-RPC, or not JSON, does not stop the server", async () => {
    for (const junk of ["{", "[]", "null", '"tools/call"', '{"jsonrpc":"2.0","id":30,"method":"tools/call","params":"delete_dataset"}']) {
      note("stdio", "malformed message, then a ping");
      child.stdin!.write(junk + "\n");
    }
    const ping = await raw.request(31, "ping", {});
    expect(ping.result).toEqual({});
    expect(emu.requests.filter((r) => r.method === "DELETE")).toEqual([]);
  });
});

// An agent that keeps trying (issue 8, finding 3): refusals are not free to repeat forever.

describe("an agent that keeps trying, with the default refusal throttle (stdio)", () => {
  it("past 60 refusals a minute: a short 429 each, no line each, one summary line; nothing sent", async () => {
    const audit = join(dir, `bypass-throttle-audit-${process.pid}.jsonl`);
    const c = await connectOurStdio(emu.url, ["--audit-log", audit]);
    const answers: string[] = [];
    try {
      for (let i = 0; i < 150; i++) {
        note("stdio", "repeated hidden calls past --max-refusals-per-minute");
        const r = await c.client.callTool({ name: "delete_dataset", arguments: { id: `ds-${i}` } });
        expect(r.isError).toBe(true);
        answers.push(textOf(r));
      }
    } finally {
      await c.close(); // the server writes the window's summary as it closes
    }
    expect(answers.slice(0, 60).every((t) => t.startsWith("Tool delete_dataset (destructive) is not enabled"))).toBe(true);
    expect(answers.slice(60).every((t) => /^Refused \(not in profile\), and rate limited \(429\)/.test(t))).toBe(true);
    const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { reason: string; suppressed?: number; text: string });
    expect(lines.filter((l) => l.reason === "not_in_profile")).toHaveLength(60);
    const summary = lines.filter((l) => l.reason === "throttled");
    expect(summary).toHaveLength(1);
    expect(summary[0]!.suppressed).toBe(90);
    expect(summary[0]!.text).toMatch(/^\S+Z stdio: 90 further refused calls suppressed/);
    expect(emu.requests).toEqual([]);
  });
});
