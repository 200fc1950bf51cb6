#!/usr/bin/env node
/**
 * The floor for any MCP server built on the SDK: McpServer over stdio with ONE tool that
 * forwards its arguments to Cohere (CO_API_URL, CO_API_KEY) and returns the JSON answer as
 * text. No validation beyond the SDK's, no policy, no audit, no logging. undici is loaded on
 * the first call, so start-up measures the SDK alone.
 *
 *   MINIMAL_TOOL=rerank|embed (default rerank)  node dist/bench/minimal-server.js
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod/v3";
import type { Pool } from "undici";

const base = (process.env.CO_API_URL ?? "https://api.cohere.com").replace(/\/+$/, "");
const key = process.env.CO_API_KEY ?? "";
const which = process.env.MINIMAL_TOOL === "embed" ? "embed" : "rerank";

let pool: Pool | undefined;
async function post(path: string, body: unknown): Promise<string> {
  if (!pool) {
    const { Pool: P } = await import("undici");
    pool = new P(new URL(base).origin, { connections: 64 });
  }
  const res = await pool.request({
    method: "POST",
    path,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  });
  const data: unknown = await res.body.json();
  return JSON.stringify(data);
}

const server = new McpServer({ name: "minimal-sdk-server", version: "1.0.0" });

if (which === "rerank") {
  server.registerTool(
    "rerank",
    {
      description: "Rerank documents by relevance to a query.",
      inputSchema: { model: z.string(), query: z.string(), documents: z.array(z.string()) },
    },
    async (args) => ({ content: [{ type: "text", text: await post("/v2/rerank", args) }] }),
  );
} else {
  server.registerTool(
    "embed",
    {
      description: "Embed texts.",
      inputSchema: {
        model: z.string(),
        input_type: z.string(),
        texts: z.array(z.string()),
        embedding_types: z.array(z.string()).optional(),
      },
    },
    async (args) => ({ content: [{ type: "text", text: await post("/v2/embed", args) }] }),
  );
}

const transport = new StdioServerTransport();
process.stdin.on("end", () => process.exit(0));
await server.connect(transport);
