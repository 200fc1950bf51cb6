/**
 * The Dockerfile's `slim` target (`--target slim`, published as `<version>-slim`: node's Debian
 * slim image, with a shell), built by global-setup.ts, run as users run it: read-only root
 * filesystem, non-root, against the emulator on this machine (host networking, loopback only).
 *  - what the image declares: user, entrypoint, healthcheck, stop signal, volume, OCI labels;
 *  - stdio: the MCP SDK client lists and calls `rerank` through `podman run -i --rm`;
 *  - HTTP with an agent token: 401 without it, the agent's tools with it, the audit in /data;
 *  - the HEALTHCHECK passes (`podman healthcheck run`);
 *  - SIGTERM (`podman stop`, the image's STOPSIGNAL) mid-load: every call in flight finishes,
 *    exit code 0, as outside a container;
 *  - no secret in any layer: the key and tokens used here, and the canaries planted in the build
 *    context, appear nowhere in the saved image (every layer and the image config).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../../emulator/server.js";
import { freePort } from "../../bench/lib.js";
import { textOf } from "../helpers.js";
import { bearer, connectHttp, eventually, rawRequest } from "../http-support.js";
import { inspectImage, RERANK, writeTeamConfig } from "./fixture.js";
import { scanImage, type Layer } from "./layers.js";
import { BUILD_STAGE, SLIM_IMAGE, env, imageSize, mb, podman, run } from "./podman.js";
import { AGENT_TOKEN, CANARY, CONTAINER_KEY, OTHER_TOKEN } from "./secrets.js";

/** The base image the Dockerfile names (a stand-in built by stand-ins.sh here). */
const NODE_BASE = "docker.io/library/node:20-bookworm-slim";

let emu: CohereEmulator;
let configPath: string;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: CONTAINER_KEY });
  configPath = writeTeamConfig("image-test");
});
afterAll(async () => emu?.stop());

describe("the slim image (--target slim)", () => {
  it("runs as the non-root node user, takes flags straight through, declares its healthcheck, stop signal, volume and OCI labels", async () => {
    const { config: c, healthcheck } = await inspectImage(SLIM_IMAGE);
    expect(c.User).toBe("node");
    expect(c.Entrypoint).toEqual(["node", "/app/dist/src/index.js"]);
    expect(c.StopSignal).toBe("SIGTERM");
    // Podman shows a docker-format image's HEALTHCHECK beside Config (Docker inside it).
    expect(healthcheck).toEqual(["CMD", "node", "/app/healthcheck.mjs"]);
    expect(Object.keys(c.Volumes ?? {})).toEqual(["/data"]);
    expect(c.Labels).toMatchObject({
      "org.opencontainers.image.source": "https://github.com/cohere-mcp/cohere-mcp",
      "org.opencontainers.image.version": JSON.parse(readFileSync("package.json", "utf8")).version,
      "org.opencontainers.image.licenses": "MIT",
    });
    const id = await podman(["run", "--rm", "--read-only", "--network", "none", "--entrypoint", "id", SLIM_IMAGE, "-u"]);
    expect(id).toBe("1000");
    // Flags reach the server: --version prints and exits.
    const version = await run("podman", ["run", "--rm", "--read-only", "--network", "none", SLIM_IMAGE, "--version"]);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/0\.\d+\.\d+/);
    console.log(`image ${SLIM_IMAGE}: ${mb(await imageSize(SLIM_IMAGE))}`);
  });
});

