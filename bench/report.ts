/** What the bench prints (and writes to RESULTS.md): lines, number formats, and the targets table. */

export const lines: string[] = [];

export function out(line = ""): void {
  lines.push(line);
  process.stdout.write(line + "\n");
}

export const f1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : "n/a");
export const f2 = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "n/a");
export const f3 = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : "n/a");
export const ratio = (a: number, b: number): number => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN);
export const int = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");
/** A signed difference in µs from two values in ms. */
export const usDiff = (a: number, b: number): string => {
  const d = (a - b) * 1000;
  return Number.isFinite(d) ? `${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(0)} µs` : "n/a";
};

export interface Target {
  item: string;
  target: string;
  measured: string;
  met: boolean | undefined; // undefined: could not be measured
}

export const targets: Target[] = [];

export function target(item: string, goal: string, measured: string, met: boolean | undefined): void {
  targets.push({ item, target: goal, measured, met });
}

export const verdict = (t: Target): string => (t.met === undefined ? "n/a" : t.met ? "MET" : "MISSED");

export const targetRow = (t: Target): string => `| ${t.item} | ${t.target} | ${t.measured} | ${verdict(t)} |`;
