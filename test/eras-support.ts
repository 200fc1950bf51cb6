/** Modern-era (MCP 2026-07-28) clients for the tests: the SDK v2 client, pinned or in auto mode. */
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { ENTRY, TEST_KEY } from "./helpers.js";

export const MODERN = "2026-07-28";

export type Negotiation = { pin: typeof MODERN } | "auto";

export interface ModernConnected {
  client: Client;
  stderr(): string;
  close(): Promise<void>;
}

const clientFor = (mode: Negotiation, elicit: boolean) =>
  new Client(
    { name: "cohere-mcp-v2-test", version: "1.0.0" },
    { versionNegotiation: { mode }, capabilities: elicit ? { elicitation: { form: {} } } : {} },
  );

/** cohere-mcp over stdio against `baseUrl`, with the v2 client. */
export async function modernStdio(
  baseUrl: string,
  args: string[] = [],
  mode: Negotiation = { pin: MODERN },
  opts: { elicit?: boolean; env?: Record<string, string> } = {},
): Promise<ModernConnected> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [ENTRY, ...args],
    env: { PATH: process.env.PATH ?? "", CO_API_URL: baseUrl, CO_API_KEY: TEST_KEY, COHERE_MCP_RETRY_BASE_MS: "20", ...opts.env },
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const client = clientFor(mode, opts.elicit ?? false);
  await client.connect(transport);
  return { client, stderr: () => err, close: () => client.close() };
}

/** cohere-mcp over HTTP at `url`, with the v2 client. */
export async function modernHttp(
  url: string,
  headers: Record<string, string> = {},
  mode: Negotiation = { pin: MODERN },
  opts: { elicit?: boolean } = {},
): Promise<ModernConnected & { transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } });
  const client = clientFor(mode, opts.elicit ?? false);
  await client.connect(transport);
  return { client, transport, stderr: () => "", close: () => client.close() };
}
