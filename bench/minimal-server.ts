#!/usr/bin/env node
/**
 * The floor for any MCP server built on the SDK: McpServer with one tool per Cohere operation
 * named in MINIMAL_TOOL that forwards its arguments to Cohere (CO_API_URL, CO_API_KEY) and
 * returns the JSON answer as text. No validation beyond the SDK's, no policy, no audit, no
 * logging. Its schemas use the zod the project ships (`zod/v3` of the installed zod package,
 * as the project's own schemas do), and the SDK routes messages with that package's zod 4.
 * undici is loaded on the first call, so start-up measures the SDK alone.
 *
 *   MINIMAL_TOOL=rerank|embed|rerank,embed (default rerank)  node dist/bench/minimal-server.js
 *
 * Over stdio by default. With MINIMAL_HTTP_PORT set it serves stateless streamable HTTP at
 * http://127.0.0.1:PORT/mcp instead, as the SDK's stateless example does: a new server and
 * transport per POST (JSON answers, no SSE stream).
 */
import type { IncomingMessage } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod/v3";
import type { Pool } from "undici";

const base = (process.env.CO_API_URL ?? "https://api.cohere.com").replace(/\/+$/, "");
const key = process.env.CO_API_KEY ?? "";
const tools = new Set((process.env.MINIMAL_TOOL ?? "rerank").split(",").map((t) => t.trim()));

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

function build(): McpServer {
  const server = new McpServer({ name: "minimal-sdk-server", version: "1.0.0" });
  if (tools.has("rerank")) {
    server.registerTool(
      "rerank",
      {
        description: "Rerank documents by relevance to a query.",
        inputSchema: { model: z.string(), query: z.string(), documents: z.array(z.string()) },
      },
      async (args) => ({ content: [{ type: "text", text: await post("/v2/rerank", args) }] }),
    );
  }
  if (tools.has("embed")) {
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
  return server;
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (err) {
        reject(err as Error);
      }
    });
    req.on("error", reject);
  });
}

const httpPort = process.env.MINIMAL_HTTP_PORT;
if (httpPort) {
  // loaded only in this mode, so that the stdio server's start-up stays the SDK's alone
  const { createServer } = await import("node:http");
  const { StreamableHTTPServerTransport } = await import("@modelcontextprotocol/sdk/server/streamableHttp.js");
  const http = createServer((req, res) => {
    if (req.method !== "POST" || !req.url?.startsWith("/mcp")) {
      res.writeHead(405).end();
      return;
    }
    void (async () => {
      try {
        const body = await readJson(req);
        const server = build();
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
        res.on("close", () => {
          void transport.close();
          void server.close();
        });
        await server.connect(transport);
        await transport.handleRequest(req, res, body);
      } catch {
        if (!res.headersSent) res.writeHead(400).end();
      }
    })();
  });
  http.listen(Number(httpPort), "127.0.0.1");
  process.on("SIGTERM", () => process.exit(0));
} else {
  const transport = new StdioServerTransport();
  process.stdin.on("end", () => process.exit(0));
  await build().connect(transport);
}
