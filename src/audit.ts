/**
 * One audit event per tool call, allowed or denied: a JSON line for machines and a sentence
 * for people. Arguments are never logged whole: a hash, plus the resource acted on.
 *
 * Whatever came from a caller or from Cohere (tool names, ids, models, methods, request ids,
 * refusal details) is redacted of secrets, then bounded (src/show.ts: 200 characters a value,
 * 600 a phrase, with `…` and the original length) and escaped, in the JSON fields and in the
 * sentence alike: a 4 MB tool name costs a few hundred bytes, and no value can add a line, move
 * the cursor or reorder the text of `jq -r .text`. A value that is not a plain token is quoted
 * in the sentence. Throttled refusals and failed logins are not written one by one: one summary
 * line per window (`suppressed`) says how many were left out.
 */
import { hash } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import type { Access } from "./catalog/types.js";
import { AUDIT_PHRASE_CHARS, AUDIT_VALUE_CHARS, boundPhrase, boundValue, showValue } from "./show.js";

export type Decision = "allowed" | "denied";
export type DenyReason =
  | "not_in_profile"
  | "unknown_tool"
  | "invalid_input"
  | "argument_rule"
  | "rate_limit"
  | "auth"
  | "not_confirmed"
  /** OAuth: the token lacks the scope of the tool's access class. */
  | "insufficient_scope"
  /** The agent already had its share of calls in flight (--max-concurrent-calls). */
  | "concurrency"
  /** A summary line: refusals (or failed logins) past a throttle, not written one by one. */
  | "throttled"
  /** The shared counter store could not be reached (--store-failure deny). */
  | "store_unavailable"
  /** The agent's monthly budget in Cohere's billed units (or USD) is spent. */
  | "budget"
  /** The Cohere key's own limit (per minute per endpoint, Trial month) would be passed. */
  | "cohere_limit";

/** Who an OAuth access token names (never the token itself). */
export interface AuditClaims {
  sub?: string;
  client_id?: string;
  jti?: string;
}

export interface AuditEvent extends AuditClaims {
  time: string;
  /** Agent name; "(unauthenticated)" when a request had no valid token. */
  agent: string;
  transport: "stdio" | "http";
  /** Tool name, or for a refused request that was not a tools/call, its JSON-RPC method in parentheses. */
  tool: string;
  access?: Access;
  decision: Decision;
  reason?: DenyReason;
  detail?: string;
  resource?: string;
  status?: number;
  outcome?: string;
  requestId?: string;
  billedUnits?: Record<string, number>;
  latencyMs: number;
  /** Time spent on the Cohere request(s) of an allowed call, retries and polls included. */
  upstreamMs?: number;
  /** Retries the Cohere client made. */
  retries?: number;
  /** The cohere_keys entry the call used, by its config name (never its value). */
  key?: string;
  argsHash?: string;
  ignoredTools?: string[];
  /** HTTP: the peer address (requests refused before an agent is known). */
  remote?: string;
  /** Summary lines (reason "throttled"): how many refusals of this window were not written. */
  suppressed?: number;
  /** Summary lines: the window the suppressed refusals fell in (ISO times). */
  windowFrom?: string;
  windowTo?: string;
  /** "local": limits were counted on this replica only (shared store unreachable, --store-failure allow). */
  counters?: string;
}

/** Most ignoredTools items kept in a line (each at most 64 characters). */
const AUDIT_LIST_ITEMS = 20;

export const UNAUTHENTICATED = "(unauthenticated)";

const LOCAL_NOTE = "; limits counted on this replica only (shared counter store unreachable)";

export function hashArgs(args: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(args) ?? "";
  } catch {
    text = String(args);
  }
  return "sha256:" + hash("sha256", text, "hex").slice(0, 16);
}

/** `input_tokens: 12, output_tokens: 40` → `12 input tokens, 40 output tokens`. */
export function billedText(b: Record<string, number> | undefined): string {
  if (!b) return "";
  let out = "";
  for (const k in b) {
    const n = b[k]!;
    if (!(n > 0)) continue;
    out += `${out ? ", " : ""}${n} ${unitName(k)}${n === 1 ? "" : "s"}`;
  }
  return out;
}

/** `input_tokens` → `input token` (Cohere's few unit names, remembered). */
const units = new Map<string, string>();
function unitName(k: string): string {
  let u = units.get(k);
  if (u === undefined) {
    u = k.replace(/_/g, " ").replace(/s$/, "");
    if (units.size < 64) units.set(k, u);
  }
  return u;
}

