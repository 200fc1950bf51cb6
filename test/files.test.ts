/**
 * File inputs by path: off unless --allow-file-read; inside the allowed directory only (no '..',
 * no symlink out, no absolute path elsewhere, size limit); over HTTP only for profiles with
 * allow_file_read. Every refusal sends nothing to Cohere.
 *
 * Issue 8: a directory swapped for a symlink out while a read is in flight (a real renameat2
 * race) never yields an outside file (finding 1); FIFOs in the directory do not block the file
 * threads for everyone (finding 2); refusals never show the allowed directory's absolute path,
 * only its label (finding 13).
 */
import { execFileSync } from "node:child_process";
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { createApp } from "../src/runtime/app.js";
import type { AuditEvent } from "../src/audit/index.js";
import { parseOptions } from "../src/config/options.js";
import { createLogger } from "../src/runtime/logger.js";
import { FileRefused, readAllowedFile } from "../src/call/files.js";
import { callTool } from "../src/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";
import { startSwapper } from "./swap-race.js";

let emu: CohereEmulator;
const root = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-files-")));
const allowed = join(root, "allowed");
const outside = join(root, "outside");
const JSONL = '{"text":"hello"}\n{"text":"world"}\n';

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  mkdirSync(join(allowed, "sub"), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(allowed, "data.jsonl"), JSONL);
  writeFileSync(join(allowed, "sub", "nested.jsonl"), '{"text":"nested"}\n');
  writeFileSync(join(allowed, "talk.wav"), Buffer.from([0x52, 0x49, 0x46, 0x46, 0x00, 0xff, 0x10]));
  writeFileSync(join(allowed, "big.jsonl"), '{"text":"x"}\n'.repeat(200));
  writeFileSync(join(outside, "secret.jsonl"), '{"text":"secret"}\n');
  symlinkSync(join(outside, "secret.jsonl"), join(allowed, "link-out.jsonl"));
  symlinkSync(outside, join(allowed, "dir-out"));
  symlinkSync(join(allowed, "data.jsonl"), join(allowed, "link-in.jsonl"));
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const dataset = (data_path: string) => ({ name: "d", type: "embed-input", data_path });

