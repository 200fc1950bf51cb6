/**
 * Command-line flags and environment variables → one Options object. Flags win over env.
 * Nothing here touches the network or the catalog. The flags' table and help lines are in
 * flags.ts, the server limits in server-limits.ts (both re-exported here).
 */
import { parseArgs } from "node:util";
import { parseList } from "../policy/allowlist.js";
import { ConfigError } from "./file.js";
import { DEFAULTS } from "./flags.js";
import { parseLimits, type ServerLimits } from "./server-limits.js";
import { boolEnv, intOpt, portOpt } from "./values.js";
import { parseTrustedProxies } from "./proxies.js";

export { DEFAULTS, ENV, FLAGS } from "./flags.js";
export type { ServerLimits } from "./server-limits.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type ConfirmMode = "elicit" | "never";
/** MCP protocol eras: modern = 2026-07-28 (server/discover, per-request envelope), legacy = 2025-11-25 and older (initialize). */
export type Era = "modern" | "legacy";

export interface Options {
  mode: "stdio" | "http" | "list-tools" | "help" | "version";
  tools?: string[];
  excludeTools?: string[];
  allowWrite: boolean;
  allowDestructive: boolean;
  configPath?: string;
  profile?: string;
  apiKey?: string;
  /** Which env var the key came from, for messages. */
  apiKeySource?: string;
  baseUrl: string;
  clientName: string;
  timeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  maxRetryDelayMs: number;
  logLevel: LogLevel;
  logFile?: string;
  maxOutputChars: number;
  host: string;
  port: number;
  sessions: boolean;
  /** The protocol eras served (--eras; default both). */
  eras: ReadonlySet<Era>;
  /** COHERE_MCP_STATE_KEY: signs modern-era confirmation state (never logged). */
  stateKey?: string;
  allowedHosts?: string[];
  allowedOrigins?: string[];
  auditLog?: string;
  /** While the audit file cannot be written: deny (refuse calls; not ready) or allow (run them, lines wait in memory). */
  auditFailure: AuditFailureMode;
  allowFileRead: string[];
  confirmDestructive: ConfirmMode;
  /** Largest file a path input may name. */
  maxFileBytes: number;
  /** Wait tools: first interval between polls (grows ×1.5 up to 30 s). */
  pollIntervalMs: number;
  /** Wait tools: the most any wait may last, whatever timeout_s the agent asks for. */
  maxWaitS: number;
  json: boolean;
  /** HTTP: largest request body accepted (413 above). */
  maxBodyBytes: number;
  /** HTTP: longest a POST to /mcp may take before its calls are cancelled. */
  requestTimeoutMs: number;
  /** HTTP: how long SIGTERM/SIGINT lets in-flight calls finish. */
  shutdownGraceMs: number;
  /** HTTP --sessions: a session unused this long is closed. */
  sessionIdleMs: number;
  /** HTTP --sessions: most sessions open at once (new ones get 503 beyond). */
  maxSessions: number;
  /** stdio: largest JSON-RPC message read; a bigger one is answered with an error. */
  maxMessageBytes: number;
  /** HTTP --sessions: bytes of sent messages each session keeps for SSE resumption (0: no priming events). */
  sseReplayBytes: number;
  /** HTTP --sessions: the `retry` (ms) a POST stream's priming event tells clients to wait before reconnecting. */
  sseRetryMs: number;
  /** Length of a rate_limit "minute" (tests only: COHERE_MCP_RATE_WINDOW_MS). */
  rateWindowMs: number;
  /** Hardening (issue 8): each agent's share, and what unauthenticated clients may cost. */
  limits: ServerLimits;
  /** HTTP: load balancers whose X-Forwarded-For names the client (addresses and CIDRs; empty: none). */
  trustedProxies: string[];
  /** Shared counter store (redis:// or rediss:// URL); undefined: this process's memory. */
  store?: string;
  /** Password for the store when the URL has none (COHERE_MCP_STORE_PASSWORD; never logged). */
  storePassword?: string;
  /** Prefix of every key the store writes. */
  storePrefix: string;
  /** What a call gets while the shared store is unreachable. */
  storeFailure: StoreFailureMode;
  /** Longest wait for one store decision before it counts as a failure. */
  storeTimeoutMs: number;
  /** This replica's tag: --sessions ids are `<tag>.<uuid>` so a load balancer can route by it. */
  replicaId: string;
  /** Budgets and monthly limits renew every this many ms instead of monthly (tests only: COHERE_MCP_BUDGET_PERIOD_MS). */
  budgetPeriodMs?: number;
  /** Serve Prometheus metrics at /metrics on this port (absent: no metrics). */
  metricsPort?: number;
  metricsHost: string;
  /** The console and its API on this port (absent: off). */
  adminPort?: number;
  adminHost: string;
  adminReadonly: boolean;
  /** With --store: the policy lives in the store (a versioned document every replica applies). */
  policyStore: boolean;
  /** Audit events kept for the console's Activity. */
  activityMax: number;
  adminSessionIdleMs: number;
  adminSessionMaxMs: number;
  /** --otel: export OpenTelemetry traces and metrics (src/telemetry/). */
  otel: boolean;
  /** --audit-otlp: each audit line also as an OTLP log record. */
  auditOtlp: boolean;
}

