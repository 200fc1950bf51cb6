/**
 * The console's HTML shells. Every page is static text (no caller-supplied string is ever put in
 * it: the scripts fill the page through the DOM with textContent), one stylesheet and one module.
 */

export interface Page {
  title: string;
  /** The module under /assets/ that runs the page. */
  script: string;
  /** Which navigation link is current; none on the sign-in page (no navigation there). */
  nav?: "grid" | "agents" | "activity" | "usage";
  /** The page's own static markup inside <main>. */
  body: string;
}

const NAV: Array<[NonNullable<Page["nav"]>, string, string]> = [
  ["grid", "/", "Access"],
  ["agents", "/agents", "Agents"],
  ["activity", "/activity", "Activity"],
  ["usage", "/usage", "Usage"],
];

function header(current: Page["nav"]): string {
  if (!current) return "";
  const links = NAV.map(
    ([id, href, label]) => `<li><a href="${href}"${id === current ? ' aria-current="page"' : ""}>${label}</a></li>`,
  ).join("");
  return `<header class="top">
<a class="skip" href="#main">Skip to content</a>
<span class="brand">cohere-mcp console</span>
<nav aria-label="Console"><ul>${links}</ul></nav>
<div class="who"><span id="who" class="who-name"></span> <button type="button" id="signout" class="link">Sign out</button></div>
</header>`;
}

export function renderPage(p: Page): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${p.title} · cohere-mcp console</title>
<link rel="icon" href="/assets/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/console.css">
<script type="module" src="/assets/${p.script}"></script>
</head>
<body>
${header(p.nav)}
<main id="main" tabindex="-1">
${p.body}
</main>
<div id="status" class="status" role="status" aria-live="polite"></div>
</body>
</html>
`;
}

export const PAGES: Record<string, Page> = {
  "/signin": {
    title: "Sign in",
    script: "signin.js",
    body: `<section class="signin" aria-labelledby="signin-h">
<h1 id="signin-h">Sign in to the console</h1>
<form id="signin-form" class="stack">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required spellcheck="false">
<button type="submit" class="primary">Sign in</button>
<p id="signin-error" class="error" role="alert"></p>
</form>
<div id="oidc" class="oidc" hidden>
<p class="or">or</p>
<a id="oidc-link" class="button" href="/admin/oidc/login">Sign in with your identity provider</a>
</div>
</section>`,
  },
  "/": {
    title: "Access",
    script: "grid.js",
    nav: "grid",
    body: `<h1>Who may do what</h1>
<p class="lead">Each agent, each Cohere capability: <strong>Off</strong>, <strong>Read</strong> (look things up) or <strong>Full use</strong> (create and change; deleting needs a second confirmation). Denied unless set here.</p>
<div id="banner" class="banner" role="note" hidden></div>
<div id="conflict" class="conflict" role="alert" hidden></div>
<div id="grid-wrap" class="grid-wrap"><p class="muted">Loading…</p></div>
<div id="savebar" class="savebar" hidden>
<span id="pending-count"></span>
<button type="button" id="discard">Discard</button>
<button type="button" id="review" class="primary">Review and save…</button>
</div>
<dialog id="preview" aria-labelledby="preview-h">
<form method="dialog" id="preview-form" class="stack">
<h2 id="preview-h">Review the change</h2>
<ul id="preview-sentences" class="sentences"></ul>
<div id="preview-destructive" class="danger" hidden>
<p id="preview-destructive-text"></p>
<label class="check"><input type="checkbox" id="confirm-destructive"> <span id="confirm-destructive-label">I understand these cannot be undone</span></label>
</div>
<p id="preview-error" class="error" role="alert"></p>
<div class="actions"><button type="button" id="preview-cancel">Back</button> <button type="button" id="preview-save" class="primary">Save</button></div>
</form>
</dialog>
<dialog id="tools" aria-labelledby="tools-h">
<form method="dialog" class="stack">
<h2 id="tools-h">Tools</h2>
<p class="muted">One tool on or off, as an exception to the group's level. Deprecated tools are marked.</p>
<div id="tools-body"></div>
<div class="actions"><button type="button" id="tools-close" class="primary">Done</button></div>
</form>
</dialog>`,
  },
  "/agents": {
    title: "Agents",
    script: "agents.js",
    nav: "agents",
    body: `<h1>Agents</h1>
