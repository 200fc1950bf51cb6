/**
 * Prometheus metrics (prom-client), served by src/metrics/server.ts on --metrics-port only.
 *
 * Call metrics are derived from the one audit event each call produces (the audit sink is fanned
 * out to this observer), so the audit log and the metrics cannot disagree, and metrics work
 * with --audit-log off. Label values come only from the configuration and the catalog: an agent,
 * tool, key or unit the current configuration does not name is counted as "other"; nothing from
 * arguments, tokens or keys ever becomes a label.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { App } from "../runtime/app.js";
import { UNAUTHENTICATED, type AuditEvent, type AuditNotice, type AuditSink } from "../audit/index.js";
import { tee } from "../audit/tee.js";
import { BILLED_UNITS } from "../config/budget.js";
import { ANONYMOUS, stdioAgent } from "../runtime/live.js";
import { NANOS_PER_USD } from "../policy/billing.js";
import type { BudgetReading } from "../policy/budget.js";
import type { Guard } from "../policy/types.js";
import { observeStore } from "../store/observed.js";

const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
const STORE_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

const OUTCOMES = new Set([
  "ok",
  "cohere_error",
  "transport_error",
  "cancelled",
  "stream_cut",
  "generation_error",
  "missing_key",
  "invalid_input",
  "internal",
]);
const REASONS = new Set([
  "not_in_profile",
  "unknown_tool",
  "invalid_input",
  "argument_rule",
  "rate_limit",
  "auth",
  "not_confirmed",
  "budget",
  "cohere_limit",
  "store_unavailable",
  "audit_unavailable",
  "concurrency",
  "insufficient_scope",
]);
const UNITS = new Set<string>([...BILLED_UNITS, "images", "image_tokens"]);
export const OTHER = "other";
/**
 * OAuth agents are named by their tokens, not by the configuration: the first this many distinct
 * ones get their own label (and budget gauges), the rest are "other", so a label set stays
 * bounded whatever an identity provider issues.
 */
export const MAX_OAUTH_AGENT_LABELS = 100;

export class Telemetry {
  readonly registry = new Registry();
  private readonly tools: ReadonlySet<string>;
  private readonly r = [this.registry];