describe("file paths are off by default", () => {
  it("refuses a path without --allow-file-read, says what to do, sends nothing", async () => {
    const c = await connectStdio(emu.url, ["--tools", "create_dataset,transcribe_audio"]);
    try {
      const r = (await c.client.callTool({ name: "create_dataset", arguments: dataset(join(allowed, "data.jsonl")) })) as ToolCallResult;
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/Reading files by path is off/);
      expect(textOf(r)).toMatch(/--allow-file-read DIR/);
      expect(textOf(r)).toMatch(/nothing was sent to Cohere/);
      // the path input is advertised (refused with this message when off)
      const { tools } = await c.client.listTools();
      expect(Object.keys(tools.find((t) => t.name === "transcribe_audio")!.inputSchema.properties!)).toContain("file_path");
      expect(emu.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });
});

describe("with --allow-file-read DIR", () => {
  let c: Connected;
  beforeAll(async () => {
    c = await connectStdio(emu.url, ["--tools", "create_dataset,transcribe_audio", "--allow-file-read", allowed, "--max-file-bytes", "1000"]);
  });
  afterAll(async () => c.close());

  it("uploads a file named relative to the directory, or absolute inside it, or through a symlink that stays inside", async () => {
    for (const p of ["data.jsonl", join(allowed, "data.jsonl"), "link-in.jsonl", "sub/nested.jsonl"]) {
      const r = (await c.client.callTool({ name: "create_dataset", arguments: dataset(p) })) as ToolCallResult;
      expect(r.isError, `${p}: ${textOf(r)}`).toBeFalsy();
    }
    expect(emu.requests).toHaveLength(4);
    const [first, , third, fourth] = emu.requests;
    expect(first!.multipart!.files.data).toMatchObject({ filename: "data.jsonl", text: JSONL, size: JSONL.length });
    expect(third!.multipart!.files.data!.text).toBe(JSONL);
    expect(fourth!.multipart!.files.data).toMatchObject({ filename: "nested.jsonl", text: '{"text":"nested"}\n' });
    expect(emu.requests.every((q) => q.valid && !("data_path" in q.query))).toBe(true);
  });

  it("transcribe_audio reads file_path; an explicit filename wins", async () => {
    const r = (await c.client.callTool({
      name: "transcribe_audio",
      arguments: { model: "cohere-transcribe-03-2026", language: "en", file_path: "talk.wav" },
    })) as ToolCallResult;
    expect(r.isError, textOf(r)).toBeFalsy();
    const file = emu.requests[0]!.multipart!.files.file!;
    expect(file).toMatchObject({ filename: "talk.wav", size: 7 });
    await c.client.callTool({ name: "create_dataset", arguments: { ...dataset("data.jsonl"), data_filename: "mine.jsonl" } });
    expect(emu.requests[1]!.multipart!.files.data!.filename).toBe("mine.jsonl");
  });

  it.each([
    ["a '..' escape", "../outside/secret.jsonl", /contains '\.\.'/],
    ["a '..' hidden inside the path", "sub/../../outside/secret.jsonl", /contains '\.\.'/],
    ["an absolute path elsewhere", join(outside, "secret.jsonl"), /outside the allowed directories/],
    ["a system file", "/etc/passwd", /outside the allowed directories/],
    ["a symlink out of the directory", "link-out.jsonl", /resolves \(through a symlink\) outside/],
    ["a path through a symlinked directory out", "dir-out/secret.jsonl", /resolves \(through a symlink\) outside/],
    ["a file over the size limit", "big.jsonl", /over the server's limit of 1000 bytes/],
    ["a missing file", "nope.jsonl", /No file "nope.jsonl"/],
    ["a directory", "sub", /not a regular file/],
  ])("refuses %s and sends nothing", async (_label, path, why) => {
    const r = (await c.client.callTool({ name: "create_dataset", arguments: dataset(path) })) as ToolCallResult;
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(why);
    expect(textOf(r)).toMatch(/Nothing was sent to Cohere/);
    expect(textOf(r)).not.toContain("secret\"}");
    // the allowed directory is named by its label, never by its absolute path
    expect(textOf(r)).not.toContain(allowed);
    expect(emu.requests).toHaveLength(0);
  });

  it("a path and inline content together is invalid input", async () => {
    const r = (await c.client.callTool({ name: "create_dataset", arguments: { ...dataset("data.jsonl"), data_text: "x" } })) as ToolCallResult;
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/exactly one of data_text, data_base64 or data_path/);
    expect(emu.requests).toHaveLength(0);
  });
});

describe("over HTTP, only profiles with allow_file_read", () => {
  it("refuses an agent whose profile does not allow it, allows one whose profile does; audited as denied", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cmcp-files-cfg-"));
    const cfg = join(dir, "c.json");
    writeFileSync(
      cfg,
      JSON.stringify({
        profiles: {
          reader: { tools: ["create_dataset"], allow_file_read: true },
          plain: { tools: ["create_dataset"] },
        },
      }),
    );
    const app = createApp(
      parseOptions(["--config", cfg, "--allow-file-read", allowed], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url }),
      createLogger("silent"),
    );
    const events: AuditEvent[] = [];
    app.audit = { record: (e) => events.push(e), close: async () => undefined };
    try {
      const scope = (profile: string) => ({ agent: `${profile}-agent`, transport: "http" as const, visible: app.profileVisible(profile), profile });
      const denied = await callTool(app, scope("plain"), "create_dataset", dataset("data.jsonl"), {});
      expect(denied.isError).toBe(true);
      expect(textOf(denied)).toMatch(/plain-agent may not read files by path over HTTP \(its profile does not set allow_file_read: true\)/);
      expect(emu.requests).toHaveLength(0);
      expect(events[0]).toMatchObject({ decision: "denied", reason: "argument_rule", tool: "create_dataset" });

      const ok = await callTool(app, scope("reader"), "create_dataset", dataset("data.jsonl"), {});
      expect(ok.isError, textOf(ok)).toBeFalsy();
      expect(emu.requests[0]!.multipart!.files.data!.text).toBe(JSONL);
      expect(events[1]).toMatchObject({ decision: "allowed", outcome: "ok" });
      // the same agent over stdio needs no profile flag: the operator's --allow-file-read is enough
      const stdio = await callTool(app, { ...scope("plain"), transport: "stdio" }, "create_dataset", dataset("data.jsonl"), {});
      expect(stdio.isError, textOf(stdio)).toBeFalsy();
    } finally {
      await app.close();
    }
  });
});