/** Original lengths of fields cut before `sentence` saw them (see prepare). */
export type FieldLengths = Partial<Record<"tool" | "agent" | "resource" | "detail" | "remote", number>>;

/** `search-agent called rerank (read) on 25 documents with rerank-v3.5: allowed, 200 in 41 ms` */
export function sentence(e: AuditEvent, total: FieldLengths = {}): string {
  const cls = e.access ? ` (${e.access})` : "";
  const resource = e.resource !== undefined ? boundPhrase(e.resource, AUDIT_PHRASE_CHARS, total.resource) : undefined;
  const on = resource ? (/^(with|on|for) /.test(resource) ? ` ${resource}` : ` on ${resource}`) : "";
  const remote = e.remote !== undefined ? showValue(e.remote, AUDIT_VALUE_CHARS, total.remote) : undefined;
  const who =
    e.agent === UNAUTHENTICATED
      ? `An unauthenticated request${remote ? ` from ${remote}` : ""}`
      : showValue(e.agent, AUDIT_VALUE_CHARS, total.agent);
  // A catalog tool's name is ours; anything else the caller wrote.
  const tool = e.access ? e.tool : showValue(e.tool, AUDIT_VALUE_CHARS, total.tool);
  if (e.suppressed !== undefined) {
    // "mallory: 5120 further refused calls suppressed from 12:00:00Z to 12:01:00Z (past 60 a minute)"
    const subject = e.agent === UNAUTHENTICATED ? (remote ?? "an unknown address") : who;
    const what = e.tool.replace(/^\((.*)\)$/, "$1");
    const span = e.windowFrom && e.windowTo ? ` from ${e.windowFrom} to ${e.windowTo}` : " in this window";
    const detail = e.detail !== undefined ? ` (${boundPhrase(e.detail, AUDIT_PHRASE_CHARS, total.detail)})` : "";
    return `${subject}: ${e.suppressed} further ${what} suppressed${span}${detail}`;
  }
  if (e.decision === "denied") {
    const why = e.reason ? e.reason.replace(/_/g, " ") : "denied";
    const detail = e.detail !== undefined ? boundPhrase(e.detail, AUDIT_PHRASE_CHARS, total.detail) : "";
    return `${who} called ${tool}${cls}${on}: denied (${why}${detail ? `: ${detail}` : ""})${e.counters === "local" ? LOCAL_NOTE : ""}`;
  }
  const status = e.status !== undefined ? `${e.status}` : (e.outcome ?? "no answer");
  const failed = e.status !== undefined && e.outcome && e.outcome !== "ok" ? ` (${e.outcome.replace(/_/g, " ")})` : "";
  const billed = billedText(e.billedUnits);
  return (
    `${who} called ${tool}${cls}${on}: allowed, ${status}${failed} in ${Math.round(e.latencyMs)} ms` +
    (billed ? `, billed ${billed}` : "") +
    (e.counters === "local" ? LOCAL_NOTE : "")
  );
}

function redact(text: string, secrets: readonly string[]): string {
  for (const s of secrets) if (text.includes(s)) text = text.split(s).join("[REDACTED]");
  return text;
}

/**
 * The event as written: every caller-supplied string redacted, then bounded and escaped.
 * A huge value is cut to a working prefix first (its bound plus the longest secret, so a secret
 * across the cut is still found whole and redacted) and its original length kept for the marker.
 */
export function prepare(
  e: AuditEvent,
  secrets: readonly string[],
  /** The longest secret's length + 16 (a sink works it out once per list of secrets). */
  pad = padFor(secrets),
): { event: AuditEvent; text: string } {
  const total: FieldLengths = {};
  // One copy, in the event's own key order: first the caller-supplied strings redacted (the
  // sentence reads them so), then bounded and escaped in place for the JSON fields.
  const event: AuditEvent = { ...e };
  for (const k of CALLER_FIELDS) {
    const v = e[k];
    if (typeof v !== "string") continue;
    const max = (k === "resource" || k === "detail" ? AUDIT_PHRASE_CHARS : AUDIT_VALUE_CHARS) + pad;
    const head = v.length > max ? v.slice(0, max) : v;
    event[k] = redact(head, secrets);
    if (head !== v) total[k] = v.length;
  }
  const text = sentence(event, total);
  event.tool = boundValue(event.tool, AUDIT_VALUE_CHARS, total.tool);
  event.agent = boundValue(event.agent, AUDIT_VALUE_CHARS, total.agent);
  event.latencyMs = Math.round(e.latencyMs * 10) / 10;
  if (event.resource !== undefined) event.resource = boundPhrase(event.resource, AUDIT_PHRASE_CHARS, total.resource);
  if (event.detail !== undefined) event.detail = boundPhrase(event.detail, AUDIT_PHRASE_CHARS, total.detail);
  if (event.remote !== undefined) event.remote = boundValue(event.remote, AUDIT_VALUE_CHARS, total.remote);
  // OAuth claims come from the issuer, not from us: bounded and escaped like caller values
  for (const k of CLAIMS) {
    const v = e[k];
    if (typeof v === "string") event[k] = boundValue(redact(v.slice(0, AUDIT_VALUE_CHARS + pad), secrets), AUDIT_VALUE_CHARS, v.length);
  }
  if (e.requestId !== undefined) event.requestId = boundValue(redact(e.requestId.slice(0, AUDIT_VALUE_CHARS + pad), secrets), AUDIT_VALUE_CHARS, e.requestId.length);
  if (e.ignoredTools) {
    const items = e.ignoredTools.slice(0, AUDIT_LIST_ITEMS).map((t) => boundValue(redact(t.slice(0, 64 + pad), secrets), 64, t.length));
    if (e.ignoredTools.length > AUDIT_LIST_ITEMS) items.push(`… (${e.ignoredTools.length} items)`);
    event.ignoredTools = items;
  }
  return { event, text };
}

