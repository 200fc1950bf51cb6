/**
 * Overlapping tokens: an agent with several labelled tokens (a rotation in progress). Each token
 * works until its not_after; an expired one gets a 401 whose error_description says it expired;
 * the audit line names the token's label, never the token. Single-token agents are unchanged.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { bearer, INIT, MCP_HEADERS, rpc, sha256Hex, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";

const OLD = "rotation-old-0123456789abcdef";
const NEW = "rotation-new-0123456789abcdef";
const SINGLE = "single-token-0123456789abcdef";

describe("an agent with several tokens", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  let audit: string;
  beforeAll(async () => {
    emu = await startEmulator();
    audit = tempFile("audit.jsonl");
    const config = writeConfig({
      profiles: { p: { tools: ["tokenize"] } },
      agents: [
        {
          name: "rotating",
          profile: "p",
          tokens: [
            { sha256: sha256Hex(OLD).toUpperCase(), label: "2026-11", not_after: "2026-12-01T00:00:00Z" },
            { env: "ROTATING_NEXT", label: "2026-12", not_after: "2999-01-31T00:00:00Z" },
          ],
        },
        { name: "single", profile: "p", token_sha256: sha256Hex(SINGLE) },
      ],
    });
    srv = await startHttp(emu.url, ["--config", config, "--audit-log", audit], { ROTATING_NEXT: NEW });
  });
  afterAll(async () => {
    await srv?.stop();
    await emu?.stop();
  });

  const call = (token: string) =>
    rpc(srv.url, { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "tokenize", arguments: { model: "command-a-03-2025", text: "hi" } } }, { ...MCP_HEADERS, ...bearer(token) });

  it("the current token works and the audit names its label, never the token", async () => {
    expect((await rpc(srv.url, INIT, { ...MCP_HEADERS, ...bearer(NEW) })).status).toBe(200);
    const r = await call(NEW);
    expect(r.status).toBe(200);
    expect((r.messages[0]?.result as { isError?: boolean }).isError).toBeFalsy();
    expect((await call(SINGLE)).status).toBe(200);
    const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const calls = lines.filter((l) => l.tool === "tokenize");
    expect(calls.find((l) => l.agent === "rotating")).toMatchObject({ decision: "allowed", token_label: "2026-12" });
    expect(calls.find((l) => l.agent === "single")).not.toHaveProperty("token_label");
    const text = readFileSync(audit, "utf8");
    for (const t of [OLD, NEW, SINGLE]) {
      expect(text).not.toContain(t);
      expect(text).not.toContain(sha256Hex(t));
    }
  });

  it("an expired token: 401, error_description says it expired and which, not the token", async () => {
    const r = await call(OLD);
    expect(r.status).toBe(401);
    const body = JSON.parse(r.body) as { error: { data: { error: string; error_description: string } } };
    expect(body.error.data.error).toBe("invalid_token");
    expect(body.error.data.error_description).toBe(
      'The bearer token has expired: this agent\'s token "2026-11" was valid until 2026-12-01T00:00:00.000Z. Ask the operator for its current token.',
    );
    expect(String(r.headers["www-authenticate"])).toMatch(/error="invalid_token", error_description="The bearer token has expired/);
    expect(r.body).not.toContain(OLD);
  });
});
