/**
 * Cancellation over a real MCP client (notifications/cancelled) against the emulator: the
 * upstream request is aborted at once, streams included; the emulator sees the socket close;
 * no retry starts. Prints the measured cancel → socket-closed time.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, TEST_KEY, type Connected } from "./helpers.js";

let emu: CohereEmulator;
let c: Connected;
const auditFile = join(mkdtempSync(join(tmpdir(), "cmcp-cancel-")), "audit.jsonl");

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", "chat,rerank,embed_jobs,datasets", "--allow-write", "--audit-log", auditFile], {
    CO_API_KEY: TEST_KEY,
    COHERE_MCP_POLL_INTERVAL_MS: "200",
  });
});
afterAll(async () => {
  await c.close();
  await emu.stop();
});
beforeEach(() => emu.reset());

const LONG = Array.from({ length: 80 }, (_, i) => `word${i}`).join(" ");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const audit = () =>
  readFileSync(auditFile, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { tool: string; outcome?: string; decision: string });

/** Start a streamed chat, cancel it at the first progress; times from cancel to socket closed and to the client's rejection. */
async function cancelMidStream(): Promise<{ closedMs: number; rejectedMs: number; pieces: number }> {
  const ac = new AbortController();
  let t0 = 0;
  let pieces = 0;
  const call = c.client.callTool(
    { name: "chat", arguments: { model: "command-a-03-2025", messages: [{ role: "user", content: LONG }] } },
    undefined,
    {
      signal: ac.signal,
      onprogress: () => {
        pieces++;
        if (!t0) {
          t0 = performance.now();
          ac.abort("user pressed stop");
        }
      },
    },
  );
  const firstNew = (emu.requests.at(-1)?.id ?? 0) + 1;
  const closed = emu.waitForAbort((r) => r.path === "/v2/chat" && r.id >= firstNew, 5_000).then(() => performance.now());
  const rejected = call.then(
    () => {
      throw new Error("the call should have been cancelled");
    },
    () => performance.now(),
  );
  const [tClosed, tRejected] = await Promise.all([closed, rejected]);
  return { closedMs: tClosed - t0, rejectedMs: tRejected - t0, pieces };
}

describe("cancellation", () => {
  it("cancel mid-stream closes the upstream socket at once, returns promptly, no retry", async () => {
    emu.setStreamChunkDelay(40); // 80 words in 16 events: ~600 ms of stream
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { closedMs, rejectedMs, pieces } = await cancelMidStream();
      expect(pieces).toBeLessThan(4);
      expect(rejectedMs).toBeLessThan(100);
      expect(closedMs).toBeLessThan(250);
      runs.push(closedMs);
    }
    await sleep(300);
    // one request per call, each aborted: nothing was sent again
    expect(emu.requests).toHaveLength(5);
    expect(emu.requests.every((r) => r.aborted === true)).toBe(true);
    const sorted = [...runs].sort((a, b) => a - b);
    console.log(
      `cancel → upstream socket closed (stdio client → cohere-mcp → emulator), 5 runs: ` +
        `median ${sorted[2]!.toFixed(1)} ms, max ${sorted[4]!.toFixed(1)} ms`,
    );
    const lines = audit().filter((a) => a.tool === "chat");
    expect(lines.slice(-5).every((a) => a.decision === "allowed" && a.outcome === "cancelled")).toBe(true);
  });

  it("cancel while waiting on a slow non-streamed answer closes the socket too", async () => {
    emu.addFault({ path: "/v2/rerank", fault: { kind: "delay", ms: 3_000 } });
    const ac = new AbortController();
    const call = c.client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a"] } }, undefined, {
      signal: ac.signal,
    });
    while (emu.requests.length === 0) await sleep(5);
    const t0 = performance.now();
    ac.abort();
    await expect(call).rejects.toThrow();
    await emu.waitForAbort((r) => r.path === "/v2/rerank", 2_000);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(emu.requests).toHaveLength(1);
  });

  it("cancel during a retry wait: the retry never starts", async () => {
    emu.addFault({ path: "/v2/rerank", fault: { kind: "status", status: 503, retryAfter: "1" } });
    const ac = new AbortController();
    const call = c.client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a"] } }, undefined, {
      signal: ac.signal,
    });
    while (emu.requests.length === 0) await sleep(5);
    await sleep(50); // inside the 1 s Retry-After wait
    ac.abort();
    await expect(call).rejects.toThrow();
    await sleep(1_300);
    expect(emu.requests).toHaveLength(1);
  });

  it("cancel stops a wait tool: no more polls", async () => {
    const ds = await c.client.callTool({ name: "create_dataset", arguments: { name: "d", type: "embed-input", data_text: '{"text":"a"}\n' } });
    const job = await c.client.callTool({
      name: "create_embed_job",
      arguments: { model: "embed-v4.0", dataset_id: (ds.structuredContent as { id: string }).id, input_type: "search_document" },
    });
    const id = (job.structuredContent as { job_id: string }).job_id;
    emu.setLatency(150);
    const ac = new AbortController();
    const call = c.client.callTool({ name: "wait_for_embed_job", arguments: { id, timeout_s: 30 } }, undefined, {
      signal: ac.signal,
      onprogress: () => ac.abort(),
    });
    await expect(call).rejects.toThrow();
    const gets = () => emu.requests.filter((r) => r.method === "GET").length;
    const seen = gets();
    await sleep(800);
    expect(gets()).toBe(seen);
    expect(seen).toBeLessThanOrEqual(2);
  });
});
