// Agents: create one (its token shown once), add / rotate / revoke tokens, limits, this month's
// budget (reset or top up), the Cohere key it uses (by name) and its open sessions (end one).
import { api, budgets, budgetText, canEdit, clear, el, errorText, fmtTime, session, start, status } from "./common.js";

const $ = (id) => document.getElementById(id);
let agents = [];

async function load() {
  const r = await api("agents");
  agents = Array.isArray(r) ? r : r.agents || [];
  const profiles = clear($("profiles"));
  for (const p of [...new Set(agents.map((a) => a.profile).filter(Boolean))].sort()) profiles.append(el("option", { value: p }));
  render();
}

function render() {
  const box = clear($("agents"));
  if (!agents.length) box.append(el("p", { class: "muted" }, "No agents."));
  for (const a of agents) box.append(card(a));
}

const id = (prefix, name) => prefix + "-" + name.replace(/[^A-Za-z0-9_-]/g, "_");

function card(a) {
  const edit = canEdit() && a.kind !== "oauth_rule";
  const h = id("agent", a.name);
  return el(
    "section",
    { class: "card agent", "aria-labelledby": h },
    el("h2", { id: h }, a.name, " ", el("span", { class: "agent-meta" }, a.kind === "oauth_rule" ? `sign-in rule · profile ${a.profile}` : `profile ${a.profile}`)),
    el(
      "div",
      { class: "facts" },
      fact("Cohere key", a.key || "default"),
      fact("Limits", limitsText(a.limits)),
      budgetFact(a),
    ),
    a.kind === "oauth_rule" ? null : tokens(a, edit),
    sessions(a, edit),
    edit && budgets(a.budget).length ? budgetForm(a) : null,
  );
}

function fact(label, value) {
  return el("div", { class: "fact" }, el("span", { class: "fact-label" }, label), el("span", { class: "fact-value" }, value));
}

function limitsText(l) {
  if (!l || typeof l !== "object" || !Object.keys(l).length) return "none";
  return Object.entries(l)
    .map(([k, v]) => `${k.replace(/_/g, " ")}: ${typeof v === "object" ? JSON.stringify(v) : v}`)
    .join("; ");
}

function budgetFact(a) {
  const list = budgets(a.budget);
  if (!list.length) return fact("Budget this month", "no limit");
  return el(
    "div",
    { class: "fact" },
    el("span", { class: "fact-label" }, "Budget this month"),
    list.map((b) => {
      const limit = Number(b.limit) || 0;
      const used = Number(b.used) || 0;
      return el(
        "div",
        { class: "budget" },
        el("span", { class: "fact-value" }, budgetText(b)),
        el("meter", { min: 0, max: limit || 1, value: Math.min(used, limit), low: limit * 0.7, high: limit * 0.9, optimum: 0, "aria-label": `${a.name}'s ${b.unit || ""} budget used` }),
      );
    }),
  );
}

function tokens(a, edit) {
  const list = a.tokens || [];
  const labelId = id("newtok", a.name);
  return el(
    "div",
    { class: "sub" },
    el("h3", {}, "Tokens"),
    list.length
      ? el(
          "table",
          { class: "plain" },
          el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "Label"), el("th", { scope: "col" }, "Expires"), edit ? el("th", { scope: "col" }, el("span", { class: "sr-only" }, "Actions")) : null)),
          el(
            "tbody",
            {},
            list.map((t) =>
              el(
                "tr",
                {},
                el("td", {}, t.label || "(unlabelled)"),
                el("td", {}, t.not_after ? fmtTime(t.not_after) : "never"),
                edit
                  ? el(
                      "td",
                      { class: "row-actions" },
                      el("button", { type: "button", onclick: () => rotate(a, t.label), "aria-label": `Rotate ${a.name}'s token ${t.label}` }, "Rotate"),
                      el("button", { type: "button", class: "danger", onclick: () => revoke(a, t.label), "aria-label": `Revoke ${a.name}'s token ${t.label}` }, "Revoke"),
                    )
                  : null,
              ),
            ),
          ),
        )
      : el("p", { class: "muted" }, "No tokens."),
    edit
      ? el(
          "form",
          { class: "row-form", onsubmit: (ev) => addToken(ev, a, labelId) },
          el("label", { for: labelId }, "New token label"),
          el("input", { id: labelId, required: true, maxlength: 64, autocomplete: "off", spellcheck: "false" }),
          el("button", { type: "submit" }, "Add token"),
        )
      : null,
  );
}

function sessions(a, edit) {
  const list = a.sessions || [];
  return el(
    "div",
    { class: "sub" },
    el("h3", {}, `Open sessions (${list.length})`),
    list.length
      ? el(
          "ul",
          { class: "sessions" },
          list.map((s) =>
            el(
              "li",
              {},
              el("code", {}, s.id),
              ` opened ${fmtTime(s.opened_at)}${s.replica ? ` on replica ${s.replica}` : ""} `,
              edit ? el("button", { type: "button", onclick: () => endSession(a, s.id), "aria-label": `End session ${s.id}` }, "End") : null,
            ),
          ),
        )
      : el("p", { class: "muted" }, "None."),
  );
}