  readonly calls = new Counter({
    name: "cohere_mcp_calls_total",
    help: "Tool calls by agent, tool, decision (allowed|denied) and outcome (ok, a failure kind, or refused)",
    labelNames: ["agent", "tool", "decision", "outcome"] as const,
    registers: this.r,
  });
  readonly callsByEra = new Counter({
    name: "cohere_mcp_calls_by_era_total",
    help: "Tool calls by MCP protocol era (modern = 2026-07-28, legacy = 2025-11-25 and older) and transport",
    labelNames: ["era", "transport"] as const,
    registers: this.r,
  });
  readonly callSeconds = new Histogram({
    name: "cohere_mcp_call_duration_seconds",
    help: "Whole tool call, from the request to the result (refusals included)",
    labelNames: ["agent", "tool", "decision"] as const,
    buckets: CALL_BUCKETS,
    registers: this.r,
  });
  readonly upstreamSeconds = new Histogram({
    name: "cohere_mcp_upstream_duration_seconds",
    help: "The Cohere part of an allowed call: its request(s), retries and polls",
    labelNames: ["agent", "tool"] as const,
    buckets: CALL_BUCKETS,
    registers: this.r,
  });
  readonly retries = new Counter({
    name: "cohere_mcp_retries_total",
    help: "Requests to Cohere sent again (408/429/5xx, connection failures)",
    labelNames: ["agent", "tool"] as const,
    registers: this.r,
  });
  readonly refusals = new Counter({
    name: "cohere_mcp_refusals_total",
    help: "Calls and requests refused before anything was sent, by reason",
    labelNames: ["agent", "reason"] as const,
    registers: this.r,
  });
  readonly billed = new Counter({
    name: "cohere_mcp_billed_units_total",
    help: "Units Cohere billed (its billed_units), by agent, Cohere key (config name) and unit",
    labelNames: ["agent", "key", "unit"] as const,
    registers: this.r,
  });
  readonly inFlight = new Gauge({
    name: "cohere_mcp_calls_in_flight",
    help: "Calls admitted and not yet finished, by agent",
    labelNames: ["agent"] as const,
    registers: this.r,
  });
  readonly storeErrors = new Counter({
    name: "cohere_mcp_store_errors_total",
    help: "Counter store operations that failed",
    labelNames: ["op"] as const,
    registers: this.r,
  });
  readonly storeSeconds = new Histogram({
    name: "cohere_mcp_store_duration_seconds",
    help: "Counter store operation latency",
    labelNames: ["op"] as const,
    buckets: STORE_BUCKETS,
    registers: this.r,
  });
  /** The content hash of the effective configuration (src/fleet/hash.ts), as a label; value 1. */
  readonly configInfo = new Gauge({
    name: "cohere_mcp_config_info",
    help: "The content hash of this replica's effective configuration (label hash; value 1): replicas that agree show the same hash",
    labelNames: ["hash"] as const,
    registers: this.r,
    collect: () => {
      this.configInfo.reset();
      this.configInfo.set({ hash: this.app.live.current.hash }, 1);
    },
  });
  readonly configMismatch = new Gauge({
    name: "cohere_mcp_config_hash_mismatch",
    help: "1 when this replica's configuration hash differs from the other replicas' (shared store), else 0",
    registers: this.r,
    collect: () => {
      this.configMismatch.set(this.app.fleet?.mismatch ? 1 : 0);
    },
  });
  readonly reloads = new Counter({
    name: "cohere_mcp_config_reloads_total",
    help: "Configuration reloads (SIGHUP), by outcome (ok|rejected)",
    labelNames: ["outcome"] as const,
    registers: this.r,
  });