<div id="banner" class="banner" role="note" hidden></div>
<section id="create" aria-labelledby="create-h" class="card" hidden>
<h2 id="create-h">New agent</h2>
<form id="create-form" class="row-form">
<label for="new-name">Name</label>
<input id="new-name" name="name" required pattern="[A-Za-z0-9_.@\\-]{1,64}" autocomplete="off" spellcheck="false">
<label for="new-profile">Profile</label>
<input id="new-profile" name="profile" required list="profiles" autocomplete="off" spellcheck="false">
<datalist id="profiles"></datalist>
<button type="submit" class="primary">Create</button>
</form>
<p id="create-error" class="error" role="alert"></p>
</section>
<div id="agents"><p class="muted">Loading…</p></div>
<dialog id="secret" aria-labelledby="secret-h">
<form method="dialog" class="stack">
<h2 id="secret-h">Token</h2>
<p id="secret-text"></p>
<p class="warn">Copy it now: it is shown only once and stored only as a hash.</p>
<label for="secret-value">Token</label>
<input id="secret-value" readonly spellcheck="false">
<p id="secret-copied" role="status" class="muted"></p>
<div class="actions"><button type="button" id="secret-copy">Copy</button> <button type="submit" class="primary">Done</button></div>
</form>
</dialog>`,
  },
  "/activity": {
    title: "Activity",
    script: "activity.js",
    nav: "activity",
    body: `<h1>Activity</h1>
<form id="filters" class="filters">
<div><label for="f-agent">Agent</label><input id="f-agent" name="agent" list="f-agents" autocomplete="off" spellcheck="false"><datalist id="f-agents"></datalist></div>
<div><label for="f-tool">Tool</label><input id="f-tool" name="tool" autocomplete="off" spellcheck="false"></div>
<div><label for="f-decision">Decision</label><select id="f-decision" name="decision"><option value="">Any</option><option value="allowed">Allowed</option><option value="denied">Denied</option></select></div>
<div><label for="f-outcome">Outcome</label><select id="f-outcome" name="outcome"><option value="">Any</option><option value="ok">Succeeded</option><option value="error">Failed</option><option value="rejected">Rejected</option></select></div>
<div><label for="f-since">From</label><input id="f-since" name="since" type="datetime-local"></div>
<div><label for="f-until">Until</label><input id="f-until" name="until" type="datetime-local"></div>
<div class="filter-actions"><button type="submit" class="primary">Apply</button> <button type="reset">Clear</button></div>
</form>
<div class="toolbar">
<span id="live" class="live" role="status">Connecting…</span>
<button type="button" id="pause" aria-pressed="false">Pause</button>
<a id="export-jsonl" class="button" href="/admin/api/v1/activity/export?format=jsonl" download>Export JSONL</a>
<a id="export-csv" class="button" href="/admin/api/v1/activity/export?format=csv" download>Export CSV</a>
</div>
<ol id="events" class="events" aria-label="Calls and changes, newest first"></ol>
<p id="events-empty" class="muted" hidden>Nothing matches.</p>
<p><button type="button" id="older" hidden>Show older</button></p>`,
  },
  "/usage": {
    title: "Usage",
    script: "usage.js",
    nav: "usage",
    body: `<h1>Usage</h1>
<form id="month-form" class="row-form"><label for="month">Month</label><input id="month" name="month" type="month" required> <button type="submit" class="primary">Show</button></form>
<section aria-labelledby="ua-h"><h2 id="ua-h">By agent</h2><div id="by-agent"><p class="muted">Loading…</p></div></section>
<section aria-labelledby="uk-h"><h2 id="uk-h">By Cohere key</h2><div id="by-key"></div></section>`,
  },
};
