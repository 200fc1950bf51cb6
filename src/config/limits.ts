/**
 * A profile's `limits`: its agent's share of what the server has (sessions, upstream
 * connections, audit lines for refusals). Each has a server-wide default from a flag; a profile
 * may set its own.
 */
import { z } from "zod/v3";

export const agentLimitsSchema = z
  .object({
    max_sessions: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "HTTP: most sessions (--sessions), and apart modern subscriptions/listen streams, one agent may have open (default --max-sessions-per-agent: a quarter of --max-sessions)",
      ),
    max_concurrent_calls: z
      .number()
      .int()
      .positive()
      .optional()
      .describe("HTTP: most calls one agent may have running upstream at once (default --max-concurrent-calls)"),
    refusals_per_minute: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "Refused calls per minute audited one by one; beyond, refusals get a short 429 and one summary line (default --max-refusals-per-minute; 0: no throttle)",
      ),
  })
  .strict();

export type AgentLimits = z.infer<typeof agentLimitsSchema>;
