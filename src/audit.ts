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
import { closeSync, openSync, writeSync } from "node:fs";
import type { Access } from "./catalog/types.js";
import type { ConfigChange } from "./policy/diff.js";
import { auditLine, finishLine, HeadMemo, padFor, prepareHead, redact } from "./audit-line.js";

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
} from "./audit-line.js";

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
}

/** A call's fields known before Cohere answers, in the order of its line. */
export type AuditHead = Pick<
  AuditEvent,
  "time" | "agent" | "sub" | "client_id" | "jti" | "token_label" | "transport" | "tool" | "access" | "argsHash" | "ignoredTools" | "counters" | "key"
>;
/** The rest of a call's line, known when it ends. */
export type AuditTail = Pick<
  AuditEvent,
  "upstreamMs" | "retries" | "decision" | "reason" | "detail" | "resource" | "status" | "outcome" | "requestId" | "billedUnits" | "charge" | "charged" | "latencyMs"
>;

/** A call's line begun with its head; `finish` writes it (once). */
export interface AuditDraft {
  finish(tail: AuditTail): void;
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
  record(e: AuditEvent): void;
  /**
   * A call's line in two steps (optional; else record the whole event): the head made safe and
   * serialized while the request is on its way to Cohere, the rest when the call ends. The line
   * is the one record({...head, ...tail}) writes.
   */
  begin?(head: AuditHead, resource?: string): AuditDraft;
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
      // one write of the string; only a short write (a full disk, a signal) encodes it to go on
      // from where it stopped
      const n = writeSync(fd, line);
      if (n < Buffer.byteLength(line)) {
        const buf = Buffer.from(line);
        for (let done = n; done < buf.length; ) done += writeSync(fd, buf, done);
      }
    } catch (err) {
      warn(err);
    }
  };
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
      write(auditLine(e, list, pad));
    },
    begin(h, resource) {
      let head = prepareHead(h, usable(), pad, memo, resource);
      return {
        finish(t) {
          const list = usable();
          // a secret added since the head was made (a new agent token): made again with it
          if (head.secrets !== list) head = prepareHead(h, list, pad, memo, resource);
          write(finishLine(head, t, list, pad));
        },
      };
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
