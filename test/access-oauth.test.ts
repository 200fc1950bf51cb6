/**
 * `cohere-mcp access` for OAuth agents: each rule's profile (`oauth:<profile>`), narrowed by the
 * scopes a token carries, is exactly what a real server lists to that token over HTTP (a real
 * OpenID provider issues the tokens; test/oauth-support.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfigFile } from "../src/config/file.js";
import { accessMatrix } from "../src/policy/access.js";
import { listed, LIST, post, startOurs, STATIC_TOKEN, tokenFor, useOAuthWorld, type Started } from "./oauth-support.js";

useOAuthWorld();

describe("access matrix for OAuth agents", () => {
  let s: Started & { cfg: string };
  beforeAll(async () => {
    s = await startOurs("access");
  });
  afterAll(async () => {
    await s?.srv.stop();
  });

  it("each rule's row, narrowed by the token's scopes, equals the server's tools/list", async () => {
    const m = accessMatrix(loadConfigFile(s.cfg));
    expect(m.agents.map((a) => a.agent)).toEqual(["static-reader", "oauth:search", "oauth:curator"]);
    const row = (agent: string, classes: string[]) =>
      m.agents
        .find((a) => a.agent === agent)!
        .tools.filter((t) => classes.includes(t.class))
        .map((t) => t.tool)
        .sort();
    const cases: Array<[client: string, agent: string, classes: string[]]> = [
      ["search-bot", "oauth:search", ["read"]],
      ["search-writer", "oauth:search", ["read", "write"]],
      ["curator-bot", "oauth:curator", ["read", "write", "destructive"]],
    ];
    for (const [client, agent, classes] of cases) {
      const token = await tokenFor(client, s.resource);
      const got = listed(await post(s.srv.url, LIST, token));
      expect(got, client).toEqual(row(agent, classes));
      expect(got.length, client).toBeGreaterThan(0);
    }
    expect(listed(await post(s.srv.url, LIST, STATIC_TOKEN))).toEqual(row("static-reader", ["read", "write", "destructive"]));
    const curator = m.agents.find((a) => a.agent === "oauth:curator")!;
    expect(curator.credential).toBe('oauth rule 2: client_id equals "curator-bot"');
    expect(curator.tools.find((t) => t.tool === "delete_dataset")?.scope).toBe("cohere:destructive");
  });
});
