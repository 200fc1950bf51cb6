/**
 * Destructive confirmations for modern-era (2026-07-28) clients, by input_required (MRTR): the
 * SDK v2 client answers through its elicitation handler and the call runs once, accepted; over
 * the raw wire every way a retry can lie is rejected (-32602) with nothing sent: no or a forged
 * state, a state for other arguments, another tool or another agent, a replayed one, and (by the
 * unit check with a clock) one older than MRTR_MAX_AGE_MS; a valid state without a usable answer
 * is asked again. A state signed by one replica is accepted by another that shares the key. A
 * client that declares no elicitation gets -32021.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { textOf, TEST_KEY, type ToolCallResult } from "./helpers.js";
import { bearer, eventually, rpc, sha256Hex, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";
import { MODERN, modernHttp, modernStdio } from "./eras-support.js";
import { answerOf, ConfirmationRefused, MRTR_MAX_AGE_MS, mintState } from "../src/call/mrtr.js";
import { MemorySharedState } from "../src/store/shared-memory.js";
import type { App } from "../src/runtime/app.js";
import type { AgentScope } from "../src/policy/types.js";
import { readFileSync } from "node:fs";
import { redisServerPath, startRedis } from "../bench/redis.js";

const TOOLS = ["--tools", "datasets", "--allow-write", "--allow-destructive"];
const ENVELOPE = {
  "io.modelcontextprotocol/protocolVersion": MODERN,
  "io.modelcontextprotocol/clientCapabilities": { elicitation: { form: {} } },
  "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
};
const STATE_KEY = "state-key-for-tests-0123456789abcdef";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const deletes = () => emu.requests.filter((r) => r.method === "DELETE");

/** One modern tools/call on the raw wire (the envelope and its headers); its answer. */
async function send(url: string, token: string, name: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const r = await rpc(
    url,
    { jsonrpc: "2.0", id: 1, method: "tools/call", params: { name, arguments: args, ...extra, _meta: ENVELOPE } },
    { ...(token ? bearer(token) : {}), "Mcp-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": name },
  );
  expect(r.status).toBe(200);
  return r.messages[0] as { result?: Record<string, unknown> & ToolCallResult; error?: { code: number; message: string; data?: unknown } };
}

/** Its result. */
const call = async (...a: Parameters<typeof send>) => (await send(...a)).result as Record<string, unknown> & ToolCallResult;

/**
 * Its error: a confirmation state that does not hold is rejected with -32602 (2026-07-28 MRTR:
 * "return a JSON-RPC error" for state that fails verification), saying why and that nothing was sent.
 */
async function stateRejected(answer: Awaited<ReturnType<typeof send>>, why: RegExp) {
  expect(answer.result, JSON.stringify(answer.result)).toBeUndefined();
  expect(answer.error?.code).toBe(-32602);
  expect(answer.error?.data).toEqual({ reason: "invalid_request_state" });
  expect(answer.error?.message).toMatch(why);
  expect(answer.error?.message).toMatch(/nothing was sent to Cohere/);
}

const accept = { confirm: { action: "accept", content: {} } };