const padFor = (secrets: readonly string[]) => secrets.reduce((m, s) => Math.max(m, s.length), 0) + 16;
const CALLER_FIELDS = ["tool", "agent", "resource", "detail", "remote"] as const;
const CLAIMS = ["sub", "client_id", "jti"] as const;

/**
 * The line as written: `{"type":"audit", ...event, "text": sentence}` and a newline, redacted
 * once more as a whole (nothing of ours may carry a secret either).
 */
export function auditLine(e: AuditEvent, secrets: readonly string[], pad = padFor(secrets)): string {
  const { event, text } = prepare(e, secrets, pad);
  const json = JSON.stringify(event);
  return redact(`{"type":"audit",${json.slice(1, -1)},"text":${JSON.stringify(text)}}`, secrets) + "\n";
}

/** An operator event that is not a call (a configuration reload). */
export interface AuditNotice {
  time: string;
  event: "config_reload";
  outcome: "ok" | "rejected";
  text: string;
}

export interface AuditSink {
  record(e: AuditEvent): void;
  /** One line for an operator event. */
  note?(n: AuditNotice): void;
  close(): Promise<void>;
}

/**
 * Writes `{...event, text: sentence}` as one JSON line to a file or stderr. A file is written
 * synchronously (one append per line): the line is on disk before the call's answer is sent,
 * lines keep the order of the calls, and nothing waits in a buffer when a signal ends the
 * process. (A WriteStream handed every line to the thread pool and back: ~100 µs of CPU a call.)
 */
export function createAuditSink(target: string, secrets: () => readonly string[]): AuditSink {
  const toStderr = target === "-";
  let fd: number | undefined;
  let warned = false;
  // An unwritable audit file must not crash the server mid-call; say so on stderr once.
  const warn = (err: unknown) => {
    if (!warned) process.stderr.write(`cohere-mcp: cannot write the audit log ${target}: ${(err as Error)?.message ?? String(err)}\n`);
    warned = true;
  };
  if (!toStderr) {
    try {
      fd = openSync(target, "a");
    } catch (err) {
      warn(err);
    }
  }
  let closed = false;
  const write = (line: string) => {
    if (toStderr) {
      process.stderr.write(line);
      return;
    }
    if (fd === undefined || closed) return;
    try {
      // encoded once; a short write (a full disk, a signal) goes on from where it stopped
      const buf = Buffer.from(line);
      for (let done = 0; done < buf.length; ) done += writeSync(fd, buf, done);
    } catch (err) {
      warn(err);
    }
  };
  // The secrets worth matching, recomputed only when the list changes (app.secrets() keeps one
  // array until a secret is added).
  let seen: readonly string[] | undefined;
  let known: string[] = [];
  let pad = 16;
  const usable = () => {
    const list = secrets();
    if (list !== seen) {
      seen = list;
      known = list.filter((s) => s && s.length >= 4);
      pad = padFor(known);
    }
    return known;
  };
  return {
    record(e) {
      const list = usable();
      write(auditLine(e, list, pad));
    },
    note(n) {
      write(redact(JSON.stringify({ type: "audit", ...n }), usable()) + "\n");
    },
    close() {
      if (fd !== undefined && !closed) {
        closed = true;
        try {
          closeSync(fd);
        } catch {
          /* already gone */
        }
      }
      return Promise.resolve();
    },
  };
}
