/**
 * Bypass shapes around the file and size rules (issue 8) over stdio: a file read outside
 * --allow-file-read through a directory swap race and through FIFOs, arguments that pass the
 * item counts by size (one 1 MB document, 96 inputs of 50 content parts), and a message over
 * the stdio size limit that used to stop the server.
 */
import { describe, expect, it } from "vitest";
import { execFileSync, spawn } from "node:child_process";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSwapper } from "../swap-race.js";
import { BENCH_KEY, ENTRY, connectOurStdio, scrubbedEnv, textOf } from "../../bench/lib.js";
import { dir, emu, note, useBypassWorld, RawStdio } from "./support.js";

useBypassWorld("files and sizes");

// ---------------------------------------------------------------------------------------------
// Issue 8: around the file rules, the argument size rules and the stdio size limit

describe("issue 8 shapes over stdio: files outside the allowed directory, sizes past the rules", () => {
  const RACE_CALLS = Number(process.env.BYPASS_RACE_CALLS ?? 400);

  it(`a directory swap race during ${RACE_CALLS} create_dataset calls never sends an outside file upstream`, async (ctx) => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-bypass-race-")));
    const dirIn = join(base, "allowed");
    const dirOut = join(base, "outside");
    mkdirSync(join(dirIn, "race"), { recursive: true });
    mkdirSync(dirOut);
    writeFileSync(join(dirIn, "race", "secret.jsonl"), '{"text":"inside"}\n');
    writeFileSync(join(dirOut, "secret.jsonl"), '{"text":"OUTSIDE"}\n');
    symlinkSync(dirOut, join(dirIn, "swap"));
    const c = await connectOurStdio(emu.url, ["--tools", "create_dataset", "--allow-file-read", dirIn]);
    const swapper = startSwapper(join(dirIn, "race"), join(dirIn, "swap"));
    if (typeof swapper === "string") {
      await c.close();
      return ctx.skip(swapper);
    }
    let refused = 0;
    try {
      for (let i = 0; i < RACE_CALLS; i++) {
        note("stdio", "file path: directory swapped for a symlink out during the read");
        const r = await c.client.callTool({ name: "create_dataset", arguments: { name: "d", type: "embed-input", data_path: "race/secret.jsonl" } });
        if ((r as { isError?: boolean }).isError) refused++;
      }
    } finally {
      await swapper.stop();
      await c.close();
    }
    const uploads = emu.requests.filter((q) => q.multipart);
    const outside = uploads.filter((q) => q.multipart!.files.data?.text.includes("OUTSIDE"));
    console.log(`bypass: swap race: ${RACE_CALLS} calls, ${uploads.length} uploads (all inside), ${refused} refused, ${outside.length} outside`);
    expect(outside).toEqual([]);
    expect(uploads.length + refused).toBe(RACE_CALLS);
  });

  it("FIFOs and other non-regular files by path are refused at once and send nothing", async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-bypass-fifo-")));
    const fifos = [0, 1, 2, 3, 4, 5].map((i) => join(base, `p${i}.jsonl`));
    for (const f of fifos) execFileSync("mkfifo", [f]);
    mkdirSync(join(base, "dir.jsonl"));
    const c = await connectOurStdio(emu.url, ["--tools", "create_dataset", "--allow-file-read", base]);
    try {
      const calls = [...fifos.map((f) => f.slice(base.length + 1)), "dir.jsonl"].map((p) => {
        note("stdio", "file path: a FIFO or directory instead of a file");
        return c.client.callTool({ name: "create_dataset", arguments: { name: "d", type: "embed-input", data_path: p } });
      });
      const timeout = new Promise<"timed out">((r) => setTimeout(() => r("timed out"), 15_000).unref());
      const all = await Promise.race([Promise.all(calls), timeout]);
      expect(all).not.toBe("timed out");
      for (const r of all as Array<{ isError?: boolean }>) expect(textOf(r)).toMatch(/is not a regular file/);
      expect(emu.requests).toEqual([]);
    } finally {
      for (const f of fifos) {
        try {
          closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
        } catch {
          /* no reader waiting */
        }
      }
      await c.close();
    }
  });

  it("arguments past the size rules (one 1 MB document, 96 inputs × 50 content parts, text split many ways) send nothing", async () => {
    const cfg = join(dir, `bypass-sizes-${process.pid}.json`);
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: {
          sized: { tools: ["rerank", "embed", "chat", "tokenize"], arguments: { max_documents: 100, max_inputs: 96, max_input_chars: 100_000, max_content_parts: 200 } },
        },
      }),
    );
    const c = await connectOurStdio(emu.url, ["--config", cfg, "--profile", "sized"]);
    const parts = (n: number, k: number) => Array.from({ length: n }, () => ({ content: Array.from({ length: k }, () => ({ type: "text", text: "t" })) }));
    const shapes: Array<[string, string, Record<string, unknown>, RegExp]> = [
      ["size: one 1 MB rerank document", "rerank", { model: "rerank-v3.5", query: "q", documents: ["x".repeat(1_000_000)] }, /max_input_chars/],
      ["size: 100 documents of 1,100 characters", "rerank", { model: "rerank-v3.5", query: "q", documents: Array.from({ length: 100 }, () => "y".repeat(1_100)) }, /max_input_chars/],
      ["size: a 120,000-character query", "rerank", { model: "rerank-v3.5", query: "q".repeat(120_000), documents: ["a"] }, /max_input_chars/],
      ["size: 96 embed inputs × 50 content parts", "embed", { model: "embed-v4.0", input_type: "search_document", inputs: parts(96, 50) }, /max_content_parts/],
      ["size: 1 embed input × 201 content parts", "embed", { model: "embed-v4.0", input_type: "search_document", inputs: parts(1, 201) }, /max_content_parts/],
      ["size: chat with 201 messages", "chat", { model: "command-a-03-2025", messages: Array.from({ length: 201 }, () => ({ role: "user", content: "hi" })) }, /max_content_parts/],
      ["size: chat text split over many parts", "chat", { model: "command-a-03-2025", messages: [{ role: "user", content: Array.from({ length: 150 }, () => ({ type: "text", text: "z".repeat(700) })) }] }, /max_input_chars/],
    ];
    try {
      for (const [shape, name, args, rule] of shapes) {
        note("stdio", shape);
        const r = await c.client.callTool({ name, arguments: args });
        expect((r as { isError?: boolean }).isError, shape).toBe(true);
        expect(textOf(r), shape).toMatch(rule);
        expect(textOf(r), shape).toMatch(/Nothing was sent to Cohere/);
      }
      expect(emu.requests).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it("a message over the stdio size limit is answered with an error, and the server keeps serving", async () => {
    const child = spawn(process.execPath, [ENTRY], { env: scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emu.url }), stdio: ["pipe", "pipe", "pipe"] });
    child.stderr!.resume();
    const raw = new RawStdio(child);
    try {
      await raw.request(1, "initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "big", version: "1" } });
      raw.send({ jsonrpc: "2.0", method: "notifications/initialized" });
      note("stdio", "message over --max-message-bytes (11 MB base64 audio)");
      const big = await raw.request(2, "tools/call", {
        name: "transcribe_audio",
        arguments: { model: "cohere-transcribe-03-2026", language: "en", file_base64: "A".repeat(11 * 1024 * 1024) },
      });
      expect((big.error as { message: string }).message).toMatch(/over this server's limit of 10485760 bytes.*--allow-file-read/);
      const ping = await raw.request(3, "ping", {});
      expect(ping.result).toEqual({});
      expect(child.exitCode).toBeNull();
      expect(emu.requests).toEqual([]);
    } finally {
      child.stdin!.end();
      child.kill();
    }
  });
});
