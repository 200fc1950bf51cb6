/**
 * OpenTelemetry is off by default (issue 24): without --otel, an OTEL_EXPORTER_OTLP_*ENDPOINT or
 * --audit-otlp, a server that lists tools and makes calls resolves no module of the SDK (a module
 * resolve hook records every @opentelemetry URL); OTEL_SDK_DISABLED=true keeps it off even with
 * an endpoint set; --otel loads it (the hook sees it: the check is not blind). Misconfiguration
 * fails the start.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { ENTRY, runCli, TEST_KEY } from "./helpers.js";
import { tempFile } from "./http-support.js";
import { startOtlpReceiver, type OtlpReceiver } from "./helpers/otlp-receiver.js";

const HOOK = fileURLToPath(new URL("./helpers/record-loads.mjs", import.meta.url));

let emu: CohereEmulator;
let rec: OtlpReceiver;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  rec = await startOtlpReceiver();
});
afterAll(async () => {
  await rec.stop();
  await emu.stop();
});

/** Start a stdio server under the hook, list tools, make a call, stop; the @opentelemetry URLs it resolved. */
async function loadsOf(args: string[], env: Record<string, string>): Promise<string[]> {
  const record = tempFile("loads.txt");
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ["--import", HOOK, ENTRY, ...args],
    env: { PATH: process.env.PATH ?? "", CO_API_KEY: TEST_KEY, CO_API_URL: emu.url, RECORD_LOADS: record, ...env },
    stderr: "pipe",
  });
  const client = new Client({ name: "otel-off", version: "1" });
  await client.connect(transport);
  await client.listTools();
  const r = await client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a", "b"] } });
  expect(r.isError).toBeFalsy();
  await client.close();
  return existsSync(record) ? readFileSync(record, "utf8").trim().split("\n").filter(Boolean) : [];
}

describe("off by default", () => {
  it("no @opentelemetry module is loaded without --otel, nor with OTEL_SDK_DISABLED=true beside an endpoint; --otel loads it", async () => {
    expect(await loadsOf([], {})).toEqual([]);
    expect(await loadsOf(["--audit-log", tempFile("a.jsonl")], { OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: rec.url, COHERE_MCP_AUDIT_OTLP: "1" })).toEqual([]);
    const on = await loadsOf(["--otel"], { OTEL_EXPORTER_OTLP_ENDPOINT: rec.url });
    expect(on.some((u) => u.includes("/@opentelemetry/sdk-trace-base/"))).toBe(true);
  }, 30_000);

  it("a misconfiguration stops the start with a clear message", async () => {
    const bad = await runCli(["--otel"], { CO_API_KEY: TEST_KEY, OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (gRPC is not supported)");
    const sampler = await runCli([], { CO_API_KEY: TEST_KEY, OTEL_EXPORTER_OTLP_ENDPOINT: rec.url, OTEL_TRACES_SAMPLER: "sometimes" });
    expect(sampler.code).toBe(2);
    expect(sampler.stderr).toContain("OTEL_TRACES_SAMPLER must be one of");
    const url = await runCli([], { CO_API_KEY: TEST_KEY, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "collector:4318" });
    expect(url.code).toBe(2);
    expect(url.stderr).toContain("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    const flag = await runCli([], { CO_API_KEY: TEST_KEY, COHERE_MCP_OTEL: "maybe" });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("COHERE_MCP_OTEL must be true or false");
  }, 30_000);
});
