/**
 * The console's admins (`admins` in the --config file) and, for single sign-on, the claim rules
 * that make an identity-provider user an admin or a viewer (`oauth.admin_rules`). Like agents,
 * admins are declared by the SHA-256 of their token (or an environment variable holding it),
 * never by the token itself.
 */
import { z } from "zod/v3";

export const ADMIN_ROLES = ["admin", "viewer"] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

const sha = z.string().regex(/^[a-fA-F0-9]{64}$/, "a hex SHA-256");
const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name");

export const adminTokenSchema = z
  .object({
    sha256: sha.optional().describe("SHA-256 (hex) of the token"),
    env: envName.optional().describe("Environment variable holding the token"),
    sha256_env: envName.optional().describe("Environment variable holding the token's SHA-256 (hex), e.g. from a Kubernetes Secret"),
    label: z.string().min(1).max(64).optional().describe("A name for this token (audit, rotation)"),
  })
  .strict()
  .refine((t) => (t.sha256 ? 1 : 0) + (t.env ? 1 : 0) + (t.sha256_env ? 1 : 0) === 1, { message: "give exactly one of sha256, env or sha256_env" });

export const adminSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, "letters, digits, . _ @ - (1–64)"),
    role: z.enum(ADMIN_ROLES).describe("admin: may change the policy; viewer: may only look"),
    token_sha256: sha.optional().describe("SHA-256 (hex) of the admin's sign-in token"),
    token_env: envName.optional().describe("Environment variable holding the admin's sign-in token"),
    token_sha256_env: envName
      .optional()
      .describe("Environment variable holding the SHA-256 (hex) of the admin's sign-in token, e.g. from a Kubernetes Secret"),
    tokens: z.array(adminTokenSchema).min(1).optional().describe("Several tokens (rotation)"),
  })
  .strict()
  .refine((a) => (a.token_sha256 ? 1 : 0) + (a.token_env ? 1 : 0) + (a.token_sha256_env ? 1 : 0) + (a.tokens ? 1 : 0) <= 1, {
    message: "give one of token_sha256, token_env, token_sha256_env or tokens",
  });

export const adminRuleSchema = z
  .object({
    claim: z.string().min(1).describe("Claim of the ID token to test (dotted path for nested claims)"),
    includes: z.string().optional().describe("Matches when the claim is an array holding this value, or a space-separated string with this word"),
    equals: z.string().optional().describe("Matches when the claim equals this value"),
    role: z.enum(ADMIN_ROLES),
  })
  .strict()
  .refine((r) => (r.includes !== undefined ? 1 : 0) + (r.equals !== undefined ? 1 : 0) === 1, {
    message: "give exactly one of includes or equals",
  });

export const adminsSchema = z.array(adminSchema).describe("Who may sign in to the console (--admin-port)");

export type AdminConfig = z.infer<typeof adminSchema>;
export type AdminRule = z.infer<typeof adminRuleSchema>;
