/**
 * A gateway-wide budget (issue 22, item 11): a top-level `budget` caps all agents together, in
 * the same units as a profile's; it is reserved in the same atomic take as the agent's own
 * budget (a call refused by one counts against neither), refusals say which budget, and the
 * metrics show it. Through the real App and callTool against the emulator.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { createApp, type App } from "../src/runtime/app.js";
import type { AuditEvent } from "../src/audit/index.js";
import { parseOptions } from "../src/config/options.js";
import { createLogger } from "../src/runtime/logger.js";
import { installTelemetry } from "../src/metrics/index.js";
import { callTool } from "../src/server.js";
import { loadConfigFile } from "../src/config/file.js";
import { configDiff } from "../src/policy/diff.js";
import { TEST_KEY, textOf } from "./helpers.js";
import { writeConfig } from "./http-support.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const apps: App[] = [];
afterAll(async () => {
  for (const a of apps) await a.close();
});

const TOKENIZE = { model: "command-a-03-2025", text: "hello" };
const RERANK = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };

function rig(config: Record<string, unknown>) {
  const path = writeConfig(config);
  const app = createApp(parseOptions(["--config", path], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url, COHERE_MCP_MAX_RETRIES: "0" }), createLogger("silent"));
  apps.push(app);
  const events: AuditEvent[] = [];
  app.audit = { record: (e) => events.push(e), close: async () => undefined };
  const call = (agent: string, profile: string, tool: string, args: Record<string, unknown>) =>
    callTool(app, { agent, transport: "http", visible: app.profileVisible(profile), profile }, tool, args, {});
  const gateway = async () => Object.fromEntries((await app.live.current.budgets!.gatewayUsage()).map((r) => [r.unit, r.used]));
  return { app, events, call, gateway };
}

describe("the gateway-wide budget", () => {
  it("caps all agents together, refuses with which budget, and sends nothing past it", async () => {
    const r = rig({ profiles: { p: { tools: ["tokenize"] } }, budget: { calls: 3 } });
    expect((await r.call("a", "p", "tokenize", TOKENIZE)).isError).toBeFalsy();
    expect((await r.call("a", "p", "tokenize", TOKENIZE)).isError).toBeFalsy();
    expect((await r.call("b", "p", "tokenize", TOKENIZE)).isError).toBeFalsy();
    const refused = await r.call("c", "p", "tokenize", TOKENIZE);
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(
      /^Budget spent: the gateway \(all agents together\) has used 3 of its 3 calls this month \(\S+, UTC\) \(the config's top-level budget\.calls, shared by all agents;/,
    );
    expect(emu.requests.filter((q) => q.path === "/v1/tokenize")).toHaveLength(3);
    const denied = r.events.find((e) => e.decision === "denied")!;
    expect(denied).toMatchObject({ agent: "c", reason: "budget" });
    expect(denied.detail).toMatch(/^gateway budget\.calls: 3 calls of 3 calls used/);
    expect(await r.gateway()).toEqual({ calls: 3 });
  });

  it("is reserved atomically with the agent's own: a call one refuses counts against neither", async () => {
    const r = rig({
      profiles: { tight: { tools: ["rerank"], budget: { calls: 1 } }, open: { tools: ["rerank"] } },
      budget: { calls: 3, search_units: 10 },
    });
    expect((await r.call("a", "tight", "rerank", RERANK)).isError).toBeFalsy();
    const own = await r.call("a", "tight", "rerank", RERANK);
    expect(textOf(own)).toMatch(/^Budget spent: agent "a" has used 1 of its 1 call this month .*profile "tight", budget\.calls/);
    // the refused call added nothing to the gateway's counters
    expect(await r.gateway()).toEqual({ calls: 1, search_units: 1 });
    expect((await r.call("b", "open", "rerank", RERANK)).isError).toBeFalsy();
    expect((await r.call("b", "open", "rerank", RERANK)).isError).toBeFalsy();
    expect(textOf(await r.call("b", "open", "rerank", RERANK))).toMatch(/the gateway \(all agents together\) has used 3 of its 3 calls/);
    expect(await r.gateway()).toEqual({ calls: 3, search_units: 3 });
    expect(emu.requests.filter((q) => q.path === "/v2/rerank")).toHaveLength(3);
  });

  it("shows in the metrics: used, remaining and limit by unit", async () => {
    const r = rig({ profiles: { p: { tools: ["tokenize"], budget: { calls: 10 } } }, agents: [], budget: { calls: 5 } });
    const t = installTelemetry(r.app);
    await r.call("a", "p", "tokenize", TOKENIZE);
    await r.call("a", "p", "tokenize", TOKENIZE);
    const text = await t.registry.metrics();
    expect(text).toContain('cohere_mcp_gateway_budget_used{unit="calls"} 2');
    expect(text).toContain('cohere_mcp_gateway_budget_remaining{unit="calls"} 3');
    expect(text).toContain('cohere_mcp_gateway_budget_limit{unit="calls"} 5');
  });

  it("a USD gateway budget without a price table stops the start", () => {
    const path = writeConfig({ profiles: { p: { tools: ["chat"] } }, budget: { usd: 500 } });
    expect(() => createApp(parseOptions(["--config", path], { CO_API_KEY: TEST_KEY, CO_API_URL: emu.url }), createLogger("silent"))).toThrow(
      /budget\.usd \(the gateway-wide budget\) needs a price table/,
    );
  });

  it("a reload's diff names a change of the gateway budget", () => {
    const before = loadConfigFile(writeConfig({ profiles: { p: { tools: ["chat"] } }, budget: { calls: 1000 } }));
    const after = loadConfigFile(writeConfig({ profiles: { p: { tools: ["chat"] } }, budget: { calls: 500, search_units: 20 } }));
    const d = configDiff(before, after);
    expect(d.changes.filter((c) => c.kind === "budget").map((c) => c.text)).toEqual([
      "budget of the gateway (all agents together) from 1000 to 500 calls a month",
      "budget of the gateway (all agents together): at most 20 search units a month (was unlimited)",
    ]);
  });
});
