/**
 * The console with replicas on Redis (--store, --policy-store): the policy is a versioned
 * document in the store, seeded from the file, applied by every replica; a save on one replica's
 * console reaches an agent connected to another replica within 2 s; admin sessions and the
 * activity are shared; the document survives a replica restart and a Redis restart (appendonly).
 */
import { readFileSync } from "node:fs";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { TEST_KEY } from "./helpers.js";
import { bearer, connectHttp, eventually, writeConfig } from "./http-support.js";
import { redisServerPath, startRedis, type RedisServer } from "../bench/redis.js";
import { policyExportCommand } from "../src/cli/policy-export.js";
import { sha256Hex } from "./http-support.js";
import { api, CURATOR_TOKEN, LEAD_TOKEN, login, startConsole, teamConfig, type Console } from "./admin-support.js";

const HAVE_REDIS = redisServerPath() !== undefined;

let emu: CohereEmulator;
let redis: RedisServer;
let configPath: string;
let a: Console;
let b: Console;

const replica = (tag: string) => startConsole(emu.url, ["--config", configPath, "--sessions", "--store", redis.url, "--replica-id", tag]);

beforeAll(async () => {
  if (!HAVE_REDIS) return;
  emu = await startEmulator({ apiKey: TEST_KEY });
  redis = await startRedis({ appendonly: true });
  configPath = writeConfig(teamConfig());
  [a, b] = await Promise.all([replica("ra"), replica("rb")]);
}, 60_000);
afterAll(async () => {
  await a?.srv.stop();
  await b?.srv.stop();
  await redis?.dispose();
  await emu?.stop();
});

