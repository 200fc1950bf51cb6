/**
 * The whole decision path of one tools/call, whatever the transport or protocol era:
 * visibility → validation → guards → files → confirmation → execute → audit (callTool), and the
 * refusal of a malformed tools/call. src/server.ts is the SDK-facing side that calls it.
 */
import { errorResult, executeTool, parseInput, safeResource, type CallOutcome, type ToolResult } from "./executor.js";
import { confirmDestructive, type ElicitFn, type ProtocolRefusal } from "./confirm.js";
import { FileRefused, pathInputs, resolveFileInputs, type FileAccess } from "./files.js";
import { hashArgs, isoTime, type AuditDraft, type AuditHead, type AuditTail, type DenyReason } from "../audit/index.js";
import { quoteValue } from "../audit/show.js";
import { howToEnable } from "../policy/allowlist.js";
import { redactResult, redactText } from "../redact.js";
import type { App } from "../runtime/app.js";
import { mergeNotes, type AgentScope, type GuardAfter, type GuardVerdict, type SettleNote } from "../policy/types.js";
import { StoreUnavailableError, StoreValueError } from "../store/types.js";
import { telemetry, type SpanHandle } from "../telemetry/index.js";

/** A caller's tool name in a message back to it: redacted (before the cut), quoted, escaped, at most 100 characters. */
function quotedName(name: string, secrets: readonly string[]): string {
  const head = name.length > 400 ? name.slice(0, 400) : name;
  return quoteValue(redactText(head, secrets), 100, head === name ? undefined : name.length);
}



const kindOf = (v: unknown): string =>
  v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : v === undefined ? "nothing" : `a ${typeof v}`;

/** What is wrong with a tools/call's params; undefined when they name a tool and give object arguments. */
export function malformedCall(params: unknown): string | undefined {
  if (params === null || typeof params !== "object" || Array.isArray(params)) {
    return `params must be an object with the tool's "name" and its "arguments", got ${kindOf(params)}`;
  }
  const p = params as { name?: unknown; arguments?: unknown };
  if (p.name === undefined) return `params.name is missing: give the tool's name as a string`;
  if (typeof p.name !== "string") return `params.name must be a string (the tool's name), got ${kindOf(p.name)}`;
  const a = p.arguments;
  if (a !== undefined && (a === null || typeof a !== "object" || Array.isArray(a))) {
    return `params.arguments must be an object (the tool's input, by name), got ${kindOf(a)}`;
  }
  return undefined;
}

/**
 * A malformed tools/call: audited once (denied, invalid_input), counted like any refusal, and
 * answered with the returned message as a JSON-RPC -32602 error.
 */
export async function refuseMalformedCall(app: App, scope: AgentScope, params: unknown, problem: string): Promise<string> {
  const name = params && typeof params === "object" ? (params as { name?: unknown }).name : undefined;
  const verdict = await app.refusals.refused(scope, "invalid_input");
  if (verdict.write) {
    app.audit?.record({
      time: new Date().toISOString(),
      agent: scope.agent,
      transport: scope.transport,
      tool: typeof name === "string" ? name : "(tools/call)",
      decision: "denied",
      reason: "invalid_input",
      detail: `malformed tools/call: ${problem}`,
      argsHash: app.audit ? hashArgs(params) : undefined,
      ignoredTools: scope.ignored?.length ? scope.ignored : undefined,
      latencyMs: 0,
    });
  }
  return withPrefix(verdict.prefix, `Invalid tools/call: ${problem}. Nothing was run.`);
}

/** A throttled refusal's note first, then why this call was refused. */
const withPrefix = (prefix: string | undefined, message: string) => (prefix ? `${prefix}\nThis call: ${message}` : message);