export type StoreFailureMode = "deny" | "allow";
export type AuditFailureMode = "deny" | "allow";

/** 6 hex digits: a tag, not a secret (node:crypto is not loaded at start-up for it). */
function defaultReplicaId(): string {
  return Math.floor(Math.random() * 0x1000000)
    .toString(16)
    .padStart(6, "0");
}

function metricsPort(value: string | undefined, flag = "--metrics-port"): number | undefined {
  if (value === undefined || value === "") return undefined;
  return portOpt(flag, value, 0);
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        tools: { type: "string", multiple: true },
        "exclude-tools": { type: "string", multiple: true },
        "allow-write": { type: "boolean" },
        "allow-destructive": { type: "boolean" },
        config: { type: "string" },
        profile: { type: "string" },
        "list-tools": { type: "boolean" },
        json: { type: "boolean" },
        timeout: { type: "string" },
        "max-retries": { type: "string" },
        "retry-base-ms": { type: "string" },
        "max-retry-delay-ms": { type: "string" },
        "client-name": { type: "string" },
        "max-output-chars": { type: "string" },
        "log-level": { type: "string" },
        "log-file": { type: "string" },
        http: { type: "boolean" },
        host: { type: "string" },
        port: { type: "string" },
        sessions: { type: "boolean" },
        "allowed-hosts": { type: "string", multiple: true },
        "allowed-origins": { type: "string", multiple: true },
        "audit-log": { type: "string" },
        "audit-failure": { type: "string" },
        "max-body-bytes": { type: "string" },
        "request-timeout-ms": { type: "string" },
        "shutdown-grace-ms": { type: "string" },
        "session-idle-ms": { type: "string" },
        "max-sessions": { type: "string" },
        "sse-replay-bytes": { type: "string" },
        "sse-retry-ms": { type: "string" },
        "allow-file-read": { type: "string", multiple: true },
        "confirm-destructive": { type: "string" },
        "max-file-bytes": { type: "string" },
        "poll-interval-ms": { type: "string" },
        "max-wait-s": { type: "string" },
        "max-message-bytes": { type: "string" },
        "max-refusals-per-minute": { type: "string" },
        "max-sessions-per-agent": { type: "string" },
        "max-concurrent-calls": { type: "string" },
        "concurrency-wait-ms": { type: "string" },
        "max-auth-failures": { type: "string" },
        "headers-timeout-ms": { type: "string" },
        "body-timeout-ms": { type: "string" },
        "max-connections-per-address": { type: "string" },
        "ipv6-prefix": { type: "string" },
        "max-batch-calls": { type: "string" },
        "trusted-proxies": { type: "string", multiple: true },
        store: { type: "string" },
        "store-prefix": { type: "string" },
        eras: { type: "string" },
        "store-failure": { type: "string" },
        "store-timeout-ms": { type: "string" },
        "replica-id": { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
        "admin-port": { type: "string" },
        "admin-host": { type: "string" },
        "admin-readonly": { type: "boolean" },
        "policy-store": { type: "boolean" },
        "activity-max": { type: "string" },
        "admin-session-idle-ms": { type: "string" },
        "admin-session-max-ms": { type: "string" },
        otel: { type: "boolean" },
        "audit-otlp": { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "v" },
      },
    });
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}. Run cohere-mcp --help for the flags.`);
  }
  const v = parsed.values;
  const apiKey = env.CO_API_KEY || env.COHERE_API_KEY || undefined;
  const logLevel = (v["log-level"] ?? env.COHERE_MCP_LOG_LEVEL ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error", "silent"].includes(logLevel)) {
    throw new ConfigError(`--log-level must be debug, info, warn, error or silent, got "${logLevel}"`);
  }
  // "ask" is what the desktop bundle's form says for elicit; an empty value is the default
  const confirmGiven = (v["confirm-destructive"] ?? env.COHERE_MCP_CONFIRM_DESTRUCTIVE ?? "").trim() || "elicit";
  const confirm = (confirmGiven === "ask" ? "elicit" : confirmGiven) as ConfirmMode;
  if (confirm !== "elicit" && confirm !== "never") {
    throw new ConfigError(`--confirm-destructive must be elicit (or ask) or never, got "${confirmGiven.slice(0, 40)}"`);
  }
  const storeFailure = (v["store-failure"] ?? env.COHERE_MCP_STORE_FAILURE ?? "deny") as StoreFailureMode;
  if (storeFailure !== "deny" && storeFailure !== "allow") {
    throw new ConfigError(`--store-failure must be deny or allow, got "${storeFailure}"`);
  }
  const auditFailure = (v["audit-failure"] ?? env.COHERE_MCP_AUDIT_FAILURE ?? "deny") as AuditFailureMode;
  if (auditFailure !== "deny" && auditFailure !== "allow") {
    throw new ConfigError(`--audit-failure must be deny or allow, got "${auditFailure}"`);
  }
  const eras = parseEras(v.eras ?? env.COHERE_MCP_ERAS);
  const stateKey = env.COHERE_MCP_STATE_KEY || undefined;
  if (stateKey !== undefined && stateKey.length < 32) {
    throw new ConfigError(`COHERE_MCP_STATE_KEY must be at least 32 characters (it signs confirmation state), got ${stateKey.length}`);
  }
  const store = v.store ?? (env.COHERE_MCP_STORE || undefined);
  if (store !== undefined && !/^rediss?:\/\//i.test(store)) {
    // Never echo the value: it may carry a password.
    throw new ConfigError("--store must be a redis:// or rediss:// URL (redis://[:PASSWORD@]HOST:PORT/DB)");
  }
  const replicaId = v["replica-id"] ?? (env.COHERE_MCP_REPLICA_ID || defaultReplicaId());
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(replicaId)) {
    throw new ConfigError(`--replica-id must be 1 to 32 letters, digits, - or _, got "${replicaId.slice(0, 40)}"`);
  }
  const adminPort = metricsPort(v["admin-port"] ?? env.COHERE_MCP_ADMIN_PORT, "--admin-port");
  const policyStore = v["policy-store"] ?? (env.COHERE_MCP_POLICY_STORE !== undefined ? boolEnv(env.COHERE_MCP_POLICY_STORE) : adminPort !== undefined && store !== undefined);
  if (policyStore && store === undefined) throw new ConfigError("--policy-store needs --store (the policy document lives in the shared store)");
  const mode: Options["mode"] = v.help
    ? "help"
    : v.version
      ? "version"
      : v["list-tools"]
        ? "list-tools"
        : v.http
          ? "http"
          : "stdio";
  return {
    mode,
    // An empty COHERE_MCP_TOOLS is unset (the default set), not "no tools": an MCPB host passes a
    // cleared form field as "".
    tools: parseList(v.tools ?? (env.COHERE_MCP_TOOLS?.trim() ? env.COHERE_MCP_TOOLS : undefined)),
    excludeTools: parseList(v["exclude-tools"] ?? env.COHERE_MCP_EXCLUDE_TOOLS),
    allowWrite: v["allow-write"] ?? boolEnv(env.COHERE_MCP_ALLOW_WRITE, "COHERE_MCP_ALLOW_WRITE"),
    allowDestructive: v["allow-destructive"] ?? boolEnv(env.COHERE_MCP_ALLOW_DESTRUCTIVE, "COHERE_MCP_ALLOW_DESTRUCTIVE"),
    configPath: v.config ?? env.COHERE_MCP_CONFIG,
    profile: v.profile ?? env.COHERE_MCP_PROFILE,
    apiKey,
    apiKeySource: env.CO_API_KEY ? "CO_API_KEY" : env.COHERE_API_KEY ? "COHERE_API_KEY" : undefined,
    baseUrl: env.CO_API_URL || DEFAULTS.baseUrl,
    clientName: v["client-name"] ?? env.COHERE_MCP_CLIENT_NAME ?? DEFAULTS.clientName,
    timeoutMs: intOpt("--timeout", v.timeout ?? env.COHERE_MCP_TIMEOUT_MS, DEFAULTS.timeoutMs, 1),
    maxRetries: intOpt("--max-retries", v["max-retries"] ?? env.COHERE_MCP_MAX_RETRIES, DEFAULTS.maxRetries),
    retryBaseMs: intOpt("--retry-base-ms", v["retry-base-ms"] ?? env.COHERE_MCP_RETRY_BASE_MS, DEFAULTS.retryBaseMs),
    maxRetryDelayMs: intOpt(
      "--max-retry-delay-ms",
      v["max-retry-delay-ms"] ?? env.COHERE_MCP_MAX_RETRY_DELAY_MS,
      DEFAULTS.maxRetryDelayMs,
    ),
    logLevel,
    logFile: v["log-file"] ?? env.COHERE_MCP_LOG_FILE,
    maxOutputChars: intOpt(
      "--max-output-chars",
      v["max-output-chars"] ?? env.COHERE_MCP_MAX_OUTPUT_CHARS,
      DEFAULTS.maxOutputChars,
      500,
    ),
    host: v.host ?? env.COHERE_MCP_HOST ?? DEFAULTS.host,
    port: portOpt("--port", v.port ?? env.COHERE_MCP_PORT, DEFAULTS.port),
    sessions: v.sessions ?? false,
    eras,
    stateKey,
    allowedHosts: parseList(v["allowed-hosts"] ?? env.COHERE_MCP_ALLOWED_HOSTS),
    allowedOrigins: parseList(v["allowed-origins"] ?? env.COHERE_MCP_ALLOWED_ORIGINS),
    auditLog: v["audit-log"] ?? env.COHERE_MCP_AUDIT_LOG,
    auditFailure,
    allowFileRead: v["allow-file-read"] ?? parseList(env.COHERE_MCP_ALLOW_FILE_READ) ?? [],
    confirmDestructive: confirm,
    maxFileBytes: intOpt("--max-file-bytes", v["max-file-bytes"] ?? env.COHERE_MCP_MAX_FILE_BYTES, DEFAULTS.maxFileBytes, 1),
    pollIntervalMs: intOpt("--poll-interval-ms", v["poll-interval-ms"] ?? env.COHERE_MCP_POLL_INTERVAL_MS, DEFAULTS.pollIntervalMs, 1),
    maxWaitS: intOpt("--max-wait-s", v["max-wait-s"] ?? env.COHERE_MCP_MAX_WAIT_S, DEFAULTS.maxWaitS, 1),
    maxMessageBytes: intOpt(
      "--max-message-bytes",
      v["max-message-bytes"] ?? env.COHERE_MCP_MAX_MESSAGE_BYTES,
      DEFAULTS.maxMessageBytes,
      1024,
    ),
    json: v.json ?? false,
    maxBodyBytes: intOpt("--max-body-bytes", v["max-body-bytes"] ?? env.COHERE_MCP_MAX_BODY_BYTES, DEFAULTS.maxBodyBytes, 1024),
    requestTimeoutMs: intOpt(
      "--request-timeout-ms",
      v["request-timeout-ms"] ?? env.COHERE_MCP_REQUEST_TIMEOUT_MS,
      DEFAULTS.requestTimeoutMs,
      1,
    ),
    shutdownGraceMs: intOpt("--shutdown-grace-ms", v["shutdown-grace-ms"] ?? env.COHERE_MCP_SHUTDOWN_GRACE_MS, DEFAULTS.shutdownGraceMs),
    sessionIdleMs: intOpt("--session-idle-ms", v["session-idle-ms"] ?? env.COHERE_MCP_SESSION_IDLE_MS, DEFAULTS.sessionIdleMs, 1),
    maxSessions: intOpt("--max-sessions", v["max-sessions"] ?? env.COHERE_MCP_MAX_SESSIONS, DEFAULTS.maxSessions, 1),
    sseReplayBytes: intOpt("--sse-replay-bytes", v["sse-replay-bytes"] ?? env.COHERE_MCP_SSE_REPLAY_BYTES, DEFAULTS.sseReplayBytes),
    sseRetryMs: intOpt("--sse-retry-ms", v["sse-retry-ms"] ?? env.COHERE_MCP_SSE_RETRY_MS, DEFAULTS.sseRetryMs, 1),
    rateWindowMs: intOpt("COHERE_MCP_RATE_WINDOW_MS", env.COHERE_MCP_RATE_WINDOW_MS, 60_000, 1),
    limits: parseLimits(v, env),
    trustedProxies: parseTrustedProxies(parseList(v["trusted-proxies"] ?? env.COHERE_MCP_TRUSTED_PROXIES)),
    store,
    storePassword: env.COHERE_MCP_STORE_PASSWORD || undefined,
    storePrefix: v["store-prefix"] ?? env.COHERE_MCP_STORE_PREFIX ?? DEFAULTS.storePrefix,
    storeFailure,
    storeTimeoutMs: intOpt("--store-timeout-ms", v["store-timeout-ms"] ?? env.COHERE_MCP_STORE_TIMEOUT_MS, DEFAULTS.storeTimeoutMs, 1),
    replicaId,
    budgetPeriodMs: env.COHERE_MCP_BUDGET_PERIOD_MS ? intOpt("COHERE_MCP_BUDGET_PERIOD_MS", env.COHERE_MCP_BUDGET_PERIOD_MS, 0, 1) : undefined,
    metricsPort: metricsPort(v["metrics-port"] ?? env.COHERE_MCP_METRICS_PORT),
    metricsHost: v["metrics-host"] ?? env.COHERE_MCP_METRICS_HOST ?? DEFAULTS.host,
    adminPort,
    adminHost: v["admin-host"] ?? env.COHERE_MCP_ADMIN_HOST ?? DEFAULTS.host,
    adminReadonly: v["admin-readonly"] ?? boolEnv(env.COHERE_MCP_ADMIN_READONLY),
    policyStore,
    activityMax: intOpt("--activity-max", v["activity-max"] ?? env.COHERE_MCP_ACTIVITY_MAX, DEFAULTS.activityMax, 10),
    adminSessionIdleMs: intOpt("--admin-session-idle-ms", v["admin-session-idle-ms"] ?? env.COHERE_MCP_ADMIN_SESSION_IDLE_MS, DEFAULTS.adminSessionIdleMs, 1),
    adminSessionMaxMs: intOpt("--admin-session-max-ms", v["admin-session-max-ms"] ?? env.COHERE_MCP_ADMIN_SESSION_MAX_MS, DEFAULTS.adminSessionMaxMs, 1),
    otel: v.otel ?? boolEnv(env.COHERE_MCP_OTEL, "COHERE_MCP_OTEL"),
    auditOtlp: v["audit-otlp"] ?? boolEnv(env.COHERE_MCP_AUDIT_OTLP, "COHERE_MCP_AUDIT_OTLP"),
  };
}

/** --eras: a comma-separated list of modern and legacy (default both); at least one. */
export function parseEras(given: string | undefined): ReadonlySet<Era> {
  if (given === undefined || !given.trim()) return new Set<Era>(["modern", "legacy"]);
  const out = new Set<Era>();
  for (const item of given.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean)) {
    if (item !== "modern" && item !== "legacy") {
      throw new ConfigError(`--eras takes modern and/or legacy (comma-separated), got "${item.slice(0, 40)}"`);
    }
    out.add(item);
  }
  if (!out.size) throw new ConfigError("--eras needs at least one of modern, legacy");
  return out;
}
