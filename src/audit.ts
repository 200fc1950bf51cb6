/**
 * One audit event per tool call, allowed or denied: a JSON line for machines and a sentence
 * for people. Arguments are never logged whole: a hash, plus the resource acted on.
 */
import { createHash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import type { Access } from "./catalog/types.js";

export type Decision = "allowed" | "denied";
export type DenyReason = "not_in_profile" | "unknown_tool" | "invalid_input" | "argument_rule" | "rate_limit" | "auth" | "not_confirmed" | "budget" | "cohere_limit";

export interface AuditEvent {
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
}

export const UNAUTHENTICATED = "(unauthenticated)";

export function hashArgs(args: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(args) ?? "";
  } catch {
    text = String(args);
  }
  return "sha256:" + createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** `input_tokens: 12, output_tokens: 40` → `12 input tokens, 40 output tokens`. */
export function billedText(b: Record<string, number> | undefined): string {
  if (!b) return "";
  return Object.entries(b)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => {
      const unit = k.replace(/_/g, " ").replace(/s$/, "");
      return `${n} ${unit}${n === 1 ? "" : "s"}`;
    })
    .join(", ");
}

/** `search-agent called rerank (read) on 25 documents with rerank-v3.5: allowed, 200 in 41 ms` */
export function sentence(e: AuditEvent): string {
  const cls = e.access ? ` (${e.access})` : "";
  const on = e.resource ? (/^(with|on|for) /.test(e.resource) ? ` ${e.resource}` : ` on ${e.resource}`) : "";
  const who = e.agent === UNAUTHENTICATED ? `An unauthenticated request${e.remote ? ` from ${e.remote}` : ""}` : e.agent;
  if (e.decision === "denied") {
    const why = e.reason ? e.reason.replace(/_/g, " ") : "denied";
    return `${who} called ${e.tool}${cls}${on}: denied (${why}${e.detail ? `: ${e.detail}` : ""})`;
  }
  const status = e.status !== undefined ? `${e.status}` : (e.outcome ?? "no answer");
  const failed = e.status !== undefined && e.outcome && e.outcome !== "ok" ? ` (${e.outcome.replace(/_/g, " ")})` : "";
  const billed = billedText(e.billedUnits);
  return (
    `${who} called ${e.tool}${cls}${on}: allowed, ${status}${failed} in ${Math.round(e.latencyMs)} ms` +
    (billed ? `, billed ${billed}` : "")
  );
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

/** Writes `{...event, text: sentence}` as one JSON line to a file or stderr. */
export function createAuditSink(target: string, secrets: () => string[]): AuditSink {
  const out: WriteStream | NodeJS.WriteStream = target === "-" ? process.stderr : createWriteStream(target, { flags: "a" });
  if (out !== process.stderr) {
    // An unwritable audit file must not crash the server mid-call; say so on stderr once.
    let warned = false;
    out.on("error", (err: Error) => {
      if (!warned) process.stderr.write(`cohere-mcp: cannot write the audit log ${target}: ${err.message}\n`);
      warned = true;
    });
  }
  return {
    record(e) {
      const event = { ...e, latencyMs: Math.round(e.latencyMs * 10) / 10 };
      let line = JSON.stringify({ type: "audit", ...event, text: sentence(e) });
      for (const s of secrets()) if (s && s.length >= 4) line = line.split(s).join("[REDACTED]");
      out.write(line + "\n");
    },
    note(n) {
      let line = JSON.stringify({ type: "audit", ...n });
      for (const s of secrets()) if (s && s.length >= 4) line = line.split(s).join("[REDACTED]");
      out.write(line + "\n");
    },
    close() {
      if (out === process.stderr) return Promise.resolve();
      return new Promise((resolve) => (out as WriteStream).end(() => resolve()));
    },
  };
}
