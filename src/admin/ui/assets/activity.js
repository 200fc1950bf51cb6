// Activity: the audit trail (calls and console changes, every replica's) as plain-English
// sentences, newest first; live through Server-Sent Events; filtered; each line opens into its
// JSON; the filtered view exports as JSONL or CSV.
import { API, api, clear, el, fmtTime, session, start, status } from "./common.js";

const $ = (id) => document.getElementById(id);
const MAX = 500;
let source = null;
let paused = false;
let held = [];
const seen = new Set();

function filters() {
  const q = new URLSearchParams();
  const f = $("filters");
  for (const name of ["agent", "tool", "decision", "outcome"]) {
    const v = f.elements[name].value.trim();
    if (v) q.set(name, v);
  }
  for (const name of ["since", "until"]) {
    const v = f.elements[name].value;
    if (v) {
      const d = new Date(v);
      if (!isNaN(d.getTime())) q.set(name, d.toISOString());
    }
  }
  return q;
}

function idOf(e) {
  return e.id ? String(e.id) : `${e.time}\u0000${e.replica ?? ""}\u0000${e.sentence}`;
}

function line(e) {
  const ev = e.event || {};
  const denied = ev.decision === "denied" || ev.outcome === "rejected";
  const failed = ev.outcome && ev.outcome !== "ok" && !denied;
  return el(
    "li",
    { class: "event" + (denied ? " denied" : failed ? " failed" : ev.admin ? " admin" : "") },
    el(
      "details",
      {},
      el(
        "summary",
        {},
        el("time", { datetime: e.time }, fmtTime(e.time)),
        " ",
        el("span", { class: "sentence" }, e.sentence || ""),
        e.replica ? el("span", { class: "replica" }, ` on ${e.replica}`) : null,
      ),
      el("pre", { class: "json" }, JSON.stringify(ev, null, 2)),
    ),
  );
}

function add(list, events, atTop) {
  const ol = $("events");
  const frag = document.createDocumentFragment();
  for (const e of events) {
    const k = idOf(e);
    if (seen.has(k)) continue;
    seen.add(k);
    frag.append(line(e));
  }
  if (atTop) ol.prepend(frag);
  else ol.append(frag);
  if (atTop) while (ol.children.length > MAX) ol.lastElementChild.remove();
  $("events-empty").hidden = ol.children.length > 0;
}

const PAGE = 200;
let oldest = null;

async function load() {
  const q = filters();
  q.set("limit", String(PAGE));
  seen.clear();
  held = [];
  clear($("events"));
  const r = await api("activity?" + q);
  const events = r.events || [];
  add(null, events, false);
  more(events);
  for (const fmt of ["jsonl", "csv"]) {
    const x = filters();
    x.set("format", fmt);
    $("export-" + fmt).href = API + "activity/export?" + x;
  }
  live(filters());
}

/** "Show older" when the page was full and the server gives ids to page by (`before`). */
function more(events) {
  const last = events[events.length - 1];
  oldest = last && last.id ? last.id : null;
  $("older").hidden = !(oldest && events.length >= PAGE);
}

async function older() {
  const q = filters();
  q.set("limit", String(PAGE));
  q.set("before", oldest);
  const r = await api("activity?" + q);
  const events = r.events || [];
  add(null, events, false);
  more(events);
}

function live(q) {
  if (source) source.close();
  const liveEl = $("live");
  liveEl.textContent = "Connecting…";
  source = new EventSource(API + "activity/stream?" + q, { withCredentials: true });
  source.onopen = () => {
    liveEl.textContent = paused ? "Paused" : "Live";
    liveEl.dataset.state = "live";
  };
  source.onerror = () => {
    liveEl.textContent = "Reconnecting…";
    liveEl.dataset.state = "down";
  };
  const onData = (m) => {
    let e;
    try {
      e = JSON.parse(m.data);
    } catch {
      return;
    }
    if (!e || typeof e !== "object") return;
    const batch = Array.isArray(e) ? e : e.events ? e.events : [e];
    if (paused) {
      held.push(...batch);
      $("live").textContent = `Paused (${held.length} new)`;
      return;
    }
    // A batch arrives oldest first; each goes on top.
    for (const x of batch) add(null, [x], true);
  };
  source.onmessage = onData;
  source.addEventListener("activity", onData);
}

start(async () => {
  await session();
  const f = $("filters");
  f.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void load().catch((e) => status(String(e.message || e), "error"));
  });
  f.addEventListener("reset", () => setTimeout(() => void load(), 0));
  $("pause").addEventListener("click", () => {
    paused = !paused;
    $("pause").setAttribute("aria-pressed", String(paused));
    $("pause").textContent = paused ? "Resume" : "Pause";
    if (!paused) {
      for (const x of held) add(null, [x], true);
      held = [];
      $("live").textContent = "Live";
    } else $("live").textContent = "Paused";
  });
  $("older").addEventListener("click", () => void older().catch((e) => status(String(e.message || e), "error")));
  try {
    const agents = await api("agents");
    const names = (Array.isArray(agents) ? agents : agents.agents || []).map((a) => a.name);
    for (const n of names) $("f-agents").append(el("option", { value: n }));
  } catch {
    /* the filter still takes any name */
  }
  const pre = new URLSearchParams(location.search);
  for (const name of ["agent", "tool", "decision", "outcome"]) if (pre.get(name)) f.elements[name].value = pre.get(name);
  await load();
});
