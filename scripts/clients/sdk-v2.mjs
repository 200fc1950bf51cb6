// The MCP TypeScript SDK v2 client (@modelcontextprotocol/client): list the tools and call rerank
// in the era the negotiation MODE must reach (cohere-mcp serves both, issue 26):
//   auto    probe with server/discover: 2026-07-28 (modern)
//   pin     2026-07-28 only, no fallback (modern)
//   legacy  the 2025-11-25 initialize handshake, no probe (legacy)
//   node scripts/clients/sdk-v2.mjs MODE stdio ENTRY      (env: CO_API_KEY, CO_API_URL)
//   node scripts/clients/sdk-v2.mjs MODE http URL [TOKEN]
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const [negotiation, mode, target, token] = process.argv.slice(2);
const MODES = {
  auto: [{ mode: "auto", probe: { timeoutMs: 10_000 } }, "2026-07-28", "modern"],
  pin: [{ mode: { pin: "2026-07-28" } }, "2026-07-28", "modern"],
  legacy: [{ mode: "legacy" }, "2025-11-25", "legacy"],
};
if (!MODES[negotiation]) throw new Error(`MODE must be auto, pin or legacy, got ${negotiation}`);
const [versionNegotiation, wantVersion, wantEra] = MODES[negotiation];
const transport =
  mode === "stdio"
    ? new StdioClientTransport({
        command: process.execPath,
        args: [target],
        env: { PATH: process.env.PATH ?? "", CO_API_KEY: process.env.CO_API_KEY ?? "", CO_API_URL: process.env.CO_API_URL ?? "" },
        stderr: "pipe",
      })
    : new StreamableHTTPClientTransport(new URL(target), token ? { requestInit: { headers: { Authorization: `Bearer ${token}` } } } : {});
const client = new Client({ name: `sdk-v2-${negotiation}`, version: "1.0.0" }, { versionNegotiation });
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
  if (version !== wantVersion || era !== wantEra) throw new Error(`negotiated ${version} (${era}), expected ${wantVersion} (${wantEra})`);
  const { tools } = await client.listTools();
  if (!tools.some((t) => t.name === "rerank")) throw new Error(`no rerank among ${tools.map((t) => t.name).join(",")}`);
  const r = await client.callTool({
    name: "rerank",
    arguments: { model: "rerank-v3.5", query: "capital of france", documents: ["Paris is the capital of France", "Bananas are yellow"] },
  });
  if (r.isError || r.structuredContent?.results?.[0]?.index !== 0) throw new Error(`unexpected rerank answer: ${JSON.stringify(r).slice(0, 300)}`);
  console.log(`negotiated ${version} (${era} era); ${tools.length} tools; rerank answered${warnings.length ? `; ${warnings.length} warnings` : ""}`);
} finally {
  await client.close();
}
