/**
 * The Dockerfile's default target, `distroless` (its last stage, published as `<version>`: what
 * server.json, compose.yaml and the Kubernetes manifests name), built by global-setup.ts on the
 * stand-in for gcr.io/distroless/nodejs20-debian12:nonroot, run as
 * users run it: read-only root filesystem, non-root (uid 65532), against the emulator on this
 * machine (host networking, loopback only).
 *  - what it declares: user 65532, node's absolute path as entrypoint, the exec-form healthcheck,
 *    stop signal, /data, OCI labels, `node` on PATH (compose's emulator service); and what it
 *    lacks: no shell, no apt, no dpkg;
 *  - stdio: the MCP SDK client lists and calls `rerank` through `podman run -i --rm --read-only`;
 *  - HTTP with an agent token: 401 without it, the agent's tools with it, the audit in /data
 *    (writable by 65532), nothing else written; `podman healthcheck run` passes;
 *  - no secret in any layer; its size printed (unpacked and gzip), the base's apart.
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
import { scanImage, sumLayers } from "./layers.js";
import { IMAGE, env, mb, podman, run } from "./podman.js";
import { AGENT_TOKEN, CANARY, CONTAINER_KEY, OTHER_TOKEN } from "./secrets.js";

/** The base the Dockerfile's distroless stage names (a stand-in built by stand-ins.sh here). */
const DISTROLESS_BASE = "gcr.io/distroless/nodejs20-debian12:nonroot";
const NODE = "/nodejs/bin/node";
/** What a distroless image must not hold: a shell, a package manager, dpkg's tools. */
const SHELLS_AND_TOOLS = ["/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/dash", "/usr/bin/dash", "/bin/busybox", "/usr/bin/busybox", "/usr/bin/apt", "/usr/bin/apt-get", "/usr/bin/dpkg", "/usr/bin/perl"];

let emu: CohereEmulator;
let configPath: string;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: CONTAINER_KEY });
  configPath = writeTeamConfig("distroless-test");
});
afterAll(async () => emu?.stop());

