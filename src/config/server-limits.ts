/**
 * The server's own limits (issue 8): each agent's share, and what unauthenticated clients may
 * cost. Flags in flags.ts; profiles may lower some per agent (limits.ts).
 */
import { DEFAULTS } from "./flags.js";
import { intOpt } from "./values.js";

export interface ServerLimits {
  /** Refused calls per agent per minute audited one by one (0: no throttle). */
  maxRefusalsPerMinute: number;
  /** HTTP: sessions (--sessions), and apart listen streams, one agent may hold (default a quarter of --max-sessions). */
  maxSessionsPerAgent?: number;
  /** Calls one agent may have running upstream at once. */
  maxConcurrentCalls: number;
  /** How long a call over that limit waits for a slot before it is refused. */
  concurrencyWaitMs: number;
  /** HTTP: failed authentications per client address per minute before 429 (0: no throttle); behind --trusted-proxies, the address X-Forwarded-For names. */
  maxAuthFailures: number;
  /** HTTP: a request's headers must arrive within this. */
  headersTimeoutMs: number;
  /** HTTP: the body of a request without a valid token must arrive within this. */
  bodyTimeoutMs: number;
  /** HTTP: open connections from one peer address (not counted for --trusted-proxies). */
  maxConnectionsPerAddress: number;
  /** HTTP: IPv6 client addresses are throttled per network of this many leading bits. */
  ipv6Prefix: number;
  /** HTTP: most JSON-RPC messages in one batch. */
  maxBatchCalls: number;
}

/** The --max-* and --*-timeout-ms flags (or their env vars) that make ServerLimits. */
export function parseLimits(v: Record<string, string | boolean | (string | boolean)[] | undefined>, env: NodeJS.ProcessEnv): ServerLimits {
  const s = (flag: string): string | undefined => v[flag] as string | undefined;
  const perAgent = s("max-sessions-per-agent") ?? env.COHERE_MCP_MAX_SESSIONS_PER_AGENT;
  return {
    maxRefusalsPerMinute: intOpt("--max-refusals-per-minute", s("max-refusals-per-minute") ?? env.COHERE_MCP_MAX_REFUSALS_PER_MINUTE, DEFAULTS.maxRefusalsPerMinute),
    maxSessionsPerAgent: perAgent ? intOpt("--max-sessions-per-agent", perAgent, 1, 1) : undefined,
    maxConcurrentCalls: intOpt("--max-concurrent-calls", s("max-concurrent-calls") ?? env.COHERE_MCP_MAX_CONCURRENT_CALLS, DEFAULTS.maxConcurrentCalls, 1),
    concurrencyWaitMs: intOpt("--concurrency-wait-ms", s("concurrency-wait-ms") ?? env.COHERE_MCP_CONCURRENCY_WAIT_MS, DEFAULTS.concurrencyWaitMs),
    maxAuthFailures: intOpt("--max-auth-failures", s("max-auth-failures") ?? env.COHERE_MCP_MAX_AUTH_FAILURES, DEFAULTS.maxAuthFailures),
    headersTimeoutMs: intOpt("--headers-timeout-ms", s("headers-timeout-ms") ?? env.COHERE_MCP_HEADERS_TIMEOUT_MS, DEFAULTS.headersTimeoutMs, 100),
    bodyTimeoutMs: intOpt("--body-timeout-ms", s("body-timeout-ms") ?? env.COHERE_MCP_BODY_TIMEOUT_MS, DEFAULTS.bodyTimeoutMs, 100),
    maxConnectionsPerAddress: intOpt(
      "--max-connections-per-address",
      s("max-connections-per-address") ?? env.COHERE_MCP_MAX_CONNECTIONS_PER_ADDRESS,
      DEFAULTS.maxConnectionsPerAddress,
      1,
    ),
    ipv6Prefix: intOpt("--ipv6-prefix", s("ipv6-prefix") ?? env.COHERE_MCP_IPV6_PREFIX, DEFAULTS.ipv6Prefix, 1, 128),
    maxBatchCalls: intOpt("--max-batch-calls", s("max-batch-calls") ?? env.COHERE_MCP_MAX_BATCH_CALLS, DEFAULTS.maxBatchCalls, 1),
  };
}
