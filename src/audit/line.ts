/**
 * How an audit line is made (src/audit/index.ts writes them): one JSON object a line, with the call's
 * facts and a plain sentence for people in `text`.
 *
 * Whatever came from a caller or from Cohere (tool names, ids, models, methods, request ids,
 * refusal details) is redacted of secrets, then bounded (src/audit/show.ts: 200 characters a value,
 * 600 a phrase, with `…` and the original length) and escaped, in the JSON fields and in the
 * sentence alike. `auditLine` makes any event's line; a tools/call's line is made in two steps
 * (`prepareHead` while its request is on its way to Cohere, `finishLine` when it ends), the same
 * bytes with less work on the answer's path (test/audit-draft.test.ts holds them equal).
 */
import { hash } from "node:crypto";
import type { AuditEvent, AuditHead, AuditTail } from "./index.js";
import { AUDIT_PHRASE_CHARS, AUDIT_VALUE_CHARS, boundPhrase, boundValue, showValue } from "./show.js";

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

/**
 * `new Date(ms).toISOString()` without a Date per call: the day's `YYYY-MM-DDT` is worked out
 * once a day, the time of day by arithmetic (a test holds them equal).
 */
let isoDay = NaN;
let isoPrefix = "";
export function isoTime(ms: number): string {
  const t = Math.floor(ms);
  // outside 1970–9999 (or not a number): Date's own answer, or its RangeError
  if (!(t >= 0 && t < 253_402_300_800_000)) return new Date(ms).toISOString();
  const day = Math.floor(t / 86_400_000);
  if (day !== isoDay) {
    isoPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    isoDay = day;
  }
  let r = t - day * 86_400_000;
  const h = Math.floor(r / 3_600_000);
  r -= h * 3_600_000;
  const m = Math.floor(r / 60_000);
  r -= m * 60_000;
  const s = Math.floor(r / 1000);
  const milli = r - s * 1000;
  return `${isoPrefix}${h < 10 ? "0" : ""}${h}:${m < 10 ? "0" : ""}${m}:${s < 10 ? "0" : ""}${s}.${milli < 100 ? (milli < 10 ? "00" : "0") : ""}${milli}Z`;
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

/** An estimated charge: `1 call, 300 output tokens, $0.0012`. */
function chargedText(c: Record<string, number> | undefined): string {
  if (!c) return "";
  let out = "";
  for (const k in c) {
    const n = c[k]!;
    if (!(n > 0)) continue;
    const t = k === "usd" ? `$${(n / 1e9).toPrecision(2)}` : `${n} ${unitName(k)}${n === 1 ? "" : "s"}`;
    out += `${out ? ", " : ""}${t}`;
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

/** `2026-11-30T12:00:00.000Z search-agent called rerank (read) on 25 documents with rerank-v3.5: allowed, 200 in 41 ms` */
export function sentence(e: AuditEvent, total: FieldLengths = {}): string {
  if (e.suppressed !== undefined) {
    // "mallory: 5120 further refused calls suppressed from 12:00:00Z to 12:01:00Z (past 60 a minute)"
    const remote = e.remote !== undefined ? showValue(e.remote, AUDIT_VALUE_CHARS, total.remote) : undefined;
    const subject = e.agent === UNAUTHENTICATED ? (remote ?? "an unknown address") : showValue(e.agent, AUDIT_VALUE_CHARS, total.agent);
    const what = e.tool.replace(/^\((.*)\)$/, "$1");
    const span = e.windowFrom && e.windowTo ? ` from ${e.windowFrom} to ${e.windowTo}` : " in this window";
    const detail = e.detail !== undefined ? ` (${boundPhrase(e.detail, AUDIT_PHRASE_CHARS, total.detail)})` : "";
    return `${e.time} ${subject}: ${e.suppressed} further ${what} suppressed${span}${detail}`;
  }
  return `${e.time} ${subjectOf(e, total)}${predicateOf(e, phraseOf(e.resource, total.resource), phraseOf(e.detail, total.detail), e.counters)}`;
}

const phraseOf = (v: string | undefined, total: number | undefined) => (v !== undefined ? boundPhrase(v, AUDIT_PHRASE_CHARS, total) : undefined);

/** `search-agent called rerank (read)`: who called what (values already redacted, not yet bounded). */
function subjectOf(e: Pick<AuditEvent, "agent" | "remote" | "tool" | "access">, total: FieldLengths): string {
  const cls = e.access ? ` (${e.access})` : "";
  const remote = e.remote !== undefined ? showValue(e.remote, AUDIT_VALUE_CHARS, total.remote) : undefined;
  const who =
    e.agent === UNAUTHENTICATED
      ? `An unauthenticated request${remote ? ` from ${remote}` : ""}`
      : showValue(e.agent, AUDIT_VALUE_CHARS, total.agent);
  // A catalog tool's name is ours; anything else the caller wrote.
  const tool = e.access ? e.tool : showValue(e.tool, AUDIT_VALUE_CHARS, total.tool);
  return `${who} called ${tool}${cls}`;
}

/**
 * ` on 25 documents with rerank-v3.5: allowed, 200 in 41 ms`: what became of the call (its
 * resource and detail already bounded). `counters` comes apart from the rest: a call's tail does
 * not hold it, and a copy of the tail with it added cost ~4 µs a call.
 */
function predicateOf(
  e: Pick<AuditEvent, "decision" | "reason" | "status" | "outcome" | "billedUnits" | "charge" | "charged" | "latencyMs" | "confirmed">,
  resource: string | undefined,
  detail: string | undefined,
  counters: string | undefined,
): string {
  const on = resource ? (/^(with|on|for) /.test(resource) ? ` ${resource}` : ` on ${resource}`) : "";
  if (e.decision === "denied") {
    const why = e.reason ? e.reason.replace(/_/g, " ") : "denied";
    return `${on}: denied (${why}${detail ? `: ${detail}` : ""})${counters === "local" ? LOCAL_NOTE : ""}`;
  }
  const status = e.status !== undefined ? `${e.status}` : (e.outcome ?? "no answer");
  const failed = e.status !== undefined && e.outcome && e.outcome !== "ok" ? ` (${e.outcome.replace(/_/g, " ")})` : "";
  const billed = billedText(e.billedUnits);
  return (
    `${on}: allowed${e.confirmed ? " (confirmed by the user)" : ""}, ${status}${failed} in ${Math.round(e.latencyMs)} ms` +
    (billed ? `, billed ${billed}` : "") +
    (e.charge === "estimated" ? `, no bill from Cohere: budget charged an estimated ${chargedText(e.charged) || "reservation"}` : "") +
    (counters === "local" ? LOCAL_NOTE : "")
  );
}

export function redact(text: string, secrets: readonly string[]): string {
  for (const s of secrets) if (text.includes(s)) text = text.split(s).join("[REDACTED]");
  return text;
}

/**
 * A caller's value redacted: a huge one is cut to a working prefix first (its bound `max` plus
 * `pad`, so a secret across the cut is still found whole) and `total` keeps its original length
 * for the marker. Every caller value of a line goes through here before it is bounded.
 */
function redactCut(v: string, max: number, secrets: readonly string[], pad: number): { value: string; total: number | undefined } {
  if (v.length <= max + pad) return { value: redact(v, secrets), total: undefined };
  return { value: redact(v.slice(0, max + pad), secrets), total: v.length };
}

/** A caller's value as written in a JSON field: redacted, then bounded and escaped (`…` and the original length only when it was cut). */
function safeValue(v: string, max: number, secrets: readonly string[], pad: number, bound: typeof boundValue = boundValue): string {
  const r = redactCut(v, max, secrets, pad);
  return bound(r.value, max, r.total);
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
    const r = redactCut(v, k === "resource" || k === "detail" ? AUDIT_PHRASE_CHARS : AUDIT_VALUE_CHARS, secrets, pad);
    event[k] = r.value;
    if (r.total !== undefined) total[k] = r.total;
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
    if (typeof v === "string") event[k] = safeValue(v, AUDIT_VALUE_CHARS, secrets, pad);
  }
  if (e.requestId !== undefined) event.requestId = safeValue(e.requestId, AUDIT_VALUE_CHARS, secrets, pad);
  if (e.session !== undefined) event.session = safeValue(e.session, AUDIT_VALUE_CHARS, secrets, pad);
  if (e.ignoredTools) event.ignoredTools = boundList(e.ignoredTools, secrets, pad);
  return { event, text };
}

/** ignoredTools as written: at most 20 items of at most 64 characters, redacted and escaped. */
function boundList(list: readonly string[], secrets: readonly string[], pad: number): string[] {
  const items = list.slice(0, AUDIT_LIST_ITEMS).map((t) => safeValue(t, 64, secrets, pad));
  if (list.length > AUDIT_LIST_ITEMS) items.push(`… (${list.length} items)`);
  return items;
}

/** The longest secret's length + 16: how far past a bound a value is kept while it is redacted. */
export const padFor = (secrets: readonly string[]) => secrets.reduce((m, s) => Math.max(m, s.length), 0) + 16;
const CALLER_FIELDS = ["tool", "agent", "resource", "detail", "remote"] as const;
const CLAIMS = ["sub", "client_id", "jti", "token_label"] as const;

/**
 * The line as written: `{"type":"audit", ...event, "text": sentence}` and a newline, redacted
 * once more as a whole (nothing of ours may carry a secret either).
 */
export function auditLine(e: AuditEvent, secrets: readonly string[], pad = padFor(secrets)): string {
  const { event, text } = prepare(e, secrets, pad);
  const json = JSON.stringify(event);
  return redact(`{"type":"audit",${json.slice(1, -1)},"text":${JSON.stringify(text)}}`, secrets) + "\n";
}


// ---------------------------------------------------------------------------------------------
// A tools/call's line in two steps. Every call of an agent to a tool shares most of its head
// (agent, claims, transport, tool, access, ignored tools, key): that part is made once per
// secrets list (`HeadMemo`) and only the time and the arguments' hash are new; the tail is
// written field by field in the order JSON.stringify would give.

/** A call's head, made safe and serialized (while its request is on its way to Cohere). */
export interface PreparedHead {
  /** `"time":…,"session":…`: the head's JSON fields, bounded and escaped. */
  json: string;
  /** The call's time, which starts its sentence. */
  time: string;
  /** `search-agent called rerank (read)` */
  subject: string;
  counters?: string;
  /** The secrets the head was redacted of. */
  secrets: readonly string[];
  /**
   * The resource phrase the call is expected to end with (known from its input before it is
   * sent), as given and as written: finishLine uses it when the tail brings the same string.
   */
  resource?: { given: string; written: string };
}

/** The parts of a head that do not change from call to call, by agent, tool and the rest. */
interface HeadParts {
  /** `,"agent":…,"access":"read"` (after the time) */
  who: string;
  /** `,"ignoredTools":[…],"counters":"local","key":"prod","replica":"r1"` (after the hash), or "" */
  rest: string;
  subject: string;
}

/** The fields of a head its parts are made of, beside agent and tool (what a remembered entry must match). */
type PartsKey = Pick<AuditHead, "transport" | "access" | "counters" | "key" | "replica" | "sub" | "client_id" | "jti" | "token_label" | "ignoredTools">;

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean => {
  if (a === b) return true;
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

const sameParts = (a: PartsKey, h: AuditHead): boolean =>
  a.transport === h.transport &&
  a.access === h.access &&
  a.counters === h.counters &&
  a.key === h.key &&
  a.replica === h.replica &&
  a.sub === h.sub &&
  a.client_id === h.client_id &&
  a.jti === h.jti &&
  a.token_label === h.token_label &&
  sameList(a.ignoredTools, h.ignoredTools);

/**
 * Head parts made for one secrets list, by agent, then tool, then the other fields compared one
 * by one (a sink keeps one and starts a new one when the list changes). Looked up by the two
 * names and a few comparisons: a key string made of every field cost ~5 µs a call to build and hash.
 */
export class HeadMemo {
  private readonly parts = new Map<string, Map<string, Array<{ key: PartsKey; parts: HeadParts }>>>();
  private size = 0;
  constructor(readonly secrets: readonly string[]) {}

  get(h: AuditHead): HeadParts | undefined {
    const list = this.parts.get(h.agent)?.get(h.tool);
    if (list) for (const e of list) if (sameParts(e.key, h)) return e.parts;
    return undefined;
  }

  set(h: AuditHead, p: HeadParts): void {
    // bounded: one entry per agent, tool and token (a jti) in use; forgotten all at once when full
    if (this.size >= 1024) (this.parts.clear(), (this.size = 0));
    let byTool = this.parts.get(h.agent);
    if (!byTool) this.parts.set(h.agent, (byTool = new Map()));
    let list = byTool.get(h.tool);
    if (!list) byTool.set(h.tool, (list = []));
    const key: PartsKey = {
      transport: h.transport,
      access: h.access,
      counters: h.counters,
      key: h.key,
      replica: h.replica,
      sub: h.sub,
      client_id: h.client_id,
      jti: h.jti,
      token_label: h.token_label,
      // a copy: the caller's array may change after this call
      ignoredTools: h.ignoredTools ? [...h.ignoredTools] : undefined,
    };
    list.push({ key, parts: p });
    this.size++;
  }
}

/**
 * The head of a call's line: what prepare() does to these fields, done before the call ends;
 * with the resource phrase the call is expected to end with, bounded too.
 */
export function prepareHead(
  h: AuditHead,
  secrets: readonly string[],
  pad = padFor(secrets),
  memo?: HeadMemo,
  resource?: string,
): PreparedHead {
  const remembered = memo !== undefined && memo.secrets === secrets;
  let parts = remembered ? memo.get(h) : undefined;
  if (!parts) {
    parts = headParts(h, secrets, pad);
    if (remembered) memo.set(h, parts);
  }
  const hashPart = h.argsHash !== undefined ? `,"argsHash":${jsonString(h.argsHash)}` : "";
  // who sent this call, and in which session: per call, not in the memo
  let from = "";
  if (h.remote !== undefined) from += `,"remote":${jsonString(safeValue(h.remote, AUDIT_VALUE_CHARS, secrets, pad))}`;
  if (h.session !== undefined) from += `,"session":${jsonString(safeValue(h.session, AUDIT_VALUE_CHARS, secrets, pad))}`;
  if (h.era !== undefined) from += `,"era":${jsonString(h.era)}`;
  // --otel: the request's trace (hex ids the SDK made or checked)
  if (h.trace_id !== undefined) from += `,"trace_id":${jsonString(h.trace_id)}`;
  if (h.span_id !== undefined) from += `,"span_id":${jsonString(h.span_id)}`;
  // an unauthenticated request is named by its address: its subject is made per call
  let subject = parts.subject;
  if (h.agent === UNAUTHENTICATED && h.remote !== undefined) {
    const remote = redactCut(h.remote, AUDIT_VALUE_CHARS, secrets, pad);
    const tool = redactCut(h.tool, AUDIT_VALUE_CHARS, secrets, pad);
    subject = subjectOf({ agent: h.agent, remote: remote.value, tool: tool.value, access: h.access }, { remote: remote.total, tool: tool.total });
  }
  return {
    json: `"time":${jsonString(h.time)}${parts.who}${hashPart}${parts.rest}${from}`,
    time: h.time,
    subject,
    counters: h.counters,
    secrets,
    resource: resource !== undefined ? { given: resource, written: safeValue(resource, AUDIT_PHRASE_CHARS, secrets, pad, boundPhrase) } : undefined,
  };
}

function headParts(h: AuditHead, secrets: readonly string[], pad: number): HeadParts {
  const agent = redactCut(h.agent, AUDIT_VALUE_CHARS, secrets, pad);
  const tool = redactCut(h.tool, AUDIT_VALUE_CHARS, secrets, pad);
  const subject = subjectOf({ agent: agent.value, tool: tool.value, access: h.access }, { agent: agent.total, tool: tool.total });
  const claim = (v: string | undefined) => (v !== undefined ? safeValue(v, AUDIT_VALUE_CHARS, secrets, pad) : undefined);
  const who = JSON.stringify({
    agent: boundValue(agent.value, AUDIT_VALUE_CHARS, agent.total),
    sub: claim(h.sub),
    client_id: claim(h.client_id),
    jti: claim(h.jti),
    token_label: claim(h.token_label),
    transport: h.transport,
    tool: boundValue(tool.value, AUDIT_VALUE_CHARS, tool.total),
    access: h.access,
  });
  const rest = JSON.stringify({
    ignoredTools: h.ignoredTools ? boundList(h.ignoredTools, secrets, pad) : undefined,
    counters: h.counters,
    key: h.key,
    replica: h.replica,
  });
  return { who: `,${who.slice(1, -1)}`, rest: rest.length > 2 ? `,${rest.slice(1, -1)}` : "", subject };
}

/**
 * A call's whole line from its prepared head and its tail: the same bytes as
 * `auditLine({...head, ...tail})` (a test holds them equal), with the head's work already done.
 */
export function finishLine(head: PreparedHead, t: AuditTail, secrets: readonly string[], pad = padFor(secrets)): string {
  const expected = head.resource;
  const resource =
    t.resource === undefined
      ? undefined
      : expected && expected.given === t.resource && head.secrets === secrets
        ? expected.written
        : safeValue(t.resource, AUDIT_PHRASE_CHARS, secrets, pad, boundPhrase);
  const detail = t.detail !== undefined ? safeValue(t.detail, AUDIT_PHRASE_CHARS, secrets, pad, boundPhrase) : undefined;
  const text = `${head.time} ${head.subject}${predicateOf(t, resource, detail, head.counters)}`;
  // the tail's fields in AuditTail's order, as JSON.stringify writes them
  let json = "";
  if (t.upstreamMs !== undefined) json += `,"upstreamMs":${jsonNumber(t.upstreamMs)}`;
  if (t.retries !== undefined) json += `,"retries":${jsonNumber(t.retries)}`;
  // decision, reason, outcome and charge are words of ours (plain letters and _): written as they are
  json += `,"decision":"${t.decision}"`;
  if (t.reason !== undefined) json += `,"reason":"${t.reason}"`;
  if (detail !== undefined) json += `,"detail":${jsonString(detail)}`;
  if (resource !== undefined) json += `,"resource":${jsonString(resource)}`;
  if (t.status !== undefined) json += `,"status":${jsonNumber(t.status)}`;
  if (t.outcome !== undefined) json += `,"outcome":${OUR_WORD.test(t.outcome) ? `"${t.outcome}"` : jsonString(t.outcome)}`;
  if (t.requestId !== undefined) json += `,"requestId":${jsonString(safeValue(t.requestId, AUDIT_VALUE_CHARS, secrets, pad))}`;
  if (t.billedUnits !== undefined) json += `,"billedUnits":${jsonUnits(t.billedUnits)}`;
  if (t.charge !== undefined) json += `,"charge":"${t.charge}"`;
  if (t.charged !== undefined) json += `,"charged":${jsonUnits(t.charged)}`;
  if (t.confirmed !== undefined) json += `,"confirmed":${t.confirmed ? "true" : "false"}`;
  json += `,"latencyMs":${jsonNumber(Math.round(t.latencyMs * 10) / 10)}`;
  return redact(`{"type":"audit",${head.json}${json},"text":${jsonString(text)}}`, secrets) + "\n";
}

/** What JSON.stringify must escape: `"`, `\`, C0 controls, and surrogates (a lone one is escaped). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** A word of ours (an outcome: ok, cohere_error, …): nothing in it to escape. */
const OUR_WORD = /^[a-z_]+$/;
const jsonString = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);
const jsonNumber = (n: number): string => (Number.isFinite(n) ? String(n) : "null");
function jsonUnits(b: Record<string, number>): string {
  let out = "";
  for (const k of Object.keys(b)) {
    const n = b[k];
    if (typeof n !== "number") return JSON.stringify(b);
    out += `${out ? "," : ""}${jsonString(k)}:${jsonNumber(n)}`;
  }
  return `{${out}}`;
}
