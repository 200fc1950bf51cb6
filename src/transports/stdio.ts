/**
 * stdio: one agent (the local client), the process's own visible set. stdout is the protocol's.
 * Messages are framed by our LineTransport: one over --max-message-bytes is answered with an
 * error (and logged and audited) instead of closing the transport.
 */
import { createMcpServer } from "../server.js";
import type { App } from "../app.js";
import { LineTransport, type OversizedMessage, type UnreadableLine } from "./stdio-lines.js";

/** What an agent is told when its message is too big. */
export function oversizedText(m: OversizedMessage): string {
  const what = m.method === "tools/call" && m.tool ? `tools/call ${JSON.stringify(m.tool)}` : m.method ?? "The message";
  return (
    `${what} was refused: the message is ${m.bytes} bytes, over this server's limit of ${m.limit} bytes for one message ` +
    "(--max-message-bytes). Nothing was sent to Cohere. Send large content by file path instead: the operator starts " +
    "cohere-mcp with --allow-file-read DIR and the call names the file (file_path, data_path) rather than its base64 content."
  );
}

export async function serveStdio(app: App): Promise<void> {
  const agent = app.options.profile ?? "stdio";
  const server = createMcpServer(app, {
    agent,
    transport: "stdio",
    visible: app.visible,
    ignored: app.ignored,
    profile: app.options.profile ?? app.config?.default_profile,
  });
  const onOversized = (m: OversizedMessage) => {
    app.logger.warn("refused a stdio message over --max-message-bytes", {
      bytes: m.bytes,
      limit: m.limit,
      method: m.method,
      tool: m.tool,
      id: m.id,
    });
    app.audit?.record({
      time: new Date().toISOString(),
      agent,
      transport: "stdio",
      tool: m.method === "tools/call" ? (m.tool ?? "(tools/call)") : `(${m.method ?? "unknown"})`,
      decision: "denied",
      reason: "invalid_input",
      detail: `message of ${m.bytes} bytes over --max-message-bytes ${m.limit}`,
      latencyMs: 0,
    });
  };
  // what the line held is not logged (it may be anything, a key included): its size and why
  const onUnreadable = (u: UnreadableLine) =>
    app.logger.warn("answered a stdio line that is not a JSON-RPC message with an error", { bytes: u.bytes, why: u.why, code: u.code });
  const transport = new LineTransport(process.stdin, process.stdout, app.options.maxMessageBytes, onOversized, oversizedText, onUnreadable);
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
    config: app.live.current.hash,
    tools: app.visible.size,
    key: app.options.apiKey ? `from ${app.options.apiKeySource}` : "missing (calls will fail until CO_API_KEY is set)",
  });
}