describe("MRTR confirmations over HTTP (raw wire)", () => {
  const OPS = "ops-token-0123456789abcdef";
  const OTHER = "other-token-0123456789abcdef";
  const audit = tempFile("eras-confirm.jsonl");
  const config = writeConfig({
    profiles: { ops: { tools: ["datasets", "embed_jobs"], allow_write: true, allow_destructive: true } },
    agents: [
      { name: "ops", profile: "ops", token_sha256: sha256Hex(OPS) },
      { name: "other", profile: "ops", token_sha256: sha256Hex(OTHER) },
    ],
  });
  let a: HttpServerProc;
  let b: HttpServerProc;
  beforeAll(async () => {
    a = await startHttp(emu.url, ["--config", config, "--audit-log", audit], { COHERE_MCP_STATE_KEY: STATE_KEY });
    b = await startHttp(emu.url, ["--config", config], { COHERE_MCP_STATE_KEY: STATE_KEY });
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  async function dataset(): Promise<string> {
    const r = await call(a.url, OPS, "create_dataset", { name: "support-tickets", type: "embed-input", data_text: '{"text":"a"}\n' });
    return (r.structuredContent as { id: string }).id;
  }

  /** The first round: input_required with the question and a signed state; nothing deleted. */
  async function ask(id: string, token = OPS) {
    const before = deletes().length;
    const r = await call(a.url, token, "delete_dataset", { id });
    expect(r.resultType).toBe("input_required");
    const q = (r.inputRequests as Record<string, { method: string; params: { message: string } }>).confirm!;
    expect(q.method).toBe("elicitation/create");
    expect(q.params.message).toBe(`Delete dataset ${id} "support-tickets"? This cannot be undone.`);
    expect(typeof r.requestState).toBe("string");
    expect(deletes()).toHaveLength(before);
    return r.requestState as string;
  }

  it("accept on the retry with the state: deleted once, audited confirmed with era modern; another replica with the same key accepts it", async () => {
    const id = await dataset();
    const state = await ask(id);
    const r = await call(b.url, OPS, "delete_dataset", { id }, { inputResponses: accept, requestState: state });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(deletes()).toHaveLength(1);
    const id2 = await dataset();
    const s2 = await ask(id2);
    expect((await call(a.url, OPS, "delete_dataset", { id: id2 }, { inputResponses: accept, requestState: s2 })).isError).toBeFalsy();
    const line = await eventually(() => {
      const l = readFileSync(audit, "utf8").trim().split("\n").map((x) => JSON.parse(x) as Record<string, unknown>);
      const d = l.filter((x) => x.tool === "delete_dataset" && x.decision === "allowed");
      expect(d).toHaveLength(1);
      return d[0]!;
    });
    expect(line).toMatchObject({ era: "modern", confirmed: true, agent: "ops" });
  });

  it("a client that declares no elicitation gets -32021 (HTTP 400) naming it, audited not_confirmed, nothing sent", async () => {
    const envelope = { ...ENVELOPE, "io.modelcontextprotocol/clientCapabilities": {} };
    const r = await rpc(
      a.url,
      { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "delete_dataset", arguments: { id: "ds-nocap" }, _meta: envelope } },
      { ...bearer(OPS), "Mcp-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "delete_dataset" },
    );
    expect(r.status, r.body).toBe(400);
    const err = r.messages[0]?.error as { code: number; message: string; data: { requiredCapabilities: unknown } };
    expect(r.messages[0]?.id).toBe(7);
    expect(err.code).toBe(-32021);
    expect(err.data.requiredCapabilities).toEqual({ elicitation: {} });
    expect(err.message).toMatch(/delete_dataset is destructive .*cannot ask.*nothing was sent to Cohere/s);
    expect(deletes()).toHaveLength(0);
    const line = await eventually(() => {
      const l = readFileSync(audit, "utf8").trim().split("\n").map((x) => JSON.parse(x) as Record<string, unknown>);
      const d = l.find((x) => x.tool === "delete_dataset" && x.reason === "not_confirmed" && x.resource === "dataset ds-nocap");
      expect(d).toBeDefined();
      return d!;
    });
    expect(line).toMatchObject({ era: "modern", decision: "denied", agent: "ops" });
  });

  it("decline: nothing sent", async () => {
    const id = await dataset();
    const state = await ask(id);
    const r = await call(a.url, OPS, "delete_dataset", { id }, { inputResponses: { confirm: { action: "decline" } }, requestState: state });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/declined/);
    expect(deletes()).toHaveLength(0);
  });

  it("fails closed with -32602: no state, a forged one, other arguments, another tool, another agent, a replay", async () => {
    const id = await dataset();
    const refused = async (r: Awaited<ReturnType<typeof send>>, why: RegExp) => {
      await stateRejected(r, why);
      expect(deletes()).toHaveLength(0);
    };
    // an answer without the state
    await refused(await send(a.url, OPS, "delete_dataset", { id }, { inputResponses: accept }), /not signed by this server/);
    // a state whose body was changed (the signature no longer holds)
    const state = await ask(id);
    const [body, sig] = state.split(".");
    const forged = JSON.parse(Buffer.from(body!, "base64url").toString()) as Record<string, unknown>;
    forged.digest = "x";
    const forgedState = `${Buffer.from(JSON.stringify(forged)).toString("base64url")}.${sig}`;
    await refused(await send(a.url, OPS, "delete_dataset", { id }, { inputResponses: accept, requestState: forgedState }), /not signed/);
    // retargeted: the same state for another dataset
    await refused(
      await send(a.url, OPS, "delete_dataset", { id: "ds-other" }, { inputResponses: accept, requestState: await ask(id) }),
      /other arguments/,
    );
    // another tool
    await refused(await send(a.url, OPS, "cancel_embed_job", { id }, { inputResponses: accept, requestState: await ask(id) }), /another tool/);
    // another agent answering with ops's state
    await refused(await send(a.url, OTHER, "delete_dataset", { id }, { inputResponses: accept, requestState: await ask(id) }), /another agent/);
    // a replay: the first use deletes, the second is refused
    const once = await ask(id);
    expect((await call(a.url, OPS, "delete_dataset", { id }, { inputResponses: accept, requestState: once })).isError).toBeFalsy();
    expect(deletes()).toHaveLength(1);
    emu.reset();
    const id2 = await dataset();
    expect(id2).toBeTruthy();
    await refused(await send(a.url, OPS, "delete_dataset", { id }, { inputResponses: accept, requestState: once }), /used already/);
  });

  it("a valid state without a usable answer (none, null, a number): asked again with a fresh state, nothing sent; that one then works (extra keys ignored)", async () => {
    const id = await dataset();
    let state = await ask(id);
    for (const inputResponses of [undefined, null, { confirm: 12345 }]) {
      const again = await call(a.url, OPS, "delete_dataset", { id }, { requestState: state, ...(inputResponses === undefined ? {} : { inputResponses }) });
      expect(again.resultType, JSON.stringify(again)).toBe("input_required");
      expect(again.requestState).not.toBe(state);
      expect(deletes()).toHaveLength(0);
      state = again.requestState as string;
    }
    // keys it did not ask about are ignored
    const extra = { ...accept, unknown_extra_key: { action: "decline", content: { foo: "bar" } } };
    const r = await call(a.url, OPS, "delete_dataset", { id }, { inputResponses: extra, requestState: state });
    expect(r.isError, textOf(r)).toBeFalsy();
    expect(deletes()).toHaveLength(1);
  });

  it("the envelope's headers must agree with the body: an Mcp-Name naming another tool is refused before any handler, nothing sent", async () => {
    const id = await dataset();
    const r = await rpc(
      a.url,
      { jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "delete_dataset", arguments: { id }, _meta: ENVELOPE } },
      { ...bearer(OPS), "Mcp-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "list_datasets" },
    );
    const error = r.messages[0]?.error as { code: number } | undefined;
    expect(error?.code, r.body.slice(0, 300)).toBe(-32020);
    expect(deletes()).toHaveLength(0);
  });

  it("a replica with another key refuses the state", async () => {
    const c = await startHttp(emu.url, ["--config", config], { COHERE_MCP_STATE_KEY: "another-key-0123456789abcdef-0123456" });
    try {
      const id = await dataset();
      const state = await ask(id);
      await stateRejected(await send(c.url, OPS, "delete_dataset", { id }, { inputResponses: accept, requestState: state }), /not signed by this server/);
      expect(deletes()).toHaveLength(0);
    } finally {
      await c.stop();
    }
  });
});

describe.skipIf(!redisServerPath())("MRTR confirmations across replicas on Redis (--store, no COHERE_MCP_STATE_KEY)", () => {
  it("the key is shared through the store: a state from one replica is accepted by the other, once", async () => {
    const redis = await startRedis();
    const args = [...TOOLS, "--store", redis.url];
    const [r1, r2] = await Promise.all([startHttp(emu.url, [...args, "--replica-id", "r1"]), startHttp(emu.url, [...args, "--replica-id", "r2"])]);
    try {
      const made = await call(r1.url, "", "create_dataset", { name: "d", type: "embed-input", data_text: '{"text":"a"}\n' });
      const id = (made.structuredContent as { id: string }).id;
      const asked = await call(r1.url, "", "delete_dataset", { id });
      expect(asked.resultType).toBe("input_required");
      const state = asked.requestState as string;
      const ok = await call(r2.url, "", "delete_dataset", { id }, { inputResponses: accept, requestState: state });
      expect(ok.isError, textOf(ok)).toBeFalsy();
      expect(deletes()).toHaveLength(1);
      await stateRejected(await send(r1.url, "", "delete_dataset", { id }, { inputResponses: accept, requestState: state }), /used already/);
      expect(deletes()).toHaveLength(1);
    } finally {
      await Promise.all([r1.stop(), r2.stop()]);
      await redis.dispose();
    }
  });
});

describe("MRTR confirmations with the SDK v2 client", () => {
  it("stdio and HTTP: the client's elicitation handler is asked, accept deletes; a client without elicitation gets -32021", async () => {
    const asked: string[] = [];
    const m = await modernStdio(emu.url, TOOLS, { pin: MODERN }, { elicit: true });
    const srv = await startHttp(emu.url, TOOLS);
    const h = await modernHttp(srv.url, {}, { pin: MODERN }, { elicit: true });
    try {
      for (const c of [m.client, h.client]) {
        c.setRequestHandler("elicitation/create", async (req) => {
          asked.push((req.params as { message: string }).message);
          return { action: "accept", content: {} };
        });
        const made = (await c.callTool({ name: "create_dataset", arguments: { name: "d", type: "embed-input", data_text: '{"text":"a"}\n' } })) as ToolCallResult;
        const id = (made.structuredContent as { id: string }).id;
        const r = (await c.callTool({ name: "delete_dataset", arguments: { id } })) as ToolCallResult;
        expect(r.isError, textOf(r)).toBeFalsy();
      }
      expect(asked).toHaveLength(2);
      expect(deletes()).toHaveLength(2);
      // a modern client that declares no elicitation: the protocol's -32021, on stdio and HTTP
      const plain = [await modernHttp(srv.url, {}, { pin: MODERN }, { elicit: false }), await modernStdio(emu.url, TOOLS, { pin: MODERN }, { elicit: false })];
      try {
        for (const p of plain) {
          const err = await p.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } }).then(
            (r) => ({ code: undefined, message: textOf(r as ToolCallResult) }),
            (e: unknown) => e as { code?: number; message?: string },
          );
          expect(err.code, err.message).toBe(-32021);
          expect(err.message).toMatch(/cannot ask/);
        }
        expect(deletes()).toHaveLength(2);
      } finally {
        await Promise.all(plain.map((p) => p.close()));
      }
    } finally {
      await m.close();
      await h.close();
      await srv.stop();
    }
  });
});

