/**
 * The admin API's request bodies as zod schemas: the API validates with them and the OpenAPI
 * document (openapi.ts) is generated from them.
 */
import { z } from "zod/v3";

export const loginBody = z.object({ token: z.string().min(1).max(512) }).strict();

const groupChange = z
  .object({
    agent: z.string().min(1).max(200),
    group: z.string().min(1).max(64),
    level: z.enum(["off", "read", "full"]),
    confirm_destructive: z.boolean().optional(),
  })
  .strict();
const toolChange = z
  .object({
    agent: z.string().min(1).max(200),
    tool: z.string().min(1).max(100),
    on: z.boolean(),
    confirm_destructive: z.boolean().optional(),
  })
  .strict();
export const gridChange = z.union([groupChange, toolChange]);
export type GridChangeT = z.infer<typeof gridChange>;
export const previewBody = z.object({ changes: z.array(gridChange).min(1).max(500) }).strict();
export const gridPutBody = z.object({ version: z.string().min(1).max(100), changes: z.array(gridChange).min(1).max(500) }).strict();

export const agentName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "letters, digits, . _ - (1–64)");
export const createAgentBody = z.object({ name: agentName, profile: z.string().min(1).max(100) }).strict();
export const tokenBody = z.object({ label: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, "letters, digits, . _ : - (1–64)") }).strict();
export const budgetBody = z
  .object({
    action: z.enum(["reset", "top_up"]),
    amount: z.number().positive().optional(),
    unit: z.string().optional(),
  })
  .strict()
  .refine((b) => b.action === "reset" || b.amount !== undefined, { message: "top_up needs an amount" });

export const activityQuery = z
  .object({
    agent: z.string().max(200).optional(),
    tool: z.string().max(200).optional(),
    decision: z.enum(["allowed", "denied"]).optional(),
    outcome: z.string().max(64).optional(),
    since: z.string().max(40).optional(),
    until: z.string().max(40).optional(),
    limit: z.string().regex(/^\d{1,5}$/).optional(),
    before: z.string().regex(/^\d+-\d+$/).optional(),
    format: z.enum(["jsonl", "csv"]).optional(),
  })
  .strict();

export const usageQuery = z.object({ month: z.string().regex(/^\d{4}-\d{2}$/, "YYYY-MM").optional() }).strict();
