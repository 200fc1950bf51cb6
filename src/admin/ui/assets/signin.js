import { api, errorText, start } from "./common.js";

function next() {
  const n = new URLSearchParams(location.search).get("next") || "/";
  // Only a path on this origin: never an open redirect.
  return /^\/(?!\/)/.test(n) && !n.includes("\\") ? n : "/";
}

start(async () => {
  const form = document.getElementById("signin-form");
  const error = document.getElementById("signin-error");
  const token = document.getElementById("token");
  const qErr = new URLSearchParams(location.search).get("error");
  if (qErr) error.textContent = qErr.slice(0, 200);
  // Already signed in → straight on; the 401 body says whether single sign-on is configured.
  try {
    await api("session", { signin: true });
    location.replace(next());
    return;
  } catch (e) {
    const oidc = e && e.body && e.body.oidc;
    if (oidc) {
      const box = document.getElementById("oidc");
      const link = document.getElementById("oidc-link");
      if (typeof oidc === "object" && typeof oidc.login_url === "string" && oidc.login_url.startsWith("/")) link.href = oidc.login_url;
      if (typeof oidc === "object" && typeof oidc.name === "string") link.textContent = `Sign in with ${oidc.name}`;
      link.href += (link.href.includes("?") ? "&" : "?") + "next=" + encodeURIComponent(next());
      box.hidden = false;
    }
  }
  token.focus();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await api("login", { method: "POST", body: { token: token.value.trim() }, signin: true });
      token.value = "";
      location.assign(next());
    } catch (e) {
      error.textContent = e.status === 401 || e.status === 403 ? "That token was not accepted." : errorText(e);
      token.select();
    } finally {
      button.disabled = false;
    }
  });
});