export interface CallExtras {
  signal?: AbortSignal;
  /** Forward a progress message to the caller (only when it sent a progress token). */
  progress?: (message: string) => void;
  /** Ask the user to confirm (only when the client supports elicitation). */
  elicit?: ElicitFn;
  /** The request's server span (--otel): the parent of the call's spans, passed along explicitly. */
  span?: SpanHandle;
  /**
   * Modern era (2026-07-28): a confirmation refusal the protocol answers with an error (a missing
   * client capability: -32021; a confirmation state that does not hold: -32602) is thrown as the
   * error this makes, after it is audited, instead of being returned as a tool error (legacy).
   */
  protocolError?: (kind: ProtocolRefusal, message: string) => Error;
}

/** May this agent read files by path, and from where? */
export function fileAccess(app: App, scope: AgentScope): FileAccess {
  const dirs = app.options.allowFileRead;
  if (!dirs.length) {
    return {
      allowed: false,
      why:
        "Reading files by path is off on this server, so nothing was sent to Cohere. Give the content inline instead " +
        "(the *_text or *_base64 input), or ask the operator to start cohere-mcp with --allow-file-read DIR.",
    };
  }
  if (scope.transport === "http") {
    const profile = scope.profile ? app.config?.profiles[scope.profile] : undefined;
    if (profile?.allow_file_read !== true) {
      return {
        allowed: false,
        why:
          `Agent ${scope.agent} may not read files by path over HTTP (its profile does not set allow_file_read: true), ` +
          "so nothing was sent to Cohere. Give the content inline instead (the *_text or *_base64 input).",
      };
    }
  }
  return { allowed: true, dirs, maxBytes: app.options.maxFileBytes };
}

