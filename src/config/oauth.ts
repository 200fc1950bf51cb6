/**
 * The `oauth` section of the --config file: cohere-mcp as an OAuth 2.1 resource server (MCP
 * authorization, 2025-11-25). Names kept stable for operators: issuer, resource, agent_claim,
 * rules[{claim, includes|equals, profile}], default_profile, scopes{read, write, destructive}.
 *
 * URLs must be https://, except on loopback (127.0.0.0/8, ::1, localhost) for tests and local use.
 * Only asymmetric signature algorithms can be listed: never "none", never HMAC (a JWKS holds
 * public keys, and an HMAC "verified" with a public key proves nothing).
 */
import { z } from "zod/v3";
import { adminRuleSchema } from "./admins.js";

/** JWS algorithms that verify with a public key from a JWKS. */
export const ASYMMETRIC_ALGS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;
export const DEFAULT_ALGS = ["RS256", "PS256", "ES256", "EdDSA", "Ed25519"] as const;

export const DEFAULT_SCOPES = { read: "cohere:read", write: "cohere:write", destructive: "cohere:destructive" } as const;

/** 127.0.0.0/8, ::1 and localhost: the only hosts where plain http:// is accepted. */
export function isLoopbackHostname(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Why a URL is not acceptable for an issuer, resource or endpoint, or undefined when it is. */
export function urlProblem(value: string, what: string): string | undefined {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return `${what} "${value}" is not a URL`;
  }
  if (u.hash) return `${what} must not have a #fragment`;
  if (u.username || u.password) return `${what} must not hold credentials`;
  if (u.protocol === "https:") return undefined;
  if (u.protocol === "http:" && isLoopbackHostname(u.hostname)) return undefined;
  if (u.protocol === "http:") return `${what} must be https:// (plain http:// is accepted only on loopback: 127.0.0.1, ::1, localhost)`;
  return `${what} must be an https:// URL`;
}

const url = (what: string) =>
  z.string().superRefine((v, ctx) => {
    const p = urlProblem(v, what);
    if (p) ctx.addIssue({ code: "custom", message: p });
  });

const scopeName = z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/, "a scope token (no spaces, quotes or backslashes)");

export const oauthRuleSchema = z
  .object({
    claim: z.string().min(1).describe('Claim to test; a dotted path reaches nested claims (e.g. "realm_access.roles")'),
    includes: z
      .string()
      .optional()
      .describe("Matches when the claim is an array holding this value, or a space-separated string with this word"),
    equals: z.string().optional().describe("Matches when the claim (string, number or boolean) equals this value"),
    profile: z.string().describe("Profile for tokens this rule matches"),
  })
  .strict()
  .refine((r) => (r.includes !== undefined ? 1 : 0) + (r.equals !== undefined ? 1 : 0) === 1, {
    message: "give exactly one of includes or equals",
  });

