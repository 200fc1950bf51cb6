/**
 * npm run demo: start the bundled Cohere emulator, start cohere-mcp against it over stdio with
 * the SDK's MCP client, and print what an agent sees. No Cohere key needed.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../emulator/server.js";

type TextResult = { content?: Array<{ type: string; text?: string }>; isError?: boolean };
const text = (r: TextResult) => (r.content ?? []).map((c) => c.text ?? "").join("");

async function main(): Promise<void> {
  const emulator = await startEmulator({ apiKey: "demo-key" });
  const entry = fileURLToPath(new URL("../src/index.js", import.meta.url));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, "--log-level", "warn"],
    env: { PATH: process.env.PATH ?? "", CO_API_KEY: "demo-key", CO_API_URL: emulator.url },
    stderr: "inherit",
  });
  const client = new Client({ name: "cohere-mcp-demo", version: "1.0.0" });
  await client.connect(transport);
  const say = (s: string) => process.stdout.write(s + "\n");

  say(`Cohere emulator on ${emulator.url}; cohere-mcp started over stdio with no flags.\n`);
  const { tools } = await client.listTools();
  say(`Default tools (${tools.length}, read-only): ${tools.map((t) => t.name).join(", ")}\n`);

  const chat = (await client.callTool({
    name: "chat",
    arguments: { model: "command-a-03-2025", messages: [{ role: "user", content: "Name one use of reranking." }] },
  })) as TextResult;
  say(`chat → ${text(chat).slice(0, 300)}\n`);

  const docs = [
    "Paris is the capital of France.",
    "Reranking orders search results by relevance to a query.",
    "Bananas are rich in potassium.",
  ];
  const rr = (await client.callTool({
    name: "rerank",
    arguments: { model: "rerank-v3.5", query: "what does reranking do with search results", documents: docs },
  })) as TextResult;
  say(`rerank → ${text(rr).slice(0, 400)}\n`);

  const del = (await client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } })) as TextResult;
  say(`delete_dataset → ${del.isError ? "refused" : "RAN (unexpected!)"}: ${text(del)}`);
  const sent = emulator.requests.filter((r) => r.method === "DELETE").length;
  say(`DELETE requests that reached Cohere: ${sent}`);

  await client.close();
  await emulator.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