/** The whole decision path of one tools/call, audited once whatever happens. */
export async function callTool(
  app: App,
  scope: AgentScope,
  name: string,
  args: unknown,
  extras: CallExtras,
): Promise<ToolResult> {
  const started = performance.now();
  // the request's span (src/telemetry/; a no-op unless --otel): its ids go in the audit line
  const tel = telemetry();
  const ids = tel.ids(extras.span);
  // The Cohere key of this agent's profile, taken once: a reload during the call does not switch it.
  const cohere = app.cohereKey(scope);
  const tool = await app.loadTool(name);
  const startedAt = Date.now();
  /** Set when the guards counted on this replica only (shared store unreachable). */
  let counters: string | undefined;
  /** A destructive call the user accepted when asked. */
  let userConfirmed: true | undefined;
  // The call's audit line: its head (who, what, when, the arguments' hash) made safe and
  // serialized once, while the request is on its way to Cohere when the call gets that far (see
  // below), so the answer waits only for the rest. Built only when something records it.
  let head: AuditHead | undefined;
  let draft: AuditDraft | undefined;
  /** The resource phrase a call sent to Cohere will be audited with (from its input). */
  let expectedResource: string | undefined;
  const early = () => {
    if (head || !app.audit) return;
    const claims = scope.claims;
    head = {
      time: isoTime(startedAt),
      agent: scope.agent,
      sub: claims?.sub,
      client_id: claims?.client_id,
      jti: claims?.jti,
      token_label: claims?.token_label,
      transport: scope.transport,
      tool: name,
      access: tool?.access,
      argsHash: hashArgs(args),
      ignoredTools: scope.ignored?.length ? scope.ignored : undefined,
      counters,
      key: cohere.declared ? cohere.name : undefined,
      replica: app.options.replicaId,
      remote: scope.remote,
      session: scope.session,
      era: scope.era,
      trace_id: ids?.trace_id,
      span_id: ids?.span_id,
    };
    draft = app.audit.begin?.(head, expectedResource);
  };
  const record = (f: CallFacts) => {
    const audit = app.audit;
    if (!audit) return;
    early();
    const tail: AuditTail = {
      upstreamMs: f.upstreamMs,
      retries: f.retries,
      decision: f.decision,
      reason: f.reason,
      detail: f.detail,
      resource: f.resource,
      status: f.status,
      outcome: f.outcome,
      requestId: f.requestId,
      billedUnits: f.billedUnits,
      charge: f.charge,
      charged: f.charged,
      confirmed: f.confirmed,
      latencyMs: performance.now() - started,
    };
    if (draft) draft.finish(tail);
    else audit.record({ ...head!, ...tail });
  };
  const deny = async (reason: DenyReason, message: string, detail?: string, resource?: string): Promise<ToolResult> => {
    // the span it happened in (the guards', or the request's) says why (--otel)
    tel.annotate("cohere_mcp.refusal.reason", reason, extras.span);
    // Refusals count toward the agent's rate limit and a throttle on audit lines (policy/refusals.ts).
    const verdict = await app.refusals.refused(scope, reason);
    if (verdict.write) record({ decision: "denied", reason, detail, resource });
    // A refusal may quote the agent's own input (a name, an id): never a secret, even one it sent.
    return errorResult(redactText(withPrefix(verdict.prefix, message), app.secrets()));
  };

  // A call that cannot be recorded is not run (--audit-failure deny): the audit file is probed
  // again on each call, so the first call after writing works again goes through.
  const auditHealth = app.audit?.health?.();
  if (auditHealth && !auditHealth.ok && app.options.auditFailure === "deny") {
    return deny(
      "audit_unavailable",
      "This call was refused: the gateway cannot write its audit log right now, and it runs no call it cannot record. " +
        "Nothing was sent to Cohere. This is on the server's side, not in your request: try again later; the operator " +
        "sees it on /readyz and in the logs.",
      `audit log not writable: ${auditHealth.error ?? "unknown error"}`,
    );
  }
  if (!tool) {
    return deny(
      "unknown_tool",
      `Unknown tool ${quotedName(String(name), app.secrets())}. Call tools/list to see the tools available to this agent.`,
    );
  }
  if (!scope.visible.has(tool.name)) {
    return deny(
      "not_in_profile",
      `Tool ${tool.name} (${tool.access}) is not enabled for this agent, so nothing was sent to Cohere. ` +
        `An operator can enable it: ${howToEnable(tool, scope.transport, scope.profile)}.`,
    );
  }
  const parsed = parseInput(tool, args);
  if (!parsed.ok) return deny("invalid_input", parsed.result.content[0]!.text, undefined);
  // What guards hold or count (a concurrency slot, a budget to charge) is settled exactly once.
  const afters: GuardAfter[] = [];
  let outcome: CallOutcome = { ok: false, failure: "refused", sent: false };
  let settled = false;
  /** Settle what the guards hold (once): before an allowed call's audit line, so it can say how the call was charged. */
  const settle = async (o: CallOutcome): Promise<SettleNote | undefined> => {
    if (settled) return undefined;
    settled = true;
    let note: SettleNote | undefined;
    for (const after of afters) {
      try {
        note = mergeNotes(note, await after(o));
      } catch (err) {
        app.logger.error("a guard could not settle a call", { tool: tool.name, agent: scope.agent, error: (err as Error)?.message });
      }
    }
    return note;
  };
  try {
    let input = parsed.input;
    /** Every guard in order: a refusal's result, or undefined when all said yes. */
    const runGuards = async (): Promise<ToolResult | undefined> => {
      // app.guards, then app.lastGuards (the Cohere key limits)
      for (const guards of [app.guards, app.lastGuards]) for (const guard of guards) {
        let verdict: GuardVerdict;
        try {
          verdict = await guard.check(scope, tool, input);
        } catch (err) {
          // This call's own figures refused by the store (never an outage): this call only is refused.
          if (err instanceof StoreValueError) {
            return deny(
              "invalid_input",
              "This call's figures could not be counted against its limits (a cost that is not a finite whole number); nothing was sent to Cohere. " +
                "Lower max_tokens or the size of the call and try again.",
              `counter store refused the call's values: ${err.message}`,
              safeResource(tool, input),
            );
          }
          // A shared counter store that cannot be reached (--store-failure deny): refused, audited.
          if (!(err instanceof StoreUnavailableError)) throw err;
          return deny("store_unavailable", err.message, `shared counter store ${err.where} unreachable`, safeResource(tool, input));
        }
        counters = app.store.fallback;
        if (!verdict.ok) return deny(verdict.reason, verdict.message, verdict.detail ?? verdict.message, safeResource(tool, input));
        if (verdict.after) afters.push(verdict.after);
      }
      return undefined;
    };
    // the guards and their store round trips: one child span of the request's (src/telemetry/),
    // only with a shared store: the memory store makes no round trip, and its guards take a few µs
    // (a span would cost more than it shows)
    const refused = app.store.kind === "memory" ? await runGuards() : await tel.step("cohere_mcp.guards", undefined, runGuards, extras.span);
    if (refused) return refused;
    if (pathInputs(tool, input).length) {
      try {
        const files = input;
        input = await tel.step("cohere_mcp.read_files", undefined, () => resolveFileInputs(tool, files, fileAccess(app, scope)), extras.span);
      } catch (err) {
        const why =
          err instanceof FileRefused ? err.message : `The file could not be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).`;
        const message = why.includes("nothing was sent") ? why : `${why} Nothing was sent to Cohere.`;
        return deny("argument_rule", message, why, safeResource(tool, input));
      }
    }
    // Only a destructive call is confirmed (confirm.ts): the others skip building its resource phrase.
    if (tool.access === "destructive") {
      const target = input;
      const confirmed = await tel.step("cohere_mcp.confirm", { "cohere_mcp.confirm.mode": app.options.confirmDestructive }, async (span) => {
        const v = await confirmDestructive(tool, target, safeResource(tool, target), {
          mode: app.options.confirmDestructive,
          elicit: extras.elicit,
          stateless: scope.stateless,
          client: cohere.client,
          signal: extras.signal,
          span,
        });
        span.set("cohere_mcp.confirmed", v.ok);
        return v;
      }, extras.span);
      if (!confirmed.ok) {
        const refusal = await deny("not_confirmed", confirmed.message, confirmed.detail, safeResource(tool, input));
        if (confirmed.protocolError && extras.protocolError) {
          throw extras.protocolError(confirmed.protocolError, refusal.content.map((c) => ("text" in c ? c.text : "")).join(""));
        }
        return refusal;
      }
      userConfirmed = confirmed.confirmed;
    }

    let retries = 0;
    expectedResource = safeResource(tool, input);
    const sentAt = performance.now();
    const pending = executeTool(tool, input, {
      resource: expectedResource,
      client: cohere.client,
      onRetry: () => void retries++,
      signal: extras.signal,
      maxOutputChars: app.options.maxOutputChars,
      progress: extras.progress,
      pollIntervalMs: app.options.pollIntervalMs,
      maxWaitS: app.options.maxWaitS,
      span: extras.span,
    });
    // undici writes the request in an immediate queued by now: this one runs right after it,
    // while Cohere works on the answer
    if (app.audit) setImmediate(early);
    const executed = await pending;
    outcome = executed.outcome;
    app.metrics.calls++;
    if (!outcome.ok) app.metrics.errors++;
    const note = await settle(outcome);
    record({
      upstreamMs: performance.now() - sentAt,
      retries: retries || undefined,
      decision: "allowed",
      resource: outcome.resource,
      status: outcome.status,
      outcome: outcome.ok ? "ok" : outcome.failure,
      requestId: outcome.requestId,
      billedUnits: outcome.billedUnits,
      charge: note?.charge,
      charged: note?.charged,
      confirmed: userConfirmed,
    });
    if (app.logger.level === "debug") {
      app.logger.debug("tool call", {
        tool: name,
        agent: scope.agent,
        ok: outcome.ok,
        status: outcome.status,
        ms: Math.round(performance.now() - started),
      });
    }
    // the last net: no secret leaves in a result, whatever path built it
    return redactResult(executed.result, app.secrets());
  } finally {
    if (!settled) await settle(outcome);
  }
}

/** What one audit line of a call says beyond who called what (see callTool's `record`). */
type CallFacts = Omit<AuditTail, "latencyMs">;