  constructor(private readonly app: App) {
    this.tools = new Set(app.tools.map((t) => t.name));
    collectDefaultMetrics({ register: this.registry });
    const self = this;
    let reading: { at: number; value: Promise<Array<{ agent: string; r: BudgetReading }>> } | undefined;
    const budgets = () => {
      const now = Date.now();
      if (!reading || now - reading.at > 500) reading = { at: now, value: self.readBudgets() };
      return reading.value;
    };
    const value = (r: BudgetReading, n: number) => (r.unit === "usd" ? n / NANOS_PER_USD : n);
    const used = (r: BudgetReading) => value(r, r.used);
    const limit = (r: BudgetReading) => value(r, r.limit);
    const remaining = (r: BudgetReading) => value(r, Math.max(0, r.limit - r.used));
    // One gauge per figure of each agent's budget, all three from one store read per scrape.
    const agentGauge = (name: string, help: string, figure: (r: BudgetReading) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["agent", "unit"] as const,
        registers: this.r,
        async collect() {
          this.reset();
          for (const { agent, r } of await budgets()) this.set({ agent, unit: r.unit }, figure(r));
        },
      });
    agentGauge("cohere_mcp_budget_used", "Budget used this month (UTC) by agent and unit (usd in dollars), calls in flight included; read from the shared store: use max across replicas, not sum", used);
    agentGauge("cohere_mcp_budget_limit", "Each agent's monthly budget limit by unit (usd in dollars): budget_used / budget_limit is the share spent", limit);
    agentGauge("cohere_mcp_budget_remaining", "Budget left this month (UTC) by agent and unit (usd in dollars); read from the shared store: use max across replicas, not sum", remaining);
    // The gateway-wide budget (config `budget`), read from the store like the agents' budgets.
    let gatewayReading: { at: number; value: Promise<BudgetReading[]> } | undefined;
    const gatewayBudget = () => {
      const now = Date.now();
      if (!gatewayReading || now - gatewayReading.at > 500) {
        const gen = app.live.current;
        gatewayReading = { at: now, value: gen.budgets ? gen.budgets.gatewayUsage().catch(() => []) : Promise.resolve([]) };
      }
      return gatewayReading.value;
    };
    const gatewayGauge = (name: string, help: string, figure: (r: BudgetReading) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ["unit"] as const,
        registers: this.r,
        async collect() {
          this.reset();
          for (const r of await gatewayBudget()) this.set({ unit: r.unit }, figure(r));
        },
      });
    gatewayGauge("cohere_mcp_gateway_budget_used", "The gateway-wide budget (config budget: all agents together) used this month (UTC) by unit (usd in dollars); shared, use max across replicas", used);
    gatewayGauge("cohere_mcp_gateway_budget_remaining", "The gateway-wide budget left this month (UTC) by unit (usd in dollars); shared, use max across replicas", remaining);
    gatewayGauge("cohere_mcp_gateway_budget_limit", "The gateway-wide budget's monthly limit by unit (usd in dollars)", limit);
    new Gauge({
      name: "cohere_mcp_sessions_open",
      help: "Open MCP sessions (HTTP --sessions) by agent",
      labelNames: ["agent"] as const,
      registers: this.r,
      collect() {
        this.reset();
        for (const [agent, n] of app.sessionCounts?.() ?? []) this.inc({ agent: self.agent(agent) }, n);
      },
    });
    new Gauge({
      name: "cohere_mcp_listen_streams_open",
      help: "Open subscriptions/listen streams of modern (2026-07-28) HTTP clients by agent",
      labelNames: ["agent"] as const,
      registers: this.r,
      collect() {
        this.reset();
        for (const [agent, n] of app.listenCounts?.() ?? []) this.inc({ agent: self.agent(agent) }, n);
      },
    });
    new Gauge({
      name: "cohere_mcp_audit_failing",
      help: "1 while the audit file cannot be written (each scrape tries again), else 0; absent without --audit-log FILE",
      registers: this.r,
      collect() {
        const h = app.audit?.health?.();
        this.set(h && !h.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: "cohere_mcp_audit_pending_lines",
      help: "Audit lines waiting in memory while the audit file cannot be written",
      registers: this.r,
      collect() {
        this.set(app.audit?.health?.().pending ?? 0);
      },
    });
    // --audit-otlp (src/telemetry/audit-ship.ts): audit records the OTLP queue could not deliver
    new Counter({
      name: "cohere_mcp_audit_otlp_dropped_total",
      help: "Audit records not delivered as OTLP log records (queue full, or the collector refused them after retries); the audit file has every line. 0 without --audit-otlp",
      registers: this.r,
      collect() {
        this.reset();
        const n = app.metrics.otlpDropped ?? 0;
        if (n > 0) this.inc(n);
      },
    });
    new Gauge({
      name: "cohere_mcp_config_generation",
      help: "Configuration generation in force: 1 at start, +1 per successful reload",
      registers: this.r,
      collect() {
        this.set(app.live.current.id);
      },
    });
  }

  private async readBudgets(): Promise<Array<{ agent: string; r: BudgetReading }>> {
    const gen = this.app.live.current;
    if (!gen.budgets) return [];
    const out: Array<{ agent: string; r: BudgetReading }> = [];
    const oauth = [...this.oauthAgents].map(([agent, profile]) => ({ agent, profile }));
    for (const { agent, profile } of [...gen.agentProfiles(), ...oauth]) {
      try {
        for (const r of await gen.budgets.usage(agent, profile)) out.push({ agent, r });
      } catch {
        /* the store is down: counted by cohere_mcp_store_errors_total; no budget figures this scrape */
      }
    }
    return out;
  }

  private readonly known = new WeakMap<object, ReadonlySet<string>>();

  /** OAuth agents with a label of their own (at most MAX_OAUTH_AGENT_LABELS), with their last profile. */
  private readonly oauthAgents = new Map<string, string | undefined>();

  /**
   * An agent name the configuration knows; an OAuth agent's own name while fewer than
   * MAX_OAUTH_AGENT_LABELS have one; else "other".
   */
  agent(name: string, oauth = false, profile?: string): string {
    if (name === UNAUTHENTICATED) return "unauthenticated";
    if (name === ANONYMOUS || name === stdioAgent(this.app.options)) return name;
    const gen = this.app.live.current;
    let names = this.known.get(gen);
    if (!names) {
      names = new Set(gen.agentProfiles().map((a) => a.agent));
      this.known.set(gen, names);
    }
    if (names.has(name)) return name;
    if (!oauth || name === OTHER) return OTHER;
    if (this.oauthAgents.has(name)) {
      if (profile !== undefined) this.oauthAgents.set(name, profile);
      return name;
    }
    if (this.oauthAgents.size >= MAX_OAUTH_AGENT_LABELS) return OTHER;
    this.oauthAgents.set(name, profile);
    return name;
  }

  private key(name: string | undefined): string {
    if (name === undefined) return "default";
    return this.app.live.current.keys.byName.has(name) ? name : OTHER;
  }

  observe(e: AuditEvent): void {
    // an OAuth agent's line carries its token's claims (sub, client_id, jti)
    const agent = this.agent(e.agent, e.sub !== undefined || e.client_id !== undefined || e.jti !== undefined);
    const tool = this.tools.has(e.tool) ? e.tool : OTHER;
    const denied = e.decision === "denied";
    const outcome = denied ? "refused" : OUTCOMES.has(e.outcome ?? "") ? e.outcome! : OTHER;
    this.calls.inc({ agent, tool, decision: e.decision, outcome });
    if (e.era !== undefined) this.callsByEra.inc({ era: e.era, transport: e.transport });
    this.callSeconds.observe({ agent, tool, decision: e.decision }, e.latencyMs / 1000);
    if (denied) {
      this.refusals.inc({ agent, reason: REASONS.has(e.reason ?? "") ? e.reason! : OTHER });
      return;
    }
    if (e.upstreamMs !== undefined) this.upstreamSeconds.observe({ agent, tool }, e.upstreamMs / 1000);
    if (e.retries) this.retries.inc({ agent, tool }, e.retries);
    const key = this.key(e.key);
    for (const [unit, n] of Object.entries(e.billedUnits ?? {})) {
      if (n > 0) this.billed.inc({ agent, key, unit: UNITS.has(unit) ? unit : OTHER }, n);
    }
  }

  notice(n: AuditNotice): void {
    if (n.event === "config_reload") this.reloads.inc({ outcome: n.outcome });
  }

  /** Counts the calls in flight: admitted (every other guard said yes) until they end. */
  inFlightGuard(): Guard {
    return {
      check: (scope) => {
        const labels = { agent: this.agent(scope.agent, scope.claims !== undefined, scope.profile) };
        this.inFlight.inc(labels);
        return { ok: true, after: () => void this.inFlight.dec(labels) };
      },
    };
  }
}

/** The audit sink (if any) and the metrics, fed by the same events. */
export function fanOut(sink: AuditSink | undefined, t: Telemetry): AuditSink {
  return tee(sink, { event: (e) => t.observe(e), notice: (n) => t.notice(n) });
}

/** Turn metrics on: observe the store, the audit events and the calls in flight. */
export function installTelemetry(app: App): Telemetry {
  const t = new Telemetry(app);
  app.store = observeStore(app.store, (op, seconds, failed) => {
    t.storeSeconds.observe({ op }, seconds);
    if (failed) t.storeErrors.inc({ op });
  });
  app.audit = fanOut(app.audit, t);
  app.guards.push(t.inFlightGuard());
  return t;
}