export const oauthSchema = z
  .object({
    issuer: url("oauth.issuer").describe("The authorization server's issuer URL: tokens must carry exactly this `iss`"),
    resource: url("oauth.resource").describe(
      "This server's canonical MCP URL as clients reach it (e.g. https://mcp.example.com/mcp): the RFC 8707 resource and the audience tokens must carry",
    ),
    audience: z
      .string()
      .min(1)
      .optional()
      .describe("The `aud` tokens must carry, when the issuer cannot use the resource URL (e.g. Entra ID's api://… App ID URI); default: resource"),
    jwks_uri: url("oauth.jwks_uri")
      .optional()
      .describe("Where the issuer's signing keys are; default: found by RFC 8414 / OpenID discovery from the issuer"),
    algorithms: z
      .array(z.enum(ASYMMETRIC_ALGS))
      .min(1)
      .optional()
      .describe(`Accepted JWS algorithms (default ${DEFAULT_ALGS.join(", ")}); never none, never HMAC`),
    clock_skew_s: z.number().int().min(0).max(300).optional().describe("Leeway for exp / nbf / iat, in seconds (default 30)"),
    agent_claim: z
      .string()
      .min(1)
      .optional()
      .describe("Claim that names the agent: client_id (default), azp, sub, or another claim holding a name"),
    rules: z
      .array(oauthRuleSchema)
      .optional()
      .describe("Pick the profile from the token's claims; the first rule that matches wins"),
    default_profile: z.string().optional().describe("Profile for a token no rule matches; without it such a token is refused (403)"),
    scopes: z
      .object({
        read: scopeName.optional().describe(`Scope that grants read tools (default ${DEFAULT_SCOPES.read})`),
        write: scopeName.optional().describe(`Scope that grants write tools (default ${DEFAULT_SCOPES.write})`),
        destructive: scopeName.optional().describe(`Scope that grants destructive tools (default ${DEFAULT_SCOPES.destructive})`),
      })
      .strict()
      .optional()
      .describe("The scope each access class needs; a token's scopes narrow its profile further"),
    scope_claims: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Claims that carry the token\'s scopes, read in order (default ["scope", "scp"]; Entra ID app tokens: ["roles"])'),
    jwks_cooldown_s: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .optional()
      .describe("Least time between two JWKS fetches caused by an unknown key id (default 30)"),
    jwks_max_age_s: z.number().int().min(1).max(86400).optional().describe("Longest a fetched JWKS is used before it is fetched again (default 600)"),
    token_typ: z
      .enum(["at+jwt", "any"])
      .optional()
      .describe('JWT access tokens must have the header typ "at+jwt" (RFC 9068; default), or "any" for an issuer that signs access tokens as plain JWTs'),
    max_token_lifetime_s: z
      .number()
      .int()
      .min(60)
      .max(31_536_000)
      .optional()
      .describe("Longest lifetime (exp minus iat) a JWT access token may claim (default 86400: a day)"),
    fetch_timeout_ms: z
      .number()
      .int()
      .min(100)
      .max(60_000)
      .optional()
      .describe("Timeout for requests to the issuer (metadata, keys, introspection) (default 5000)"),
    introspection: z
      .object({
        endpoint: url("oauth.introspection.endpoint").optional().describe("RFC 7662 endpoint; default: the issuer metadata's introspection_endpoint"),
        client_id: z.string().min(1).describe("This server's client id at the issuer"),
        client_secret_env: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")
          .describe("Environment variable holding this server's client secret"),
        cache_s: z
          .number()
          .int()
          .min(0)
          .max(300)
          .optional()
          .describe("How long an introspection answer is reused for the same token, capped by its exp (default 30; 0: never)"),
      })
      .strict()
      .optional()
      .describe("Accept opaque (non-JWT) access tokens by asking the issuer (RFC 7662)"),
    admin_rules: z
      .array(adminRuleSchema)
      .optional()
      .describe("Console sign-in with the identity provider: claim rules that make a user an admin or a viewer (first match wins)"),
    admin_client: z
      .object({
        client_id: z.string().min(1).describe("The console's OpenID Connect client id at the issuer"),
        client_secret_env: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")
          .optional()
          .describe("Environment variable holding its client secret (none: a public client with PKCE)"),
        redirect_uri: z.string().optional().describe("Where the issuer sends the browser back (default: the console's /admin/oidc/callback)"),
      })
      .strict()
      .optional()
      .describe("The console's OpenID Connect client (authorization code + PKCE)"),
  })
  .strict();

export type OAuthConfig = z.infer<typeof oauthSchema>;
export type OAuthRule = z.infer<typeof oauthRuleSchema>;

/** Problems with profile names in an oauth section (checked against the file's profiles). */
export function oauthProfileProblems(cfg: OAuthConfig, profiles: ReadonlySet<string>): Array<{ path: (string | number)[]; message: string }> {
  const out: Array<{ path: (string | number)[]; message: string }> = [];
  if (cfg.default_profile !== undefined && !profiles.has(cfg.default_profile)) {
    out.push({ path: ["oauth", "default_profile"], message: `no profile named "${cfg.default_profile}"` });
  }
  cfg.rules?.forEach((r, i) => {
    if (!profiles.has(r.profile)) out.push({ path: ["oauth", "rules", i, "profile"], message: `no profile named "${r.profile}"` });
  });
  const s = { ...DEFAULT_SCOPES, ...cfg.scopes };
  if (new Set([s.read, s.write, s.destructive]).size !== 3) {
    out.push({ path: ["oauth", "scopes"], message: "read, write and destructive need three different scopes" });
  }
  return out;
}
