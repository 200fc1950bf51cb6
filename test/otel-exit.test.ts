/**
 * With COHERE_MCP_OTEL_EXPORT_WORKER=1 spans are exported from a worker thread
 * (src/telemetry/worker-export.ts; the other otel tests cover the default, the main thread). A stdio server with
 * --otel still exits promptly when its stdin closes, whatever the collector does (answers, hangs
 * for 10 s, is down), and a short session's spans reach a collector that answers: the last batch
 * is flushed through the worker before the process exits. And the worker alone never keeps a
 * process alive (a program that starts the telemetry and ends, as the bench harnesses do).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { ENTRY, TEST_KEY } from "./helpers.js";
import { startOtlpReceiver, type OtlpReceiver } from "./helpers/otlp-receiver.js";
import { freePort } from "../bench/lib.js";

let emu: CohereEmulator;
let ok: OtlpReceiver;
let slow: OtlpReceiver;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  [ok, slow] = await Promise.all([startOtlpReceiver(), startOtlpReceiver()]);
  slow.mode = "slow";
});
afterAll(async () => {
  await Promise.all([ok.stop(), slow.stop()]);
  await emu.stop();
});

/** One rerank call over a raw stdio pipe, then stdin's end: how long until the process exited, and its code. */
async function callThenEnd(endpoint: string, extra: Record<string, string> = {}): Promise<{ ms: number; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [ENTRY, "--otel"], {
    env: { PATH: process.env.PATH ?? "", CO_API_KEY: TEST_KEY, CO_API_URL: emu.url, OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: "always_on", ...extra },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  let out = "";
  const answered = new Promise<void>((r) =>
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes('"id":2')) r();
    }),
  );
  const send = (m: unknown) => child.stdin.write(JSON.stringify(m) + "\n");
  send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
  send({ jsonrpc: "2.0", method: "notifications/initialized" });
  send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a", "b"] } } });
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    await answered;
    const t0 = performance.now();
    child.stdin.end();
    const code = await exited;
    return { ms: performance.now() - t0, code, stderr };
  } finally {
    clearTimeout(killer);
  }
}

describe("--otel with the export worker: the process exits when stdin closes", () => {
  it("promptly, whether the collector answers, hangs or is down; an answering collector has the session's spans", async () => {
    const down = `http://127.0.0.1:${await freePort()}`;
    const worker = { COHERE_MCP_OTEL_EXPORT_WORKER: "1" };
    const [answering, hanging, nobody] = await Promise.all([callThenEnd(ok.url, worker), callThenEnd(slow.url, worker), callThenEnd(down, worker)]);
    for (const r of [answering, hanging, nobody]) {
      expect(r.code, r.stderr).toBe(0);
      // the shutdown waits for the exporters at most 3 s (src/telemetry/otel.ts): never the collector's 10 s
      expect(r.ms, r.stderr).toBeLessThan(6_000);
    }
    // the last batch went through the worker before the exit
    expect(ok.spans.map((s) => s.name)).toContain("tools/call rerank");
  }, 40_000);

  it("through the worker, a call's span tree arrives whole (its children under its span)", async () => {
    const before = ok.spans.length;
    const r = await callThenEnd(ok.url, { COHERE_MCP_OTEL_EXPORT_WORKER: "1" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.ms, r.stderr).toBeLessThan(6_000);
    const mine = ok.spans.slice(before);
    const call = mine.find((s) => s.name === "tools/call rerank")!;
    expect(call, JSON.stringify(mine.map((s) => s.name))).toBeDefined();
    expect(mine.filter((s) => s.parentSpanId === call.spanId).map((s) => s.name).sort()).toEqual(["POST /v2/rerank"]);
  }, 20_000);
});

const TELEMETRY = fileURLToPath(new URL("../dist/src/telemetry/index.js", import.meta.url));

describe("the span export worker", () => {
  it("never keeps a process alive: a program that starts the telemetry, traces a request and ends, exits by itself", async () => {
    const script = [
      `import { startTelemetry } from ${JSON.stringify(TELEMETRY)};`,
      `const quiet = { info() {}, warn() {}, error() {} };`,
      `const t = await startTelemetry({ flag: true, auditOtlp: false }, process.env, { logger: quiet, secrets: () => [], replica: "t" });`,
      `await t.request({ method: "tools/list", transport: "stdio" }, async () => undefined);`,
      `console.log("traced", t.enabled);`,
    ].join("\n");
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env: { PATH: process.env.PATH ?? "", OTEL_EXPORTER_OTLP_ENDPOINT: ok.url, COHERE_MCP_OTEL_EXPORT_WORKER: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    // a process held open by the worker would run until this kill (exit code null)
    const killer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    clearTimeout(killer);
    expect(out).toContain("traced true");
    expect(code, out).toBe(0);
  }, 20_000);

  it("its entry imported on the main thread does nothing (the container image's load check imports every module of dist/)", async () => {
    const entry = fileURLToPath(new URL("../dist/src/telemetry/export-worker.js", import.meta.url));
    const child = spawn(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(entry)}); console.log("imported");`], {
      env: { PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    expect(out).toContain("imported");
    expect(code, out).toBe(0);
  }, 20_000);
});
