/**
 * Shared by the OAuth suites (oauth.test.ts, oauth-sessions.test.ts): the clients the issuer
 * knows, the config cohere-mcp runs with, an SDK client with ClientCredentialsProvider, raw
 * requests, and tokens got from or forged for the issuer.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { freePort, proofDir } from "../bench/lib.js";
import { startHttp, type HttpServerProc } from "./http-support.js";
import { startIdp, type Idp, type IdpClient } from "./oauth-idp.js";
export const STATIC_TOKEN = "static-reader-token-SECRET-7c6b5a4d3e2f";
export const INTROSPECTION_SECRET = "introspector-secret-SECRET-99aa88bb";
export const RERANK = { model: "rerank-v3.5", query: "q", documents: ["a", "b"] };
export const CREATE_DATASET = { name: "x", type: "embed-input", data_text: '{"text":"a"}\n' };

export const secret = (id: string) => `${id}-secret-SECRET-${id.length}0f0e0d0c`;
const CLIENTS: IdpClient[] = [
  { client_id: "search-bot", client_secret: secret("search-bot"), scope: "cohere:read", groups: ["search-team"] },
  { client_id: "search-writer", client_secret: secret("search-writer"), scope: "cohere:read cohere:write", groups: ["search-team"] },
  { client_id: "curator-bot", client_secret: secret("curator-bot"), scope: "cohere:read cohere:write cohere:destructive", groups: ["data-team"] },
  { client_id: "nobody-bot", client_secret: secret("nobody-bot"), scope: "cohere:read", groups: ["other-team"] },
  { client_id: "noscope-bot", client_secret: secret("noscope-bot"), scope: "", groups: ["search-team"] },
  { client_id: "short-bot", client_secret: secret("short-bot"), scope: "cohere:read", groups: ["search-team"], ttl: 2 },
  { client_id: "opaque-bot", client_secret: secret("opaque-bot"), scope: "cohere:read", groups: ["search-team"], format: "opaque" },
  { client_id: "static-reader", client_secret: secret("static-reader"), scope: "cohere:read", groups: ["search-team"] },
];
export const byId = new Map(CLIENTS.map((c) => [c.client_id, c]));

export const MANIFEST = (JSON.parse(readFileSync(join(import.meta.dirname, "..", "tools.manifest.json"), "utf8")) as { tools: Array<{ name: string; access: string; group: string }> }).tools;
export const ACCESS = new Map(MANIFEST.map((t) => [t.name, t.access]));
export const SEARCH_TOOLS = ["rerank", "embed", "list_datasets", "create_dataset"];
export const CURATOR_TOOLS = MANIFEST.filter((t) => t.group === "datasets").map((t) => t.name);

export let emu: CohereEmulator;
export let idp: Idp;
export let other: Idp; // another issuer, with a client allowed to ask for our resource
export const dir = proofDir();
/** Every access token the suite handled, for the no-token-in-logs checks. */
export const tokensSeen = new Set<string>();

/** Every OAuth suite: the emulator, the issuer and another issuer, started once per file. */
export function useOAuthWorld(): void {
beforeAll(async () => {
  emu = await startEmulator({ apiKey: "test-key-SECRET-0123456789" });
  idp = await startIdp(CLIENTS, { introspector: { client_id: "cohere-mcp", client_secret: INTROSPECTION_SECRET } });
  other = await startIdp([{ client_id: "search-bot", client_secret: secret("search-bot"), scope: "cohere:read", groups: ["search-team"] }]);
});
afterAll(async () => {
  await emu?.stop();
  await idp?.stop();
  await other?.stop();
});
beforeEach(() => emu.reset());
}

export interface Started {
  srv: HttpServerProc;
  resource: string;
  audit: string;
}

