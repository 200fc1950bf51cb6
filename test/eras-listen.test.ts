/**
 * Modern (2026-07-28) clients and list changes over HTTP: the tool list carries honest cache
 * hints (private, 5 minutes: it changes only on a reload), the server advertises
 * tools.listChanged, and a client holding a `subscriptions/listen` stream (the SDK v2 client's
 * `listen`) is told by a SIGHUP reload that changes its tools, and only then: an agent whose
 * tools did not change is not told; one the reload removed, or whose token it rotated, has its
 * stream ended.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync, writeFileSync } from "node:fs";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { bearer, eventually, rpc, sha256Hex, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";
import { MODERN, modernHttp, type ModernConnected } from "./eras-support.js";

const T = {
  alpha: "listen-alpha-0123456789abcdef",
  beta: "listen-beta-0123456789abcdef",
  gamma: "listen-gamma-0123456789abcdef",
  delta: "listen-delta-0123456789abcdef",
  deltaNew: "listen-delta-new-0123456789ab",
};
const agents = (delta: string) => [
  { name: "alpha", profile: "wide", token_sha256: sha256Hex(T.alpha) },
  { name: "beta", profile: "narrow", token_sha256: sha256Hex(T.beta) },
  { name: "gamma", profile: "narrow", token_sha256: sha256Hex(T.gamma) },
  { name: "delta", profile: "narrow", token_sha256: sha256Hex(delta) },
];
const V1 = { profiles: { wide: { tools: ["rerank", "embed"] }, narrow: { tools: ["rerank"] } }, agents: agents(T.delta) };
// wide gains chat; gamma is removed; delta's token is rotated; narrow (beta) is unchanged
const V2 = {
  profiles: { wide: { tools: ["rerank", "embed", "chat"] }, narrow: { tools: ["rerank"] } },
  agents: agents(T.deltaNew).filter((a) => a.name !== "gamma"),
};
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
  "io.modelcontextprotocol/clientCapabilities": {},
};

describe("modern clients: list cache hints and change notices on reload", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  let config: string;
  const audit = tempFile("listen.jsonl");
  beforeAll(async () => {
    emu = await startEmulator();
    config = writeConfig(V1);
    srv = await startHttp(emu.url, ["--config", config, "--audit-log", audit]);
  });
  afterAll(async () => {
    await srv?.stop();
    await emu?.stop();
  });

  it("lists say private for 5 minutes and discover offers listChanged; a reload tells exactly the listeners whose tools changed, and ends the revoked ones", async () => {
    const listed = await rpc(
      srv.url,
      { jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: ENVELOPE } },
      { ...bearer(T.alpha), "Mcp-Protocol-Version": MODERN, "Mcp-Method": "tools/list" },
    );
    expect(listed.messages[0]?.result).toMatchObject({ resultType: "complete", ttlMs: 300_000, cacheScope: "private" });

    const clients: Record<string, ModernConnected> = {};
    const told: Record<string, number> = {};
    const subs: Record<string, Awaited<ReturnType<ModernConnected["client"]["listen"]>>> = {};
    try {
      for (const name of ["alpha", "beta", "gamma", "delta"] as const) {
        const c = (clients[name] = await modernHttp(srv.url, bearer(T[name])));
        told[name] = 0;
        c.client.setNotificationHandler("notifications/tools/list_changed", () => void told[name]!++);
        subs[name] = await c.client.listen({ toolsListChanged: true });
        expect(subs[name]!.honoredFilter, name).toEqual({ toolsListChanged: true });
      }
      expect(clients.alpha!.client.getServerCapabilities()?.tools?.listChanged).toBe(true);
      expect((await clients.alpha!.client.listTools()).tools.map((t) => t.name).sort()).toEqual(["embed", "rerank"]);

      writeFileSync(config, JSON.stringify(V2));
      srv.child.kill("SIGHUP");
      await eventually(() => expect(told.alpha).toBe(1));
      // removed (gamma) and rotated (delta): their streams end
      const endings = await Promise.all([subs.gamma!.closed, subs.delta!.closed]);
      expect(endings).toEqual(["remote", "remote"]);
      // one more exchange on beta's connection: its stream would have carried a notice by now
      expect((await clients.beta!.client.listTools()).tools.map((t) => t.name)).toEqual(["rerank"]);
      expect(told.beta).toBe(0);
      expect((await clients.alpha!.client.listTools()).tools.map((t) => t.name).sort()).toEqual(["chat", "embed", "rerank"]);
      expect(readFileSync(audit, "utf8")).toContain('"event":"config_reload"');
    } finally {
      for (const s of Object.values(subs)) await s.close().catch(() => undefined);
      for (const c of Object.values(clients)) await c.close().catch(() => undefined);
    }
    expect(srv.stderr()).not.toContain(T.alpha);
  });
});
