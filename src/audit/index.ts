/**
 * One audit event per tool call, allowed or denied: a JSON line for machines and a sentence
 * for people. Arguments are never logged whole: a hash, plus the resource acted on.
 *
 * Whatever came from a caller or from Cohere (tool names, ids, models, methods, request ids,
 * refusal details) is redacted of secrets, then bounded (src/audit/show.ts: 200 characters a value,
 * 600 a phrase, with `…` and the original length) and escaped, in the JSON fields and in the
 * sentence alike: a 4 MB tool name costs a few hundred bytes, and no value can add a line, move
 * the cursor or reorder the text of `jq -r .text`. A value that is not a plain token is quoted
 * in the sentence. Throttled refusals and failed logins are not written one by one: one summary
 * line per window (`suppressed`) says how many were left out.
 */
import type { Access } from "../catalog/types.js";
import type { ConfigChange } from "../policy/diff.js";
import { auditLine, finishLine, HeadMemo, padFor, prepareHead, redact } from "./line.js";
import { AuditFile, type AuditHealth } from "./file.js";
import type { Logger } from "../runtime/logger.js";

export type { AuditHealth } from "./file.js";
const HEALTHY: AuditHealth = Object.freeze({ ok: true, pending: 0, dropped: 0 });
const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

export {
  auditLine,
  finishLine,
  HeadMemo,
  hashArgs,
  isoTime,
  prepare,
  prepareHead,
  sentence,
  UNAUTHENTICATED,
} from "./line.js";

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
  | "cohere_limit"
  /** The audit file cannot be written (--audit-failure deny): a call that cannot be recorded is not run. */
  | "audit_unavailable";

/** Who an OAuth access token names (never the token itself). */
export interface AuditClaims {
  sub?: string;
  client_id?: string;
  jti?: string;
  /** Static agents with `tokens`: the label of the token used (never the token). */
  token_label?: string;
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
  /** "estimated": the call was sent but Cohere's answer carried no bill (cancelled, timed out, a cut stream), so its budget was charged by estimate. */
  charge?: "estimated";
  /** What the budget was charged by estimate, per unit (usd in nano-dollars). */
  charged?: Record<string, number>;
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
  /** The replica that wrote the line (--replica-id). */
  replica?: string;
  /** HTTP --sessions: the MCP session the call came in. */
  session?: string;
  /** The MCP protocol era the call came in: modern (2026-07-28) or legacy (2025-11-25 and older). */
  era?: "modern" | "legacy";
  /** A destructive call the user accepted when asked (elicitation). */
  confirmed?: boolean;
  /** --otel: the trace and span of the MCP request's server span (W3C hex ids), so a line leads to its trace. */
  trace_id?: string;
  span_id?: string;
}

/** A call's fields known before Cohere answers, in the order of its line. */
export type AuditHead = Pick<
  AuditEvent,
  | "time"
  | "agent"
  | "sub"
  | "client_id"
  | "jti"
  | "token_label"
  | "transport"
  | "tool"
  | "access"
  | "argsHash"
  | "ignoredTools"
  | "counters"
  | "key"
  | "replica"
  | "remote"
  | "session"
  | "era"
  | "trace_id"
  | "span_id"
>;
/** The rest of a call's line, known when it ends. */
export type AuditTail = Pick<
  AuditEvent,
  | "upstreamMs"
  | "retries"
  | "decision"
  | "reason"
  | "detail"
  | "resource"
  | "status"
  | "outcome"
  | "requestId"
  | "billedUnits"
  | "charge"
  | "charged"
  | "confirmed"
  | "latencyMs"
>;

/** A call's line begun with its head; `finish` writes it (once). */
export interface AuditDraft {
  /** Writes the line; a file (or stderr) sink returns it, so an observer need not serialize it again (--audit-otlp). */
  finish(tail: AuditTail): string | void;
}

/** An operator event that is not a call (a configuration reload, a change made in the console). */
export interface AuditNotice {
  time: string;
  event: "config_reload" | "admin_change" | "admin_denied" | "admin_signin";
  outcome: "ok" | "rejected";
  text: string;
  /** A reload that took effect: what changed (src/policy/diff.ts), the sentences of `text` as data. */
  diff?: ConfigChange[];
  /** Console events: who (name and role; never a token). */
  admin?: string;
  admin_role?: string;
  /** Console events: what was asked for ("PUT /admin/api/v1/grid"). */
  action?: string;
  replica?: string;
}

