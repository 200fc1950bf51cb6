/**
 * Saving a policy change: write it where the policy lives (compare-and-set on the version), then
 * apply it here through the reload path (a new configuration generation: open sessions get
 * tools/list_changed, calls in flight finish under their old rules), announce it to the other
 * replicas, and audit it with the admin's name and role.
 */
import type { App } from "../runtime/app.js";
import { queueReload } from "../runtime/reload.js";
import type { Admin } from "./auth.js";
import type { PolicySource, PolicyDoc } from "./policy-source.js";
import { HttpError } from "./http.js";

export interface AdminContext {
  app: App;
  source: PolicySource;
  announce(): Promise<void>;
}

export function auditAdmin(app: App, admin: Admin, event: "admin_change" | "admin_denied" | "admin_signin", action: string, text: string, ok = true): void {
  app.audit?.note?.({
    time: new Date().toISOString(),
    event,
    outcome: ok ? "ok" : "rejected",
    text,
    admin: admin.name,
    admin_role: admin.role,
    action,
    replica: app.options.replicaId,
  });
}

/** Read the document, or answer 409 when it is not at `expect`. */
export async function readAt(ctx: AdminContext, expect: string | undefined): Promise<PolicyDoc> {
  const doc = await ctx.source.read();
  if (expect !== undefined && doc.version !== expect) {
    throw new HttpError(409, "the policy changed since you loaded it: reload the page, look at the change, then make yours again", {
      current_version: doc.version,
    });
  }
  return doc;
}

export function editable(ctx: AdminContext): void {
  if (ctx.source.readonlyReason) throw new HttpError(409, `view-only: ${ctx.source.readonlyReason}`);
}

/** Write `raw` at version `expect`; apply it here and announce it. Returns the new version. */
export async function save(ctx: AdminContext, raw: Record<string, unknown>, expect: string): Promise<string> {
  editable(ctx);
  const r = await ctx.source.write(raw, expect);
  if (!r.ok) {
    throw new HttpError(409, "the policy changed since you loaded it; nothing was saved", { current_version: r.current.version });
  }
  const reload = await queueReload(ctx.app);
  if (!reload.ok) ctx.app.logger.error("a saved console change could not be applied on this replica", { error: reload.error });
  await ctx.announce();
  return r.version;
}
