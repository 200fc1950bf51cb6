/**
 * npm run demo: start the bundled Cohere emulator, start cohere-mcp against it over stdio with
 * the SDK's MCP client, and print what an agent sees. No Cohere key needed.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../emulator/server.js";

type TextResult = {
  content?: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};
const text = (r: TextResult) => (r.content ?? []).map((c) => c.text ?? "").join("");

async function main(): Promise<void> {
  const emulator = await startEmulator({ apiKey: "demo-key", streamChunkDelayMs: 60 });
  const entry = fileURLToPath(new URL("../src/index.js", import.meta.url));
  const connect = async (flags: string[]): Promise<Client> => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [entry, "--log-level", "warn", ...flags],
      env: { PATH: process.env.PATH ?? "", CO_API_KEY: "demo-key", CO_API_URL: emulator.url, COHERE_MCP_POLL_INTERVAL_MS: "300" },
      stderr: "inherit",
    });
    const c = new Client({ name: "cohere-mcp-demo", version: "1.0.0" });
    await c.connect(transport);
    return c;
  };
  const client = await connect([]);
  const say = (s: string) => process.stdout.write(s + "\n");

  say(`Cohere emulator on ${emulator.url}; cohere-mcp started over stdio with no flags.\n`);
  const { tools } = await client.listTools();
  say(`Default tools (${tools.length}, read-only): ${tools.map((t) => t.name).join(", ")}\n`);

  const chat = (await client.callTool({
    name: "chat",
    arguments: { model: "command-a-03-2025", messages: [{ role: "user", content: "Name one use of reranking." }] },
  })) as TextResult;
  say(`chat → ${text(chat).slice(0, 300)}\n`);

  // With a progress token the reply streams: each piece arrives as notifications/progress.
  process.stdout.write("chat, streamed → ");
  const streamed = (await client.callTool(
    {
      name: "chat",
      arguments: {
        model: "command-a-03-2025",
        messages: [{ role: "user", content: "Explain in one sentence what an embedding job does with a dataset." }],
      },
    },
    undefined,
    { onprogress: (p) => process.stdout.write(`[${p.progress}]${p.message ?? ""}`) },
  )) as TextResult;
  say(`\n  final result (same shape as unstreamed): ${JSON.stringify(streamed.structuredContent).slice(0, 200)}…\n`);

  const embedded = (await client.callTool({
    name: "embed",
    arguments: { model: "embed-v4.0", input_type: "search_document", texts: ["Paris is the capital of France."] },
  })) as TextResult;
  say(`embed (default summary, ${JSON.stringify(embedded).length} chars) → ${text(embedded)}\n`);

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

  // An agent allowed to start jobs: create a dataset, start an embed job, wait for it.
  say("\ncohere-mcp --tools default,embed_jobs,create_dataset --allow-write");
  const jobs = await connect(["--tools", "default,embed_jobs,create_dataset", "--allow-write"]);
  const ds = (await jobs.callTool({
    name: "create_dataset",
    arguments: { name: "faq", type: "embed-input", data_text: '{"text":"How do I reset my password?"}\n{"text":"Where is my invoice?"}\n' },
  })) as TextResult;
  const datasetId = String(ds.structuredContent?.id);
  say(`create_dataset → ${datasetId}`);
  const job = (await jobs.callTool({
    name: "create_embed_job",
    arguments: { model: "embed-v4.0", dataset_id: datasetId, input_type: "search_document" },
  })) as TextResult;
  const jobId = String(job.structuredContent?.job_id);
  say(`create_embed_job → ${jobId}`);
  const waited = (await jobs.callTool({ name: "wait_for_embed_job", arguments: { id: jobId, timeout_s: 30 } }, undefined, {
    onprogress: (p) => say(`  progress: ${p.message ?? ""}`),
  })) as TextResult;
  say(`wait_for_embed_job → ${text(waited).split("\n")[0]}`);
  await jobs.close();
  await emulator.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
