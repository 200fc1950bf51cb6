/**
 * Client addresses behind a load balancer (--trusted-proxies). Only from a trusted proxy is the
 * client taken from X-Forwarded-For (the right-most address that is no trusted proxy; a
 * malformed header is ignored); from any other peer the header is ignored, so a client cannot
 * dodge the failed-login throttle by writing one. One client's wrong tokens throttle that
 * client, not everyone behind the proxy; /readyz details and the audit's `remote` follow the
 * client address; the connection cap counts untrusted peers only. Real server, real sockets
 * (127.0.0.2 is another loopback source address on Linux).
 */
import { readFileSync } from "node:fs";
import type net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { parseOptions } from "../src/config/options.js";
import { parseTrustedProxies, proxyMatcher } from "../src/config/proxies.js";
import { clientAddress, forwardedAddress } from "../src/transports/http/admission/forwarded.js";
import { TEST_KEY } from "./helpers.js";
import { bearer, connectionReply, eventually, holdConnection, MCP_HEADERS, rawRequest, startHttp, tempFile, writeConfig, type HttpServerProc } from "./http-support.js";

describe("X-Forwarded-For: parsing and trust", () => {
  const trusted = proxyMatcher(parseTrustedProxies(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]));

  it("the list takes addresses and CIDR ranges, IPv4 and IPv6, and refuses anything else by name", () => {
    expect(parseTrustedProxies([" 127.0.0.1 ", "10.0.0.0/8", "::1", "fd00::/8", "::ffff:192.0.2.1"])).toEqual([
      "127.0.0.1",
      "10.0.0.0/8",
      "::1",
      "fd00::/8",
      "192.0.2.1",
    ]);
    for (const bad of ["nginx", "10.0.0.0/33", "::1/129", "10.0.0.0/8/1", "10.0.0.0/x", "1.2.3", "*"]) {
      expect(() => parseTrustedProxies([bad]), bad).toThrow(/--trusted-proxies: .* is not an IP address or CIDR range/);
    }
    expect(parseOptions(["--trusted-proxies", "127.0.0.1,10.0.0.0/8", "--trusted-proxies", "::1"], {}).trustedProxies).toEqual(["127.0.0.1", "10.0.0.0/8", "::1"]);
    expect(parseOptions([], { COHERE_MCP_TRUSTED_PROXIES: "192.168.0.0/16" }).trustedProxies).toEqual(["192.168.0.0/16"]);
    expect(parseOptions([], {}).trustedProxies).toEqual([]);
    expect(() => parseOptions(["--trusted-proxies", "lb.internal"], {})).toThrow(/not an IP address/);
    expect(trusted("10.200.3.4")).toBe(true);
    expect(trusted("::ffff:127.0.0.1")).toBe(true);
    expect(trusted("fd12::1")).toBe(true);
    expect(trusted("127.0.0.2")).toBe(false);
    expect(trusted("11.0.0.1")).toBe(false);
    expect(trusted("not an address")).toBe(false);
  });

  it("entries: addresses with or without a port or brackets; anything else is no address", () => {
    expect(forwardedAddress(" 198.51.100.7 ")).toBe("198.51.100.7");
    expect(forwardedAddress("198.51.100.7:4711")).toBe("198.51.100.7");
    expect(forwardedAddress("2001:db8::1")).toBe("2001:db8::1");
    expect(forwardedAddress("[2001:db8::1]")).toBe("2001:db8::1");
    expect(forwardedAddress("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(forwardedAddress("::ffff:198.51.100.7")).toBe("198.51.100.7");
    for (const bad of ["", "unknown", "_hidden", "198.51.100", "198.51.100.7:port", "example.com", "198.51.100.7 198.51.100.8"]) {
      expect(forwardedAddress(bad), bad).toBeUndefined();
    }
  });

  it("only a trusted peer's header counts: the right-most address that is no trusted proxy is the client", () => {
    // an untrusted peer: its header is ignored, whatever it says
    expect(clientAddress("203.0.113.9", "198.51.100.7", trusted)).toBe("203.0.113.9");
    expect(clientAddress("127.0.0.2", "127.0.0.1, 198.51.100.7", trusted)).toBe("127.0.0.2");
    expect(clientAddress("::ffff:203.0.113.9", "198.51.100.7", trusted)).toBe("203.0.113.9");
    // a trusted peer without the header: the peer
    expect(clientAddress("127.0.0.1", undefined, trusted)).toBe("127.0.0.1");
    // what the client wrote (left) is passed over: the proxy appended the address it saw
    expect(clientAddress("127.0.0.1", "6.6.6.6, 198.51.100.7", trusted)).toBe("198.51.100.7");
    // two proxies: the inner one's address is skipped
    expect(clientAddress("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3", trusted)).toBe("198.51.100.7");
    expect(clientAddress("::ffff:127.0.0.1", "2001:db8::5, fd00::7", trusted)).toBe("2001:db8::5");
    // every hop a trusted proxy: the left-most
    expect(clientAddress("127.0.0.1", "10.9.9.9, 10.1.2.3", trusted)).toBe("10.9.9.9");
    // malformed before the client is found: the whole header is ignored
    expect(clientAddress("127.0.0.1", "198.51.100.7, garbage", trusted)).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", "198.51.100.7,,10.1.2.3", trusted)).toBe("127.0.0.1");
    expect(clientAddress("127.0.0.1", "", trusted)).toBe("127.0.0.1");
    // ... but junk the client wrote left of its own address does not matter
    expect(clientAddress("127.0.0.1", "garbage, 198.51.100.7", trusted)).toBe("198.51.100.7");
    // nobody trusted (the default): always the peer
    expect(clientAddress("127.0.0.1", "198.51.100.7", proxyMatcher([]))).toBe("127.0.0.1");
  });
});

const A_TOKEN = "proxies-a-token-3e4f5a6b7c8d9e0f";
const ENV = { A_TOKEN };
const TEAM = { profiles: { worker: { tools: ["rerank"] } }, agents: [{ name: "agent-a", profile: "worker", token_env: "A_TOKEN" }] };
const BODY = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a", "b"] } } });
const wrong = (i: number) => ({ ...MCP_HEADERS, ...bearer(`wrong-token-${i}-abcdefghijklmnop`) });
const right = { ...MCP_HEADERS, ...bearer(A_TOKEN) };
const xff = (address: string) => ({ "X-Forwarded-For": address });

type Line = { reason?: string; remote?: string; agent?: string };
const auditLines = (path: string): Line[] =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

describe("cohere-mcp --http --trusted-proxies 127.0.0.1", () => {
  let emu: CohereEmulator;
  let srv: HttpServerProc;
  const audit = tempFile("proxies-audit.jsonl");

  beforeAll(async () => {
    emu = await startEmulator({ apiKey: TEST_KEY });
    srv = await startHttp(
      emu.url,
      ["--config", writeConfig(TEAM), "--audit-log", audit, "--trusted-proxies", "127.0.0.1", "--max-auth-failures", "3", "--max-connections-per-address", "2"],
      ENV,
    );
  });
  afterAll(async () => {
    await srv?.stop();
    await emu?.stop();
  });

  it("one client's wrong tokens through the proxy throttle that client only; another client behind the same proxy keeps working", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await rawRequest(srv.url, { headers: { ...wrong(i), ...xff("198.51.100.7") }, body: BODY })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    // the throttled client's wrong tokens are 429, but a right token from it is served (issue 20,
    // finding 3: the throttle bounds what failures cost, not who may enter)
    expect((await rawRequest(srv.url, { headers: { ...right, ...xff("198.51.100.7") }, body: BODY })).status).toBe(200);
    // another client behind the same proxy (same peer address 127.0.0.1): served
    const other = await rawRequest(srv.url, { headers: { ...right, ...xff("198.51.100.8") }, body: BODY });
    expect(other.status).toBe(200);
    expect(other.body).toMatch(/results/);
    // the proxy itself (its own requests, e.g. health checks) is not throttled either
    expect((await rawRequest(srv.url, { headers: right, body: BODY })).status).toBe(200);
    // the audit names the client, not the proxy
    await eventually(() => expect(auditLines(audit).filter((l) => l.reason === "auth" && l.remote === "198.51.100.7")).toHaveLength(3));
    expect(auditLines(audit).some((l) => l.remote === "127.0.0.1" && l.reason === "auth")).toBe(false);
  });

  it("a peer that is no trusted proxy cannot pick its address: X-Forwarded-For from it is ignored, so rotating it does not dodge the throttle", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await rawRequest(srv.url, { headers: { ...wrong(i), ...xff(`203.0.113.${i + 1}`) }, body: BODY, localAddress: "127.0.0.2" });
      statuses.push(r.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    const lines = auditLines(audit).filter((l) => l.reason === "auth");
    expect(lines.filter((l) => l.remote === "127.0.0.2")).toHaveLength(3);
    expect(lines.some((l) => l.remote?.startsWith("203.0.113."))).toBe(false);
    // a client behind the proxy is still served
    expect((await rawRequest(srv.url, { headers: { ...right, ...xff("198.51.100.20") }, body: BODY })).status).toBe(200);
  });

  it("/readyz details go to a loopback client: the one the trusted proxy names, not the proxy", async () => {
    const detail = (body: string) => /127\.0\.0\.1/.test(JSON.parse(body).checks.cohere as string);
    // straight from loopback: details
    expect(detail((await rawRequest(`${srv.origin}/readyz`, { method: "GET" })).body)).toBe(true);
    // a remote client through the proxy: none (its address is not loopback, and it has no token)
    const remote = await rawRequest(`${srv.origin}/readyz`, { method: "GET", headers: xff("198.51.100.30") });
    expect(remote.status).toBe(200);
    expect(detail(remote.body)).toBe(false);
    // ... unless it shows a valid token
    expect(detail((await rawRequest(`${srv.origin}/readyz`, { method: "GET", headers: { ...xff("198.51.100.30"), ...bearer(A_TOKEN) } })).body)).toBe(true);
    // an untrusted loopback peer claiming to be remote is still loopback (its header is ignored)
    expect(detail((await rawRequest(`${srv.origin}/readyz`, { method: "GET", headers: xff("198.51.100.30"), localAddress: "127.0.0.3" })).body)).toBe(true);
  });

  it("the connection cap counts untrusted peers only: the proxy may hold more than --max-connections-per-address", async () => {
    const open = (localAddress: string) => holdConnection(srv.port, localAddress);
    const held: net.Socket[] = [];
    try {
      // the trusted proxy: 5 connections held open, and a request on a sixth is served
      for (let i = 0; i < 5; i++) held.push(await open("127.0.0.1"));
      expect((await rawRequest(srv.url, { headers: { ...right, ...xff("198.51.100.40") }, body: BODY })).status).toBe(200);
      // an untrusted peer: past 2 it is refused
      for (let i = 0; i < 2; i++) held.push(await open("127.0.0.4"));
      const third = await connectionReply(srv.port, "127.0.0.4");
      expect(third).toMatch(/^HTTP\/1\.1 429 Too Many Requests/);
    } finally {
      for (const s of held) s.destroy();
    }
  });
});