export interface AuditSink {
  /** Writes the event's line; a file (or stderr) sink returns it (the observers of src/audit/tee.ts get it). */
  record(e: AuditEvent): string | void;
  /**
   * A call's line in two steps (optional; else record the whole event): the head made safe and
   * serialized while the request is on its way to Cohere, the rest when the call ends. The line
   * is the one record({...head, ...tail}) writes.
   */
  begin?(head: AuditHead, resource?: string): AuditDraft;
  /** One line for an operator event; a file (or stderr) sink returns it (--audit-otlp ships it). */
  note?(n: AuditNotice): string | void;
  /** A file sink: healthy, or why its lines cannot be written (probing again first). */
  health?(): AuditHealth;
  /** A file sink: open the path again (SIGHUP, SIGUSR1); false when it could not. */
  reopen?(): boolean;
  close(): Promise<void>;
}

/**
 * Writes `{...event, text: sentence}` as one JSON line to a file or stderr. A file is written
 * synchronously (one append per line): the line is on disk before the call's answer is sent,
 * lines keep the order of the calls, and nothing waits in a buffer when a signal ends the
 * process. (A WriteStream handed every line to the thread pool and back: ~100 µs of CPU a call.)
 * A file that cannot be opened throws (the start fails); one that cannot be written later is
 * reported by `health()` until writing works again (src/audit/file.ts).
 */
export function createAuditSink(target: string, secrets: () => readonly string[], log?: Logger, replica?: string): AuditSink {
  const toStderr = target === "-";
  const say = (level: "error" | "warn" | "info", msg: string, fields: Record<string, unknown>) => {
    if (log) log[level](msg, fields);
    else process.stderr.write(`cohere-mcp: ${msg}\n`);
  };
  let file: AuditFile | undefined;
  const write = (line: string) => {
    if (toStderr) process.stderr.write(line);
    else file!.write(line);
  };
  if (!toStderr) {
    file = new AuditFile(target, {
      failed: (error) => say("error", `cannot write the audit log ${target}: ${error}; lines wait in memory until it can be written`, { file: target }),
      reopenFailed: (error) => say("error", `cannot reopen the audit log ${target}: ${error}; lines still go to the file opened before`, { file: target }),
      recovered: ({ since, error, lines, dropped }) => {
        const time = new Date().toISOString();
        const text =
          `${time} the audit log could be written again after failing since ${since} (${error}): ` +
          `${plural(lines, "line")} that waited in memory ${lines === 1 ? "was" : "were"} written just before this one` +
          (dropped ? `; ${plural(dropped, "line")} could not be kept and ${dropped === 1 ? "is" : "are"} missing` : "");
        write(redact(JSON.stringify({ type: "audit", time, event: "audit_resumed", outcome: dropped ? "lines_lost" : "ok", replica, text }), usable()) + "\n");
        say("info", `the audit log ${target} is written again`, { file: target, waited: lines, dropped });
      },
    });
  }
  // The secrets worth matching, recomputed only when the list changes (app.secrets() keeps one
  // array until a secret is added).
  let seen: readonly string[] | undefined;
  let known: string[] = [];
  let pad = 16;
  let memo = new HeadMemo(known);
  const usable = () => {
    const list = secrets();
    if (list !== seen) {
      seen = list;
      known = list.filter((s) => s && s.length >= 4);
      pad = padFor(known);
      memo = new HeadMemo(known);
    }
    return known;
  };
  return {
    record(e) {
      const list = usable();
      // every line names the replica that wrote it (a call's head already does)
      const line = auditLine(replica !== undefined && e.replica === undefined ? { ...e, replica } : e, list, pad);
      write(line);
      return line;
    },
    begin(h, resource) {
      let head = prepareHead(h, usable(), pad, memo, resource);
      return {
        finish(t) {
          const list = usable();
          // a secret added since the head was made (a new agent token): made again with it
          if (head.secrets !== list) head = prepareHead(h, list, pad, memo, resource);
          const line = finishLine(head, t, list, pad);
          write(line);
          return line;
        },
      };
    },
    note(n) {
      // the sentence starts with its time, like a call's
      const line = redact(JSON.stringify({ type: "audit", ...n, replica: n.replica ?? replica, text: `${n.time} ${n.text}` }), usable());
      write(line + "\n");
      return line;
    },
    health: () => (file ? file.health() : HEALTHY),
    reopen() {
      if (!file) return false;
      const ok = file.reopen();
      if (ok) log?.info("audit log reopened", { file: target });
      return ok;
    },
    close() {
      file?.close();
      return Promise.resolve();
    },
  };
}
