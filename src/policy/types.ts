/**
 * The types every policy step shares: who is calling (AgentScope) and what a check before a
 * call may answer (Guard). Kept apart from server.ts and app.ts so that neither imports the
 * other: app → policy/types ← server.
 */
import type { ToolDef } from "../catalog/types.js";
import type { AuditClaims, DenyReason } from "../audit/index.js";
import type { CallOutcome } from "../call/executor.js";

export interface AgentScope {
  agent: string;
  transport: "stdio" | "http";
  visible: ReadonlySet<string>;
  /** Items a request tried to add beyond its ceiling (noted in the audit). */
  ignored?: string[];
  /** Profile name, for checks that need it (argument rules, limits). */
  profile?: string;
  /** Stateless HTTP: each request is a fresh server that cannot ask the user anything. */
  stateless?: boolean;
  /** OAuth agents: sub, client_id and jti of the request's token, for the audit line. */
  claims?: AuditClaims;
  /** HTTP: the client's address (after --trusted-proxies), for the audit line. */
  remote?: string;
  /** HTTP --sessions: the session id, for the audit line. */
  session?: string;
  /** The MCP protocol era of the request (modern = 2026-07-28, legacy = 2025-11-25 and older), for the audit line and metrics. */
  era?: "modern" | "legacy";
}

/**
 * A check run after validation and before anything is sent (argument rules, rate limits,
 * budgets, concurrency). A guard that holds or counts something returns `after`: callTool calls
 * it exactly once when the call ends, with what happened (`sent: false` when a later step
 * refused the call), so the guard can release a slot or charge what Cohere billed.
 */
export interface Guard {
  check(scope: AgentScope, tool: ToolDef, input: Record<string, unknown>): GuardVerdict | Promise<GuardVerdict>;
}

/** `message` goes to the agent; `detail` (default: message) to the audit line. */
export type GuardVerdict =
  | { ok: true; after?: GuardAfter }
  | { ok: false; reason: DenyReason; message: string; detail?: string };

/** What settling a call may say for its audit line (a budget charged by estimate). */
export interface SettleNote {
  /** "estimated": a sent call brought back no bill from Cohere and was charged by estimate. */
  charge?: "estimated";
  /** What was charged by estimate, per budgeted unit (usd in nano-dollars). */
  charged?: Record<string, number>;
}

export type GuardAfter = (outcome: CallOutcome) => void | SettleNote | Promise<void | SettleNote>;

/** Two notes as one (the later one's figures added to the earlier's). */
export function mergeNotes(a: SettleNote | undefined, b: SettleNote | void | undefined): SettleNote | undefined {
  if (!b || !b.charge) return a;
  if (!a) return b;
  return { charge: "estimated", charged: { ...a.charged, ...b.charged } };
}