describe("stdio from the image", () => {
  it("an MCP client lists and calls rerank through `podman run -i --rm --read-only`", async () => {
    const name = `cohere-mcp-stdio-${process.pid}`;
    const transport = new StdioClientTransport({
      command: "podman",
      args: ["run", "-i", "--rm", "--read-only", "--network", "host", "--name", name, "-e", "CO_API_KEY", "-e", "CO_API_URL", SLIM_IMAGE],
      env: { ...(env() as Record<string, string>), CO_API_KEY: CONTAINER_KEY, CO_API_URL: emu.url },
      stderr: "pipe",
    });
    let err = "";
    transport.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    const client = new Client({ name: "container-stdio-test", version: "1.0.0" });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain("rerank");
      emu.reset();
      const r = await client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(textOf(r)).toMatch(/2 results, best first/);
      expect(emu.requests.filter((q) => q.path === "/v2/rerank")).toHaveLength(1);
      // The root filesystem is read-only, and the server runs all the same.
      const touch = await run("podman", ["exec", name, "sh", "-c", "touch /app/x"]);
      expect(touch.code).not.toBe(0);
      expect(touch.stderr + touch.stdout).toMatch(/Read-only file system/i);
    } finally {
      await client.close().catch(() => undefined);
    }
    expect(err).toMatch(/cohere-mcp ready on stdio/);
    expect(err).not.toContain(CONTAINER_KEY);
  });
});

interface Gateway {
  name: string;
  port: number;
  url: string;
  volume: string;
}

let seq = 0;
async function startGateway(extra: string[] = []): Promise<Gateway> {
  const port = await freePort();
  const name = `cohere-mcp-http-${process.pid}-${++seq}`;
  const volume = `${name}-data`;
  const r = await run("podman", [
    "run", "-d", "--read-only", "--network", "host", "--name", name,
    "-v", `${volume}:/data`, "-v", `${configPath}:/config/team.json:ro`,
    "-e", "CO_API_KEY", "-e", "CO_API_URL", "-e", "AGENT_TOKEN",
    SLIM_IMAGE,
    "--http", "--host", "127.0.0.1", "--port", String(port), "--allowed-hosts", "127.0.0.1",
    "--config", "/config/team.json", "--audit-log", "/data/audit.jsonl", ...extra,
  ], { env: { CO_API_KEY: CONTAINER_KEY, CO_API_URL: emu.url, AGENT_TOKEN } });
  if (r.code !== 0) throw new Error(`podman run failed:\n${r.stderr}`);
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => expect((await fetch(`${url}/healthz`)).status).toBe(200), 30_000, 200).catch(async (e: Error) => {
    throw new Error(`${e.message}\n${(await run("podman", ["logs", name])).stderr}`);
  });
  return { name, port, url, volume };
}

async function removeGateway(g: Gateway): Promise<void> {
  await run("podman", ["rm", "--force", "--time", "0", g.name]);
  await run("podman", ["volume", "rm", "--force", g.volume]);
}

