/** stdio: one agent (the local client), the process's own visible set. stdout is the protocol's. */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { createMcpServer } from "../server.js";
import type { App } from "../app.js";

export async function serveStdio(app: App): Promise<void> {
  const server = createMcpServer(app, {
    agent: app.options.profile ?? "stdio",
    transport: "stdio",
    visible: app.visible,
    ignored: app.ignored,
    profile: app.options.profile ?? app.config?.default_profile,
  });
  const transport = new StdioServerTransport();
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    try {
      await server.close();
      await app.close();
    } finally {
      process.exit(code);
    }
  };
  transport.onclose = () => void shutdown(0);
  process.stdin.on("end", () => void shutdown(0));
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  await server.connect(transport);
  app.logger.info("cohere-mcp ready on stdio", {
    tools: app.visible.size,
    key: app.options.apiKey ? `from ${app.options.apiKeySource}` : "missing (calls will fail until CO_API_KEY is set)",
  });
}
