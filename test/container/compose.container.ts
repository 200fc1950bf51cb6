/**
 * The compose fleet (deploy/compose/compose.yaml) brought up with podman-compose, exactly as
 * written, on its own bridge network: Redis, three replicas of the image (the default, distroless,
 * as compose.yaml names it), nginx with
 * deploy/nginx/cohere-mcp.conf, and the emulator (the dry-run profile) as Cohere. The suite's own team
 * config, env file and published port are given through the file's variables.
 *  - Redis requires the env file's COHERE_MCP_STORE_PASSWORD: a client on the project's network
 *    without it gets NOAUTH; the replicas authenticate with it (the counts below are in Redis);
 *  - three replicas share one agent's per_month budget of 100 exactly through nginx: 200 calls
 *    from 10 clients → 100 answered, 100 refused; the emulator received 100, Redis counts 100
 *    (each client opens a new session every 5 calls: about 40 sessions and 200 calls, 400 ms
 *    each, stay within nginx's per-client request rate, 50/s with a burst of 200, that all of
 *    them share: they come from one address);
 *  - one replica stopped (SIGTERM) mid-load: no call fails, none is charged twice (the same
 *    three figures agree); sessions that start while it drains are refused there (503) and
 *    opened by nginx on another replica; a client whose session was on it starts a new one once
 *    it is gone (404, as the MCP spec says) and goes on;
 *  - `podman-compose down -v` removes every container and volume of the project.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../bench/lib.js";
import { textOf } from "../helpers.js";
import { bearer, eventually } from "../http-support.js";
import { IMAGE, ROOT, podman, run, workDir } from "./podman.js";
import { AGENT_TOKEN, CONTAINER_KEY, STORE_PASSWORD } from "./secrets.js";

const COMPOSE = join(ROOT, "deploy", "compose", "compose.yaml");
const project = `cmcp${process.pid}`;
const ctr = (service: string) => `${project}_${service}_1`;
let composeEnv: Record<string, string>;
let url: string;

const compose = (args: string[], timeoutMs = 300_000) => run("podman-compose", ["-f", COMPOSE, "-p", project, ...args], { env: composeEnv, timeoutMs });

/** podman-compose 1.0.3 (Debian 12) has no --profile and starts every service, the emulator too. */
async function profileArgs(): Promise<string[]> {
  const help = await run("podman-compose", ["--help"]);
  return /--profile/.test(help.stdout + help.stderr) ? ["--profile", "dry-run"] : [];
}

/** Run node inside the emulator's container against its control API. */
async function emulatorControl(method: string, path: string, body?: unknown): Promise<unknown> {
  const script = `fetch("http://127.0.0.1:8080${path}",{method:${JSON.stringify(method)},headers:{"content-type":"application/json"},body:${JSON.stringify(body === undefined ? undefined : JSON.stringify(body))}}).then(r=>r.text()).then(t=>process.stdout.write(t))`;
  const out = await podman(["exec", ctr("emulator"), "node", "-e", script]);
  return out ? JSON.parse(out) : undefined;
}

/** redis-cli inside the Redis container, authenticated with the password the env file gave it. */
const redisCli = (args: string[]) =>
  podman(["exec", ctr("redis"), "sh", "-c", 'REDISCLI_AUTH="$COHERE_MCP_STORE_PASSWORD" exec redis-cli "$@"', "redis-cli", ...args]);

async function redisMonthCount(): Promise<number> {
  const keys = (await redisCli(["--scan", "--pattern", "cohere-mcp:rl:month-agent:month:*"])).split("\n").filter(Boolean);
  let total = 0;
  for (const k of keys) total += Number(await redisCli(["GET", k]));
  return total;
}

/**
 * Raw RESP commands to redis:6379 from another container on the project's network (the
 * emulator's, which has node): the replies, one line each.
 */
async function redisFromNetwork(commands: string[]): Promise<string[]> {
  const wire = commands.map((c) => `${c}\r\n`).join("");
  const script =
    `const s=require("net").connect(6379,"redis");let o="";` +
    `s.on("data",d=>{o+=d;if(o.split("\\r\\n").length>${commands.length}){process.stdout.write(o);s.destroy()}});` +
    `s.on("error",e=>{process.stdout.write("ERROR "+e.message);process.exit(1)});` +
    `s.write(${JSON.stringify(wire)})`;
  return (await podman(["exec", ctr("emulator"), "node", "-e", script])).split("\r\n").filter(Boolean);
}

