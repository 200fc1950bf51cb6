/**
 * One audit event per tool call, allowed or denied: a JSON line for machines and a sentence
 * for people. Arguments are never logged whole: a hash, plus the resource acted on.
 */
import { createHash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import type { Access } from "./catalog/types.js";

export type Decision = "allowed" | "denied";
export type DenyReason = "not_in_profile" | "unknown_tool" | "invalid_input" | "argument_rule" | "rate_limit" | "auth" | "not_confirmed";

export interface AuditEvent {
  time: string;
  agent: string;
  transport: "stdio" | "http";
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
  argsHash?: string;
  ignoredTools?: string[];
}

export function hashArgs(args: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(args) ?? "";
  } catch {
    text = String(args);
  }
  return "sha256:" + createHash("sha256").update(text).digest("hex").slice(0, 16);
}

/** `search-agent called rerank (read) on 25 documents with rerank-v3.5: allowed, 200 in 41 ms` */
export function sentence(e: AuditEvent): string {
  const cls = e.access ? ` (${e.access})` : "";
  const on = e.resource ? ` on ${e.resource}` : "";
  if (e.decision === "denied") {
    const why = e.reason ? e.reason.replace(/_/g, " ") : "denied";
    return `${e.agent} called ${e.tool}${cls}${on}: denied (${why}${e.detail ? `: ${e.detail}` : ""})`;
  }
  const status = e.status !== undefined ? `${e.status}` : (e.outcome ?? "no answer");
  return `${e.agent} called ${e.tool}${cls}${on}: allowed, ${status} in ${Math.round(e.latencyMs)} ms`;
}

export interface AuditSink {
  record(e: AuditEvent): void;
  close(): Promise<void>;
}

/** Writes `{...event, text: sentence}` as one JSON line to a file or stderr. */
export function createAuditSink(target: string, secrets: () => string[]): AuditSink {
  const out: WriteStream | NodeJS.WriteStream = target === "-" ? process.stderr : createWriteStream(target, { flags: "a" });
  return {
    record(e) {
      let line = JSON.stringify({ type: "audit", ...e, text: sentence(e) });
      for (const s of secrets()) if (s) line = line.split(s).join("[REDACTED]");
      out.write(line + "\n");
    },
    close() {
      if (out === process.stderr) return Promise.resolve();
      return new Promise((resolve) => (out as WriteStream).end(() => resolve()));
    },
  };
}