describe("the default image (distroless)", () => {
  it("runs as uid 65532, has no shell, apt or dpkg, and declares node's path, an exec-form healthcheck, stop signal, /data and OCI labels", async () => {
    const { config: c, healthcheck } = await inspectImage(IMAGE);
    expect(c.User).toBe("65532:65532");
    expect(c.Entrypoint).toEqual([NODE, "/app/dist/src/index.js"]);
    expect(c.StopSignal).toBe("SIGTERM");
    expect(healthcheck).toEqual(["CMD", NODE, "/app/healthcheck.mjs"]);
    expect(Object.keys(c.Volumes ?? {})).toEqual(["/data"]);
    expect(c.Labels).toMatchObject({
      "org.opencontainers.image.source": "https://github.com/cohere-mcp/cohere-mcp",
      "org.opencontainers.image.version": JSON.parse(readFileSync("package.json", "utf8")).version,
      "org.opencontainers.image.licenses": "MIT",
    });
    // One container (each `podman run --rm` costs seconds here): who it runs as, what exists.
    const probe = `const fs = require("node:fs");
      const st = fs.statSync("/data");
      console.log(JSON.stringify({ uid: process.getuid(), gid: process.getgid(), data: [st.uid, st.gid],
        present: ${JSON.stringify(SHELLS_AND_TOOLS)}.filter((p) => fs.existsSync(p)), root: fs.statSync("/").uid }));`;
    // (`--entrypoint node`, as compose.yaml's emulator service starts it: node is on PATH in both variants)
    const out = await podman(["run", "--rm", "--read-only", "--network", "none", "--entrypoint", "node", IMAGE, "-e", probe]);
    const seen = JSON.parse(out) as { uid: number; gid: number; data: number[]; present: string[]; root: number };
    expect(seen).toEqual({ uid: 65532, gid: 65532, data: [65532, 65532], present: [], root: 0 });
    // And no shell can be started in it.
    const sh = await run("podman", ["run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", IMAGE, "-c", "true"]);
    expect(sh.code).not.toBe(0);
  });

  it("stdio: an MCP client lists and calls rerank through `podman run -i --rm --read-only`", async () => {
    const name = `cohere-mcp-distroless-stdio-${process.pid}`;
    const transport = new StdioClientTransport({
      command: "podman",
      args: ["run", "-i", "--rm", "--read-only", "--network", "host", "--name", name, "-e", "CO_API_KEY", "-e", "CO_API_URL", IMAGE],
      env: { ...(env() as Record<string, string>), CO_API_KEY: CONTAINER_KEY, CO_API_URL: emu.url },
      stderr: "pipe",
    });
    let err = "";
    transport.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    const client = new Client({ name: "container-distroless-test", version: "1.0.0" });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain("rerank");
      emu.reset();
      const r = await client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(textOf(r)).toMatch(/2 results, best first/);
      expect(emu.requests.filter((q) => q.path === "/v2/rerank")).toHaveLength(1);
      // The root filesystem is read-only (no shell to try with: node itself).
      const write = await run("podman", ["exec", name, NODE, "-e", 'require("node:fs").writeFileSync("/app/x", "")']);
      expect(write.code).not.toBe(0);
      expect(write.stderr + write.stdout).toMatch(/EROFS|read-only file system/i);
    } finally {
      await client.close().catch(() => undefined);
    }
    expect(err).toMatch(/cohere-mcp ready on stdio/);
    expect(err).not.toContain(CONTAINER_KEY);
  });

  it("HTTP: serves an agent with its token, refuses without, writes the audit to /data only, and its healthcheck passes", async () => {
    const port = await freePort();
    const name = `cohere-mcp-distroless-http-${process.pid}`;
    const volume = `${name}-data`;
    const started = await run("podman", [
      "run", "-d", "--read-only", "--network", "host", "--name", name,
      "-v", `${volume}:/data`, "-v", `${configPath}:/config/team.json:ro`,
      "-e", "CO_API_KEY", "-e", "CO_API_URL", "-e", "AGENT_TOKEN",
      IMAGE,
      "--http", "--host", "127.0.0.1", "--port", String(port), "--allowed-hosts", "127.0.0.1",
      "--config", "/config/team.json", "--audit-log", "/data/audit.jsonl",
    ], { env: { CO_API_KEY: CONTAINER_KEY, CO_API_URL: emu.url, AGENT_TOKEN } });
    expect(started.code, started.stderr).toBe(0);
    const url = `http://127.0.0.1:${port}`;
    try {
      await eventually(async () => expect((await fetch(`${url}/healthz`)).status).toBe(200), 30_000, 200).catch(async (e: Error) => {
        throw new Error(`${e.message}\n${(await run("podman", ["logs", name])).stderr}`);
      });
      const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream" };
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" });
      expect((await rawRequest(`${url}/mcp`, { headers, body })).status).toBe(401);
      expect((await rawRequest(`${url}/mcp`, { headers: { ...headers, ...bearer(OTHER_TOKEN) }, body })).status).toBe(401);

      const c = await connectHttp(`${url}/mcp`, bearer(AGENT_TOKEN));
      const { tools } = await c.client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(["embed", "rerank"]);
      emu.reset();
      const r = await c.client.callTool({ name: "rerank", arguments: RERANK });
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(emu.requests.filter((q) => q.path === "/v2/rerank")).toHaveLength(1);
      await c.close();

      const health = await run("podman", ["healthcheck", "run", name]);
      expect(health.code, health.stderr + health.stdout).toBe(0);
      expect(await podman(["inspect", "--format", "{{.State.Health.Status}}", name])).toBe("healthy");

      const audit = await podman(["exec", name, NODE, "-e", 'process.stdout.write(require("node:fs").readFileSync("/data/audit.jsonl"))']);
      const lines = audit.split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.some((l) => l.tool === "rerank" && l.agent === "search-agent")).toBe(true);
      for (const s of [CONTAINER_KEY, AGENT_TOKEN, OTHER_TOKEN]) expect(audit).not.toContain(s);
      const logs = await run("podman", ["logs", name]);
      for (const s of [CONTAINER_KEY, AGENT_TOKEN, OTHER_TOKEN]) expect(logs.stdout + logs.stderr).not.toContain(s);
      const diff = await podman(["diff", name]);
      const written = diff.split("\n").filter((l) => l && !/^[AC] \/(config|data|run|dev|proc|sys|etc)(\/(team\.json|hosts|resolv\.conf|hostname|\.containerenv))?$/.test(l));
      expect(written).toEqual([]);
    } finally {
      await run("podman", ["rm", "--force", "--time", "0", name]);
      await run("podman", ["volume", "rm", "--force", volume]);
    }
  });

  it("holds no secret in any layer, no shell in any layer, and is under 150 MB: its size printed", async () => {
    const needles = [CONTAINER_KEY, AGENT_TOKEN, OTHER_TOKEN, CANARY, "container-canary-", "container-key-", "container-agent-"];
    const { hits, names, sizes } = await scanImage(IMAGE, "distroless", needles);
    expect(hits).toEqual([]);
    expect(names).toContain("app/dist/src/index.js");
    expect(names).toContain("nodejs/bin/node");
    const paths = new Set(names.map((n) => "/" + n.replace(/^\.\//, "")));
    expect(SHELLS_AND_TOOLS.filter((p) => paths.has(p))).toEqual([]);
    expect(names.filter((n) => n.startsWith("app/") && /(^|\/)\.env|\.env$|\.map$|(^|\/)test\//.test(n))).toEqual([]);

    const baseIds = new Set(JSON.parse(await podman(["image", "inspect", "--format", "{{json .RootFS.Layers}}", DISTROLESS_BASE])) as string[]);
    const base = sizes.filter((l) => baseIds.has(l.id));
    const app = sizes.filter((l) => !baseIds.has(l.id));
    expect(base.length).toBe(baseIds.size);
    console.log(
      `distroless image size: ${mb(sumLayers(sizes, "bytes"))} uncompressed, ${mb(sumLayers(sizes, "gzipBytes"))} gzip-compressed; ` +
        `base (${DISTROLESS_BASE}) ${mb(sumLayers(base, "bytes"))} / ${mb(sumLayers(base, "gzipBytes"))} in ${base.length} layer(s), ` +
        `application ${mb(sumLayers(app, "bytes"))} / ${mb(sumLayers(app, "gzipBytes"))} in ${app.length} layer(s)`,
    );
    expect(sumLayers(app, "bytes")).toBeLessThan(20e6);
    expect(sumLayers(sizes, "bytes")).toBeLessThan(150e6);
  });
});