beforeAll(async () => {
  const dir = join(workDir(), "compose");
  mkdirSync(dir, { recursive: true });
  const envFile = join(dir, "cohere-mcp.env");
  writeFileSync(envFile, `CO_API_KEY=${CONTAINER_KEY}\nCOHERE_MCP_STORE_PASSWORD=${STORE_PASSWORD}\nMONTH_AGENT_TOKEN=${AGENT_TOKEN}\n`);
  const team = join(dir, "team.json");
  writeFileSync(
    team,
    JSON.stringify({
      profiles: { month: { tools: ["rerank"], rate_limit: { per_month: 100 } } },
      agents: [{ name: "month-agent", profile: "month", token_env: "MONTH_AGENT_TOKEN" }],
    }),
  );
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  composeEnv = {
    COHERE_MCP_IMAGE: IMAGE,
    COHERE_MCP_ENV_FILE: envFile,
    COHERE_MCP_TEAM_CONFIG: team,
    COHERE_MCP_PUBLISH: `127.0.0.1:${port}`,
    COHERE_MCP_ALLOWED_HOSTS: "127.0.0.1",
    CO_API_URL: "http://emulator:8080",
  };
  const t = Date.now();
  const up = await compose([...(await profileArgs()), "up", "-d"]);
  if (up.code !== 0) throw new Error(`podman-compose up failed:\n${up.stderr}\n${up.stdout}`);
  await eventually(async () => expect((await fetch(`${url}/healthz`)).status).toBe(200), 60_000, 250).catch(async (e: Error) => {
    const logs = await Promise.all(["nginx", "r1", "redis"].map((s) => run("podman", ["logs", ctr(s)])));
    throw new Error(`${e.message}\n${logs.map((l) => l.stderr + l.stdout).join("\n---\n")}`);
  });
  // Every replica is up and its healthcheck passes.
  for (const r of ["r1", "r2", "r3"]) {
    await eventually(async () => expect((await run("podman", ["healthcheck", "run", ctr(r)])).code).toBe(0), 30_000, 250);
  }
  console.log(`compose: up and healthy in ${((Date.now() - t) / 1000).toFixed(1)} s (redis, r1-r3, nginx, emulator)`);
});

afterAll(async () => {
  if (composeEnv) await compose(["down", "-v"]);
});

interface Outcome {
  ok: number;
  refused: number;
  failed: string[];
  /** Sessions started over after a 404 on a call. */
  reinit: number;
  /** Handshakes started over after a 404 (on notifications/initialized). */
  handshakeRestarts: number;
  /** Sessions opened in all. */
  sessions: number;
}

/**
 * A session's replica went away: nginx sent the request to another, which does not know the
 * session and answered 404 (nothing was run there). The MCP spec (2025-11-25, Session
 * Management): on 404 the client MUST start a new session with a new InitializeRequest.
 */
const sessionGone = (err: unknown): boolean =>
  (err as { code?: unknown }).code === 404 || /\b404\b|Session not found/i.test((err as Error).message);

/** A new MCP session through nginx; started over (a new initialize) if it is gone during the handshake. */
async function connect(out: Outcome): Promise<Client> {
  for (let attempt = 1; ; attempt++) {
    const client = new Client({ name: "compose-load", version: "1.0.0" });
    try {
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: bearer(AGENT_TOKEN) } }));
      return client;
    } catch (err) {
      await client.close().catch(() => undefined);
      if (attempt < 3 && sessionGone(err)) {
        out.handshakeRestarts++;
        continue;
      }
      throw err;
    }
  }
}

/** End a session as a client leaving does (DELETE; its replica may be gone), and close the client. */
async function leave(client: Client): Promise<void> {
  await (client.transport as StreamableHTTPClientTransport | undefined)?.terminateSession().catch(() => undefined);
  await client.close().catch(() => undefined);
}

/**
 * `clients` MCP clients through nginx, `perClient` rerank calls each, one after another; each
 * client ends its session and opens a new one every `perSession` calls (clients come and go), so
 * sessions start while a replica drains.
 */
async function load(clients: number, perClient: number, perSession: number, onProgress: (done: number) => void): Promise<Outcome> {
  const out: Outcome = { ok: 0, refused: 0, failed: [], reinit: 0, handshakeRestarts: 0, sessions: 0 };
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      let client = await connect(out);
      out.sessions++;
      for (let i = 0; i < perClient; i++) {
        if (i > 0 && i % perSession === 0) {
          await leave(client);
          client = await connect(out);
          out.sessions++;
        }
        const args = { model: "rerank-v3.5", query: `compose ${c}-${i}`, documents: ["a", "b"] };
        for (let attempt = 0; ; attempt++) {
          try {
            const r = await client.callTool({ name: "rerank", arguments: args });
            if (!r.isError) out.ok++;
            else if (/Rate limited \(429\)/.test(textOf(r))) out.refused++;
            else out.failed.push(textOf(r));
            break;
          } catch (err) {
            // The session is gone (404: the call was not run): a new session, the same call.
            if (attempt < 2 && sessionGone(err)) {
              out.reinit++;
              await client.close().catch(() => undefined);
              client = await connect(out);
              out.sessions++;
              continue;
            }
            out.failed.push((err as Error).message);
            break;
          }
        }
        onProgress(++done);
      }
      await leave(client);
    }),
  );
  return out;
}

