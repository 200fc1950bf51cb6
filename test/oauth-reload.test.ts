/**
 * SIGHUP reload with OAuth (src/live.ts, src/transports/http/reload.ts): the HTTP plan, its
 * OAuth resource and its claim rules are rebuilt per configuration generation. Against the real
 * oidc-provider (test/oauth-idp.ts), on one cohere-mcp --http process that never restarts,
 * stateless and with --sessions (where each client keeps the session it opened):
 *  - a server started with static agents only gets OAuth by a reload: tokens from the issuer
 *    work at once, the protected resource metadata is served, a bare 401 points to it;
 *  - a reload that moves a claim rule to another profile changes what the same client's next
 *    request sees;
 *  - a reload whose oauth section is invalid (schema, or a secret's variable unset) is rejected
 *    whole: nothing of that file applies, tokens keep their old profile.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../bench/lib.js";
import { eventually, sha256Hex, startHttp, type HttpServerProc } from "./http-support.js";
import { call, dir, emu, idp, INIT, INTROSPECTION_SECRET, LIST, listed, post, RERANK, STATIC_TOKEN, tokenFor, useOAuthWorld, type Answer } from "./oauth-support.js";

useOAuthWorld();

const PROFILES = {
  reader: { tools: ["rerank"] },
  search: { tools: ["rerank", "embed", "list_datasets"] },
};
const STATIC = [{ name: "static-reader", profile: "reader", token_env: "STATIC_READER_TOKEN" }];
const LATE_TOKEN = "late-agent-token-SECRET-0f1e2d3c4b5a";

/** Replace the file in one step, as an operator's tooling would. */
function rewrite(path: string, content: unknown): void {
  writeFileSync(`${path}.tmp`, JSON.stringify(content));
  renameSync(`${path}.tmp`, path);
}

