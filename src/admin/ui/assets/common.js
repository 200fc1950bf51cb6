// Shared by every console page: the API client (cookie session + CSRF header), the signed-in
// admin, and a DOM builder that only ever sets text (never parses markup), so every caller-supplied
// string — agent and tool names, audit sentences — reaches the page as text.

export const API = "/admin/api/v1/";

let csrf = "";
/** @type {{name: string, role: string} | null} */
export let admin = null;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && typeof body.error === "string" && body.error) || `request failed (${status})`);
    this.status = status;
    this.body = body;
  }
}

/** Call the admin API; JSON in and out. 401 sends the browser to the sign-in page. */
export async function api(path, { method = "GET", body, signin = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrf) headers["X-CSRF-Token"] = csrf;
  const res = await fetch(API + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text.slice(0, 300) };
    }
  }
  if (res.status === 401 && !signin) {
    toSignin();
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export function toSignin() {
  const next = location.pathname + location.search;
  location.assign("/signin" + (next && next !== "/" ? "?next=" + encodeURIComponent(next) : ""));
}

/** The signed-in admin (or the sign-in page); fills the header. */
export async function session() {
  const s = await api("session");
  csrf = s.csrf || "";
  admin = s.admin;
  const who = document.getElementById("who");
  if (who && admin) who.textContent = `${admin.name} (${admin.role})`;
  const out = document.getElementById("signout");
  if (out) {
    out.addEventListener("click", async () => {
      try {
        await api("logout", { method: "POST", body: {} });
      } finally {
        location.assign("/signin");
      }
    });
  }
  return s;
}

export const canEdit = () => admin !== null && admin.role === "admin";

/**
 * el("li", {class: "x", onclick: fn, "aria-label": "…"}, "text", child…) — attributes are set with
 * setAttribute (on* keys become listeners), string children become text nodes.
 */
export function el(tag, attrs = {}, ...children) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") n.addEventListener(k.slice(2), v);
    else if (k === "class") n.className = v;
    else if (k === "text") n.textContent = String(v);
    else if (v === true) n.setAttribute(k, "");
    else n.setAttribute(k, String(v));
  }
  append(n, children);
  return n;
}

function append(n, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(n, c);
    else n.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

const SVG = "http://www.w3.org/2000/svg";
export function svg(tag, attrs = {}, ...children) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) n.setAttribute(k, String(v));
  for (const c of children) n.append(typeof c === "string" ? document.createTextNode(c) : c);
  return n;
}

export function clear(n) {
  n.replaceChildren();
  return n;
}

/** A short message in the page's live region (read out by screen readers). */
export function status(text, kind = "info") {
  const s = document.getElementById("status");
  if (!s) return;
  s.textContent = text;
  s.dataset.kind = kind;
  s.classList.add("shown");
  clearTimeout(status.timer);
  status.timer = setTimeout(() => s.classList.remove("shown"), kind === "error" ? 10000 : 4000);
}

export function errorText(e) {
  if (e instanceof ApiError) return e.message;
  return e && e.message ? e.message : String(e);
}

export function fmtNumber(n) {
  return typeof n === "number" ? n.toLocaleString("en") : "—";
}

export function fmtUsd(n) {
  return typeof n === "number" ? "$" + n.toFixed(n < 1 ? 4 : 2) : "—";
}

export function fmtTime(iso) {
  const d = new Date(iso);
  return isNaN(d.getTime()) ? String(iso ?? "") : d.toLocaleString("en-GB", { hour12: false });
}

/** Run a page's start function; a signed-out browser goes to the sign-in page. */
export function start(main) {
  const run = async () => {
    try {
      await main();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      status(errorText(e), "error");
      console.error(e);
    }
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else void run();
}

/** An agent's budgets as a list ({unit, used, limit, left} each): the API may give one or several. */
export function budgets(b) {
  if (Array.isArray(b)) return b.filter((x) => x && x.limit !== undefined && x.limit !== null);
  return b && b.limit !== undefined && b.limit !== null ? [b] : [];
}

export function budgetText(b) {
  const used = Number(b.used) || 0;
  const limit = Number(b.limit) || 0;
  const left = b.left ?? Math.max(0, limit - used);
  if (b.unit === "usd") return `${fmtUsd(used)} of ${fmtUsd(limit)} used, ${fmtUsd(left)} left`;
  const unit = String(b.unit || "").replace(/_/g, " ");
  return `${fmtNumber(used)} of ${fmtNumber(limit)} ${unit} used, ${fmtNumber(left)} left`;
}
