// The Vercel AI SDK's MCP client (@ai-sdk/mcp): load the server's tools as AI SDK tools and
// run one (rerank) the way generateText would, through the tool's execute().
//   node scripts/clients/ai-sdk.mjs stdio ENTRY      (env: CO_API_KEY, CO_API_URL)
//   node scripts/clients/ai-sdk.mjs http URL [TOKEN]
import { createMCPClient } from "@ai-sdk/mcp";
import { StdioMCPTransport } from "@ai-sdk/mcp/mcp-stdio";

const [mode, target, token] = process.argv.slice(2);
const transport =
  mode === "stdio"
    ? new StdioMCPTransport({
        command: process.execPath,
        args: [target],
        env: { PATH: process.env.PATH ?? "", CO_API_KEY: process.env.CO_API_KEY ?? "", CO_API_URL: process.env.CO_API_URL ?? "" },
        stderr: "pipe",
      })
    : { type: "http", url: target, ...(token ? { headers: { Authorization: `Bearer ${token}` } } : {}) };
const client = await createMCPClient({ transport, clientName: "ai-sdk-check" });
try {
  const tools = await client.tools();
  const names = Object.keys(tools);
  const rerank = tools.rerank;
  if (!rerank?.execute) throw new Error(`rerank not among ${names.join(",")}`);
  const out = await rerank.execute(
    { model: "rerank-v3.5", query: "capital of france", documents: ["Paris is the capital of France", "Bananas are yellow"] },
    { toolCallId: "call-1", messages: [] },
  );
  if (out.isError || out.structuredContent?.results?.[0]?.index !== 0) throw new Error(`unexpected rerank answer: ${JSON.stringify(out).slice(0, 300)}`);
  console.log(`${names.length} tools loaded as AI SDK tools; rerank executed`);
} finally {
  await client.close();
}