describe.each([
  ["stateless", [] as string[]],
  ["--sessions", ["--sessions"]],
])("SIGHUP reload with OAuth (%s)", (mode, extra) => {
  let srv: HttpServerProc;
  let resource: string;
  let cfg: string;
  let audit: string;
  const oauth = (profile: string, extra: Record<string, unknown> = {}) => ({
    issuer: idp.issuer,
    resource,
    agent_claim: "client_id",
    rules: [{ claim: "groups", includes: "search-team", profile }],
    jwks_cooldown_s: 1,
    ...extra,
  });
  const reloads = () =>
    readFileSync(audit, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.event === "config_reload");
  async function reload(content: unknown): Promise<Record<string, unknown>> {
    const n = reloads().length;
    rewrite(cfg, content);
    srv.child.kill("SIGHUP");
    await eventually(() => expect(reloads()).toHaveLength(n + 1), 10_000);
    return reloads()[n]!;
  }
  /** Stateless: one POST. Sessions: on the session this credential opened at its first request (kept across reloads). */
  const sids = new Map<string, string>();
  async function ask(body: unknown, token?: string): Promise<Answer> {
    if (mode === "stateless" || !token) return post(srv.url, body, token);
    let sid = sids.get(token);
    if (!sid) {
      const init = await post(srv.url, INIT, token);
      if (init.status !== 200) return init;
      sid = init.headers.get("mcp-session-id")!;
      expect((await post(srv.url, { jsonrpc: "2.0", method: "notifications/initialized" }, token, { "mcp-session-id": sid })).status).toBe(202);
      sids.set(token, sid);
    }
    return post(srv.url, body, token, { "mcp-session-id": sid });
  }

  beforeAll(async () => {
    const port = await freePort();
    resource = `http://127.0.0.1:${port}/mcp`;
    idp.resources.add(resource);
    cfg = join(dir, `oauth-reload-${mode.replace(/\W/g, "")}-${process.pid}.json`);
    audit = join(dir, `oauth-reload-audit-${mode.replace(/\W/g, "")}-${process.pid}.jsonl`);
    writeFileSync(cfg, JSON.stringify({ profiles: PROFILES, agents: STATIC }));
    srv = await startHttp(emu.url, ["--port", String(port), "--config", cfg, "--audit-log", audit, "--max-auth-failures", "0", ...extra], {
      STATIC_READER_TOKEN: STATIC_TOKEN,
      INTROSPECTION_SECRET,
    });
    expect(srv.url).toBe(resource);
  });
  afterAll(async () => srv?.stop());

  it("turns OAuth on without a restart, moves a claim rule to another profile for the next request, and rejects an invalid oauth section whole", async () => {
    const token = await tokenFor("search-bot", resource);
    // static agents only: an OAuth token is just a wrong token, and there is no metadata
    expect((await ask(LIST, token)).status).toBe(401);
    expect((await fetch(`${srv.origin}/.well-known/oauth-protected-resource/mcp`)).status).toBe(404);
    expect(listed(await ask(LIST, STATIC_TOKEN))).toEqual(["rerank"]);

    // (b) a reload turns OAuth on: the same token works at once
    const on = await reload({ profiles: PROFILES, agents: STATIC, oauth: oauth("reader") });
    expect(on).toMatchObject({ outcome: "ok" });
    expect(on.text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z configuration reloaded: OAuth is turned on \(issuer http:\/\/127\.0\.0\.1:\d+\); oauth:reader is added with profile reader \(1 read, 0 write, 0 destructive tools\)$/);
    const first = await ask(LIST, token);
    expect(first.status).toBe(200);
    expect(listed(first)).toEqual(["rerank"]);
    const ran = await ask(call("rerank", RERANK), token);
    expect(ran.status).toBe(200);
    expect((ran.json?.result as { isError?: boolean }).isError).toBeFalsy();
    expect(emu.requests.map((r) => r.path)).toEqual(["/v2/rerank"]);
    const meta = await fetch(`${srv.origin}/.well-known/oauth-protected-resource/mcp`);
    expect(meta.status).toBe(200);
    expect(await meta.json()).toMatchObject({ resource, authorization_servers: [idp.issuer] });
    const bare = await post(srv.url, LIST);
    expect(bare.status).toBe(401);
    expect(bare.headers.get("www-authenticate")).toContain(`resource_metadata="${srv.origin}/.well-known/oauth-protected-resource/mcp"`);
    expect(listed(await ask(LIST, STATIC_TOKEN))).toEqual(["rerank"]);

    // (a) the rule now maps search-team to "search": the same client's next request sees it
    const moved = await reload({ profiles: PROFILES, agents: STATIC, oauth: oauth("search") });
    expect(moved).toMatchObject({ outcome: "ok" });
    expect(moved.text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z configuration reloaded: oauth changed: rules; oauth:search is added with profile search \(.*\); oauth:reader is removed \(no OAuth rule maps tokens to this profile any more\)$/);
    expect(listed(await ask(LIST, token))).toEqual(["embed", "list_datasets", "rerank"]);
    const embed = await ask(call("embed", { model: "embed-v4.0", input_type: "search_query", texts: ["x"] }), token);
    expect((embed.json?.result as { isError?: boolean }).isError).toBeFalsy();
    // and back: embed is refused again, nothing sent
    await reload({ profiles: PROFILES, agents: STATIC, oauth: oauth("reader") });
    expect(listed(await ask(LIST, token))).toEqual(["rerank"]);
    emu.reset();
    const refused = await ask(call("embed", { model: "embed-v4.0", input_type: "search_query", texts: ["x"] }), token);
    expect((refused.json?.result as { isError?: boolean }).isError).toBe(true);
    expect(emu.requests).toEqual([]);
    await reload({ profiles: PROFILES, agents: STATIC, oauth: oauth("search") });
    expect(listed(await ask(LIST, token))).toEqual(["embed", "list_datasets", "rerank"]);

    // (c) invalid oauth sections, each with an agent added beside it: rejected whole
    const late = [...STATIC, { name: "late", profile: "search", token_sha256: sha256Hex(LATE_TOKEN) }];
    const invalid: Array<[string, unknown, RegExp]> = [
      ["a rule naming no profile", oauth("missing"), /oauth\.rules\.0\.profile: no profile named "missing"/],
      ["an issuer over plain http off loopback", oauth("reader", { issuer: "http://idp.example.com" }), /oauth\.issuer must be https:\/\//],
      ["an unknown key", oauth("reader", { audiences: ["x"] }), /oauth: Unrecognized key/],
      [
        "an introspection secret whose variable is not set",
        oauth("reader", { introspection: { client_id: "cohere-mcp", client_secret_env: "NOT_SET_ANYWHERE" } }),
        /oauth\.introspection: environment variable NOT_SET_ANYWHERE is not set or empty/,
      ],
    ];
    for (const [what, section, why] of invalid) {
      const r = await reload({ profiles: PROFILES, agents: late, oauth: section });
      expect(r.outcome, what).toBe("rejected");
      expect(r.text, what).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z configuration reload rejected, the previous configuration stays in force: /);
      expect(r.text, what).toMatch(why);
      // nothing of that file applies: the token keeps "search", the late agent does not exist
      expect(listed(await ask(LIST, token)), what).toEqual(["embed", "list_datasets", "rerank"]);
      expect((await ask(LIST, LATE_TOKEN)).status, what).toBe(401);
      expect(listed(await ask(LIST, STATIC_TOKEN)), what).toEqual(["rerank"]);
    }

    // (d) OAuth turned off: the token is refused at once, and with --sessions the session it held
    // is ended (its slot given back), so turning OAuth on again needs a new session
    const oldSid = sids.get(token);
    const off = await reload({ profiles: PROFILES, agents: STATIC });
    expect(off).toMatchObject({ outcome: "ok" });
    expect(off.text).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z configuration reloaded: OAuth is turned off \(OAuth tokens no longer work\); oauth:search is removed/);
    // removal is revocation (issue 20, finding 11): said in the reload's line
    expect(off.text).toMatch(/; revoked the OAuth tokens of the previous issuer, resource or audience: their sessions, streams and running calls ended$/);
    expect((await ask(LIST, token)).status).toBe(401);
    expect(listed(await ask(LIST, STATIC_TOKEN))).toEqual(["rerank"]);
    await reload({ profiles: PROFILES, agents: STATIC, oauth: oauth("search") });
    if (mode === "--sessions") {
      expect(oldSid).toBeDefined();
      expect((await post(srv.url, LIST, token, { "mcp-session-id": oldSid! })).status).toBe(404);
      sids.delete(token);
    }
    expect(listed(await ask(LIST, token))).toEqual(["embed", "list_datasets", "rerank"]);

    expect(srv.child.exitCode).toBeNull();
    expect(srv.stderr()).not.toContain(token);
  }, 60_000);
});
