/**
 * stdio: one agent (the local client), the process's own visible set. stdout is the protocol's.
 * Messages are framed by our LineTransport: one over --max-message-bytes is answered with an
 * error (and logged and audited) instead of closing the transport.
 *
 * Both MCP eras (--eras): the SDK's serveStdio lets the opening exchange pick the connection's
 * era (server/discover → 2026-07-28; initialize → 2025-11-25 and older) and pins one server
 * from our factory to it. Legacy only: the server is connected to the transport directly, as
 * before (server/discover is then an unknown method).
 */
import type { Server } from "@modelcontextprotocol/server";
import { serveStdio as serveBothEras } from "@modelcontextprotocol/server/stdio";
import { createMcpServer, type Era } from "../server.js";
import type { AgentScope } from "../policy/types.js";
import type { App } from "../runtime/app.js";
import { telemetry } from "../telemetry/index.js";
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
  const scope: AgentScope = {
    agent,
    transport: "stdio",
    visible: app.visible,
    ignored: app.ignored,
    profile: app.options.profile ?? app.config?.default_profile,
  };
  const eras = app.options.eras;
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
  let closeServer: () => Promise<void> = async () => undefined;
  // the connection is the session (mcp.server.session.duration, telemetry on); its server names the revision
  const startedAt = Date.now();
  let server: Server | undefined;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    try {
      telemetry().sessionEnded({ transport: "stdio", startedAt, endedAt: Date.now(), protocolVersion: server?.getNegotiatedProtocolVersion() });
      await closeServer();
      await app.close();
    } finally {
      process.exit(code);
    }
  };
  process.stdin.on("end", () => void shutdown(0));
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  if (eras.has("modern")) {
    const handle = serveBothEras((ctx) => (server = createMcpServer(app, scope, ctx.era as Era)), {
      transport,
      legacy: eras.has("legacy") ? "serve" : "reject",
      onerror: (err) => app.logger.warn("stdio: a message could not be served", { error: err.message }),
    });
    closeServer = () => handle.close();
    // serveStdio owns the transport's onclose: ours runs after its own
    const sdkOnClose = transport.onclose;
    transport.onclose = () => {
      sdkOnClose?.();
      void shutdown(0);
    };
  } else {
    const legacy = (server = createMcpServer(app, scope, "legacy"));
    closeServer = () => legacy.close();
    transport.onclose = () => void shutdown(0);
    await legacy.connect(transport);
  }
  app.logger.info("cohere-mcp ready on stdio", {
    config: app.live.current.hash,
    tools: app.visible.size,
    eras: [...eras].join(","),
    key: app.options.apiKey ? `from ${app.options.apiKeySource}` : "missing (calls will fail until CO_API_KEY is set)",
  });
}
