/**
 * File mode survives a crash mid-write: a process saving large policies back to back through the
 * console's file writer (src/admin/grid/policy-source.ts) is SIGKILLed at random moments; after every
 * kill the config file is whole — the old version or the new one, valid — and the last versions
 * are kept beside it, whole too (a copy killed midway once left a truncated FILE.1).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configFileSchema } from "../src/config/file.js";
import { ROOT } from "../bench/lib.js";
import { writeConfig } from "./http-support.js";

const big = (tag: string) => ({
  profiles: { p: { description: `${tag}:${"x".repeat(4_000_000)}`, tools: ["rerank"] } },
});

const WRITER = `
import { FilePolicy } from ${JSON.stringify(join(ROOT, "dist/src/admin/grid/policy-source.js"))};
const path = process.argv[1];
const policy = new FilePolicy(path, false);
const big = (tag) => ({ profiles: { p: { description: tag + ":" + "x".repeat(4_000_000), tools: ["rerank"] } } });
let n = 0;
for (;;) {
  const doc = await policy.read();
  const r = await policy.write(big("v" + (++n)), doc.version);
  if (!r.ok) throw new Error("conflict");
  process.stdout.write("w" + n + "\\n");
}
`;

describe("file mode: a crash mid-write", () => {
  it("leaves the old file or the new one, whole, every time", async () => {
    const path = writeConfig(big("v0"));
    let writes = 0;
    for (let round = 0; round < 12; round++) {
      const child = spawn(process.execPath, ["--input-type=module", "-e", WRITER, path], { stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr.on("data", (d: Buffer) => (err += d.toString()));
      // once it is writing, kill it at a random moment (a save of 4 MB takes some milliseconds)
      const t0 = Date.now();
      while (!/w\d/.test(out) && Date.now() - t0 < 15_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 60)));
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      expect(err).toBe("");
      writes += (out.match(/^w\d+$/gm) ?? []).length;
      const text = readFileSync(path, "utf8");
      const parsed = configFileSchema.safeParse(JSON.parse(text));
      expect(parsed.success).toBe(true);
      expect(parsed.data!.profiles.p!.description!.length).toBeGreaterThan(4_000_000);
      // the version kept beside it is whole too (checked every round: each older one was FILE.1 once)
      if (existsSync(`${path}.1`)) expect(configFileSchema.safeParse(JSON.parse(readFileSync(`${path}.1`, "utf8"))).success).toBe(true);
    }
    expect(writes).toBeGreaterThan(0);
    // temp files left by the killed writers are swept by the next FilePolicy (their process is gone)
    const { readdirSync } = await import("node:fs");
    const { dirname, basename } = await import("node:path");
    const { FilePolicy } = await import("../src/admin/grid/policy-source.js");
    new FilePolicy(path, false);
    expect(readdirSync(dirname(path)).filter((n) => n.startsWith(`.${basename(path)}.`))).toEqual([]);
    // the last versions are kept beside it
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(JSON.parse(readFileSync(`${path}.1`, "utf8")).profiles.p.tools).toEqual(["rerank"]);
  }, 60_000);
});

describe("file mode: the kept version", () => {
  it("FILE.1 is never seen partial while saves run back to back (it is renamed into place, not copied in place)", async () => {
    const path = writeConfig(big("v0"));
    const child = spawn(process.execPath, ["--input-type=module", "-e", WRITER, path], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    try {
      const t0 = Date.now();
      while (!/w\d/.test(out) && Date.now() - t0 < 15_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
      let reads = 0;
      const partial: number[] = [];
      const until = Date.now() + 2_000;
      while (Date.now() < until) {
        const text = readFileSync(`${path}.1`, "utf8");
        reads++;
        try {
          JSON.parse(text);
        } catch {
          partial.push(text.length);
        }
        await new Promise((r) => setImmediate(r));
      }
      expect(reads).toBeGreaterThan(10);
      expect(partial, `${partial.length} of ${reads} reads of FILE.1 were partial`).toEqual([]);
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
    }
  }, 30_000);
});
