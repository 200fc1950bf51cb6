/**
 * The modern era (MCP 2026-07-28) with OAuth access tokens: the SDK v2 client pinned to
 * 2026-07-28 with a token from the team's issuer sees its rule's profile, calls within it, is
 * refused outside it, and the audit line carries its claims and the era; no token is a 401 that
 * fails the connection; a token without the scope a call needs is a 403 insufficient_scope. The
 * client in auto mode with a token picks 2026-07-28.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { textOf, type ToolCallResult } from "./helpers.js";
import { bearer, eventually } from "./http-support.js";
import { MODERN, modernHttp } from "./eras-support.js";
import { emu, RERANK, SEARCH_TOOLS, startOurs, tokenFor, useOAuthWorld, type Started } from "./oauth-support.js";

useOAuthWorld();

describe("2026-07-28 clients with OAuth access tokens", () => {
  let s: Started;
  beforeAll(async () => {
    s = await startOurs("eras");
  });
  afterAll(async () => s?.srv.stop());

  it("a token's rule decides the tools; calls within run, others are refused; the audit names the claims and the era", async () => {
    const token = await tokenFor("search-bot", s.resource);
    const m = await modernHttp(s.srv.url, bearer(token));
    try {
      // the search profile, narrowed by what the token's scopes allow (search-bot is granted cohere:read)
      expect((await m.client.listTools()).tools.map((t) => t.name).sort()).toEqual(SEARCH_TOOLS.filter((t) => t !== "create_dataset").sort());
      const ok = (await m.client.callTool({ name: "rerank", arguments: RERANK })) as ToolCallResult;
      expect(ok.isError, textOf(ok)).toBeFalsy();
      const refused = (await m.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } })) as ToolCallResult;
      expect(refused.isError).toBe(true);
      expect(emu.requests.filter((r) => r.method === "DELETE")).toHaveLength(0);
    } finally {
      await m.close();
    }
    const line = await eventually(() => {
      const l = readFileSync(s.audit, "utf8").trim().split("\n").map((x) => JSON.parse(x) as Record<string, unknown>);
      const r = l.find((x) => x.tool === "rerank" && x.decision === "allowed");
      expect(r).toBeTruthy();
      return r!;
    });
    expect(line).toMatchObject({ agent: "search-bot", client_id: "search-bot", era: "modern" });
    expect(readFileSync(s.audit, "utf8")).not.toContain(token);
  });

  it("the v2 client in auto mode with an access token picks 2026-07-28 and calls", async () => {
    const token = await tokenFor("search-bot", s.resource);
    const a = await modernHttp(s.srv.url, bearer(token), "auto");
    try {
      expect(a.client.getNegotiatedProtocolVersion()).toBe(MODERN);
      const ok = (await a.client.callTool({ name: "rerank", arguments: RERANK })) as ToolCallResult;
      expect(ok.isError, textOf(ok)).toBeFalsy();
    } finally {
      await a.close();
    }
  });

  it("no token: the connection fails (401); a token without cohere:write cannot create (403 insufficient_scope)", async () => {
    await expect(modernHttp(s.srv.url, {})).rejects.toThrow();
    const readOnly = await tokenFor("search-bot", s.resource, "cohere:read");
    const m = await modernHttp(s.srv.url, bearer(readOnly));
    try {
      await expect(
        m.client.callTool({ name: "create_dataset", arguments: { name: "x", type: "embed-input", data_text: '{"text":"a"}\n' } }),
      ).rejects.toThrow(/403|insufficient|scope/i);
      expect(emu.requests.filter((r) => r.method === "POST" && r.path === "/v1/datasets")).toHaveLength(0);
    } finally {
      await m.close();
    }
  });
});
