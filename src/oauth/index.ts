/**
 * cohere-mcp as an OAuth 2.1 resource server: verify an access token (verify.ts), map its
 * claims to an agent, a profile and the access classes its scopes grant (mapping.ts), and say
 * how to get one (metadata.ts). Built once per HTTP server from the config's `oauth` section.
 */
import type { OAuthProtectedResourceMetadata } from "@modelcontextprotocol/server";
import { ConfigError } from "../config/file.js";
import type { OAuthConfig } from "../config/oauth.js";
import type { Logger } from "../runtime/logger.js";
import type { IdentityResult } from "../identity/index.js";
import { bearerChallenge, metadataPaths, protectedResourceMetadata, resourceMetadataUrl, type Challenge } from "./metadata.js";
import { mapClaims, scopeNames, type ScopeNames } from "./mapping.js";
import { createTokenVerifier, looksLikeJwt } from "./verify.js";

export { looksLikeJwt } from "./verify.js";

export interface OAuthResource {
  readonly config: OAuthConfig;
  readonly metadata: OAuthProtectedResourceMetadata;
  /** Paths the protected resource metadata is served at. */
  readonly metadataPaths: ReadonlySet<string>;
  readonly metadataUrl: string;
  readonly scopes: ScopeNames;
  /** Every class scope, in order read, write, destructive. */
  readonly allScopes: readonly string[];
  challenge(c: Challenge): string;
  /** Verify a bearer token that is no static token, and map it to an agent. */
  authenticate(token: string): Promise<IdentityResult>;
  secrets(): string[];
}

export function createOAuth(
  config: OAuthConfig,
  opts: { env: NodeJS.ProcessEnv; logger: Logger; mcpPath: string; staticAgents: ReadonlySet<string>; staticTokens: readonly string[] },
): OAuthResource {
  const { env, logger } = opts;
  const secret = config.introspection ? env[config.introspection.client_secret_env] : undefined;
  if (config.introspection && !secret) {
    throw new ConfigError(`oauth.introspection: environment variable ${config.introspection.client_secret_env} is not set or empty`);
  }
  if (secret) logger.addSecret(secret);
  // A static token shaped like a JWT would make "which path does this credential take" a guess.
  const jwtShaped = opts.staticTokens.filter(looksLikeJwt);
  if (jwtShaped.length) {
    throw new ConfigError("With oauth configured, a static agent token may not look like a JWT (three base64url parts); make a new one with `openssl rand -hex 32`");
  }
  const verifier = createTokenVerifier(config, env, logger);
  const scopes = scopeNames(config);
  const allScopes = [scopes.read, scopes.write, scopes.destructive];
  const challenge = (c: Challenge) => bearerChallenge(config, c);
  logger.info("accepting OAuth access tokens", { issuer: config.issuer, resource: config.resource, audience: verifier.audience });

  return {
    config,
    metadata: protectedResourceMetadata(config),
    metadataPaths: metadataPaths(config, opts.mcpPath),
    metadataUrl: resourceMetadataUrl(config),
    scopes,
    allScopes,
    challenge,
    async authenticate(token) {
      const v = await verifier.verify(token);
      if (!v.ok) {
        if (v.status === 503) return { ok: false, status: 503, reason: "unavailable", message: v.message };
        if (v.retryAfterS !== undefined) {
          return {
            ok: false,
            status: 401,
            reason: "unknown_key",
            message: v.message,
            retryAfterS: v.retryAfterS,
            challenge: challenge({ error: "invalid_token", description: v.message }),
          };
        }
        return { ok: false, status: 401, reason: "invalid", message: v.message, challenge: challenge({ error: "invalid_token", description: v.message }) };
      }
      const m = mapClaims(v.claims, config, opts.staticAgents);
      if (!m.ok) {
        // No challenge: no other token or scope would help, so a client should not retry.
        return { ok: false, status: 403, reason: "forbidden", message: m.message, agent: m.agent, claims: m.claims, challenge: "" };
      }
      if (m.classes.size === 0) {
        const message = `token carries none of the scopes ${allScopes.join(", ")}`;
        return {
          ok: false,
          status: 403,
          reason: "insufficient_scope",
          message,
          agent: m.agent,
          claims: m.claims,
          challenge: challenge({ error: "insufficient_scope", description: message, scope: allScopes }),
        };
      }
      return {
        ok: true,
        identity: {
          kind: "oauth",
          agent: m.agent,
          profile: m.profile,
          owner: `oauth\u0000${m.agent}\u0000${m.sub ?? ""}`,
          classes: m.classes,
          scopes: m.scopes,
          claims: m.claims,
        },
      };
    },
    secrets: () => (secret ? [secret] : []),
  };
}