describe("the compose fleet (podman-compose, emulator profile)", () => {
  it("Redis refuses a client without the password (NOAUTH) and answers one with it; it runs as redis, not root", async () => {
    const anonymous = await redisFromNetwork(["PING", "GET cohere-mcp:anything"]);
    expect(anonymous).toHaveLength(2);
    for (const reply of anonymous) expect(reply).toMatch(/^-NOAUTH/);
    expect(await redisFromNetwork(["AUTH wrong-password", "PING"])).toEqual([
      expect.stringMatching(/^-(WRONGPASS|ERR invalid password)/),
      expect.stringMatching(/^-NOAUTH/),
    ]);
    expect(await redisFromNetwork([`AUTH ${STORE_PASSWORD}`, "PING"])).toEqual(["+OK", "+PONG"]);
    // Redis is PID 1 as user redis (999); the password is not on its command line, and its own
    // environment does not hold the env file (the Cohere key, the password).
    const proc = await podman(["exec", ctr("redis"), "sh", "-c", "tr '\\0' ' ' < /proc/1/cmdline; echo; grep ^Uid: /proc/1/status; echo ENV; tr '\\0' '\\n' < /proc/1/environ"]);
    expect(proc).toMatch(/redis-server/);
    expect(proc).toMatch(/^Uid:\s+999\s/m);
    expect(proc).not.toContain(STORE_PASSWORD);
    expect(proc).not.toContain(CONTAINER_KEY);
  });

  it("three replicas share a per_month budget of 100 exactly through nginx; one stopped mid-load: no call fails, none is charged twice", async () => {
    await emulatorControl("DELETE", "/_emulator/requests");
    // 400 ms a call: the load outlasts r2's drain (its calls in flight, then up to 5.5 s for the
    // connections nginx keeps), so its sessions are gone (404) before the load ends.
    await emulatorControl("POST", "/_emulator/latency", { ms: 400 });
    let stop: Promise<unknown> | undefined;
    const t = Date.now();
    const outcome = await load(10, 20, 5, (done) => {
      // A third of the way in, r2 gets SIGTERM (podman stop: the image's STOPSIGNAL) and drains.
      if (done === 60 && !stop) stop = run("podman", ["stop", "--time", "30", ctr("r2")]);
    });
    const seconds = (Date.now() - t) / 1000;
    expect(stop).toBeDefined();
    expect((await stop) as { code: number }).toMatchObject({ code: 0 });
    const sent = ((await emulatorControl("GET", "/_emulator/requests")) as Array<{ path: string; aborted?: boolean }>).filter((r) =>
      r.path.endsWith("/rerank"),
    );
    const counted = await redisMonthCount();
    // new sessions r2 refused while draining (503), which nginx sent to r1 or r3
    const r2Logs = await run("podman", ["logs", ctr("r2")]);
    const refusedByR2 = ((r2Logs.stdout + r2Logs.stderr).match(/refused a new session: shutting down/g) ?? []).length;
    console.log(
      `compose: 200 calls from 10 clients (${outcome.sessions} sessions) through nginx in ${seconds.toFixed(1)} s, r2 stopped after 60: ` +
        `${outcome.ok} answered, ${outcome.refused} refused (per_month 100), ${outcome.failed.length} failed, ` +
        `${outcome.reinit} sessions restarted after a 404 on a call, ${outcome.handshakeRestarts} during the handshake, ` +
        `${refusedByR2} new sessions refused by the draining r2 (sent elsewhere by nginx); emulator received ${sent.length}, Redis counter ${counted}`,
    );
    expect(outcome.failed).toEqual([]);
    expect(outcome.ok).toBe(100);
    expect(outcome.refused).toBe(100);
    expect(sent).toHaveLength(100);
    expect(sent.filter((r) => r.aborted)).toEqual([]);
    expect(counted).toBe(100);
    expect(await podman(["inspect", "--format", "{{.State.ExitCode}}", ctr("r2")])).toBe("0");
  });

  it("`podman-compose down -v` removes every container and volume of the project", async () => {
    const down = await compose(["down", "-v"]);
    expect(down.code, down.stderr).toBe(0);
    const label = `label=io.podman.compose.project=${project}`;
    expect(await podman(["ps", "-a", "--filter", label, "--format", "{{.Names}}"])).toBe("");
    expect(await podman(["volume", "ls", "--filter", label, "--format", "{{.Name}}"])).toBe("");
    // podman-compose 1.0.3 leaves the project's network (docker compose removes it): remove it.
    const net = `${project}_default`;
    if ((await run("podman", ["network", "exists", net])).code === 0) await podman(["network", "rm", net]);
    composeEnv = undefined as unknown as Record<string, string>;
  });
});
