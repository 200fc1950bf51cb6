/**
 * Output of the operator's commands: one typed value per command, printed as a table (default),
 * JSON, CSV or Markdown. Table, CSV and Markdown render the same rows; JSON prints the command's
 * typed result whole (what the admin console reads).
 */
export const FORMATS = ["table", "json", "csv", "markdown"] as const;
export type Format = (typeof FORMATS)[number];

export type Cell = string | number | boolean | undefined | null;
export type Row = Record<string, Cell>;

export interface Column {
  key: string;
  title: string;
  /** Right-align (numbers) in a table. */
  right?: boolean;
}

const cellText = (v: Cell): string => (v === undefined || v === null ? "" : typeof v === "number" ? fmtNumber(v) : String(v));

function fmtNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 10000) / 10000);
}

/** Control characters (a hostile tool name in an audit file) never reach the terminal. */
const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, "?");

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function mdCell(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** Render rows in table, csv or markdown form (json is the caller's: it prints its typed result). */
export function renderRows(rows: readonly object[], columns: readonly Column[], format: Exclude<Format, "json">): string {
  const text = rows.map((r) => columns.map((c) => clean(cellText((r as Row)[c.key]))));
  if (format === "csv") {
    return [columns.map((c) => csvCell(c.title)).join(","), ...text.map((r) => r.map(csvCell).join(","))].join("\n") + "\n";
  }
  if (format === "markdown") {
    const head = `| ${columns.map((c) => mdCell(c.title)).join(" | ")} |`;
    const rule = `| ${columns.map((c) => (c.right ? "---:" : "---")).join(" | ")} |`;
    return [head, rule, ...text.map((r) => `| ${r.map(mdCell).join(" | ")} |`)].join("\n") + "\n";
  }
  const widths = columns.map((c, i) => Math.max(c.title.length, ...text.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((s, i) => (columns[i]!.right ? s.padStart(widths[i]!) : i === cells.length - 1 ? s : s.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.title.toUpperCase())), ...text.map(line)].join("\n") + "\n";
}

/** Print a command's result: `json` whole, otherwise its rows. */
export function render(format: Format, json: unknown, rows: readonly object[], columns: readonly Column[]): string {
  if (format === "json") return JSON.stringify(json, null, 2) + "\n";
  return renderRows(rows, columns, format);
}
