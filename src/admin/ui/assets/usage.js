// Usage for a month: per agent and per Cohere key — calls, refusals, billed units, USD where
// prices are configured, budget used and left — and a bar chart of calls per day, drawn here as
// SVG (no chart library, no external asset).
import { api, budgets, budgetText as oneBudget, clear, el, fmtNumber, fmtUsd, session, start, svg } from "./common.js";

const $ = (id) => document.getElementById(id);

function unitsText(u) {
  if (u === undefined || u === null) return "—";
  if (typeof u === "number") return fmtNumber(u);
  const parts = Object.entries(u).filter(([, v]) => typeof v === "number" && v > 0);
  return parts.length ? parts.map(([k, v]) => `${fmtNumber(v)} ${k.replace(/_/g, " ")}`).join(", ") : "0";
}

function budgetText(b) {
  const list = budgets(b);
  return list.length ? list.map(oneBudget).join("; ") : "no limit";
}

/** Calls per day of the month as bars; the numbers are also in the SVG's title for screen readers. */
function chart(name, month, days) {
  const [y, m] = month.split("-").map(Number);
  const n = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const byDay = new Map();
  for (const d of days || []) byDay.set(Number(String(d.day).slice(-2)), d);
  const max = Math.max(1, ...[...byDay.values()].map((d) => d.calls || 0));
  const W = 310;
  const H = 64;
  const bw = W / n;
  const total = [...byDay.values()].reduce((s, d) => s + (d.calls || 0), 0);
  const busiest = [...byDay.entries()].sort((a, b) => (b[1].calls || 0) - (a[1].calls || 0))[0];
  const label = `${name}: ${fmtNumber(total)} calls in ${month}` + (busiest ? `, most on day ${busiest[0]} (${fmtNumber(busiest[1].calls || 0)})` : "");
  const g = svg("svg", { viewBox: `0 0 ${W} ${H + 12}`, class: "chart", role: "img", "aria-label": label }, svg("title", {}, label));
  for (let day = 1; day <= n; day++) {
    const d = byDay.get(day);
    const calls = (d && d.calls) || 0;
    const h = calls ? Math.max(1, (calls / max) * H) : 0;
    const bar = svg("rect", { x: (day - 1) * bw + 0.5, y: H - h, width: Math.max(1, bw - 1), height: h, class: "bar" });
    bar.append(svg("title", {}, `Day ${day}: ${fmtNumber(calls)} calls` + (d && typeof d.usd === "number" ? `, ${fmtUsd(d.usd)}` : "")));
    g.append(bar);
  }
  g.append(svg("line", { x1: 0, y1: H + 0.5, x2: W, y2: H + 0.5, class: "axis" }));
  for (const day of [1, 10, 20, n]) g.append(svg("text", { x: (day - 0.5) * bw, y: H + 11, class: "tick" }, String(day)));
  return g;
}

function table(rows, nameKey, nameLabel, month, withBudget) {
  if (!rows.length) return el("p", { class: "muted" }, "No calls this month.");
  return el(
    "div",
    { class: "table-scroll" },
    el(
      "table",
      { class: "plain usage" },
      el(
        "thead",
        {},
        el(
          "tr",
          {},
          el("th", { scope: "col" }, nameLabel),
          el("th", { scope: "col", class: "num" }, "Calls"),
          el("th", { scope: "col", class: "num" }, "Refused"),
          el("th", { scope: "col" }, "Billed units"),
          el("th", { scope: "col", class: "num" }, "USD"),
          withBudget ? el("th", { scope: "col" }, "Budget") : null,
          el("th", { scope: "col" }, "Calls per day"),
        ),
      ),
      el(
        "tbody",
        {},
        rows.map((r) =>
          el(
            "tr",
            {},
            el("th", { scope: "row" }, r[nameKey] ?? ""),
            el("td", { class: "num", "data-label": "Calls" }, fmtNumber(r.calls)),
            el("td", { class: "num", "data-label": "Refused" }, fmtNumber(r.denied)),
            el("td", { "data-label": "Billed units" }, unitsText(r.units)),
            el("td", { class: "num", "data-label": "USD" }, fmtUsd(r.usd)),
            withBudget ? el("td", { "data-label": "Budget" }, budgetText(r.budget)) : null,
            el("td", { class: "chart-cell" }, chart(String(r[nameKey] ?? ""), month, r.days)),
          ),
        ),
      ),
    ),
  );
}

async function load(month) {
  const r = await api("usage?month=" + encodeURIComponent(month));
  clear($("by-agent")).append(table(r.agents || [], "agent", "Agent", month, true));
  clear($("by-key")).append(table(r.keys || [], "key", "Key", month, false));
}

start(async () => {
  await session();
  const input = $("month");
  const now = new Date();
  input.value = new URLSearchParams(location.search).get("month") || `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
  $("month-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    history.replaceState(null, "", "?month=" + encodeURIComponent(input.value));
    void load(input.value);
  });
  await load(input.value);
});