describe("one HTTP gateway from the image", () => {
  it("serves an agent with its token, refuses without, writes the audit to /data only, and its healthcheck passes", async () => {
    const g = await startGateway();
    try {
      const none = await rawRequest(`${g.url}/mcp`, {
        headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      expect(none.status).toBe(401);
      const wrong = await rawRequest(`${g.url}/mcp`, {
        headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...bearer(OTHER_TOKEN) },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
      expect(wrong.status).toBe(401);

      const c = await connectHttp(`${g.url}/mcp`, bearer(AGENT_TOKEN));
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["embed", "rerank"]);
      emu.reset();
      const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(emu.requests.filter((q) => q.path === "/v2/rerank")).toHaveLength(1);
      await c.close();

      const health = await run("podman", ["healthcheck", "run", g.name]);
      expect(health.code, health.stderr + health.stdout).toBe(0);
      expect(await podman(["inspect", "--format", "{{.State.Health.Status}}", g.name])).toBe("healthy");

      const audit = await podman(["exec", g.name, "cat", "/data/audit.jsonl"]);
      const lines = audit.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.tool === "rerank" && l.agent === "search-agent")).toBe(true);
      for (const s of [CONTAINER_KEY, AGENT_TOKEN, OTHER_TOKEN]) expect(audit).not.toContain(s);
      const logs = await run("podman", ["logs", g.name]);
      for (const s of [CONTAINER_KEY, AGENT_TOKEN, OTHER_TOKEN]) expect(logs.stdout + logs.stderr).not.toContain(s);
      // Nothing else was written: the container's own layer holds no file (the root is read-only).
      const diff = await podman(["diff", g.name]);
      // (podman lists the mount points it made: /config for the bind mount, /data, /etc's files)
      const written = diff.split("\n").filter((l) => l && !/^[AC] \/(config|data|run|dev|proc|sys|etc)(\/(team\.json|hosts|resolv\.conf|hostname|\.containerenv))?$/.test(l));
      expect(written).toEqual([]);
    } finally {
      await removeGateway(g);
    }
  });

  it("the healthcheck fails when the server no longer answers /healthz", async () => {
    const g = await startGateway();
    try {
      // Freeze the server (SIGSTOP from outside): the process is there, its port no longer answers.
      await podman(["kill", "--signal", "SIGSTOP", g.name]);
      const health = await run("podman", ["healthcheck", "run", g.name]);
      expect(health.code).not.toBe(0);
      await podman(["kill", "--signal", "SIGCONT", g.name]);
      expect((await run("podman", ["healthcheck", "run", g.name])).code).toBe(0);
    } finally {
      await removeGateway(g);
    }
  });

  it("SIGTERM mid-load (podman stop, the image's STOPSIGNAL) drains: every call in flight succeeds, exit code 0", async () => {
    const g = await startGateway(["--shutdown-grace-ms", "15000"]);
    try {
      const c = await connectHttp(`${g.url}/mcp`, bearer(AGENT_TOKEN));
      emu.reset();
      emu.setLatency(2_000);
      const N = 12;
      const calls = Array.from({ length: N }, (_, i) =>
        c.client.callTool({ name: "rerank", arguments: { ...RERANK, query: `drain ${i}` } }).then(
          (r) => ({ ok: !r.isError, text: textOf(r) }),
          (e: Error) => ({ ok: false, text: e.message }),
        ),
      );
      // Every call has reached the upstream: truly in flight.
      await eventually(() => expect(emu.requests.filter((q) => q.path === "/v2/rerank")).toHaveLength(N), 20_000);
      const stopped = run("podman", ["stop", "--time", "30", g.name]);
      // While it drains, new connections are refused or answered 503.
      await eventually(async () => {
        const r = await rawRequest(`${g.url}/readyz`, { method: "GET" }).catch(() => ({ status: 0 }));
        expect([0, 503]).toContain(r.status);
      }, 10_000);
      const results = await Promise.all(calls);
      expect(results.filter((r) => !r.ok)).toEqual([]);
      expect((await stopped).code).toBe(0);
      expect(await podman(["inspect", "--format", "{{.State.ExitCode}}", g.name])).toBe("0");
      expect(emu.requests.filter((q) => q.aborted)).toEqual([]);
      const logs = await run("podman", ["logs", g.name]);
      expect(logs.stdout + logs.stderr).toMatch(/shutting down/);
      console.log(`SIGTERM mid-load: ${N} calls in flight, ${results.filter((r) => r.ok).length} succeeded, exit code 0`);
      await c.close().catch(() => undefined);
    } finally {
      emu.setLatency(0);
      await removeGateway(g);
    }
  });
});

