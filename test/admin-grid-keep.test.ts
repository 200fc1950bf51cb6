/**
 * A grid edit rewrites only the edited group of a profile: the operator's group names, globs and
 * exclusions for the other groups stay as written, and `cohere-mcp diff` between the file before
 * and after shows only the intended change.
 */
import { copyFileSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { TEST_KEY } from "./helpers.js";
import { sha256Hex, tempFile, writeConfig } from "./http-support.js";
import { cli } from "./cli-support.js";
import { api, LEAD_TOKEN, login, startConsole, type Console, type Session } from "./admin-support.js";

const AGENT_TOKEN = "globbed-token-4e6a8c0e2b4d6f8a1c";
const config = {
  profiles: {
    // batches by a glob, models by group name, datasets by group name, one exclusion
    globbed: { tools: ["*_batch*", "models", "datasets"], exclude_tools: ["get_dataset_usage"] },
    spanning: { tools: ["list_*", "rerank"] },
    exact: { tools: ["rerank", "get_dataset"] },
  },
  agents: [
    { name: "globbed-agent", profile: "globbed", token_sha256: sha256Hex(AGENT_TOKEN) },
    { name: "span-agent", profile: "spanning", token_env: "SPAN_TOKEN" },
    { name: "exact-agent", profile: "exact", token_env: "EXACT_TOKEN" },
  ],
  admins: [{ name: "team-lead", role: "admin", token_sha256: sha256Hex(LEAD_TOKEN) }],
};

let emu: CohereEmulator;
let c: Console;
let configPath: string;
let lead: Session;

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  configPath = writeConfig(config);
  c = await startConsole(emu.url, ["--config", configPath], { SPAN_TOKEN: "span-token-0a2c4e6f8b1d3f5a7c9e", EXACT_TOKEN: "exact-token-1b3d5f7a9c0e2a4c6e" });
  lead = await login(c, LEAD_TOKEN);
}, 30_000);
afterAll(async () => {
  await c?.srv.stop();
  await emu?.stop();
});

const profiles = () => JSON.parse(readFileSync(configPath, "utf8")).profiles;

async function put(changes: unknown[]) {
  const { version } = (await api(c, "GET", "grid", { session: lead })).json;
  const r = await api(c, "PUT", "grid", { session: lead, body: { version, changes } });
  expect(r.status, r.body).toBe(200);
  return r;
}

/** `cohere-mcp diff` between a copy of the file before and the file after. */
async function diffAfter(changes: unknown[]): Promise<string> {
  const before = tempFile("before.json");
  copyFileSync(configPath, before);
  await put(changes);
  const d = await cli(["diff", before, configPath]);
  expect(d.code, d.stderr).toBe(0);
  return d.stdout;
}

describe("a grid edit keeps the profile's groups and globs", () => {
  it("Full use of datasets: the batches glob and the models group stay as written; diff shows only the datasets gains", async () => {
    const out = await diffAfter([{ agent: "globbed-agent", group: "datasets", level: "full", confirm_destructive: true }]);
    expect(out).toBe(
      [
        "globbed-agent gains get_dataset_usage (read)",
        "globbed-agent gains create_dataset (write)",
        "globbed-agent gains delete_dataset (destructive, cannot be undone)",
      ].join("\n") + "\n",
    );
    // the exclusion that hid a tool Full use brings is gone; the rest as written
    expect(profiles().globbed).toEqual({ tools: ["*_batch*", "models", "datasets", "create_dataset", "delete_dataset"] });
  });

  it("back to Read, then Off: only the datasets entries change", async () => {
    expect(await diffAfter([{ agent: "globbed-agent", group: "datasets", level: "read" }])).toBe(
      ["globbed-agent loses create_dataset (write)", "globbed-agent loses delete_dataset (destructive)"].join("\n") + "\n",
    );
    expect(profiles().globbed).toEqual({ tools: ["*_batch*", "models", "datasets"] });
    await put([{ agent: "globbed-agent", group: "datasets", level: "off" }]);
    expect(profiles().globbed).toEqual({ tools: ["*_batch*", "models"] });
  });

  it("one tool in the advanced view: added by its exact name beside the glob", async () => {
    const out = await diffAfter([{ agent: "globbed-agent", tool: "create_batch", on: true }]);
    expect(out).toBe("globbed-agent gains create_batch (write)\n");
    expect(profiles().globbed.tools).toEqual(["*_batch*", "models", "create_batch"]);
  });

  it("exact names of the group that the group name now covers are said once, by the group name", async () => {
    // one dataset tool by its exact name, then Read of the whole group
    const out = await diffAfter([{ agent: "exact-agent", group: "datasets", level: "read" }]);
    expect(out).toBe("exact-agent gains list_datasets (read)\nexact-agent gains get_dataset_usage (read)\n");
    expect(profiles().exact).toEqual({ tools: ["rerank", "datasets"] });
  });

  it("a glob spanning groups stays; what it would bring of the edited group is excluded by name", async () => {
    const out = await diffAfter([{ agent: "span-agent", group: "datasets", level: "off" }]);
    expect(out).toBe("span-agent loses list_datasets (read)\n");
    expect(profiles().spanning).toEqual({ tools: ["list_*", "rerank"], exclude_tools: ["list_datasets"] });
  });
});
