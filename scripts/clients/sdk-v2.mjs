// The MCP TypeScript SDK v2 client (@modelcontextprotocol/client) in `auto` version negotiation:
// it probes with server/discover (2026-07-28), must fall back to the 2025-11-25 initialize
// handshake cleanly, list the tools and call rerank.
//   node scripts/clients/sdk-v2.mjs stdio ENTRY      (env: CO_API_KEY, CO_API_URL)
//   node scripts/clients/sdk-v2.mjs http URL [TOKEN]
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const [mode, target, token] = process.argv.slice(2);
const transport =
  mode === "stdio"
    ? new StdioClientTransport({
        command: process.execPath,
        args: [target],
        env: { PATH: process.env.PATH ?? "", CO_API_KEY: process.env.CO_API_KEY ?? "", CO_API_URL: process.env.CO_API_URL ?? "" },
        stderr: "pipe",
      })
    : new StreamableHTTPClientTransport(new URL(target), token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : {});
const client = new Client({ name: "sdk-v2-auto", version: "1.0.0" }, { versionNegotiation: { mode: "auto", probe: { timeoutMs: 10_000 } } });
const warnings = [];
const origWarn = console.warn;
console.warn = (...a) => {
  warnings.push(a.join(" "));
  origWarn(...a);
};
await client.connect(transport);
try {
  const version = client.getNegotiatedProtocolVersion();
  const era = client.getProtocolEra();
  if (version !== "2025-11-25" || era !== "legacy") throw new Error(`negotiated ${version} (${era}), expected 2025-11-25 (legacy)`);
  const { tools } = await client.listTools();
  if (!tools.some((t) => t.name === "rerank")) throw new Error(`no rerank among ${tools.map((t) => t.name).join(",")}`);
  const r = await client.callTool({
    name: "rerank",
    arguments: { model: "rerank-v3.5", query: "capital of france", documents: ["Paris is the capital of France", "Bananas are yellow"] },
  });
  if (r.isError || r.structuredContent?.results?.[0]?.index !== 0) throw new Error(`unexpected rerank answer: ${JSON.stringify(r).slice(0, 300)}`);
  console.log(`negotiated ${version} (${era} era) after the server/discover probe; ${tools.length} tools; rerank answered${warnings.length ? `; ${warnings.length} warnings` : ""}`);
} finally {
  await client.close();
}