describe("no secret in any layer", () => {
  it("the key, the tokens and the canaries planted in the build context are in no layer nor the image config; no test, source or env file is", async () => {
    const needles = [CONTAINER_KEY, AGENT_TOKEN, OTHER_TOKEN, CANARY, "container-canary-", "container-key-", "container-agent-"];
    const { hits, names, layers, sizes } = await scanImage(SLIM_IMAGE, "image", needles);
    expect(hits).toEqual([]);
    expect(layers).toBeGreaterThan(1);
    // The image's size, the base's layers apart from the application's: uncompressed (the layer
    // tars) and gzip-compressed (what a registry stores and a pull downloads).
    const baseIds = new Set(JSON.parse(await podman(["image", "inspect", "--format", "{{json .RootFS.Layers}}", NODE_BASE])) as string[]);
    const sum = (ls: Layer[], k: "bytes" | "gzipBytes") => ls.reduce((n, l) => n + l[k], 0);
    const base = sizes.filter((l) => baseIds.has(l.id));
    const appLayers = sizes.filter((l) => !baseIds.has(l.id));
    expect(base.length).toBe(baseIds.size);
    console.log(
      `image size: ${mb(sum(sizes, "bytes"))} uncompressed, ${mb(sum(sizes, "gzipBytes"))} gzip-compressed; ` +
        `base (${NODE_BASE}) ${mb(sum(base, "bytes"))} / ${mb(sum(base, "gzipBytes"))} in ${base.length} layer(s), ` +
        `application ${mb(sum(appLayers, "bytes"))} / ${mb(sum(appLayers, "gzipBytes"))} in ${appLayers.length} layer(s)`,
    );
    // What Node never loads was pruned (scripts/prune-image.ts): no declarations, source maps,
    // TypeScript sources or READMEs, and the MCP SDK's CommonJS build is not shipped beside its ESM
    // one. The server runs on SDK v2; the v1 SDK is only a client the tests drive, never shipped.
    const shipped = names.filter((n) => n.startsWith("app/"));
    expect(shipped.filter((n) => /\.(d\.[cm]?ts|map|[cm]?ts)$|\/README\.md$/i.test(n))).toEqual([]);
    expect(shipped.filter((n) => /^app\/node_modules\/@modelcontextprotocol\/(server|core)\/dist\/.*\.cjs$/.test(n))).toEqual([]);
    expect(shipped).toContain("app/node_modules/@modelcontextprotocol/server/dist/index.mjs");
    expect(shipped.filter((n) => n.startsWith("app/node_modules/@modelcontextprotocol/sdk/"))).toEqual([]);
    expect(sum(appLayers, "bytes")).toBeLessThan(20e6);
    // The scan sees the files: the server's entry point is in a layer.
    expect(names).toContain("app/dist/src/index.js");
    const app = names.filter((n) => n.startsWith("app/"));
    const ours = app.filter((n) => !n.startsWith("app/node_modules/"));
    expect(ours.filter((n) => /(^|\/)\.env|\.env$|(^|\/)test\/|^app\/src\/|\.log$|node_modules/.test(n))).toEqual([]);
    expect(app.filter((n) => /(^|\/)\.env(\.|$)|\.env$/.test(n))).toEqual([]);
    expect(app.filter((n) => /\.ts$/.test(n) && !/\.d\.ts$/.test(n) && !n.startsWith("app/node_modules/"))).toEqual([]);
    expect(names.filter((n) => n.startsWith("app/dist/")).every((n) => /^app\/dist\/((src|emulator)(\/|$)|$)/.test(n))).toBe(true);

    // The build stage (not shipped, but it is what a builder receives): .dockerignore kept every
    // canary out of the context. What the context brings lands in /src (outside node_modules,
    // which npm ci filled): its files' names and contents, read inside the stage.
    const listed = await podman(["run", "--rm", "--network", "none", "--entrypoint", "sh", BUILD_STAGE, "-c",
      "find /src -path /src/node_modules -prune -o -print; " +
        "find /src -path /src/node_modules -prune -o -type f -print | xargs grep -l container-canary- | sed 's/^/HIT:/'; true"]);
    const files = listed.split("\n").filter((l) => l && !l.startsWith("HIT:"));
    expect(listed.split("\n").filter((l) => l.startsWith("HIT:"))).toEqual([]);
    console.log(`build stage: ${files.length} paths under /src (besides node_modules) checked for the canaries`);
    expect(files).toContain("/src/src/index.ts");
    expect(files.filter((f) => /^\/src\/(\.env|src\/\.env|src\/deploy\.env|src\/node_modules|src\/dist|src\/app\.log|test(\/|$)|emulator\/\.env)/.test(f))).toEqual([]);
  });
});
