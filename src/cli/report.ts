/**
 * `cohere-mcp report AUDIT_FILE…`: calls, denials by reason, billed units, USD and budget left,
 * grouped by agent (default), tool, reason, key or replica, from one or several replicas' audit
 * files. Files are read line by line (readline) and merged by time, one pending line per file,
 * so memory stays flat however large the files are.
 *
 * USD: a line's own `usd` when it has one, else its billed units priced with the config's
 * `prices_usd_per_million` (the line's `model` when it names one, else the "*" entry), with
 * --config. Budget left: with --config and --by agent, each agent's profile budget minus what
 * the files show it used in the current UTC month.
 */
import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import { BILLED_UNITS } from "../config/budget.js";
import { loadConfigFile, type ConfigFile } from "../config/file.js";
import { costNanos, priceFor, usdText } from "../policy/billing.js";
import { EXIT, parseCommandArgs, UsageError } from "./args.js";
import { render, type Column } from "./format.js";
import type { CliIO } from "./index.js";

export const REPORT_BY = ["agent", "tool", "reason", "key", "replica"] as const;
export type ReportBy = (typeof REPORT_BY)[number];

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

export interface ReportRow {
  /** The agent, tool, reason, key or replica. */
  key: string;
  /** Tool calls seen (allowed + denied; a throttle summary counts the refusals it stands for). */
  calls: number;
  allowed: number;
  denied: number;
  /** Denied calls by reason. */
  denials: Record<string, number>;
  /** Billed units summed (Cohere's billed_units names). */
  billed: Record<string, number>;
  /** USD, when priced (--config with prices, or lines carrying usd). */
  usd?: number;
  /** --by agent with --config: what is left of each budgeted unit this UTC month. */
  budgetLeft?: Record<string, number>;
}

export interface AuditReport {
  by: ReportBy;
  since?: string;
  until?: string;
  files: string[];
  /** Call lines counted (within --since/--until). */
  lines: number;
  /** Lines that were not audit JSON (counted, not used). */
  skipped: number;
  /** Configuration reload lines seen. */
  reloads: number;
  first?: string;
  last?: string;
  rows: ReportRow[];
  total: ReportRow;
}

export interface ReportOptions {
  by?: ReportBy;
  /** Inclusive lower bound (ms since epoch). */
  since?: number;
  /** Exclusive upper bound. */
  until?: number;
  config?: ConfigFile;
  now?: number;
}

interface Line {
  time: number;
  iso: string;
  event: Record<string, unknown>;
  file: string;
}

/** Lines of one file, parsed, in file order; lines that are not audit JSON are counted. */
async function* linesOf(file: string, counters: { skipped: number }): AsyncGenerator<Line> {
  const rl = createInterface({ input: createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  const replica = basename(file).replace(/\.(jsonl|log|json)$/, "");
  for await (const raw of rl) {
    if (!raw.trim()) continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      counters.skipped++;
      continue;
    }
    const time = typeof event.time === "string" ? Date.parse(event.time) : NaN;
    if (!event || typeof event !== "object" || event.type !== "audit" || Number.isNaN(time)) {
      counters.skipped++;
      continue;
    }
    yield { time, iso: event.time as string, event, file: replica };
  }
}

/** Merge time-ordered sources by time, holding one pending line per source. */
async function* mergeByTime(sources: Array<AsyncGenerator<Line>>): AsyncGenerator<Line> {
  const heads: Array<Line | undefined> = await Promise.all(sources.map(async (s) => (await s.next()).value ?? undefined));
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h && (best < 0 || h.time < heads[best]!.time)) best = i;
    }
    if (best < 0) return;
    yield heads[best]!;
    heads[best] = (await sources[best]!.next()).value ?? undefined;
  }
}

const emptyRow = (key: string): ReportRow => ({ key, calls: 0, allowed: 0, denied: 0, denials: {}, billed: {} });

