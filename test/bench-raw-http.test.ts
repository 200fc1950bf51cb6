/**
 * The bench's raw-HTTP client (bench/raw-http.ts), which the throughput comparison between eras
 * rests on: each era's requests are served by that era (the audit line records it), answered
 * in full (the tagged rerank decodes), and a refused request is counted, not taken for a call.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { startHttp, tempFile, type HttpServerProc } from "./http-support.js";
import { connectRawHttp } from "../bench/raw-http.js";
import { decodeRerankTag, taggedRerankArgs } from "../bench/lib.js";

describe("bench: raw-HTTP client of each era", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  const audit = tempFile("raw-http.jsonl");
  beforeAll(async () => {
    emu = await startEmulator();
    srv = await startHttp(emu.url, ["--audit-log", audit]);
  });
  afterAll(async () => {
    await srv?.stop();
    await emu?.stop();
  });

  it("legacy and modern tools/call are served by their own era, decode, and failures are counted", async () => {
    for (const era of ["legacy", "modern"] as const) {
      const c = await connectRawHttp(srv.url, era, `raw-${era}`);
      try {
        for (const tag of [12, 345]) expect(decodeRerankTag(await c.client.callTool({ name: "rerank", arguments: taggedRerankArgs(tag) }))).toBe(tag);
        // an argument the schema refuses: a tool error result (isError), not an HTTP or JSON-RPC failure
        const bad = (await c.client.callTool({ name: "rerank", arguments: { query: "q" } })) as { isError?: boolean };
        expect(bad.isError).toBe(true);
        // a tool name that is not a string is a JSON-RPC error in both eras: thrown and counted
        await expect(c.client.callTool({ name: 42 as unknown as string, arguments: {} })).rejects.toThrow(/JSON-RPC error/);
        expect(c.failures()).toEqual({ status: 0, rpc: 1 });
      } finally {
        await c.close();
      }
    }
    // headers that disagree with the envelope: refused with 400, and the client says so
    await expect(connectRawHttp(srv.url, "modern", "raw-mismatch", { "mcp-protocol-version": "2025-11-25" })).rejects.toThrow(/HTTP 400/);
    const eras = readFileSync(audit, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { tool?: string; era?: string; outcome?: string })
      .filter((l) => l.tool === "rerank" && l.outcome === "ok")
      .map((l) => l.era);
    expect(eras).toEqual(["legacy", "legacy", "modern", "modern"]);
  });
});
