/**
 * The 401 of the HTTP transport: a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3) and a
 * JSON-RPC error body that say what was wrong and what to do, so a client can show it as it is.
 *
 *   WWW-Authenticate: Bearer realm="cohere-mcp", error="invalid_token",
 *                     error_description="The bearer token was not accepted: ..."
 *
 * RFC 6750 §3.1: a request with no credentials gets only the realm in the header (no error
 * information; the body still says what to send); an Authorization that is no bearer token,
 * or a token that matches no agent, is `invalid_token` (kept a 401, each with its own
 * description, rather than RFC 6750's 400 `invalid_request`, so every client takes it as an auth
 * failure). Further parameters (e.g. RFC 9728 `resource_metadata` once the server can
 * point clients at OAuth) are passed in `extra`, appended in order, quoted.
 */
import type { AuthFailure } from "../../../identity/static.js";

export const REALM = "cohere-mcp";

export interface ChallengeInput {
  reason: AuthFailure;
  /** Overrides the reason's standard description (an expired token: which one, and since when). */
  description?: string;
  /** Further auth-params for the challenge, e.g. { resource_metadata: "https://…/.well-known/oauth-protected-resource" }. */
  extra?: Record<string, string>;
}

export interface Unauthorized {
  status: 401;
  headers: { "WWW-Authenticate": string };
  body: { jsonrpc: "2.0"; id: null; error: { code: number; message: string; data: { error: string; error_description: string } } };
}

const ERROR_CODE: Record<AuthFailure, string | undefined> = {
  missing: undefined,
  malformed: "invalid_token",
  invalid: "invalid_token",
  expired: "invalid_token",
};

const DESCRIPTION: Record<AuthFailure, string> = {
  missing:
    "This server needs a bearer token: send the header 'Authorization: Bearer <token>' with the token your operator gave this agent.",
  malformed: "The Authorization header is not 'Bearer <token>' (a token is letters, digits and - . _ ~ + / only).",
  invalid:
    "The bearer token was not accepted: it matches no agent of this server. Check for a typo or a stale token, " +
    "or ask the operator for this agent's current one. This server takes a static token, not an OAuth sign-in.",
  expired: "The bearer token has expired. Ask the operator for this agent's current token.",
};

/** An auth-param value as a quoted-string: `"` and `\` escaped, control characters dropped. */
function quoted(value: string): string {
  return `"${value.replace(/[\u0000-\u001f\u007f]/g, " ").replace(/(["\\])/g, "\\$1")}"`;
}

/** The 401 for a refused bearer token: status, challenge header and body. */
export function unauthorized(input: ChallengeInput): Unauthorized {
  const error = ERROR_CODE[input.reason];
  const description = input.description ?? DESCRIPTION[input.reason];
  const params: Array<[string, string]> = [["realm", REALM]];
  if (error) params.push(["error", error], ["error_description", description]);
  for (const [k, v] of Object.entries(input.extra ?? {})) params.push([k, v]);
  return {
    status: 401,
    headers: { "WWW-Authenticate": `Bearer ${params.map(([k, v]) => `${k}=${quoted(v)}`).join(", ")}` },
    body: {
      jsonrpc: "2.0",
      id: null,
      error: {
        code: -32001,
        message: `Unauthorized: ${description}`,
        data: { error: error ?? "missing_token", error_description: description },
      },
    },
  };
}

/** Paths an OAuth client tries after a 401 (RFC 9728, RFC 8414, OIDC discovery, RFC 7591, the SDK's fallbacks). */
const OAUTH_PATHS = /^\/(\.well-known\/(oauth-protected-resource|oauth-authorization-server|openid-configuration)(\/.*)?|register|authorize|token)$/;

/**
 * The 404 body for a path other than /mcp. On the paths an OAuth client probes after a 401 it
 * also says why there is nothing there: clients such as mcp-remote show this body (e.g.
 * "Dynamic Client Registration rejected (HTTP 404): …") and nothing of the 401 itself.
 */
export function notFound(path: string, mcpPath: string): { error: string; error_description?: string } {
  const error = `not found; MCP is served at ${mcpPath}`;
  if (!OAUTH_PATHS.test(path)) return { error };
  return {
    error,
    error_description:
      "cohere-mcp has no OAuth sign-in: each agent has a static bearer token. A client that came here after a 401 " +
      "from " + mcpPath + " sent no token or a wrong one: set the header 'Authorization: Bearer <token>' " +
      "(mcp-remote: --header \"Authorization: Bearer <token>\") with the token your operator gave this agent.",
  };
}
