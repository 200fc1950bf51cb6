/**
 * The MCP server for one agent (the SDK v2's low-level Server): lists only the tools its scope
 * makes visible, and runs a call only after the policy says yes (call/tool-call.ts). Thin on
 * purpose: validation and Cohere calls live in the executor, visibility in the policy,
 * transports in src/transports. One instance serves one era: legacy (2025-11-25 and older,
 * confirmations by elicitation requests) or modern (2026-07-28, confirmations by input_required,
 * call/mrtr.ts).
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  MissingRequiredClientCapabilityError,
  ProtocolError,
  ProtocolErrorCode,
  Server,
  type AuthInfo,
  type InputRequiredResult,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type MessageExtraInfo,
  type Result,
  type ServerContext,
  type Tool,
} from "@modelcontextprotocol/server";
import * as z4 from "zod/v4";
import type { ToolDescriptor } from "./catalog/describe.js";
import type { ToolResult } from "./call/executor.js";
import { CONFIRM_TIMEOUT_MS, type ElicitFn, type ProtocolRefusal } from "./call/confirm.js";
import { answerOf, CONFIRM_INPUT, ConfirmationRefused, InputNeeded, mintState } from "./call/mrtr.js";
import { callTool, malformedCall, refuseMalformedCall } from "./call/tool-call.js";
import type { App } from "./runtime/app.js";
import type { AgentScope } from "./policy/types.js";
import { NOOP_SPAN, telemetry, type SpanHandle } from "./telemetry/index.js";
import { factsOf, inRequestSpan, type RequestFacts } from "./telemetry/request.js";

export { callTool, fileAccess, malformedCall, refuseMalformedCall, type CallExtras } from "./call/tool-call.js";
export type { AgentScope, Guard, GuardVerdict } from "./policy/types.js";

export const SERVER_INFO = { name: "cohere-mcp", version: "0.1.0" };

/**
 * The cache hints of a modern (2026-07-28) tools/list and server/discover result. An agent's
 * tools change only when the operator reloads the configuration, and a client that holds a
 * `subscriptions/listen` stream is told at once (notifications/tools/list_changed); one that does
 * not sees a reload's change within this time. Private: the list depends on the caller's
 * credential (its agent, profile and headers), so no shared cache may hand it to another caller.
 */
export const MODERN_LIST_HINTS = { ttlMs: 300_000, cacheScope: "private" } as const;

/** Pause between the last progress notification and the result (see the call handler). */
const PROGRESS_SETTLE_MS = 25;

/**
 * A scope fixed for the server's life, or one worked out per request from the request's
 * credential (HTTP sessions: each request's token may grant different scopes).
 */
export type ScopeSource = AgentScope | ((authInfo: AuthInfo | undefined) => AgentScope);

/**
 * v2's Server checks a tools/call against the spec's schema before any handler runs, and answers a
 * malformed one with a schema dump and no audit line. Ours must see it (a short -32602, audited
 * once: finding 11), so a call whose params are malformed skips that check; every other call
 * keeps it (and the SDK's input_required handling).
 *
 * With telemetry on, every other request the SDK answers (initialize, server/discover, ping,
 * logging/setLevel) and every notification received is a SERVER span of its own (MCP semantic
 * conventions); tools/list and tools/call make theirs in their handlers (below), which hand the
 * span on to the call.
 */
class CohereServer extends Server {
  /** Set right after construction (the SDK registers its handlers inside its constructor). */
  spanWho: { transport: "stdio" | "http"; agent?: string } = { transport: "stdio" };