describe("refusals name the allowed directory by its label, not its absolute path (finding 13)", () => {
  it("LABEL=DIR names it LABEL; DIR alone names it by its base name; the absolute path never shows", async () => {
    for (const [flag, label] of [[`docs=${allowed}`, '"docs"'], [allowed, '"allowed"']] as const) {
      const c = await connectStdio(emu.url, ["--tools", "create_dataset", "--allow-file-read", flag, "--max-file-bytes", "1000"]);
      try {
        for (const path of ["nope.jsonl", join(outside, "secret.jsonl"), "link-out.jsonl", "big.jsonl", "sub"]) {
          const r = (await c.client.callTool({ name: "create_dataset", arguments: dataset(path) })) as ToolCallResult;
          expect(r.isError).toBe(true);
          expect(textOf(r)).not.toContain(allowed);
          if (!/over the server's limit|not a regular file/.test(textOf(r))) expect(textOf(r)).toContain(label);
        }
        // a labelled directory still reads files relative to it
        const ok = (await c.client.callTool({ name: "create_dataset", arguments: dataset("data.jsonl") })) as ToolCallResult;
        expect(ok.isError, textOf(ok)).toBeFalsy();
      } finally {
        await c.close();
      }
    }
    // a directory that does not exist now stops the start (issue 22, item 10: test/startup-checks.test.ts)
  });
});

describe("a directory swapped for a symlink out during reads (finding 1)", () => {
  const TRIES = Number(process.env.SWAP_RACE_TRIES ?? 3000);

  it(`${TRIES} reads of race/secret.jsonl while race/ and a link to an outside directory are exchanged: 0 outside`, async (ctx) => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-race-")));
    const dirIn = join(base, "allowed");
    const dirOut = join(base, "outside");
    mkdirSync(join(dirIn, "race"), { recursive: true });
    mkdirSync(dirOut);
    writeFileSync(join(dirIn, "race", "secret.jsonl"), '{"text":"inside"}\n');
    writeFileSync(join(dirOut, "secret.jsonl"), '{"text":"OUTSIDE"}\n');
    symlinkSync(dirOut, join(dirIn, "swap"));
    const swapper = startSwapper(join(dirIn, "race"), join(dirIn, "swap"));
    if (typeof swapper === "string") return ctx.skip(swapper);
    let inside = 0;
    let outsideReads = 0;
    const refusals = new Map<string, number>();
    try {
      for (let i = 0; i < TRIES; i++) {
        try {
          const { bytes } = await readAllowedFile("race/secret.jsonl", [dirIn], 1000);
          if (Buffer.from(bytes).toString().includes("OUTSIDE")) outsideReads++;
          else inside++;
        } catch (err) {
          if (!(err instanceof FileRefused)) throw err;
          const kind = err.message.replace(/^The path "[^"]*" |^No file "[^"]*" |^Cannot open "[^"]*": /, "").slice(0, 40);
          refusals.set(kind, (refusals.get(kind) ?? 0) + 1);
        }
      }
    } finally {
      await swapper.stop();
    }
    const refused = [...refusals.values()].reduce((a, b) => a + b, 0);
    console.log(
      `file race (${swapper.how}): ${TRIES} tries, ${inside} inside reads, ${outsideReads} outside reads, ${refused} refused ` +
        `(${[...refusals].map(([k, n]) => `${n}× ${k}…`).join("; ")})`,
    );
    expect(outsideReads).toBe(0);
    // the race was real: some tries met the swapped state, some read the inside file
    expect(refused).toBeGreaterThan(0);
    expect(inside).toBeGreaterThan(0);
  });
});

describe("FIFOs in the allowed directory (finding 2)", () => {
  it("five FIFO paths at once are refused at once, and a normal read, another tool and the audit keep flowing", async () => {
    const base = realpathSync(mkdtempSync(join(tmpdir(), "cmcp-fifo-")));
    const dirIn = join(base, "allowed");
    mkdirSync(dirIn);
    writeFileSync(join(dirIn, "data.jsonl"), JSONL);
    const fifos = [0, 1, 2, 3, 4].map((i) => join(dirIn, `pipe${i}.jsonl`));
    for (const f of fifos) execFileSync("mkfifo", [f]);
    const audit = join(base, "audit.jsonl");
    // the server's libuv file pool is the default 4 threads: five blocked opens would hold them all
    const c = await connectStdio(emu.url, ["--tools", "create_dataset,list_datasets", "--allow-file-read", dirIn, "--audit-log", audit]);
    const bound = (ms: number) => new Promise<"timed out">((r) => setTimeout(() => r("timed out"), ms).unref());
    try {
      const started = performance.now();
      const piped = fifos.map((f, i) =>
        c.client.callTool({ name: "create_dataset", arguments: dataset(i % 2 ? f : `pipe${i}.jsonl`) }) as Promise<ToolCallResult>,
      );
      await new Promise((r) => setTimeout(r, 200));
      const normal = c.client.callTool({ name: "create_dataset", arguments: dataset("data.jsonl") }) as Promise<ToolCallResult>;
      const other = c.client.callTool({ name: "list_datasets", arguments: {} }) as Promise<ToolCallResult>;
      const all = await Promise.race([Promise.all([...piped, normal, other]), bound(15_000)]);
      expect(all, "calls still blocked after 15 s").not.toBe("timed out");
      const results = all as ToolCallResult[];
      for (const r of results.slice(0, 5)) {
        expect(r.isError).toBe(true);
        expect(textOf(r)).toMatch(/is not a regular file/);
      }
      expect(results[5]!.isError, textOf(results[5])).toBeFalsy();
      expect(results[6]!.isError, textOf(results[6])).toBeFalsy();
      console.log(`fifo: 5 FIFO reads + 1 file read + 1 other call answered in ${Math.round(performance.now() - started)} ms`);
      // one uploaded dataset, nothing from a pipe
      expect(emu.requests.filter((q) => q.method === "POST")).toHaveLength(1);
      // the audit file got its lines (its writes use the same thread pool)
      await new Promise((r) => setTimeout(r, 300));
      expect(readFileSync(audit, "utf8").trim().split("\n")).toHaveLength(7);
    } finally {
      // release opens blocked on the pipes (only the code before this fix blocks there)
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
});