describe.skipIf(!HAVE_REDIS)("console on Redis", () => {
  it("the policy document is seeded from the file once; every replica serves it; the file is never written", async () => {
    const g = await api(a, "GET", "grid", { bearer: LEAD_TOKEN });
    expect(g.json.version).toBe("1");
    expect(g.json.readonly_reason).toBeUndefined();
    expect(g.json.where).toMatch(/policy document in the shared store/);
    expect((await api(b, "GET", "grid", { bearer: LEAD_TOKEN })).json.version).toBe("1");
  });

  it("a save on one replica reaches an agent connected to the other within 2 s; the activity of both is in either console", async () => {
    const before = readFileSync(configPath, "utf8");
    const curator = await connectHttp(b.srv.url, bearer(CURATOR_TOKEN));
    try {
      expect((await curator.client.listTools()).tools.map((t) => t.name)).not.toContain("delete_dataset");
      let notified = 0;
      curator.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        notified = Date.now();
      });
      const lead = await login(a, LEAD_TOKEN);
      const { version } = (await api(a, "GET", "grid", { session: lead })).json;
      const t0 = Date.now();
      const r = await api(a, "PUT", "grid", {
        session: lead,
        body: { version, changes: [{ agent: "curator", group: "datasets", level: "full", confirm_destructive: true }] },
      });
      expect(r.status, r.body).toBe(200);
      expect(r.json.version).toBe("2");
      await eventually(async () => {
        const fresh = await connectHttp(b.srv.url, bearer(CURATOR_TOKEN));
        try {
          expect((await fresh.client.listTools()).tools.map((t) => t.name)).toContain("delete_dataset");
        } finally {
          await fresh.close();
        }
      }, 2_000);
      console.log(`grid change on replica A applied on replica B in ${Date.now() - t0} ms`);
      // the session already open on B is told, and lists the new tools
      await eventually(() => expect(notified).toBeGreaterThan(0), 2_000);
      console.log(`tools/list_changed reached the open session on replica B ${notified - t0} ms after the save`);
      expect((await curator.client.listTools()).tools.map((t) => t.name)).toContain("delete_dataset");
      expect(readFileSync(configPath, "utf8")).toBe(before);
      // a call on B shows in A's activity within 2 s
      const t1 = Date.now();
      await curator.client.callTool({ name: "list_datasets", arguments: {} });
      const item = await eventually(async () => {
        const act = await api(a, "GET", "activity?agent=curator&tool=list_datasets", { session: lead });
        const found = act.json.events.find((e: { replica: string }) => e.replica === "rb");
        if (!found) throw new Error("not yet");
        return found;
      }, 2_000);
      console.log(`a call on replica B visible in replica A's activity in ${Date.now() - t1} ms`);
      expect(item.sentence).toMatch(/curator called list_datasets \(read\)/);
      // the admin's change is in the activity too, with who did it
      const changes = await api(a, "GET", "activity?agent=team-lead", { session: lead });
      expect(changes.json.events.some((e: { event: { event?: string; admin?: string } }) => e.event.event === "admin_change" && e.event.admin === "team-lead")).toBe(true);
      // a sign-in on A is honoured by B (sessions live in the store)
      const onB = await api(b, "GET", "session", { session: lead });
      expect(onB.status).toBe(200);
    } finally {
      await curator.close();
    }
  });

  it("the agents page lists the sessions of every replica; ending one held by the other replica ends it there, audited", async () => {
    const onB = await connectHttp(b.srv.url, bearer(CURATOR_TOKEN));
    const onA = await connectHttp(a.srv.url, bearer(CURATOR_TOKEN));
    try {
      await onB.client.listTools();
      await onA.client.listTools();
      const idB = onB.transport.sessionId!;
      const idA = onA.transport.sessionId!;
      // A lists both (B's within a poll: 500 ms)
      const listed = await eventually(async () => {
        const curator = (await api(a, "GET", "agents", { bearer: LEAD_TOKEN })).json.find((x: { name: string }) => x.name === "curator");
        const ids = curator.sessions.map((x: { id: string }) => x.id);
        if (!ids.includes(idB)) throw new Error(`B's session not listed yet: ${ids.join(", ")}`);
        return curator.sessions as Array<{ id: string; replica: string }>;
      }, 2_000);
      expect(listed.find((x) => x.id === idB)!.replica).toBe("rb");
      expect(listed.find((x) => x.id === idA)!.replica).toBe("ra");
      const lead = await login(a, LEAD_TOKEN);
      const t0 = Date.now();
      const r = await api(a, "DELETE", `agents/curator/sessions/${encodeURIComponent(idB)}`, { session: lead });
      expect(r.status, r.body).toBe(200);
      expect(r.json).toEqual({ ended: 1, replica: "rb" });
      console.log(`a session held by replica B ended from replica A's console in ${Date.now() - t0} ms`);
      await expect(onB.client.listTools()).rejects.toThrow();
      // the session on A is untouched
      expect((await onA.client.listTools()).tools.length).toBeGreaterThan(0);
      const line = await eventually(async () => {
        const act = await api(a, "GET", "activity?agent=team-lead", { session: lead });
        const found = act.json.events.find((e: { sentence: string }) => e.sentence.includes(idB));
        if (!found) throw new Error("not yet");
        return found;
      }, 2_000);
      expect(line.sentence).toBe(`team-lead (admin) ended curator's session ${idB} (held by replica rb)`);
      // gone from the list; a session nobody holds is 404
      await eventually(async () => {
        const curator = (await api(b, "GET", "agents", { bearer: LEAD_TOKEN })).json.find((x: { name: string }) => x.name === "curator");
        expect(curator.sessions.map((x: { id: string }) => x.id)).not.toContain(idB);
      }, 2_000);
      expect((await api(a, "DELETE", `agents/curator/sessions/${encodeURIComponent(idB)}`, { session: lead })).status).toBe(404);
    } finally {
      await onA.close().catch(() => undefined);
      await onB.close().catch(() => undefined);
    }
  });

  it("cohere-mcp policy export writes the store's document as a complete config file (hashes kept: the operator's file)", async () => {
    const out: string[] = [];
    const err: string[] = [];
    expect(await policyExportCommand(["--store", redis.url], {}, (x) => out.push(x), (x) => err.push(x))).toBe(0);
    const doc = JSON.parse(out.join(""));
    expect(doc.profiles.curator.tools).toContain("delete_dataset");
    expect(doc.agents.find((a: { name: string }) => a.name === "curator").token_sha256).toBe(sha256Hex(CURATOR_TOKEN));
    // the file mode reads the file; a bad store URL is a usage error
    const fromFile: string[] = [];
    expect(await policyExportCommand(["--config", configPath], {}, (x) => fromFile.push(x), () => undefined)).toBe(0);
    expect(JSON.parse(fromFile.join("")).profiles.curator.tools).toEqual(["datasets"]);
    expect(await policyExportCommand(["--store", "http://nope"], {}, () => undefined, (x) => err.push(x))).toBe(1);
    expect(await policyExportCommand([], {}, () => undefined, (x) => err.push(x))).toBe(2);
  });

  it("the document survives a replica restart (the store wins over the file) and a Redis restart", async () => {
    // a replica that stops withdraws its open sessions from the list at once
    const held = await connectHttp(b.srv.url, bearer(CURATOR_TOKEN));
    await held.client.listTools();
    const heldId = held.transport.sessionId!;
    const agentsOfA = async () => (await api(a, "GET", "agents", { bearer: LEAD_TOKEN })).json.find((x: { name: string }) => x.name === "curator").sessions as Array<{ id: string }>;
    await eventually(async () => expect((await agentsOfA()).map((x) => x.id)).toContain(heldId), 2_000);
    await b.srv.stop();
    expect((await agentsOfA()).map((x) => x.id)).not.toContain(heldId);
    await held.close().catch(() => undefined);
    b = await replica("rb");
    const fresh = await connectHttp(b.srv.url, bearer(CURATOR_TOKEN));
    expect((await fresh.client.listTools()).tools.map((t) => t.name)).toContain("delete_dataset");
    await fresh.close();
    await redis.kill(); // SIGKILL: only what appendonly put on disk survives
    await redis.restart();
    const g = await eventually(async () => {
      const r = await api(a, "GET", "grid", { bearer: LEAD_TOKEN });
      if (r.status !== 200) throw new Error(`${r.status} ${r.body}`);
      return r.json;
    }, 10_000);
    expect(g.version).toBe("2");
    expect(g.rows.find((r: { agent: string }) => r.agent === "curator").cells.datasets).toBe("full");
  });
});
