/** Connectors (all deprecated by Cohere): CRUD and the OAuth authorize redirect. */
import * as S from "../schemas.js";
import { ORG_ID, type ConnectorRec } from "../state.js";
import { uuidFrom } from "../util.js";
import { json, notFound, type Ctx, type Route } from "./types.js";
import { qnum, qstr } from "./common.js";
import { E404 } from "../cohere-errors.js";

function getConnectorRec(ctx: Ctx): ConnectorRec {
  const rec = ctx.state.connectors.get(ctx.params.id!);
  if (!rec) notFound(E404.connector(ctx.params.id!));
  return rec!;
}

function connectorFrom(body: Record<string, unknown>, base: Record<string, unknown>): Record<string, unknown> {
  const c: Record<string, unknown> = { ...base };
  for (const k of ["name", "description", "url", "excludes", "active", "continue_on_failure"]) if (body[k] !== undefined) c[k] = body[k];
  if (body.oauth) {
    const { client_secret: _secret, ...oauth } = body.oauth as Record<string, unknown>;
    c.oauth = oauth;
    c.auth_type = "oauth";
    c.auth_status = "expired";
  }
  if (body.service_auth) {
    c.auth_type = "service_auth";
    delete c.auth_status;
  }
  return c;
}

export const CONNECTOR_ROUTES: Route[] = [
  {
    op: "list-connectors",
    method: "GET",
    path: "/v1/connectors",
    body: "none",
    query: { limit: { type: "number", minimum: 0, maximum: 100 }, offset: { type: "number", minimum: 0 } },
    handle: (ctx) => {
      const all = [...ctx.state.connectors.values()].map((r) => r.connector);
      const offset = qnum(ctx, "offset") ?? 0;
      const limit = qnum(ctx, "limit") ?? 30;
      return json({ connectors: all.slice(offset, offset + limit), total_count: all.length });
    },
  },
  {
    op: "create-connector",
    method: "POST",
    path: "/v1/connectors",
    body: "json",
    schema: S.CREATE_CONNECTOR,
    handle: (ctx) => {
      const st = ctx.state;
      const now = st.now();
      const n = st.next();
      const slug = String(ctx.body.name).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "connector";
      const connector = connectorFrom(ctx.body, {
        id: `${slug}-${n}`,
        organization_id: ORG_ID,
        created_at: now,
        updated_at: now,
        excludes: [],
        active: true,
        continue_on_failure: false,
      }) as ConnectorRec["connector"];
      st.connectors.set(connector.id, { connector });
      return json({ connector });
    },
  },
  {
    op: "get-connector",
    method: "GET",
    path: "/v1/connectors/{id}",
    body: "none",
    handle: (ctx) => json({ connector: getConnectorRec(ctx).connector }),
  },
  {
    op: "update-connector",
    method: "PATCH",
    path: "/v1/connectors/{id}",
    body: "json",
    schema: S.UPDATE_CONNECTOR,
    handle: (ctx) => {
      const rec = getConnectorRec(ctx);
      rec.connector = connectorFrom(ctx.body, { ...rec.connector, updated_at: ctx.state.now() }) as ConnectorRec["connector"];
      return json({ connector: rec.connector });
    },
  },
  {
    op: "delete-connector",
    method: "DELETE",
    path: "/v1/connectors/{id}",
    body: "none",
    handle: (ctx) => {
      getConnectorRec(ctx);
      ctx.state.connectors.delete(ctx.params.id!);
      return json({});
    },
  },
  {
    op: "oAuthAuthorize-connector",
    method: "POST",
    path: "/v1/connectors/{id}/oauth/authorize",
    body: "none",
    query: { after_token_redirect: { type: "string" } },
    handle: (ctx) => {
      const rec = getConnectorRec(ctx);
      const oauth = (rec.connector.oauth ?? {}) as Record<string, string>;
      const url = new URL(oauth.authorize_url || "https://oauth.emulator.invalid/authorize");
      url.searchParams.set("client_id", oauth.client_id ?? "emulator-client");
      url.searchParams.set("response_type", "code");
      url.searchParams.set("redirect_uri", "https://api.cohere.com/v1/connectors/oauth/token");
      url.searchParams.set("state", uuidFrom(`oauth:${rec.connector.id}:${ctx.seq}`));
      if (oauth.scope) url.searchParams.set("scope", oauth.scope);
      const after = qstr(ctx, "after_token_redirect");
      if (after) url.searchParams.set("after_token_redirect", after);
      return json({ redirect_url: url.toString() });
    },
  },
];
