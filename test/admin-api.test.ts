/**
 * The console's admin API over real HTTP (--admin-port, file mode): sign-in, the grid (read,
 * preview, save, bad input; conflicts: admin-conflict.test.ts), the audit line of every change, CSRF and Origin
 * refusals, the viewer role, security headers and no secret in any answer.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { TEST_KEY } from "./helpers.js";
import { bearer, connectHttp, eventually, startHttp, tempFile, writeConfig } from "./http-support.js";
import {
  api,
  auditLines,
  CURATOR_TOKEN,
  LEAD_TOKEN,
  login,
  SEARCH_TOKEN,
  startConsole,
  teamConfig,
  TEAM_ENV,
  VIEWER_TOKEN,
  type Console,
  type Session,
} from "./admin-support.js";

let emu: CohereEmulator;
let c: Console;
let configPath: string;
let auditPath: string;
let lead: Session;
let viewer: Session;

beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  configPath = writeConfig(teamConfig());
  auditPath = tempFile("audit.jsonl");
  c = await startConsole(emu.url, ["--config", configPath, "--sessions", "--audit-log", auditPath]);
  lead = await login(c, LEAD_TOKEN);
  viewer = await login(c, VIEWER_TOKEN);
}, 30_000);
afterAll(async () => {
  await c?.srv.stop();
  await emu?.stop();
});
beforeEach(() => emu.reset());

const fileText = () => readFileSync(configPath, "utf8");
const SECRETS = [LEAD_TOKEN, VIEWER_TOKEN, SEARCH_TOKEN, CURATOR_TOKEN, TEST_KEY, ...Object.values(TEAM_ENV)];
function noSecrets(text: string) {
  for (const s of SECRETS) expect(text).not.toContain(s);
  expect(text).not.toMatch(/[a-f0-9]{64}/);
}

describe("start-up", () => {
  it("no admins declared: the start fails saying why", async () => {
    const path = writeConfig({ ...teamConfig(), admins: undefined });
    await expect(startHttp(emu.url, ["--config", path, "--admin-port", "0"], TEAM_ENV)).rejects.toThrow(/--admin-port needs at least one admin/);
  });
  it("the console never shares the agents' port", async () => {
    const path = writeConfig(teamConfig());
    await expect(startHttp(emu.url, ["--config", path, "--port", "18999", "--admin-port", "18999"], TEAM_ENV)).rejects.toThrow(/agents' port/);
  });
});

describe("sign-in", () => {
  it("every API path needs a signed-in admin, except the OpenAPI document; strict CSP everywhere", async () => {
    for (const path of ["session", "grid", "agents", "activity", "usage", "policy/export"]) {
      const r = await api(c, "GET", path);
      expect(r.status, path).toBe(401);
      expect(r.headers["content-security-policy"]).toContain("default-src 'self'; script-src 'self'");
      expect(r.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    }
    const doc = await api(c, "GET", "/admin/api/openapi.json");
    expect(doc.status).toBe(200);
    expect(doc.json.openapi).toBe("3.1.0");
    expect(doc.json.paths["/admin/api/v1/grid"].put.requestBody.content["application/json"].schema.properties.changes).toBeDefined();
    const page = await api(c, "GET", "/");
    expect(page.headers["content-security-policy"]).toContain("base-uri 'none'");
  });

  it("a token signs in: an HttpOnly SameSite=Strict cookie, the CSRF token; a wrong token is 401", async () => {
    const bad = await api(c, "POST", "login", { body: { token: "not-a-token-at-all-xx" } });
    expect(bad.status).toBe(401);
    const r = await api(c, "POST", "login", { body: { token: LEAD_TOKEN }, origin: c.base });
    expect(r.status).toBe(200);
    expect(r.json.admin).toEqual({ name: "team-lead", role: "admin" });
    const cookie = String((r.headers["set-cookie"] ?? [])[0]);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toMatch(/Secure/); // plain http on loopback
    const s = await api(c, "GET", "session", { session: { cookie: cookie.split(";")[0]!, csrf: r.json.csrf } });
    expect(s.json).toEqual({ admin: { name: "team-lead", role: "admin" }, csrf: r.json.csrf });
    noSecrets(r.body + s.body);
    // a foreign Origin cannot sign in
    const foreign = await api(c, "POST", "login", { body: { token: LEAD_TOKEN }, origin: "http://127.0.0.1:1" });
    expect(foreign.status).toBe(403);
  });

  it("logout ends the session", async () => {
    const s = await login(c, LEAD_TOKEN);
    expect((await api(c, "POST", "logout", { session: s })).status).toBe(204);
    expect((await api(c, "GET", "session", { session: s })).status).toBe(401);
  });

  it("bearer admin tokens work for scripts; an unknown bearer is 401", async () => {
    expect((await api(c, "GET", "grid", { bearer: LEAD_TOKEN })).status).toBe(200);
    expect((await api(c, "GET", "grid", { bearer: "wrong-token-0123456789" })).status).toBe(401);
  });
});

describe("sign-in throttle and cookies behind a proxy", () => {
  it("failed sign-ins past --max-auth-failures get 429; a valid token still signs in (other admins are not locked out)", async () => {
    const path = writeConfig(teamConfig());
    const t = await startConsole(emu.url, ["--config", path, "--max-auth-failures", "3"]);
    try {
      const codes: number[] = [];
      for (let i = 0; i < 6; i++) codes.push((await api(t, "POST", "login", { body: { token: `wrong-token-${i}-0123456789` } })).status);
      expect(codes.slice(0, 3)).toEqual([401, 401, 401]);
      expect(codes.slice(3)).toEqual([429, 429, 429]);
      expect((await api(t, "POST", "login", { body: { token: LEAD_TOKEN } })).status).toBe(200);
    } finally {
      await t.srv.stop();
    }
  });

  it("behind a trusted proxy that says https, the cookie is Secure", async () => {
    const path = writeConfig(teamConfig());
    const t = await startConsole(emu.url, ["--config", path, "--trusted-proxies", "127.0.0.1"]);
    try {
      const { rawRequest } = await import("./http-support.js");
      const r = await rawRequest(`${t.base}/admin/api/v1/login`, {
        headers: { "Content-Type": "application/json", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9" },
        body: JSON.stringify({ token: LEAD_TOKEN }),
      });
      expect(r.status).toBe(200);
      expect(String((r.headers["set-cookie"] ?? [])[0])).toMatch(/; Secure/);
    } finally {
      await t.srv.stop();
    }
  });
});

describe("grid", () => {
  it("rows per agent with Off / Read / Full use / Custom cells from the server's own tool sets", async () => {
    const r = await api(c, "GET", "grid", { session: lead });
    expect(r.status).toBe(200);
    const g = r.json;
    expect(g.editable).toBe(true);
    expect(g.groups.map((x: { id: string }) => x.id)).toContain("datasets");
    const datasets = g.groups.find((x: { id: string }) => x.id === "datasets");
    expect(datasets.label).toBe("Manage datasets");
    expect(datasets.tools.find((t: { name: string }) => t.name === "delete_dataset").class).toBe("destructive");
    const row = (a: string) => g.rows.find((x: { agent: string }) => x.agent === a);
    expect(row("curator").cells.datasets).toBe("read");
    expect(row("curator").cells.chat).toBe("off");
    expect(row("search-agent").cells.rerank).toBe("read");
    expect(row("curator").tools).not.toContain("delete_dataset");
    noSecrets(r.body);
  });

  it("preview says what would change in plain English and names destructive tools", async () => {
    const r = await api(c, "POST", "grid/preview", { session: lead, body: { changes: [{ agent: "curator", group: "datasets", level: "full" }] } });
    expect(r.status).toBe(200);
    expect(r.json.needs_confirmation).toContain("delete_dataset");
    expect(r.json.gains).toContainEqual({ agent: "curator", tool: "delete_dataset", class: "destructive" });
    expect(r.json.sentences.join(" ")).toMatch(/curator will be able to call .*delete_dataset \(destructive\).*cannot be undone/);
  });

  it("bad input is a clear 400 and nothing changes", async () => {
    const before = fileText();
    const { version } = (await api(c, "GET", "grid", { session: lead })).json;
    const cases: unknown[] = [
      { version, changes: [] },
      { version, changes: [{ agent: "nobody", group: "chat", level: "read" }] },
      { version, changes: [{ agent: "curator", group: "no-such-group", level: "read" }] },
      { version, changes: [{ agent: "curator", group: "chat", level: "maximum" }] },
      { version, changes: [{ agent: "curator", tool: "no_such_tool", on: true }] },
      { changes: [{ agent: "curator", group: "chat", level: "read" }] },
      "not an object",
    ];
    for (const body of cases) {
      const r = await api(c, "PUT", "grid", { session: lead, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error).toBeTruthy();
    }
    // Full use of a group with destructive tools, unconfirmed: 400 naming them
    const r = await api(c, "PUT", "grid", { session: lead, body: { version, changes: [{ agent: "curator", group: "datasets", level: "full" }] } });
    expect(r.status).toBe(400);
    expect(r.json.error).toContain("delete_dataset");
    expect(fileText()).toBe(before);
  });

  it("saving: the file is rewritten (previous kept as FILE.1), applied at once to agents, audited with admin and role", async () => {
    const curator = await connectHttp(c.srv.url, bearer(CURATOR_TOKEN));
    try {
      const before = (await curator.client.listTools()).tools.map((t) => t.name);
      expect(before).not.toContain("delete_dataset");
      const { version } = (await api(c, "GET", "grid", { session: lead })).json;
      const r = await api(c, "PUT", "grid", {
        session: lead,
        body: { version, changes: [{ agent: "curator", group: "datasets", level: "full", confirm_destructive: true }] },
      });
      expect(r.status, r.body).toBe(200);
      expect(r.json.version).not.toBe(version);
      expect(existsSync(`${configPath}.1`)).toBe(true);
      const saved = JSON.parse(fileText());
      expect(saved.profiles.curator.tools).toContain("delete_dataset");
      const g = (await api(c, "GET", "grid", { session: lead })).json;
      expect(g.rows.find((x: { agent: string }) => x.agent === "curator").cells.datasets).toBe("full");
      // a new MCP session of the curator sees it
      const fresh = await connectHttp(c.srv.url, bearer(CURATOR_TOKEN));
      expect((await fresh.client.listTools()).tools.map((t) => t.name)).toContain("delete_dataset");
      await fresh.close();
      const line = await eventually(() => {
        const l = auditLines(auditPath).find((x) => x.event === "admin_change" && x.action === "PUT grid");
        if (!l) throw new Error("no audit line yet");
        return l;
      });
      expect(line.admin).toBe("team-lead");
      expect(line.admin_role).toBe("admin");
      expect(line.text).toBe(
        `${String(line.time)} ` + "team-lead (admin) set curator's Manage datasets to Full use; curator gains create_dataset, delete_dataset",
      );
      // back to Read: the next call of delete_dataset is refused
      const v2 = (await api(c, "GET", "grid", { session: lead })).json.version;
      const back = await api(c, "PUT", "grid", { session: lead, body: { version: v2, changes: [{ agent: "curator", group: "datasets", level: "read" }] } });
      expect(back.status).toBe(200);
      const again = await connectHttp(c.srv.url, bearer(CURATOR_TOKEN));
      const refused = await again.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } });
      expect(refused.isError).toBe(true);
      await again.close();
    } finally {
      await curator.close();
    }
  });

  it("a shared profile is forked for the edited agent only, and the preview says so", async () => {
    const { version } = (await api(c, "GET", "grid", { session: lead })).json;
    const change = { agent: "helper-a", group: "rerank", level: "read" };
    const p = await api(c, "POST", "grid/preview", { session: lead, body: { changes: [change] } });
    expect(p.json.sentences.join(" ")).toMatch(/helper-a shared the profile "reader" with other agents: it gets its own copy, "helper-a"/);
    expect(p.json.gains).toEqual([{ agent: "helper-a", tool: "rerank", class: "read" }]);
    const r = await api(c, "PUT", "grid", { session: lead, body: { version, changes: [change] } });
    expect(r.status).toBe(200);
    const saved = JSON.parse(fileText());
    expect(saved.agents.find((a: { name: string }) => a.name === "helper-a").profile).toBe("helper-a");
    expect(saved.agents.find((a: { name: string }) => a.name === "helper-b").profile).toBe("reader");
    expect(saved.profiles.reader).toEqual({ tools: ["models"] });
  });
});

describe("CSRF, Origin and roles", () => {
  const change = async () => ({ version: (await api(c, "GET", "grid", { session: lead })).json.version, changes: [{ agent: "search-agent", group: "tokenize", level: "read" }] });

  it("a cookie request without the CSRF token, with a wrong one, with a foreign Origin or with no Origin is refused", async () => {
    const before = fileText();
    const body = await change();
    expect((await api(c, "PUT", "grid", { session: lead, body, csrf: null })).status).toBe(403);
    expect((await api(c, "PUT", "grid", { session: lead, body, csrf: "wrong" })).status).toBe(403);
    expect((await api(c, "PUT", "grid", { session: lead, body, origin: "http://localhost:1" })).status).toBe(403);
    const none = await api(c, "PUT", "grid", { session: lead, body, origin: null });
    expect(none.status).toBe(403);
    expect(none.json.error).toMatch(/Origin/);
    expect(fileText()).toBe(before);
  });

  it("a bearer call from a script needs no CSRF token", async () => {
    const r = await api(c, "PUT", "grid", { bearer: LEAD_TOKEN, body: await change() });
    expect(r.status, r.body).toBe(200);
  });

  it("a viewer's direct POST/PUT gets 403 and an audit line saying who tried what", async () => {
    const before = fileText();
    const r = await api(c, "PUT", "grid", { session: viewer, body: await change() });
    expect(r.status).toBe(403);
    expect((await api(c, "POST", "agents", { session: viewer, body: { name: "x-agent", profile: "search" } })).status).toBe(403);
    expect((await api(c, "GET", "grid", { session: viewer })).status).toBe(200);
    expect(fileText()).toBe(before);
    const line = await eventually(() => {
      const l = auditLines(auditPath).find((x) => x.event === "admin_denied");
      if (!l) throw new Error("no audit line yet");
      return l;
    });
    expect(line.admin).toBe("watcher");
    expect(line.admin_role).toBe("viewer");
    expect(line.text).toBe(`${String(line.time)} ` + "watcher (viewer) tried PUT /admin/api/v1/grid and was refused: viewers cannot change anything");
  });
});

describe("/readyz detail", () => {
  it("the configuration hash is shown to loopback callers only, not to a client behind the proxy", async () => {
    const path = writeConfig(teamConfig());
    const t = await startConsole(emu.url, ["--config", path, "--trusted-proxies", "127.0.0.1"]);
    try {
      const { rawRequest } = await import("./http-support.js");
      const local = JSON.parse((await rawRequest(`${t.srv.origin}/readyz`, { method: "GET" })).body);
      expect(local.checks.config_hash).toMatch(/^[0-9a-f]{12}$/);
      expect(t.srv.stderr()).toContain(`"config":"${local.checks.config_hash}"`);
      const remote = JSON.parse((await rawRequest(`${t.srv.origin}/readyz`, { method: "GET", headers: { "X-Forwarded-For": "203.0.113.7" } })).body);
      expect(remote.checks.config_hash).toBeUndefined();
      // the console's activity stream wraps the audit sink: the audit file's health still shows
      expect(local.checks.audit).toBeUndefined(); // no --audit-log here
    } finally {
      await t.srv.stop();
    }
  });

  it("with the console on, the audit file's health and reopen still work (the activity fan-out passes them through)", async () => {
    const { rawRequest } = await import("./http-support.js");
    const local = JSON.parse((await rawRequest(`${c.srv.origin}/readyz`, { method: "GET" })).body);
    expect(local.checks.audit).toBe("writable");
    const { renameSync } = await import("node:fs");
    renameSync(auditPath, `${auditPath}.old`);
    c.srv.child.kill("SIGUSR1");
    await eventually(async () => {
      await api(c, "GET", "grid", { bearer: LEAD_TOKEN }); // any request; then a change to be audited
      await api(c, "POST", "grid/preview", { bearer: LEAD_TOKEN, body: { changes: [{ agent: "curator", group: "chat", level: "read" }] } });
      const s = await login(c, VIEWER_TOKEN);
      void s;
      expect(auditLines(auditPath).some((l) => l.event === "admin_signin")).toBe(true);
    }, 5_000);
  });
});

describe("policy export", () => {
  it("a config document with every token hash removed, and a field that says so", async () => {
    const r = await api(c, "GET", "policy/export", { session: lead });
    expect(r.status).toBe(200);
    expect(r.json.token_hashes_removed).toBe(true);
    expect(r.json.config.agents.length).toBeGreaterThan(0);
    noSecrets(r.body);
  });
});

describe("view-only", () => {
  it("--admin-readonly: editable false with the reason; a save is refused and nothing changes", async () => {
    const path = writeConfig(teamConfig());
    const ro = await startConsole(emu.url, ["--config", path, "--admin-readonly"]);
    try {
      const g = await api(ro, "GET", "grid", { bearer: LEAD_TOKEN });
      expect(g.json.editable).toBe(false);
      expect(g.json.readonly_reason).toMatch(/--admin-readonly.*the file/);
      const before = readFileSync(path, "utf8");
      const r = await api(ro, "PUT", "grid", { bearer: LEAD_TOKEN, body: { version: g.json.version, changes: [{ agent: "curator", group: "chat", level: "read" }] } });
      expect(r.status).toBe(409);
      expect(readFileSync(path, "utf8")).toBe(before);
    } finally {
      await ro.srv.stop();
    }
  });

  it("a config file that cannot be written makes the console view-only", async () => {
    const path = writeConfig(teamConfig());
    const { chmodSync } = await import("node:fs");
    chmodSync(path, 0o444);
    const ro = await startConsole(emu.url, ["--config", path]);
    try {
      const g = await api(ro, "GET", "grid", { bearer: LEAD_TOKEN });
      // root can write anything: then the file is writable and the console is not view-only
      if (process.getuid?.() === 0) expect(g.json.editable).toBe(true);
      else expect(g.json.readonly_reason).toMatch(/cannot be written/);
    } finally {
      await ro.srv.stop();
      writeFileSync(path, "{}");
    }
  });
});
