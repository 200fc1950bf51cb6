#!/usr/bin/env node
/**
 * The floor for any MCP server built on the SDK the project runs on (v2: @modelcontextprotocol/server):
 * McpServer with one tool per Cohere operation named in MINIMAL_TOOL that forwards its arguments
 * to Cohere (CO_API_URL, CO_API_KEY) and returns the JSON answer as text. No validation beyond
 * the SDK's, no policy, no audit, no logging. Its schemas are zod 4 objects (v2 takes Standard
 * Schema; zod 3 is not supported). undici is loaded on the first call, so start-up measures the
 * SDK alone. It serves both MCP eras, as cohere-mcp does: serveStdio over stdio, createMcpHandler
 * (2026-07-28, and 2025-era requests statelessly) over HTTP.
 *
 *   MINIMAL_TOOL=rerank|embed|rerank,embed (default rerank)  node dist/bench/minimal-server.js
 *
 * Over stdio by default. With MINIMAL_HTTP_PORT set it serves streamable HTTP at
 * http://127.0.0.1:PORT/mcp instead through the SDK's createMcpHandler: a new server per POST
 * (JSON answers, no SSE stream), on node:http with the same small adapter cohere-mcp uses.
 */
import type { IncomingMessage } from "node:http";
import { McpServer } from "@modelcontextprotocol/server";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import * as z from "zod/v4";
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
        inputSchema: z.object({ model: z.string(), query: z.string(), documents: z.array(z.string()) }),
      },
      async (args) => ({ content: [{ type: "text", text: await post("/v2/rerank", args) }] }),
    );
  }
  if (tools.has("embed")) {
    server.registerTool(
      "embed",
      {
        description: "Embed texts.",
        inputSchema: z.object({
          model: z.string(),
          input_type: z.string(),
          texts: z.array(z.string()),
          embedding_types: z.array(z.string()).optional(),
        }),
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
  const { createMcpHandler } = await import("@modelcontextprotocol/server");
  const { sendResponse, webRequest } = await import("../src/transports/http/web.js");
  const handler = createMcpHandler(() => build(), { responseMode: "json" });
  const http = createServer((req, res) => {
    if (req.method !== "POST" || !req.url?.startsWith("/mcp")) {
      res.writeHead(405).end();
      return;
    }
    void (async () => {
      try {
        const body = await readJson(req);
        await sendResponse(res, await handler.fetch(webRequest(req, res), { parsedBody: body }));
      } catch {
        if (!res.headersSent) res.writeHead(400).end();
      }
    })();
  });
  http.listen(Number(httpPort), "127.0.0.1");
  process.on("SIGTERM", () => process.exit(0));
} else {
  process.stdin.on("end", () => process.exit(0));
  serveStdio(() => build());
}
