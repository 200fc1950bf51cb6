/**
 * What the resource server tells clients: RFC 9728 protected resource metadata, and the
 * `WWW-Authenticate: Bearer …` challenges (RFC 6750 §3) that point at it.
 *
 * The document is checked against the SDK's OAuthProtectedResourceMetadataSchema. The SDK's
 * mcpAuthMetadataRouter is not used: it is an Express router, serves only the path-specific URL,
 * has no bearer_methods_supported, and also republishes the issuer's metadata as this server's.
 * Its getOAuthProtectedResourceMetadataUrl lives in the same module, which loads Express and its
 * middleware (≈290 ms at start-up here) for a three-line rule; resourceMetadataUrl follows the
 * same rule (RFC 9728 §3.1), and test/oauth-unit.test.ts checks it against the SDK's helper.
 */
import { OAuthProtectedResourceMetadataSchema } from "@modelcontextprotocol/core";
import type { OAuthProtectedResourceMetadata } from "@modelcontextprotocol/server";
import type { OAuthConfig } from "../config/oauth.js";
import { scopeNames } from "./mapping.js";

export const PRM_ROOT = "/.well-known/oauth-protected-resource";

/** RFC 9728 §3.1: the well-known path inserted between the resource's host and its path. */
export function resourceMetadataUrl(cfg: OAuthConfig): string {
  const u = new URL(cfg.resource);
  const path = u.pathname && u.pathname !== "/" ? u.pathname : "";
  return new URL(`${PRM_ROOT}${path}`, u).href;
}

export function protectedResourceMetadata(cfg: OAuthConfig): OAuthProtectedResourceMetadata {
  const s = scopeNames(cfg);
  return OAuthProtectedResourceMetadataSchema.parse({
    resource: cfg.resource,
    authorization_servers: [cfg.issuer],
    scopes_supported: [s.read, s.write, s.destructive],
    bearer_methods_supported: ["header"],
    resource_name: "cohere-mcp",
  });
}

/** Paths the metadata is served at: the root, /mcp, and the resource URL's own path. */
export function metadataPaths(cfg: OAuthConfig, mcpPath: string): Set<string> {
  return new Set([PRM_ROOT, `${PRM_ROOT}${mcpPath}`, new URL(resourceMetadataUrl(cfg)).pathname]);
}

/** An auth-param value as an RFC 7230 quoted-string, with nothing a naive parser could trip on. */
function quoted(v: string): string {
  return `"${v.replace(/[\\"]/g, "").replace(/[^\x20-\x7e]/g, "?").slice(0, 300)}"`;
}

export interface Challenge {
  error?: "invalid_token" | "insufficient_scope" | "invalid_request";
  description?: string;
  scope?: readonly string[];
}

/** `Bearer realm="cohere-mcp", error=…, error_description=…, scope=…, resource_metadata=…` */
export function bearerChallenge(cfg: OAuthConfig, c: Challenge): string {
  const parts = ['realm="cohere-mcp"'];
  if (c.error) parts.push(`error=${quoted(c.error)}`);
  // error_description never holds "=": clients find auth-params with a plain regex.
  if (c.description) parts.push(`error_description=${quoted(c.description.replace(/=/g, " "))}`);
  if (c.scope?.length) parts.push(`scope=${quoted(c.scope.join(" "))}`);
  parts.push(`resource_metadata=${quoted(resourceMetadataUrl(cfg))}`);
  return `Bearer ${parts.join(", ")}`;
}