describe("the state's checks (unit, with a clock)", () => {
  const app = { options: { stateKey: STATE_KEY }, shared: new MemorySharedState(), logger: console } as unknown as App;
  const scope: AgentScope = { agent: "ops", transport: "http", visible: new Set() };
  it("an answer older than MRTR_MAX_AGE_MS is refused; a fresh one is accepted", async () => {
    const old = await mintState(app, scope, "delete_dataset", { id: "a" });
    const later = Date.now() + MRTR_MAX_AGE_MS + 1_000;
    await expect(answerOf(app, scope, "delete_dataset", { id: "a" }, old, accept, later)).rejects.toThrow(ConfirmationRefused);
    await expect(answerOf(app, scope, "delete_dataset", { id: "a" }, old, accept, later)).rejects.toThrow(/older than 3 minutes/);
    const fresh = await mintState(app, scope, "delete_dataset", { id: "a" });
    await expect(answerOf(app, scope, "delete_dataset", { id: "a" }, fresh, accept)).resolves.toBe("accept");
    // argument order does not matter (canonical JSON), but any change does
    const two = await mintState(app, scope, "x", { a: 1, b: 2 });
    await expect(answerOf(app, scope, "x", { b: 2, a: 1 }, two, accept)).resolves.toBe("accept");
  });
});
