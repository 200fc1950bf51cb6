/** GET /admin/api/openapi.json: the admin API as OpenAPI 3.1, its bodies generated from the zod schemas (schemas.ts). */
import { zodToJsonSchema } from "zod-to-json-schema";
import type { z } from "zod/v3";
import * as s from "./schemas.js";

const schema = (z: z.ZodTypeAny) => {
  const out = zodToJsonSchema(z, { target: "openApi3", $refStrategy: "none" }) as Record<string, unknown>;
  delete out.$schema;
  return out;
};

const body = (z: z.ZodTypeAny) => ({ required: true, content: { "application/json": { schema: schema(z) } } });
const ok = (description: string) => ({ description, content: { "application/json": { schema: { type: "object" } } } });
const errors = {
  "400": { description: "Bad input: a message says what to fix; nothing changed" },
  "401": { description: "Not signed in" },
  "403": { description: "A viewer tried to change something, or a cookie request without the CSRF token or with a foreign Origin" },
};
const change = { ...errors, "409": { description: "The policy changed since it was read (stale version: `changed` and `changes` name who changed which agents and groups, when, old → new), or the console is view-only" } };
const params = (...names: string[]) => names.map((n) => ({ name: n, in: "path", required: true, schema: { type: "string" } }));
const queryParams = (z: z.ZodObject<z.ZodRawShape>) =>
  Object.keys(z.shape).map((n) => ({ name: n, in: "query", required: false, schema: { type: "string" } }));

let cached: string | undefined;

export function openApiDocument(): string {
  if (cached) return cached;
  const v1 = "/admin/api/v1";
  const doc = {
    openapi: "3.1.0",
    info: {
      title: "cohere-mcp admin API",
      version: "1",
      description:
        "The console's API. Sign in with POST login (cookie + CSRF token) or send an admin token as `Authorization: Bearer`. " +
        "Cookie requests that change something need `X-CSRF-Token` and a same-origin `Origin`.",
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer" },
        cookie: { type: "apiKey", in: "cookie", name: "cohere_mcp_admin" },
      },
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths: {
      [`${v1}/login`]: { post: { summary: "Sign in with an admin token; sets the session cookie", requestBody: body(s.loginBody), responses: { "200": ok("{admin:{name,role}, csrf}"), "401": { description: "Unknown token" }, "429": { description: "Too many failed sign-ins from this address" } }, security: [] } },
      [`${v1}/logout`]: { post: { summary: "End this sign-in", responses: { "204": { description: "Signed out" } } } },
      [`${v1}/session`]: { get: { summary: "Who is signed in, and the CSRF token", responses: { "200": ok("{admin, csrf}"), "401": errors["401"] } } },
      [`${v1}/grid`]: {
        get: { summary: "The access grid", responses: { "200": ok("{version, editable, readonly_reason?, groups, rows}"), ...errors } },
        put: { summary: "Save grid changes (compare-and-set on version)", requestBody: body(s.gridPutBody), responses: { "200": ok("{version, sentences}"), ...change } },
      },
      [`${v1}/grid/preview`]: { post: { summary: "What a change would do, in plain English", requestBody: body(s.previewBody), responses: { "200": ok("{sentences, gains, loses, needs_confirmation}"), ...errors } } },
      [`${v1}/agents`]: {
        get: { summary: "Agents: profile, token labels, limits, budget, key, open sessions", responses: { "200": ok("[agent]"), ...errors } },
        post: { summary: "Create an agent; its token is in the answer, once", requestBody: body(s.createAgentBody), responses: { "201": ok("{name, token}"), ...change } },
      },
      [`${v1}/agents/{name}/tokens`]: { post: { summary: "Add (or rotate to) a token; shown once", parameters: params("name"), requestBody: body(s.tokenBody), responses: { "201": ok("{token}"), ...change } } },
      [`${v1}/agents/{name}/tokens/{label}`]: { delete: { summary: "Revoke a token; the agent's open sessions end", parameters: params("name", "label"), responses: { "200": ok("{revoked, sessions_ended}"), ...change } } },
      [`${v1}/agents/{name}/sessions/{id}`]: { delete: { summary: "End an open session, on whichever replica holds it", parameters: params("name", "id"), responses: { "200": ok("{ended, replica}"), ...change } } },
      [`${v1}/agents/{name}/budget`]: { post: { summary: "Reset or top up this month's budget", parameters: params("name"), requestBody: body(s.budgetBody), responses: { "200": ok("{text, budget}"), ...change } } },
      [`${v1}/activity`]: { get: { summary: "Audit events, newest first", parameters: queryParams(s.activityQuery), responses: { "200": ok("{events:[{time, replica, sentence, event}]}"), ...errors } } },
      [`${v1}/activity/stream`]: { get: { summary: "New audit events as Server-Sent Events", parameters: queryParams(s.activityQuery), responses: { "200": { description: "text/event-stream" } } } },
      [`${v1}/activity/export`]: { get: { summary: "The filtered events as JSONL or CSV", parameters: queryParams(s.activityQuery), responses: { "200": { description: "application/x-ndjson or text/csv" } } } },
      [`${v1}/usage`]: { get: { summary: "Usage per agent and per key for a month (durable counters: this and the previous month are kept)", parameters: queryParams(s.usageQuery), responses: { "200": ok("{agents, keys}"), ...errors } } },
      [`${v1}/policy/export`]: { get: { summary: "The policy as a config document, token hashes removed", responses: { "200": ok("{version, token_hashes_removed, config}"), ...errors } } },
    },
  };
  cached = JSON.stringify(doc, null, 2);
  return cached;
}