  protected override _wrapHandler(
    method: string,
    handler: (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result>,
  ): (request: JSONRPCRequest, ctx: ServerContext) => Promise<Result> {
    const wrapped = super._wrapHandler(method, handler);
    if (method === "tools/call") return (request, ctx) => (malformedCall(request.params) ? handler(request, ctx) : wrapped(request, ctx));
    if (method === "tools/list") return wrapped;
    if (method !== "initialize") {
      return (request, ctx) =>
        telemetry().enabled ? inRequestSpan(method, factsOfCtx(ctx, request.params?._meta, this), this.spanWho, () => wrapped(request, ctx)) : wrapped(request, ctx);
    }
    // initialize: the revision it agrees on is known once it has answered
    return (request, ctx) =>
      inRequestSpan(method, factsOfCtx(ctx, request.params?._meta, this), this.spanWho, async (span) => {
        const result = await wrapped(request, ctx);
        span.set("mcp.protocol.version", this.getNegotiatedProtocolVersion());
        return result;
      });
  }

  protected override _onnotification(raw: JSONRPCNotification, extra?: MessageExtraInfo): void {
    if (!telemetry().enabled || !NOTIFICATIONS.has(raw.method)) return super._onnotification(raw, extra);
    const headers = extra?.request ? Object.fromEntries(extra.request.headers) : undefined;
    const facts = { sessionId: this.transport?.sessionId, meta: metaOf(raw.params), headers, protocolVersion: this.getNegotiatedProtocolVersion() };
    // the span covers the dispatch (the SDK runs the handler a microtask later: a notification has no answer)
    void inRequestSpan(raw.method, facts, this.spanWho, async () => super._onnotification(raw, extra));
  }
}

/** Notifications a client sends a server (the spec's), each received one a span; anything else none (no span name from a caller's whim). */
const NOTIFICATIONS: ReadonlySet<string> = new Set([
  "notifications/initialized",
  "notifications/cancelled",
  "notifications/progress",
  "notifications/roots/list_changed",
]);

const metaOf = (params: unknown): RequestFacts["meta"] => {
  const m = (params as { _meta?: unknown } | undefined)?._meta;
  return m && typeof m === "object" ? (m as RequestFacts["meta"]) : undefined;
};

/** The protocol era a server instance serves (v2 builds one per era: serveStdio, createMcpHandler). */
export type Era = "modern" | "legacy";

export function createMcpServer(app: App, source: ScopeSource, era: Era = "legacy"): Server {
  const eraScope = (base: AgentScope): AgentScope => ({
    ...base,
    era,
    // a modern client is asked in the call's own exchange (input_required), whatever the transport
    ...(era === "modern" ? { stateless: false } : {}),
  });
  // stdio's scope is the same for every call of the server's life: made once (nothing changes a call's scope)
  const fixedScope = typeof source === "function" ? undefined : eraScope(source);
  const scopeOf = (authInfo: AuthInfo | undefined): AgentScope => fixedScope ?? eraScope((source as (a: AuthInfo | undefined) => AgentScope)(authInfo));
  // stdio's scope is fixed for the server's life; HTTP's is worked out per request
  const transport = typeof source === "function" ? "http" : source.transport;
  const server: CohereServer = new CohereServer(SERVER_INFO, {
    // A session's tools follow the configuration: a reload that changes them sends list_changed.
    // A modern HTTP client learns of a change through subscriptions/listen (src/transports/http/modern/listen.ts);
    // on stdio the tools never change under a connection.
    capabilities: { tools: { listChanged: typeof source === "function" || (era === "modern" && source.transport === "http") }, logging: {} },
    ...(era === "modern" ? { cacheHints: { "tools/list": MODERN_LIST_HINTS, "server/discover": MODERN_LIST_HINTS } } : {}),
    instructions:
      "Cohere API tools. Read tools run freely; write and destructive tools appear only when the operator enables them. " +
      "Errors are returned as tool results with what to do next.",
  });
  server.spanWho = { transport, agent: typeof source === "function" ? undefined : source.agent };
  const listed: ToolDescriptor[] | undefined = typeof source === "function" ? undefined : app.descriptorsFor(source.visible);
  server.setRequestHandler("tools/list", async (_request, ctx) =>
    inRequestSpan("tools/list", factsOfCtx(ctx, ctx.mcpReq._meta, server), server.spanWho, async () => {
      // Load the full records once the list is on its way, so the first call does not wait.
      setImmediate(() => void app.loadTool(""));
      // Our descriptors are JSON (built from the catalog), typed more loosely than the SDK's JSON values.
      return { tools: (listed ?? app.descriptorsFor(scopeOf(ctx.http?.authInfo).visible)) as unknown as Tool[] };
    }),
  );
  // tools/call is registered on the base Protocol with a schema that accepts any params, so that
  // a malformed call (no string name, arguments not an object) reaches us: the Server's own check
  // would answer it with a schema dump and no audit line. We answer it with a short -32602 and
  // audit it once (finding 11).
  // Each tools/call in its server span when --otel is on (src/telemetry/request.ts).
  const onCall = (raw: unknown, ctx: ServerContext): Promise<ToolResult | InputRequiredResult> => {
    // telemetry off (the usual case): no span, nothing to describe it with
    if (!telemetry().enabled) return handleCall(raw, ctx, NOOP_SPAN);
    const p = raw as { name?: unknown } | undefined;
    const who = { ...server.spanWho, tools: app.tools, tool: p?.name };
    return inRequestSpan("tools/call", factsOfCtx(ctx, ctx.mcpReq._meta, server), who, (span) => handleCall(raw, ctx, span));
  };
  const handleCall = async (raw: unknown, ctx: ServerContext, span: SpanHandle): Promise<ToolResult | InputRequiredResult> => {
    const scope = scopeOf(ctx.http?.authInfo);
    const problem = malformedCall(raw);
    if (problem) throw new ProtocolError(ProtocolErrorCode.InvalidParams, await refuseMalformedCall(app, scope, raw, problem));
    const params = raw as { name: string; arguments?: Record<string, unknown> };
    // Progress (streamed pieces, poll statuses) only when the caller asked for it, in order,
    // and all sent before the result.
    const token = ctx.mcpReq._meta?.progressToken;
    let queue: Promise<void> = Promise.resolve();
    let n = 0;
    const progress =
      token === undefined
        ? undefined
        : (message: string) => {
            const p = ++n;
            queue = queue
              .then(() =>
                ctx.mcpReq.notify({ method: "notifications/progress", params: { progressToken: token, progress: p, message } }),
              )
              .catch(() => undefined);
          };
    const elicitation = (era === "modern" ? envelopeCapabilities(ctx) : server.getClientCapabilities())?.elicitation as
      | { form?: unknown; url?: unknown }
      | undefined;
    const canElicit = elicitation !== undefined && (elicitation.form !== undefined || elicitation.url === undefined);
    // modern era (call/mrtr.ts): the first round asks by returning input_required, the retry
    // carries the answer and the signed state, checked against this very call
    const retry = era === "modern" && (ctx.mcpReq.requestState() !== undefined || ctx.mcpReq.inputResponses !== undefined);
    const elicit: ElicitFn | undefined = !canElicit
      ? undefined
      : era === "modern"
        ? async (question) => {
            if (!retry) throw new InputNeeded(question);
            let answer: Awaited<ReturnType<typeof answerOf>>;
            try {
              answer = await answerOf(app, scope, params.name, params.arguments, ctx.mcpReq.requestState(), ctx.mcpReq.inputResponses);
            } catch (err) {
              if (err instanceof ConfirmationRefused) throw err;
              app.logger.error("a confirmation could not be checked", { error: (err as Error)?.message });
              throw new ConfirmationRefused("its confirmation could not be checked (the shared store did not answer)", false);
            }
            // a valid state without a usable answer (none, or not an elicitation result): ask again
            if (answer === undefined) throw new InputNeeded(question);
            return answer;
          }
        : async (message) => {
            const r = await ctx.mcpReq.elicitInput(
              { mode: "form", message, requestedSchema: { type: "object", properties: {} } },
              { signal: ctx.mcpReq.signal, timeout: CONFIRM_TIMEOUT_MS },
            );
            return r.action;
          };
    let result: ToolResult;
    try {
      result = await callTool(app, scope, params.name, params.arguments, {
        signal: ctx.mcpReq.signal,
        progress,
        elicit,
        span,
        // 2026-07-28: "If processing a request requires a capability the client did not include
        // in io.modelcontextprotocol/clientCapabilities, the server MUST return a
        // MissingRequiredClientCapabilityError (-32021)" (HTTP 400): a destructive call's
        // confirmation needs elicitation. A requestState that fails verification is rejected with
        // an error (-32602, as the SDK's own requestState check answers). Legacy: tool errors.
        ...(era === "modern" ? { protocolError: modernRefusal } : {}),
      });
    } catch (err) {
      if (!(err instanceof InputNeeded)) throw err;
      return askToConfirm(app, scope, params.name, params.arguments, err.question);
    }
    // The SDK's client handles a notification one microtask after it reads it but a response at
    // once, and forgets the progress token with the response: progress read in the same chunk as
    // the result would be dropped. A short gap after the last one keeps them apart.
    if (n > 0) {
      await queue;
      if (!ctx.mcpReq.signal.aborted) await new Promise((r) => setTimeout(r, PROGRESS_SETTLE_MS));
    }
    return result;
  };
  server.setRequestHandler("tools/call", { params: AnyToolsCallParams }, onCall);
  return server;
}

/** The first round of a modern destructive call (call/mrtr.ts): the question, and the signed state the retry must echo. */
export async function askToConfirm(
  app: App,
  scope: AgentScope,
  name: string,
  args: Record<string, unknown> | undefined,
  question: string,
): Promise<InputRequiredResult> {
  return inputRequired({
    inputRequests: { [CONFIRM_INPUT]: inputRequired.elicit({ message: question, requestedSchema: { type: "object", properties: {} } }) },
    requestState: await mintState(app, scope, name, args),
  });
}

/** A modern-era confirmation refusal as the protocol error 2026-07-28 asks for (see handleCall). */
function modernRefusal(kind: ProtocolRefusal, message: string): Error {
  return kind === "missing_capability"
    ? new MissingRequiredClientCapabilityError({ requiredCapabilities: { elicitation: {} } }, message)
    : new ProtocolError(ProtocolErrorCode.InvalidParams, message, { reason: "invalid_request_state" });
}

/** Nothing: what inRequestSpan is given when telemetry is off (it reads no facts then). */
const NO_FACTS: RequestFacts = Object.freeze({});

/** What telemetry knows of a request the SDK dispatched: its id, session, `_meta`, HTTP headers and the negotiated protocol revision. */
function factsOfCtx(ctx: ServerContext, meta: unknown, server: Server): RequestFacts {
  // every SDK-dispatched tools/list and tools/call asks: with telemetry off, copy no headers
  if (!telemetry().enabled) return NO_FACTS;
  const req = ctx.http?.req;
  const headers = req ? Object.fromEntries(req.headers) : undefined;
  const facts = factsOf({ requestId: ctx.mcpReq.id, sessionId: ctx.sessionId, requestInfo: { headers } }, meta);
  facts.protocolVersion = server.getNegotiatedProtocolVersion();
  return facts;
}

/** The capabilities a modern-era request declares in its envelope (there is no initialize). */
function envelopeCapabilities(ctx: ServerContext): { elicitation?: unknown } | undefined {
  const env = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
  const caps = env?.[CLIENT_CAPABILITIES_META_KEY] ?? env?.clientCapabilities;
  return caps && typeof caps === "object" ? (caps as { elicitation?: unknown }) : undefined;
}

/** Any tools/call params: they are checked by malformedCall, not by a schema. */
const AnyToolsCallParams = z4.unknown();
