/**
 * Saving a policy change: write it where the policy lives (compare-and-set on the version), then
 * apply it here through the reload path (a new configuration generation: open sessions get
 * tools/list_changed, calls in flight finish under their old rules), announce it to the other
 * replicas, and audit it with the admin's name and role. Each save is also recorded (./changes.ts) so
 * that a stale save's 409 names what the other admin changed.
 */
import type { App } from "../../runtime/app.js";
import { queueReload } from "../../runtime/reload.js";
import type { Admin } from "../signin/auth.js";
import type { PolicySource, PolicyDoc } from "./policy-source.js";
import { HttpError } from "../http.js";
import { cellChanges, changeSentence, changesSince, recordChange } from "./changes.js";
import { parseConfig } from "./edit.js";

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

/**
 * The 409 of a stale save: what was changed since the admin loaded `version` — who, when, which
 * agents and groups, old → new (./changes.ts) — and the current version.
 */
export async function conflict(ctx: AdminContext, version: string, current: PolicyDoc): Promise<HttpError> {
  const { records, complete } = await changesSince(ctx.app, version, current.version);
  const changed = records.map(changeSentence);
  if (!complete) {
    changed.push(
      records.length
        ? "the policy was also changed outside the console (or before the changes kept here): look at the current grid"
        : "the policy was changed outside the console (the configuration edited and reloaded), so who changed it is not known: look at the current grid",
    );
  }
  const who = [...new Set(records.map((r) => `${r.admin} (${r.admin_role})`))];
  return new HttpError(
    409,
    `the policy was changed${who.length ? ` by ${who.join(", ")}` : ""} since you loaded it; nothing was saved. Look at what changed, then make your change again`,
    { current_version: current.version, changed, changes: records },
  );
}

/** Read the document, or answer 409 (naming what changed) when it is not at `expect`. */
export async function readAt(ctx: AdminContext, expect: string | undefined): Promise<PolicyDoc> {
  const doc = await ctx.source.read();
  if (expect !== undefined && doc.version !== expect) throw await conflict(ctx, expect, doc);
  return doc;
}

export function editable(ctx: AdminContext): void {
  if (ctx.source.readonlyReason) throw new HttpError(409, `view-only: ${ctx.source.readonlyReason}`);
}

/** Who saves, for the change record a later conflict names. */
export interface SaveBy {
  admin: Admin;
  action: string;
  /** The audit sentence of the change. */
  text: string;
}

/**
 * Write `raw` over `doc` (compare-and-set on its version); apply it here, announce it, and record
 * what it changed. Returns the new version.
 */
export async function save(ctx: AdminContext, raw: Record<string, unknown>, doc: PolicyDoc, by: SaveBy): Promise<string> {
  editable(ctx);
  const r = await ctx.source.write(raw, doc.version);
  if (!r.ok) throw await conflict(ctx, doc.version, r.current);
  let cells: ReturnType<typeof cellChanges> = [];
  try {
    cells = cellChanges(ctx.app, doc.config, parseConfig(raw));
  } catch {
    /* written, so it parses; a record without cells at worst */
  }
  await recordChange(ctx.app, {
    from_version: doc.version,
    to_version: r.version,
    admin: by.admin.name,
    admin_role: by.admin.role,
    time: new Date().toISOString(),
    action: by.action,
    text: by.text,
    cells,
  });
  const reload = await queueReload(ctx.app);
  if (!reload.ok) ctx.app.logger.error("a saved console change could not be applied on this replica", { error: reload.error });
  await ctx.announce();
  return r.version;
}