export async function startOurs(
  label: string,
  extra: string[] = [],
  /** oauth: fields over the suite's oauth section; env: more variables for the server. */
  over: { oauth?: Record<string, unknown>; env?: Record<string, string> } = {},
): Promise<Started & { cfg: string }> {
  const port = await freePort();
  const resource = `http://127.0.0.1:${port}/mcp`;
  idp.resources.add(resource);
  other.resources.add(resource);
  const cfg = join(dir, `oauth-${label}-${process.pid}.json`);
  const audit = join(dir, `oauth-${label}-audit-${process.pid}.jsonl`);
  writeFileSync(
    cfg,
    JSON.stringify({
      profiles: {
        search: { tools: SEARCH_TOOLS },
        curator: { tools: "datasets", allow_write: true, allow_destructive: true },
        reader: { tools: ["rerank"] },
      },
      agents: [{ name: "static-reader", profile: "reader", token_env: "STATIC_READER_TOKEN" }],
      oauth: {
        issuer: idp.issuer,
        resource,
        agent_claim: "client_id",
        rules: [
          { claim: "groups", includes: "search-team", profile: "search" },
          { claim: "client_id", equals: "curator-bot", profile: "curator" },
        ],
        scopes: { read: "cohere:read", write: "cohere:write", destructive: "cohere:destructive" },
        clock_skew_s: 1,
        jwks_cooldown_s: 1,
        introspection: { client_id: "cohere-mcp", client_secret_env: "INTROSPECTION_SECRET" },
        ...over.oauth,
      },
    }),
  );
  const srv = await startHttp(
    emu.url,
    // refused tokens are what these tests send: the failed-login throttle (tested on its own) stays off
    ["--port", String(port), "--config", cfg, "--audit-log", audit, "--confirm-destructive", "never", "--max-auth-failures", "0", ...extra],
    { STATIC_READER_TOKEN: STATIC_TOKEN, INTROSPECTION_SECRET, ...over.env },
  );
  expect(srv.url).toBe(resource);
  return { srv, resource, audit, cfg };
}

/** What a client asks the issuer for: every scope the metadata lists; the issuer grants what it allows. */
export const ALL_SCOPES = "cohere:read cohere:write cohere:destructive";

/**
 * The SDK client with ClientCredentialsProvider. In SDK 1.32 the client-credentials token
 * request carries the provider's own `scope` (not the challenge's), so that is where a client
 * says what it wants; after a 403 insufficient_scope it fetches a new token and retries once.
 */
export async function sdkClient(
  url: string,
  clientId: string,
  preload?: string,
  scope = ALL_SCOPES,
): Promise<{ client: Client; provider: ClientCredentialsProvider; close(): Promise<void> }> {
  const provider = new ClientCredentialsProvider({ clientId, clientSecret: byId.get(clientId)!.client_secret, scope, expectedIssuer: idp.issuer });
  if (preload) provider.saveTokens({ access_token: preload, token_type: "Bearer" });
  const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  const client = new Client({ name: `oauth-test-${clientId}`, version: "1" });
  await client.connect(transport);
  return {
    client,
    provider,
    async close() {
      const t = provider.tokens()?.access_token;
      if (t) tokensSeen.add(t);
      await client.close();
    },
  };
}

export interface Answer {
  status: number;
  headers: Headers;
  json: Record<string, unknown> | undefined;
  text: string;
}

export async function post(url: string, body: unknown, token?: string, headers: Record<string, string> = {}): Promise<Answer> {
  if (token) tokensSeen.add(token);
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // the first data line that holds a message (a priming event's data is empty: SEP-1699)
    const data = text.split("\n").find((l) => l.startsWith("data:") && l.slice(5).trim() !== "");
    json = data ? (JSON.parse(data.slice(5)) as Record<string, unknown>) : undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
}

export const call = (name: string, args: Record<string, unknown>, id = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } });
export const LIST = { jsonrpc: "2.0", id: 1, method: "tools/list", params: {} };
export const INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };
export const listed = (a: Answer) => ((a.json?.result as { tools?: Array<{ name: string }> } | undefined)?.tools ?? []).map((t) => t.name).sort();
export const expectedFor = (tools: string[], classes: string[]) => tools.filter((t) => classes.includes(ACCESS.get(t)!)).sort();

export async function tokenFor(clientId: string, resource: string, scope: string | undefined = ALL_SCOPES, from: Idp = idp): Promise<string> {
  const t = (await from.token(clientId, resource, scope)).access_token;
  tokensSeen.add(t);
  return t;
}

/** Claims a forged token carries: everything right except what the test changes. */
export function claimsFor(resource: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: idp.issuer, aud: resource, sub: "search-bot", client_id: "search-bot", groups: ["search-team"], scope: "cohere:read", jti: `forged-${now}-${Math.random()}`, iat: now, exp: now + 300, ...over };
}

