/**
 * Two admins saving at once (file mode): the second save is refused (409) and names what the
 * other admin changed — who, when, which agents and groups, old → new — oldest first; a change
 * made outside the console (the file edited by hand) is said to be one. Nothing is overwritten.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { TEST_KEY } from "./helpers.js";
import { writeConfig } from "./http-support.js";
import { api, LEAD_TOKEN, login, startConsole, teamConfig, type Console, type Session } from "./admin-support.js";

let emu: CohereEmulator;
let c: Console;
let configPath: string;
let lead: Session;

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  configPath = writeConfig(teamConfig());
  c = await startConsole(emu.url, ["--config", configPath]);
  lead = await login(c, LEAD_TOKEN);
}, 30_000);
afterAll(async () => {
  await c?.srv.stop();
  await emu?.stop();
});

const fileText = () => readFileSync(configPath, "utf8");

describe("conflicting saves", () => {
  it("two admins saving at once: the second gets 409 naming what changed, never a silent overwrite", async () => {
    const { version } = (await api(c, "GET", "grid", { session: lead })).json;
    const other = await login(c, LEAD_TOKEN);
    const first = await api(c, "PUT", "grid", { session: other, body: { version, changes: [{ agent: "search-agent", group: "chat", level: "read" }] } });
    expect(first.status).toBe(200);
    const text = fileText();
    const second = await api(c, "PUT", "grid", { session: lead, body: { version, changes: [{ agent: "search-agent", group: "chat", level: "off" }] } });
    expect(second.status).toBe(409);
    expect(second.json.current_version).toBe(first.json.version);
    // it names the other admin's change: who, when, which agent and group, old → new
    expect(second.json.error).toMatch(/changed by team-lead \(admin\) since you loaded it; nothing was saved/);
    expect(second.json.changed).toHaveLength(1);
    expect(second.json.changed[0]).toMatch(
      /^team-lead \(admin\) at \d{4}-\d{2}-\d{2}T[\d:.]+Z: search-agent's Generate chat replies Off → Read \(set search-agent's Generate chat replies to Read; search-agent gains chat\b/,
    );
    expect(second.json.changes[0]).toMatchObject({
      admin: "team-lead",
      admin_role: "admin",
      from_version: version,
      to_version: first.json.version,
      action: "PUT grid",
      cells: [{ agent: "search-agent", group: "chat", from: "off", to: "read" }],
    });
    expect(fileText()).toBe(text);
  });

  it("a stale save after two changes names both, oldest first; a change made outside the console is said to be one", async () => {
    const { version } = (await api(c, "GET", "grid", { session: lead })).json;
    const other = await login(c, LEAD_TOKEN);
    const one = await api(c, "PUT", "grid", { session: other, body: { version, changes: [{ agent: "curator", group: "tokenize", level: "read" }] } });
    expect(one.status, one.body).toBe(200);
    const added = await api(c, "POST", "agents", { session: other, body: { name: "late-agent", profile: "reader" } });
    expect(added.status, added.body).toBe(201);
    const stale = await api(c, "PUT", "grid", { session: lead, body: { version, changes: [{ agent: "curator", group: "tokenize", level: "off" }] } });
    expect(stale.status).toBe(409);
    expect(stale.json.changed).toHaveLength(2);
    expect(stale.json.changed[0]).toMatch(/: curator's Tokenize text Off → Read \(set curator's Tokenize text to Read/);
    expect(stale.json.changed[1]).toMatch(/: late-agent's Look up models \(no such agent\) → Read \(created the agent late-agent/);
    // a hand edit of the file (then a reload) has no record: the answer says so
    const now = (await api(c, "GET", "grid", { session: lead })).json.version;
    const cfg = JSON.parse(fileText());
    cfg.profiles.reader.tools = ["models", "tokenize"];
    writeFileSync(configPath, JSON.stringify(cfg, null, 2));
    const hand = await api(c, "PUT", "grid", { session: lead, body: { version: now, changes: [{ agent: "curator", group: "tokenize", level: "off" }] } });
    expect(hand.status).toBe(409);
    expect(hand.json.changed).toEqual([expect.stringMatching(/changed outside the console/)]);
  });
});
