/**
 * File paths over real HTTP: --allow-file-read opens a directory, and each agent's profile
 * decides whether it may use it (allow_file_read). Refusals send nothing to Cohere.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { textOf, TEST_KEY } from "./helpers.js";
import { bearer, connectHttp, startHttp, writeConfig, type HttpServerProc } from "./http-support.js";

const READER_TOKEN = "reader-token-0d9c8b7a6f5e4d3c";
const PLAIN_TOKEN = "plain-token-1a2b3c4d5e6f7a8b";

let emu: CohereEmulator;
let server: HttpServerProc;
let dir: string;

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  dir = mkdtempSync(join(tmpdir(), "cmcp-files-"));
  writeFileSync(join(dir, "docs.jsonl"), '{"text":"from a file"}\n');
  const profile = { tools: ["create_dataset"], allow_write: true };
  const config = writeConfig({
    profiles: { reader: { ...profile, allow_file_read: true }, plain: profile },
    agents: [
      { name: "reader", profile: "reader", token_env: "READER_TOKEN" },
      { name: "plain", profile: "plain", token_env: "PLAIN_TOKEN" },
    ],
  });
  server = await startHttp(emu.url, ["--config", config, "--allow-file-read", dir], {
    READER_TOKEN,
    PLAIN_TOKEN,
  });
});
afterAll(async () => {
  await server?.stop();
  await emu?.stop();
});
beforeEach(() => emu.reset());

const args = (path: string) => ({ name: "from-file", type: "embed-input", data_path: path });

describe("file paths over HTTP", () => {
  it("an agent whose profile allows file reading uploads the file's bytes", async () => {
    const c = await connectHttp(server.url, bearer(READER_TOKEN));
    try {
      const r = await c.client.callTool({ name: "create_dataset", arguments: args(join(dir, "docs.jsonl")) });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(emu.requests).toHaveLength(1);
      expect(emu.requests[0]!.multipart?.files.data?.text).toBe('{"text":"from a file"}\n');
    } finally {
      await c.close();
    }
  });

  it("an agent whose profile does not allow it is refused, and nothing is sent", async () => {
    const c = await connectHttp(server.url, bearer(PLAIN_TOKEN));
    try {
      const r = await c.client.callTool({ name: "create_dataset", arguments: args(join(dir, "docs.jsonl")) });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/may not read files by path over HTTP.*allow_file_read/);
      expect(emu.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });

  it("even the allowed agent cannot escape the directory", async () => {
    const c = await connectHttp(server.url, bearer(READER_TOKEN));
    try {
      for (const p of [join(dir, "..", "etc-passwd"), "/etc/passwd", `${dir}/../${dir.split("/").pop()}/../x`]) {
        const r = await c.client.callTool({ name: "create_dataset", arguments: args(p) });
        expect(r.isError, p).toBe(true);
      }
      expect(emu.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });
});