function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Read the files and sum them (library entry point for the console). */
export async function auditReport(files: readonly string[], opts: ReportOptions = {}): Promise<AuditReport> {
  for (const f of files) {
    try {
      await access(f);
    } catch {
      throw new InputError(`cannot read audit file ${f}`);
    }
  }
  const by = opts.by ?? "agent";
  const counters = { skipped: 0 };
  const rows = new Map<string, ReportRow>();
  const total = emptyRow("total");
  const prices = opts.config?.prices_usd_per_million;
  const now = opts.now ?? Date.now();
  const month = monthStart(now);
  // This month's use per agent (for budget left), whatever --since says.
  const monthUse = new Map<string, Record<string, number>>();
  const report: AuditReport = { by, files: [...files], lines: 0, skipped: 0, reloads: 0, rows: [], total };
  if (opts.since !== undefined) report.since = new Date(opts.since).toISOString();
  if (opts.until !== undefined) report.until = new Date(opts.until).toISOString();
  let priced = false;
  for await (const line of mergeByTime(files.map((f) => linesOf(f, counters)))) {
    const e = line.event;
    if (e.event === "config_reload") {
      report.reloads++;
      continue;
    }
    if (typeof e.tool !== "string" || typeof e.agent !== "string") {
      counters.skipped++;
      continue;
    }
    const billed = (e.billedUnits ?? {}) as Record<string, number>;
    let usd: number | undefined = typeof e.usd === "number" ? e.usd : undefined;
    if (usd === undefined && prices && Object.keys(billed).length) {
      const p = priceFor(prices, typeof e.model === "string" ? e.model : "");
      if (p) usd = costNanos(billed, p.prices) / 1e9;
    }
    if (line.time >= month && line.time <= now && e.decision === "allowed") {
      const m = monthUse.get(e.agent) ?? {};
      m.calls = (m.calls ?? 0) + 1;
      for (const [u, n] of Object.entries(billed)) m[u] = (m[u] ?? 0) + n;
      if (usd !== undefined) m.usd = (m.usd ?? 0) + usd;
      monthUse.set(e.agent, m);
    }
    if (opts.since !== undefined && line.time < opts.since) continue;
    if (opts.until !== undefined && line.time >= opts.until) continue;
    report.lines++;
    report.first ??= line.iso;
    report.last = line.iso;
    const denied = e.decision === "denied";
    const reason = denied ? String(e.reason ?? "unknown") : "(allowed)";
    const key =
      by === "agent" ? e.agent : by === "tool" ? e.tool : by === "reason" ? reason : by === "key" ? String(e.key ?? "default") : String(e.replica ?? line.file);
    let row = rows.get(key);
    if (!row) rows.set(key, (row = emptyRow(key)));
    // A throttle summary line stands for the refusals it left out.
    const n = denied && e.reason === "throttled" && typeof e.suppressed === "number" ? e.suppressed : 1;
    for (const r of [row, total]) {
      r.calls += n;
      if (denied) {
        r.denied += n;
        r.denials[reason] = (r.denials[reason] ?? 0) + n;
      } else r.allowed += 1;
      for (const [u, v] of Object.entries(billed)) if (typeof v === "number") r.billed[u] = (r.billed[u] ?? 0) + v;
      if (usd !== undefined) {
        r.usd = (r.usd ?? 0) + usd;
        priced = true;
      }
    }
  }
  report.skipped = counters.skipped;
  report.rows = [...rows.values()].sort((a, b) => b.calls - a.calls || a.key.localeCompare(b.key));
  if (by === "agent" && opts.config) {
    for (const row of report.rows) {
      const agent = opts.config.agents?.find((a) => a.name === row.key);
      const profile = agent?.profile ?? (row.key.startsWith("oauth:") ? row.key.slice(6) : undefined);
      const budget = profile ? opts.config.profiles[profile]?.budget : undefined;
      if (!budget) continue;
      const used = monthUse.get(row.key) ?? {};
      const left: Record<string, number> = {};
      for (const unit of ["calls", ...BILLED_UNITS, "usd"] as const) {
        const limit = budget[unit];
        if (limit !== undefined) left[unit] = Math.max(0, Math.round((limit - (used[unit] ?? 0)) * 1e6) / 1e6);
      }
      row.budgetLeft = left;
    }
  }
  if (!priced) for (const r of [...report.rows, total]) delete r.usd;
  return report;
}

