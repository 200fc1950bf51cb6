/**
 * Human confirmation for destructive tools. With --confirm-destructive=elicit (the default) the
 * user is asked through MCP elicitation, naming the exact target ("Delete dataset ds_123
 * "support-tickets"?"), and the call proceeds only on an explicit accept. The name is stored
 * upstream and the id comes from the agent: both are shown quoted/escaped (src/audit/text.ts), so a
 * crafted name cannot add lines, reorder text or close the quote to rewrite the question. Decline, cancel, an
 * error or no answer send nothing. A client that cannot elicit gets a refusal that tells the
 * operator about --confirm-destructive=never; `never` runs without asking.
 */
import type { SpanHandle } from "../telemetry/index.js";
import type { ToolDef } from "../catalog/types.js";
import type { CohereClient } from "../cohere/client.js";
import type { ConfirmMode } from "../config/options.js";
import { escapeControls, quoteForHumans } from "../audit/text.js";
import { ConfirmationRefused, InputNeeded } from "./mrtr.js";

export type ElicitAnswer = "accept" | "decline" | "cancel";
/** Ask the user; resolves with their action, rejects on error or timeout. */
export type ElicitFn = (message: string) => Promise<ElicitAnswer>;

/** How long a confirmation may stay unanswered. */
export const CONFIRM_TIMEOUT_MS = 120_000;

/**
 * `confirmed`: the user accepted (an elicitation); absent when no one was asked. `protocolError`:
 * a refusal a modern-era client gets as a protocol error rather than a tool error (server.ts):
 * for want of the elicitation capability it did not declare (-32021), or because the
 * confirmation state it sent back does not hold for this call (-32602).
 */
export type ProtocolRefusal = "missing_capability" | "invalid_request_state";
export type Verdict = { ok: true; confirmed?: true } | { ok: false; message: string; detail: string; protocolError?: ProtocolRefusal };

const PLACEHOLDER = /\{([A-Za-z0-9_]+)\}/g;

/** A human name for the target from a cheap GET (e.g. a dataset's name); undefined on any failure. */
async function lookupName(
  tool: ToolDef,
  input: Record<string, unknown>,
  client: CohereClient,
  signal?: AbortSignal,
  span?: SpanHandle,
): Promise<string | undefined> {
  const lookup = tool.confirmLookup;
  if (!lookup) return undefined;
  try {
    const path = lookup.path.replace(PLACEHOLDER, (_, k: string) => encodeURIComponent(String(input[k])));
    const timeout = AbortSignal.timeout(5_000);
    const res = await client.request({
      method: "GET",
      path,
      retryable: false,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      span,
    });
    const name = lookup.name(res.data);
    return name || undefined;
  } catch {
    return undefined;
  }
}

/** Longest part of an upstream-stored name shown in the question. */
export const CONFIRM_NAME_CHARS = 200;

/** `Delete dataset ds_123 "support-tickets"? This cannot be undone.` (name quoted and escaped) */
export function confirmMessage(tool: ToolDef, resource: string | undefined, name: string | undefined): string {
  const verb = tool.title.split(" ")[0] ?? tool.title;
  const target = escapeControls(resource ?? tool.title.toLowerCase());
  return `${verb} ${target}${name ? ` ${quoteForHumans(name, CONFIRM_NAME_CHARS)}` : ""}? This cannot be undone.`;
}

export async function confirmDestructive(
  tool: ToolDef,
  input: Record<string, unknown>,
  resource: string | undefined,
  opts: { mode: ConfirmMode; elicit?: ElicitFn; stateless?: boolean; client: CohereClient; signal?: AbortSignal; span?: SpanHandle },
): Promise<Verdict> {
  if (tool.access !== "destructive" || opts.mode === "never") return { ok: true };
  if (!opts.elicit && opts.stateless) {
    return {
      ok: false,
      detail: "stateless HTTP cannot elicit",
      message:
        `${tool.name} is destructive and needs the user's confirmation, but this server runs stateless HTTP, where it cannot ask the user, ` +
        "so nothing was sent to Cohere. The operator can start cohere-mcp with --sessions (clients that support elicitation are then asked) " +
        "or with --confirm-destructive=never to run destructive tools without asking.",
    };
  }
  if (!opts.elicit) {
    return {
      ok: false,
      protocolError: "missing_capability",
      detail: "client cannot elicit",
      message:
        `${tool.name} is destructive and needs the user's confirmation, but this MCP client cannot ask (it does not support elicitation), ` +
        "so nothing was sent to Cohere. The operator can start cohere-mcp with --confirm-destructive=never to run destructive tools without asking.",
    };
  }
  const name = await lookupName(tool, input, opts.client, opts.signal, opts.span);
  const message = confirmMessage(tool, resource, name);
  let answer: ElicitAnswer | "no answer";
  try {
    answer = await opts.elicit(message);
  } catch (err) {
    // modern era (mrtr.ts): the first round asks by returning input_required; a retry whose
    // confirmation does not hold is refused, saying why
    if (err instanceof InputNeeded) throw err;
    if (err instanceof ConfirmationRefused) {
      return {
        ok: false,
        ...(err.invalidState ? { protocolError: "invalid_request_state" as const } : {}),
        detail: `confirmation refused: ${err.why}`,
        message:
          `${tool.name} is destructive and was not run, because ${err.why}; nothing was sent to Cohere. ` +
          "Call the tool again (without the earlier answer) and the user is asked afresh.",
      };
    }
    answer = "no answer";
  }
  if (answer === "accept") return { ok: true, confirmed: true };
  const what = answer === "decline" ? "The user declined" : answer === "cancel" ? "The user dismissed" : "There was no answer to";
  return {
    ok: false,
    detail: `${answer}: ${message}`,
    message: `${what} the confirmation "${message}", so nothing was sent to Cohere.`,
  };
}
