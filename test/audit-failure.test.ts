/**
 * The audit is never silently absent (issue 22, item 8): an audit file that cannot be opened
 * stops the start; one that cannot be written later (a full disk: /dev/full gives ENOSPC, put in
 * place through a symlink the test swaps) makes the replica not ready and its calls refused
 * (--audit-failure deny, the default), and it recovers by itself, the waiting lines written; SIGHUP
 * and SIGUSR1 reopen the file so logrotate can move it, with no line lost or written twice.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { RERANK_ARGS } from "../bench/lib.js";
import { runCli, TEST_KEY } from "./helpers.js";
import { connectHttp, eventually, rawRequest, startHttp, type HttpServerProc } from "./http-support.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());

type Line = Record<string, unknown>;
const lines = (file: string): Line[] => {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Line);
};
const tempDir = () => mkdtempSync(join(tmpdir(), "cmcp-auditfail-"));
const textOf = (r: unknown) => ((r as { content: Array<{ text: string }> }).content[0]?.text ?? "");

async function readyz(srv: HttpServerProc): Promise<{ status: number; body: { status: string; checks: Record<string, string> } }> {
  const r = await rawRequest(`${srv.origin}/readyz`, { method: "GET" });
  return { status: r.status, body: JSON.parse(r.body) as { status: string; checks: Record<string, string> } };
}

describe("an audit file that cannot be opened stops the start", () => {
  it("a missing directory: exit 2, one line naming the flag and the reason", async () => {
    const r = await runCli(["--audit-log", "/proc/no-such-dir/audit.jsonl"], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^cohere-mcp: --audit-log \/proc\/no-such-dir\/audit\.jsonl: the audit file cannot be opened for appending \(ENOENT/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("a directory: exit 2 over HTTP too (EISDIR)", async () => {
    const dir = tempDir();
    const r = await runCli(["--http", "--port", "0", "--audit-log", dir], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--audit-log");
    expect(r.stderr).toContain("EISDIR");
  });
});

describe("writes that fail later", () => {
  it("ENOSPC: not ready, calls refused, then recovers by itself with every line written once", async () => {
    const dir = tempDir();
    const link = join(dir, "audit.jsonl");
    const first = join(dir, "first.jsonl");
    const second = join(dir, "second.jsonl");
    writeFileSync(first, "");
    symlinkSync(first, link);
    const srv = await startHttp(emu.url, ["--audit-log", link]);
    const c = await connectHttp(srv.url);
    try {
      expect((await readyz(srv)).status).toBe(200);
      expect((await readyz(srv)).body.checks.audit).toBe("writable");
      await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS });
      expect(lines(first)).toHaveLength(1);

      // the disk fills up: the path now leads to /dev/full, reopened on SIGUSR1
      unlinkSync(link);
      symlinkSync("/dev/full", link);
      srv.child.kill("SIGUSR1");
      await eventually(() => expect(srv.stderr()).toContain("audit log reopened"));
      // this call had already been admitted: it runs, and its line cannot be written
      const ran = await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS });
      expect(ran.isError).not.toBe(true);
      expect(srv.stderr()).toMatch(/cannot write the audit log .*ENOSPC/);

      const notReady = await readyz(srv);
      expect(notReady.status).toBe(503);
      expect(notReady.body.checks.audit).toMatch(/cannot be written since .*ENOSPC.*1 line waiting.*calls are refused/);

      const refused = await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toMatch(/cannot write its audit log.*Nothing was sent to Cohere/s);
      const emuCalls = emu.requests.length;
      await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS });
      expect(emu.requests.length).toBe(emuCalls);

      // space again (a new file behind the path): the next probe reopens and writes what waited
      unlinkSync(link);
      symlinkSync(second, link);
      const ready = await readyz(srv);
      expect(ready.status).toBe(200);
      expect(ready.body.checks.audit).toBe("writable");
      await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS });
    } finally {
      await c.close();
      expect(await srv.stop()).toBe(0);
    }
    const a = lines(first);
    const b = lines(second);
    expect(a).toHaveLength(1);
    expect(a[0]!.decision).toBe("allowed");
    // in order: the call that ran while failing, the two refused, the resumption note, the next call
    expect(b.map((l) => l.decision ?? l.event)).toEqual(["allowed", "denied", "denied", "audit_resumed", "allowed"]);
    expect(b[1]!.reason).toBe("audit_unavailable");
    expect(b[1]!.detail).toMatch(/ENOSPC/);
    expect(b[3]!.text).toMatch(/3 lines that waited in memory were written just before this one/);
  });

  it("--audit-failure allow: calls still run and /readyz stays 200, saying what fails", async () => {
    const dir = tempDir();
    const link = join(dir, "audit.jsonl");
    symlinkSync("/dev/full", link);
    const srv = await startHttp(emu.url, ["--audit-log", link, "--audit-failure", "allow"]);
    const c = await connectHttp(srv.url);
    try {
      await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS });
      const r = await c.client.callTool({ name: "rerank", arguments: RERANK_ARGS });
      expect(r.isError).not.toBe(true);
      const ready = await readyz(srv);
      expect(ready.status).toBe(200);
      expect(ready.body.checks.audit).toMatch(/ENOSPC.*2 lines waiting.*calls still run/);
    } finally {
      await c.close();
      await srv.stop();
    }
  });

  it("--audit-failure takes deny or allow only", async () => {
    const r = await runCli(["--audit-failure", "maybe"], { CO_API_KEY: TEST_KEY });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--audit-failure must be deny or allow, got "maybe"`);
  });
});

describe("reopen for logrotate", () => {
  it("rename, SIGUSR1, more calls; rename, SIGHUP, more calls: each line in exactly one file", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, "old"));
    const file = join(dir, "audit.jsonl");
    const srv = await startHttp(emu.url, ["--audit-log", file]);
    const c = await connectHttp(srv.url);
    const calls = async (n: number) => {
      for (let i = 0; i < n; i++) await c.client.callTool({ name: i % 3 === 2 ? "nope" : "rerank", arguments: RERANK_ARGS });
    };
    const reopened = () => srv.stderr().match(/audit log reopened/g)?.length ?? 0;
    try {
      await calls(5);
      renameSync(file, join(dir, "old", "1.jsonl"));
      await calls(2); // still the renamed file until the signal
      srv.child.kill("SIGUSR1");
      await eventually(() => expect(reopened()).toBe(1));
      await calls(4);
      renameSync(file, join(dir, "old", "2.jsonl"));
      srv.child.kill("SIGHUP");
      await eventually(() => expect(reopened()).toBe(2));
      await calls(3);
    } finally {
      await c.close();
      expect(await srv.stop()).toBe(0);
    }
    expect(srv.stderr()).not.toContain("Debugger listening");
    const one = lines(join(dir, "old", "1.jsonl"));
    const two = lines(join(dir, "old", "2.jsonl"));
    const three = lines(file);
    expect(one).toHaveLength(7);
    expect(two).toHaveLength(4);
    // SIGHUP also tried a reload (no --config: skipped, not an audit line)
    expect(three).toHaveLength(3);
    // in call order across the three files
    const times = [...one, ...two, ...three].map((l) => String(l.time));
    expect([...times].sort()).toEqual(times);
  });
});
