// The access grid: one row per agent, one column per capability group, each cell Off / Read /
// Full use (Custom when the agent's tools of that group match neither). Changes are collected,
// previewed in plain English by the server (POST grid/preview), confirmed a second time when they
// grant tools that cannot be undone, and saved against the version they were made on (PUT grid;
// 409 shows what the other admin changed).
import { api, ApiError, canEdit, clear, el, errorText, session, start, status } from "./common.js";

const LEVELS = [
  ["off", "Off"],
  ["read", "Read"],
  ["full", "Full use"],
];
const CLASS_TEXT = { read: "reads", write: "changes", destructive: "cannot be undone" };

let grid = null;
/** @type {Map<string, {agent: string, group?: string, level?: string, tool?: string, on?: boolean}>} */
const pending = new Map();
let editable = false;

const $ = (id) => document.getElementById(id);
const key = (agent, what) => agent + "\u0000" + what;

async function load() {
  grid = await api("grid");
  editable = grid.editable !== false && canEdit();
  // Keep the changes still meaningful on the new version (after a conflict), drop the rest.
  for (const [k, c] of pending) {
    const row = grid.rows.find((r) => r.agent === c.agent);
    if (!row) pending.delete(k);
    else if (c.group && row.cells[c.group] === c.level) pending.delete(k);
    else if (c.tool && row.tools.includes(c.tool) === c.on) pending.delete(k);
  }
  banner();
  render();
  bar();
}

function banner() {
  const b = $("banner");
  let text = "";
  if (grid.editable === false) text = `View only: ${grid.readonly_reason || "this configuration cannot be changed from the console."}`;
  else if (!canEdit()) text = "You are signed in as a viewer: you can see the access rules but not change them.";
  b.textContent = text;
  b.hidden = !text;
}

function render() {
  const wrap = clear($("grid-wrap"));
  if (!grid.rows.length) {
    wrap.append(el("p", { class: "muted" }, "No agents yet. Create one on the Agents page."));
    return;
  }
  const head = el(
    "tr",
    {},
    el("th", { scope: "col", class: "agent-col" }, "Agent"),
    grid.groups.map((g) => el("th", { scope: "col" }, g.label)),
  );
  const body = grid.rows.map((row) =>
    el(
      "tr",
      {},
      el(
        "th",
        { scope: "row", class: "agent-col" },
        el("span", { class: "agent-name" }, row.agent),
        el("span", { class: "agent-meta" }, row.kind === "oauth_rule" ? `sign-in rule · ${row.profile}` : `profile ${row.profile}`),
        el("button", { type: "button", class: "link small", onclick: () => openTools(row.agent) , "aria-label": `Per-tool settings for ${row.agent}` }, "Per tool…"),
      ),
      grid.groups.map((g) => cell(row, g)),
    ),
  );
  wrap.append(
    el(
      "table",
      { class: "grid", id: "grid" },
      el("caption", { class: "sr-only" }, "Access of each agent to each capability"),
      el("thead", {}, head),
      el("tbody", {}, body),
    ),
  );
}

function cell(row, g) {
  const current = row.cells[g.id] || "off";
  const p = pending.get(key(row.agent, "g:" + g.id));
  const value = p ? p.level : current;
  const options = LEVELS.map(([v, t]) => el("option", { value: v, selected: v === value }, t));
  if (current === "custom") options.push(el("option", { value: "custom", selected: value === "custom" }, "Custom"));
  const select = el(
    "select",
    {
      "aria-label": `${row.agent}: ${g.label}`,
      "data-agent": row.agent,
      "data-group": g.id,
      disabled: !editable,
      onchange: (ev) => setLevel(row, g, ev.target.value),
    },
    options,
  );
  const td = el("td", { "data-label": g.label, class: `lvl-${value}${p ? " changed" : ""}` }, select);
  if (current === "custom" || value === "custom" || toolChangesIn(row.agent, g).length) {
    td.append(
      el(
        "button",
        { type: "button", class: "link small", onclick: () => openTools(row.agent, g.id), "aria-label": `${g.label} tools for ${row.agent}` },
        "Tools…",
      ),
    );
  }
  if (value === "full" && value === current && (row.destructive_on || []).includes(g.id)) {
    td.append(el("span", { class: "hint danger-text" }, "incl. deleting"));
  } else if (value === "full" && value !== current) {
    const destructive = g.tools.filter((t) => t.class === "destructive" && !t.deprecated).map((t) => t.name);
    if (destructive.length) td.append(el("span", { class: "hint danger-text" }, `incl. ${destructive.join(", ")}`));
  }
  return td;
}

function toolChangesIn(agent, g) {
  return g.tools.filter((t) => pending.has(key(agent, "t:" + t.name)));
}

function setLevel(row, g, level) {
  const k = key(row.agent, "g:" + g.id);
  // A group level replaces any per-tool exceptions of that group made in this edit.
  for (const t of g.tools) pending.delete(key(row.agent, "t:" + t.name));
  if (level === (row.cells[g.id] || "off") || level === "custom") pending.delete(k);
  else pending.set(k, { agent: row.agent, group: g.id, level });
  render();
  bar();
  const again = document.querySelector(`select[data-agent="${CSS.escape(row.agent)}"][data-group="${CSS.escape(g.id)}"]`);
  if (again) again.focus();
}

