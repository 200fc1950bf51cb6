import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { nameOf, resourceId, quoted, shown } from "./common.js";

const connectorId = resourceId("Connector id");

/** CreateConnectorOAuth, with the snake_case wire names made required (the spec's camelCase `required` is a defect). */
const oauth = z
  .object({
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    authorize_url: z.string().url(),
    token_url: z.string().url(),
    scope: z.string().min(1).optional(),
  })
  .strict()
  .describe("OAuth 2.0 app for per-user auth (not with service_auth)");

/** CreateConnectorServiceAuth. */
const serviceAuth = z
  .object({
    type: z.enum(["bearer", "basic", "noscheme"]).describe("How the token goes in the Authorization header"),
    token: z.string().min(1),
  })
  .strict()
  .describe("One shared token for every request (not with oauth)");

const fields = {
  name: z.string().min(1).describe("Connector name"),
  url: z.string().url().describe("Connector search endpoint URL"),
  excludes: z.array(z.string().min(1)).optional().describe("Document fields to leave out of the prompt"),
  oauth: oauth.optional(),
  active: z.boolean().optional().describe("Active (default true)"),
  continue_on_failure: z.boolean().optional().describe("Let chat go on if this connector fails (default false)"),
  service_auth: serviceAuth.optional(),
};

function oneAuth(v: { oauth?: unknown; service_auth?: unknown }, ctx: z.RefinementCtx): void {
  if (v.oauth !== undefined && v.service_auth !== undefined) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      path: ["service_auth"],
      message: "give oauth or service_auth, not both",
    });
  }
}

export const list_connectors = defineTool({
  name: "list_connectors",
  title: "List connectors",
  group: "connectors",
  access: "read",
  method: "GET",
  path: "/v1/connectors",
  apiVersion: "v1",
  deprecated: true,
  description:
    "List the organization's chat connectors (deprecated API), newest first. " +
    "Returns connectors[] and total_count; page with offset (+limit) until offset reaches total_count.",
  input: z
    .object({
      limit: z.number().int().min(0).max(100).optional().describe("Max connectors to return (default 30, max 100)"),
      offset: z.number().int().min(0).optional().describe("Connectors to skip (default 0)"),
    })
    .strict(),
  resource: () => "connectors",
  output: { connectors: "array" },
});

export const create_connector = defineTool({
  name: "create_connector",
  title: "Create a connector",
  group: "connectors",
  access: "write",
  method: "POST",
  path: "/v1/connectors",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Register a search connector that v1 chat can query for documents (deprecated API); Cohere tests the URL and rejects the connector if the test fails. " +
    "Returns {connector}; with oauth, next call authorize_connector_oauth.",
  input: z
    .object({
      name: fields.name,
      description: z.string().min(1).optional().describe("What the connector searches"),
      url: fields.url,
      excludes: fields.excludes,
      oauth: fields.oauth,
      active: fields.active,
      continue_on_failure: fields.continue_on_failure,
      service_auth: fields.service_auth,
    })
    .strict()
    .superRefine(oneAuth),
  resource: (i) => `connector ${quoted(i.name)} (${shown(i.url)})`,
  output: { connector: "object" },
});

export const get_connector = defineTool({
  name: "get_connector",
  title: "Get a connector",
  group: "connectors",
  access: "read",
  method: "GET",
  path: "/v1/connectors/{id}",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Get one connector (deprecated API): name, url, auth_type, auth_status, active and excludes. Secrets are never returned.",
  input: z.object({ id: connectorId }).strict(),
  resource: (i) => `connector ${shown(i.id)}`,
  output: { connector: "object" },
});

export const update_connector = defineTool({
  name: "update_connector",
  title: "Update a connector",
  group: "connectors",
  access: "write",
  method: "PATCH",
  path: "/v1/connectors/{id}",
  apiVersion: "v1",
  deprecated: true,
  idempotent: true,
  description:
    "Change a connector's settings (deprecated API); only the fields you give are updated. Returns {connector}.",
  input: z
    .object({
      id: connectorId,
      name: fields.name.optional(),
      url: fields.url.optional(),
      excludes: fields.excludes,
      oauth: fields.oauth,
      active: fields.active,
      continue_on_failure: fields.continue_on_failure,
      service_auth: fields.service_auth,
    })
    .strict()
    .superRefine(oneAuth),
  resource: (i) => `connector ${shown(i.id)}`,
  output: { connector: "object" },
});

export const delete_connector = defineTool({
  name: "delete_connector",
  title: "Delete a connector",
  group: "connectors",
  access: "destructive",
  method: "DELETE",
  path: "/v1/connectors/{id}",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Permanently delete a connector (deprecated API); chats can no longer use it and this cannot be undone.",
  input: z.object({ id: connectorId }).strict(),
  resource: (i) => `connector ${shown(i.id)}`,
  confirmLookup: { path: "/v1/connectors/{id}", name: (d) => nameOf(d, "connector") },
});

export const authorize_connector_oauth = defineTool({
  name: "authorize_connector_oauth",
  title: "Authorize a connector (OAuth)",
  group: "connectors",
  access: "write",
  method: "POST",
  path: "/v1/connectors/{id}/oauth/authorize",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Start the OAuth flow for a connector created with oauth (deprecated API). " +
    "Returns {redirect_url}: a user must open it in a browser and approve access.",
  input: z
    .object({
      id: connectorId,
      after_token_redirect: z.string().url().optional().describe("Where to send the user after authorizing"),
    })
    .strict(),
  query: ["after_token_redirect"],
  buildRequest: (i) => ({ query: { after_token_redirect: i.after_token_redirect } }),
  resource: (i) => `connector ${shown(i.id)}`,
  output: { redirect_url: "string" },
});