function budgetForm(a) {
  const amt = id("topup", a.name);
  const unitId = id("unit", a.name);
  const units = budgets(a.budget).map((b) => b.unit);
  return el(
    "div",
    { class: "sub" },
    el("h3", {}, "Budget"),
    el(
      "form",
      { class: "row-form", onsubmit: (ev) => budget(ev, a, "top_up", amt, unitId) },
      el("label", { for: amt }, "Top up by"),
      el("input", { id: amt, type: "number", min: 0, step: "any", required: true }),
      units.length > 1
        ? [el("label", { for: unitId, class: "sr-only" }, "Unit"), el("select", { id: unitId }, units.map((u) => el("option", { value: u }, u)))]
        : el("span", { id: unitId, "data-unit": units[0] || "" }, units[0] || ""),
      el("button", { type: "submit" }, "Top up"),
      el("button", { type: "button", onclick: (ev) => budget(ev, a, "reset") }, "Reset this month"),
    ),
  );
}

function showSecret(text, token) {
  $("secret-text").textContent = text;
  const v = $("secret-value");
  v.value = token;
  $("secret-copied").textContent = "";
  $("secret").showModal();
  v.select();
}

async function act(fn, done) {
  try {
    const r = await fn();
    if (done) status(done);
    await load();
    return r;
  } catch (e) {
    status(errorText(e), "error");
    return undefined;
  }
}

const enc = encodeURIComponent;

async function addToken(ev, a, labelId) {
  ev.preventDefault();
  const label = $(labelId).value.trim();
  const r = await act(() => api(`agents/${enc(a.name)}/tokens`, { method: "POST", body: { label } }), `Token ${label} added to ${a.name}.`);
  if (r && r.token) showSecret(r.rotated ? `New token "${label}" for ${a.name}; it replaces the old one, which no longer works:` : `New token "${label}" for ${a.name}:`, r.token);
}

async function rotate(a, label) {
  const next = `${label.replace(/-r\d+$/, "")}-r${Date.now().toString(36)}`.slice(0, 64);
  if (!confirm(`Rotate ${a.name}'s token "${label}"? A new token is made and the old one stops working at once (its sessions end).`)) return;
  const r = await act(async () => {
    const made = await api(`agents/${enc(a.name)}/tokens`, { method: "POST", body: { label: next } });
    // An agent with a single credential has it replaced by the POST itself (`rotated`); otherwise
    // the old token is revoked now.
    if (!made.rotated) await api(`agents/${enc(a.name)}/tokens/${enc(label)}`, { method: "DELETE" });
    return made;
  }, `Token ${label} of ${a.name} rotated.`);
  if (r && r.token) showSecret(`New token "${next}" for ${a.name} (replaces "${label}"):`, r.token);
}

async function revoke(a, label) {
  if (!confirm(`Revoke ${a.name}'s token "${label}"? Its open sessions end at once.`)) return;
  await act(() => api(`agents/${enc(a.name)}/tokens/${enc(label)}`, { method: "DELETE" }), `Token ${label} of ${a.name} revoked.`);
}

async function endSession(a, sid) {
  const r = await act(() => api(`agents/${enc(a.name)}/sessions/${enc(sid)}`, { method: "DELETE" }));
  // with replicas, the one holding the session ends it (the answer names it)
  if (r) status(r.ended ? `Session ended${r.replica ? ` on replica ${r.replica}` : ""}.` : `Replica ${r.replica} was asked to end the session; it has not confirmed yet.`);
}

async function budget(ev, a, action, amtId, unitId) {
  ev.preventDefault();
  const body = { action };
  if (action === "top_up") {
    body.amount = Number($(amtId).value);
    const u = $(unitId);
    const unit = u && (u.value || u.dataset.unit);
    if (unit) body.unit = unit;
  } else if (!confirm(`Reset ${a.name}'s budget used this month to zero?`)) return;
  await act(() => api(`agents/${enc(a.name)}/budget`, { method: "POST", body }), action === "reset" ? `${a.name}'s budget reset.` : `${a.name}'s budget topped up.`);
}

start(async () => {
  await session();
  if (canEdit()) $("create").hidden = false;
  else {
    $("banner").textContent = "You are signed in as a viewer: you can see the agents but not change them.";
    $("banner").hidden = false;
  }
  $("create-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    $("create-error").textContent = "";
    const name = $("new-name").value.trim();
    const profile = $("new-profile").value.trim();
    try {
      const r = await api("agents", { method: "POST", body: { name, profile } });
      $("create-form").reset();
      await load();
      showSecret(`${r.name}'s token:`, r.token);
    } catch (e) {
      $("create-error").textContent = errorText(e);
    }
  });
  $("secret-copy").addEventListener("click", async () => {
    const v = $("secret-value");
    try {
      await navigator.clipboard.writeText(v.value);
      $("secret-copied").textContent = "Copied.";
    } catch {
      v.select();
      $("secret-copied").textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });
  // The token leaves the page when the dialog closes.
  $("secret").addEventListener("close", () => ($("secret-value").value = ""));
  await load();
});