/** "today", "month" or an ISO time → ms since epoch. */
export function parseWhen(flag: string, value: string, now = Date.now()): number {
  const d = new Date(now);
  if (value === "today") return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (value === "month") return monthStart(now);
  const t = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(t)) throw new UsageError(`report: ${flag} must be today, month or an ISO time (2026-12-01 or 2026-12-01T09:00:00Z), got "${value.slice(0, 40)}"`);
  return t;
}

/** "$2.50", or two significant digits under a cent ("$0.0030"): as the budget messages write it. */
const dollars = (usd: number) => usdText(Math.round(usd * 1e9));

const units = (o: Record<string, number> | undefined) =>
  o === undefined
    ? ""
    : Object.entries(o)
        .map(([k, v]) => (k === "usd" ? `usd ${dollars(v)}` : `${k} ${v}`))
        .join(", ");

export function reportRows(r: AuditReport): Array<Record<string, string | number>> {
  return [...r.rows, r.total].map((row) => ({
    key: row.key,
    calls: row.calls,
    allowed: row.allowed,
    denied: row.denied,
    denials: Object.entries(row.denials)
      .map(([k, v]) => `${k} ${v}`)
      .join(", "),
    billed: units(row.billed),
    usd: row.usd === undefined ? "" : dollars(row.usd),
    budget_left: units(row.budgetLeft),
  }));
}

export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs("report", argv, { since: { type: "string" }, until: { type: "string" }, by: { type: "string" }, config: { type: "string" } }, true);
  if (!p.positionals.length) throw new UsageError("report: give one or more audit files. Run cohere-mcp report --help.");
  const by = (p.values.by as string | undefined) ?? "agent";
  if (!(REPORT_BY as readonly string[]).includes(by)) throw new UsageError(`report: --by must be one of ${REPORT_BY.join(", ")}, got "${by.slice(0, 40)}"`);
  const since = p.values.since !== undefined ? parseWhen("--since", p.values.since as string) : undefined;
  const until = p.values.until !== undefined ? parseWhen("--until", p.values.until as string) : undefined;
  const config = p.values.config !== undefined ? loadConfigFile(p.values.config as string) : undefined;
  const r = await auditReport(p.positionals, { by: by as ReportBy, since, until, config });
  if (r.skipped) io.stderr(`cohere-mcp report: skipped ${r.skipped === 1 ? "1 line that is not an audit line" : `${r.skipped} lines that are not audit lines`}\n`);
  const columns: Column[] = [
    { key: "key", title: by },
    { key: "calls", title: "calls", right: true },
    { key: "allowed", title: "allowed", right: true },
    { key: "denied", title: "denied", right: true },
    { key: "denials", title: "denials by reason" },
    { key: "billed", title: "billed units" },
    ...(r.total.usd !== undefined ? [{ key: "usd", title: "usd", right: true }] : []),
    ...(r.rows.some((x) => x.budgetLeft) ? [{ key: "budget_left", title: "budget left this month" }] : []),
  ];
  let out = render(p.format, r, reportRows(r), columns);
  if (p.format === "table") {
    out += `${r.lines} call line${r.lines === 1 ? "" : "s"} from ${r.files.length} file${r.files.length === 1 ? "" : "s"}${r.first ? `, ${r.first} to ${r.last}` : ""}${r.reloads ? `; ${r.reloads} configuration reload${r.reloads === 1 ? "" : "s"}` : ""}\n`;
  }
  io.stdout(out);
  return EXIT.ok;
}