function bar() {
  $("savebar").hidden = !editable || pending.size === 0;
  $("pending-count").textContent = pending.size === 1 ? "1 unsaved change" : `${pending.size} unsaved changes`;
}

function openTools(agent, groupId) {
  const row = grid.rows.find((r) => r.agent === agent);
  const groups = groupId ? grid.groups.filter((g) => g.id === groupId) : grid.groups;
  $("tools-h").textContent = groupId ? `${groups[0].label}: ${agent}'s tools` : `${agent}'s tools`;
  const body = clear($("tools-body"));
  for (const g of groups) {
    const fs = el("fieldset", { class: "tools" }, el("legend", {}, `${g.label} (${levelText(row.cells[g.id])})`));
    for (const t of g.tools) {
      const k = key(agent, "t:" + t.name);
      const has = row.tools.includes(t.name);
      const p = pending.get(k);
      const id = "t-" + g.id + "-" + t.name;
      fs.append(
        el(
          "div",
          { class: "tool" + (t.deprecated ? " deprecated" : "") },
          el("input", {
            type: "checkbox",
            id,
            checked: p ? p.on : has,
            disabled: !editable,
            onchange: (ev) => {
              const on = ev.target.checked;
              if (on === has) pending.delete(k);
              else pending.set(k, { agent, tool: t.name, on });
              bar();
            },
          }),
          el(
            "label",
            { for: id },
            el("span", { class: "tool-title" }, t.title || t.name),
            " ",
            el("code", {}, t.name),
            " ",
            el("span", { class: "badge " + t.class }, CLASS_TEXT[t.class] || t.class),
            t.deprecated ? el("span", { class: "badge deprecated" }, "deprecated") : null,
          ),
        ),
      );
    }
    body.append(fs);
  }
  $("tools").showModal();
}

const levelText = (l) => ({ off: "Off", read: "Read", full: "Full use", custom: "Custom" })[l] || "Off";

function changes(confirmed) {
  return [...pending.values()].map((c) =>
    c.group ? { agent: c.agent, group: c.group, level: c.level, ...(confirmed && c.level === "full" ? { confirm_destructive: true } : {}) } : { agent: c.agent, tool: c.tool, on: c.on },
  );
}

let needsConfirm = [];

async function review() {
  const dlg = $("preview");
  const list = clear($("preview-sentences"));
  $("preview-error").textContent = "";
  const confirm = $("confirm-destructive");
  confirm.checked = false;
  let p;
  try {
    p = await api("grid/preview", { method: "POST", body: { changes: changes(false) } });
  } catch (e) {
    status(errorText(e), "error");
    return;
  }
  for (const s of p.sentences || []) list.append(el("li", {}, s));
  needsConfirm = p.needs_confirmation || [];
  const danger = $("preview-destructive");
  danger.hidden = needsConfirm.length === 0;
  if (needsConfirm.length) {
    $("preview-destructive-text").textContent = `Full use includes ${needsConfirm.length === 1 ? "a tool" : "tools"} that cannot be undone: ${needsConfirm.join(", ")}.`;
    $("confirm-destructive-label").textContent = `Yes, allow ${needsConfirm.join(", ")}`;
  }
  syncSave();
  dlg.showModal();
}

function syncSave() {
  $("preview-save").disabled = needsConfirm.length > 0 && !$("confirm-destructive").checked;
}

async function save() {
  const err = $("preview-error");
  err.textContent = "";
  const button = $("preview-save");
  button.disabled = true;
  try {
    const r = await api("grid", { method: "PUT", body: { version: grid.version, changes: changes(needsConfirm.length > 0) } });
    pending.clear();
    $("preview").close();
    $("conflict").hidden = true;
    status((r.sentences || []).join(" ") || "Saved.");
    await load();
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) {
      $("preview").close();
      conflict(e.body || {});
    } else {
      err.textContent = errorText(e);
      syncSave();
    }
  }
}

function conflict(body) {
  const box = clear($("conflict"));
  box.append(
    el("h2", {}, "Someone else saved first"),
    el("p", {}, "Your changes were not saved. Since you loaded this page:"),
    el("ul", { class: "sentences" }, (body.changed || []).map((s) => el("li", {}, s))),
    el(
      "button",
      {
        type: "button",
        class: "primary",
        onclick: async () => {
          box.hidden = true;
          await load();
          status("Loaded the current version; your unsaved changes are kept where they still differ.");
        },
      },
      "Load their version and keep my changes",
    ),
  );
  box.hidden = false;
  box.querySelector("button").focus();
}

start(async () => {
  await session();
  $("review").addEventListener("click", review);
  $("discard").addEventListener("click", () => {
    pending.clear();
    render();
    bar();
  });
  $("preview-cancel").addEventListener("click", () => $("preview").close());
  $("preview-save").addEventListener("click", save);
  $("confirm-destructive").addEventListener("change", syncSave);
  $("tools-close").addEventListener("click", () => $("tools").close());
  $("tools").addEventListener("close", () => render());
  await load();
});
