/**
 * Command-line flags and environment variables → one Options object. Flags win over env.
 * Nothing here touches the network or the catalog.
 */
import { parseArgs } from "node:util";
import { parseList } from "../policy/allowlist.js";
import { ConfigError } from "./file.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type ConfirmMode = "elicit" | "never";

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
  allowedHosts?: string[];
  allowedOrigins?: string[];
  auditLog?: string;
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
}

export interface ServerLimits {
  /** Refused calls per agent per minute audited one by one (0: no throttle). */
  maxRefusalsPerMinute: number;
  /** HTTP --sessions: sessions one agent may hold (default a quarter of --max-sessions). */
  maxSessionsPerAgent?: number;
  /** Calls one agent may have running upstream at once. */
  maxConcurrentCalls: number;
  /** How long a call over that limit waits for a slot before it is refused. */
  concurrencyWaitMs: number;
  /** HTTP: failed authentications per client address per minute before 429 (0: no throttle). */
  maxAuthFailures: number;
  /** HTTP: a request's headers must arrive within this. */
  headersTimeoutMs: number;
  /** HTTP: the body of a request without a valid token must arrive within this. */
  bodyTimeoutMs: number;
  /** HTTP: open connections from one client address. */
  maxConnectionsPerAddress: number;
}

export type StoreFailureMode = "deny" | "allow";

export const DEFAULTS = {
  baseUrl: "https://api.cohere.com",
  clientName: "cohere-mcp",
  timeoutMs: 120_000,
  maxRetries: 2,
  retryBaseMs: 1_000,
  maxRetryDelayMs: 60_000,
  maxOutputChars: 20_000,
  host: "127.0.0.1",
  port: 8080,
  maxBodyBytes: 4 * 1024 * 1024,
  requestTimeoutMs: 900_000,
  shutdownGraceMs: 20_000,
  sessionIdleMs: 30 * 60_000,
  maxSessions: 1_000,
  sseReplayBytes: 256 * 1024,
  sseRetryMs: 2_000,
  maxFileBytes: 50 * 1024 * 1024,
  pollIntervalMs: 2_000,
  maxWaitS: 600,
  maxMessageBytes: 10 * 1024 * 1024,
  maxRefusalsPerMinute: 60,
  maxConcurrentCalls: 16,
  concurrencyWaitMs: 2_000,
  maxAuthFailures: 10,
  headersTimeoutMs: 5_000,
  bodyTimeoutMs: 5_000,
  maxConnectionsPerAddress: 1024,
  storePrefix: "cohere-mcp:",
  storeTimeoutMs: 1_000,
} as const;

/** Every flag, its env var and its help line: the README's flag table is built from this. */
export const FLAGS = [
  { flag: "--tools LIST", env: "COHERE_MCP_TOOLS", help: "Tools to expose: names, groups or globs, comma-separated (default: the non-deprecated read tools)" },
  { flag: "--exclude-tools LIST", env: "COHERE_MCP_EXCLUDE_TOOLS", help: "Tools to hide whatever else selects them" },
  { flag: "--allow-write", env: "COHERE_MCP_ALLOW_WRITE=1", help: "Let groups and globs select write tools (create, update)" },
  { flag: "--allow-destructive", env: "COHERE_MCP_ALLOW_DESTRUCTIVE=1", help: "Let groups and globs select destructive tools (delete, cancel)" },
  { flag: "--config FILE", env: "COHERE_MCP_CONFIG", help: "JSON config with named profiles (and HTTP agents); see config.schema.json" },
  { flag: "--profile NAME", env: "COHERE_MCP_PROFILE", help: "Profile from the config file; --tools then narrows inside it" },
  { flag: "--list-tools", env: "", help: "Print the visible tools with class and group, then exit" },
  { flag: "--json", env: "", help: "With --list-tools: print JSON" },
  { flag: "--timeout MS", env: "COHERE_MCP_TIMEOUT_MS", help: `Per-attempt timeout until Cohere's headers arrive (default ${DEFAULTS.timeoutMs})` },
  { flag: "--max-retries N", env: "COHERE_MCP_MAX_RETRIES", help: `Retries on 408/429/5xx for read tools (default ${DEFAULTS.maxRetries})` },
  { flag: "--retry-base-ms MS", env: "COHERE_MCP_RETRY_BASE_MS", help: `Backoff base when no Retry-After is sent (default ${DEFAULTS.retryBaseMs})` },
  { flag: "--max-retry-delay-ms MS", env: "COHERE_MCP_MAX_RETRY_DELAY_MS", help: `Cap on any retry wait, Retry-After included (default ${DEFAULTS.maxRetryDelayMs})` },
  { flag: "--client-name NAME", env: "COHERE_MCP_CLIENT_NAME", help: `X-Client-Name sent to Cohere (default ${DEFAULTS.clientName})` },
  { flag: "--max-output-chars N", env: "COHERE_MCP_MAX_OUTPUT_CHARS", help: `Output budget per tool result (default ${DEFAULTS.maxOutputChars})` },
  { flag: "--log-level LEVEL", env: "COHERE_MCP_LOG_LEVEL", help: "debug | info | warn | error | silent (default info; logs go to stderr)" },
  { flag: "--log-file FILE", env: "COHERE_MCP_LOG_FILE", help: "Write logs to this file instead of stderr" },
  { flag: "--http", env: "", help: "Serve streamable HTTP at /mcp instead of stdio" },
  { flag: "--host HOST", env: "COHERE_MCP_HOST", help: `HTTP bind address (default ${DEFAULTS.host})` },
  { flag: "--port PORT", env: "COHERE_MCP_PORT", help: `HTTP port (default ${DEFAULTS.port}; 0 picks a free one)` },
  { flag: "--sessions", env: "", help: "HTTP: stateful sessions instead of stateless" },
  { flag: "--allowed-hosts LIST", env: "COHERE_MCP_ALLOWED_HOSTS", help: "HTTP: Host header values accepted (default loopback names)" },
  { flag: "--allowed-origins LIST", env: "COHERE_MCP_ALLOWED_ORIGINS", help: "HTTP: Origin header values accepted (default none but loopback)" },
  { flag: "--max-body-bytes N", env: "COHERE_MCP_MAX_BODY_BYTES", help: `HTTP: largest request body accepted, 413 above (default ${DEFAULTS.maxBodyBytes})` },
  { flag: "--request-timeout-ms MS", env: "COHERE_MCP_REQUEST_TIMEOUT_MS", help: `HTTP: a POST's calls are cancelled after this long (default ${DEFAULTS.requestTimeoutMs})` },
  { flag: "--shutdown-grace-ms MS", env: "COHERE_MCP_SHUTDOWN_GRACE_MS", help: `HTTP: on SIGTERM/SIGINT, how long in-flight calls may finish (default ${DEFAULTS.shutdownGraceMs})` },
  { flag: "--session-idle-ms MS", env: "COHERE_MCP_SESSION_IDLE_MS", help: `HTTP --sessions: close a session unused this long (default ${DEFAULTS.sessionIdleMs})` },
  { flag: "--max-sessions N", env: "COHERE_MCP_MAX_SESSIONS", help: `HTTP --sessions: most open sessions; new ones get 503 beyond (default ${DEFAULTS.maxSessions})` },
  { flag: "--sse-replay-bytes N", env: "COHERE_MCP_SSE_REPLAY_BYTES", help: `HTTP --sessions: sent messages kept per session for a client that resumes a stream (Last-Event-ID); 0 = no priming events (default ${DEFAULTS.sseReplayBytes})` },
  { flag: "--sse-retry-ms MS", env: "COHERE_MCP_SSE_RETRY_MS", help: `HTTP --sessions: the retry a POST stream's priming event announces, i.e. how long a client waits to reconnect (default ${DEFAULTS.sseRetryMs})` },
  { flag: "--audit-log FILE", env: "COHERE_MCP_AUDIT_LOG", help: "Write one JSON audit line per tool call to FILE ('-' for stderr)" },
  { flag: "--allow-file-read DIR", env: "COHERE_MCP_ALLOW_FILE_READ", help: "Let file inputs name paths inside DIR (repeatable; LABEL=DIR names it LABEL to agents, default its base name)" },
  { flag: "--confirm-destructive MODE", env: "COHERE_MCP_CONFIRM_DESTRUCTIVE", help: "elicit (ask the user; refuse if the client cannot ask) | never (no confirmation)" },
  { flag: "--max-file-bytes N", env: "COHERE_MCP_MAX_FILE_BYTES", help: `Largest file a path input may name (default ${DEFAULTS.maxFileBytes})` },
  { flag: "--poll-interval-ms MS", env: "COHERE_MCP_POLL_INTERVAL_MS", help: `wait_for_* tools: first wait between polls, growing ×1.5 to 30 s (default ${DEFAULTS.pollIntervalMs})` },
  { flag: "--max-wait-s N", env: "COHERE_MCP_MAX_WAIT_S", help: `wait_for_* tools: longest wait, whatever timeout_s asks (default ${DEFAULTS.maxWaitS})` },
  { flag: "--max-message-bytes N", env: "COHERE_MCP_MAX_MESSAGE_BYTES", help: `stdio: largest JSON-RPC message read; a bigger one gets an error pointing to --allow-file-read (default ${DEFAULTS.maxMessageBytes})` },
  { flag: "--max-refusals-per-minute N", env: "COHERE_MCP_MAX_REFUSALS_PER_MINUTE", help: `Refused calls per agent per minute audited one by one; beyond, a short 429 and one summary line (default ${DEFAULTS.maxRefusalsPerMinute}; 0 = off; profile limits.refusals_per_minute)` },
  { flag: "--max-sessions-per-agent N", env: "COHERE_MCP_MAX_SESSIONS_PER_AGENT", help: "HTTP --sessions: sessions one agent may hold; 429 beyond (default a quarter of --max-sessions, at least 1; profile limits.max_sessions)" },
  { flag: "--max-concurrent-calls N", env: "COHERE_MCP_MAX_CONCURRENT_CALLS", help: `HTTP: calls one agent may have running upstream at once (default ${DEFAULTS.maxConcurrentCalls} of the 64 connections; profile limits.max_concurrent_calls)` },
  { flag: "--concurrency-wait-ms MS", env: "COHERE_MCP_CONCURRENCY_WAIT_MS", help: `HTTP: how long a call over --max-concurrent-calls waits for a slot before it is refused (default ${DEFAULTS.concurrencyWaitMs})` },
  { flag: "--max-auth-failures N", env: "COHERE_MCP_MAX_AUTH_FAILURES", help: `HTTP: failed authentications per client address per minute; then 429 with Retry-After (default ${DEFAULTS.maxAuthFailures}; 0 = off)` },
  { flag: "--headers-timeout-ms MS", env: "COHERE_MCP_HEADERS_TIMEOUT_MS", help: `HTTP: a request's headers must arrive within this (default ${DEFAULTS.headersTimeoutMs})` },
  { flag: "--body-timeout-ms MS", env: "COHERE_MCP_BODY_TIMEOUT_MS", help: `HTTP: the body of a request without a valid token must arrive within this (default ${DEFAULTS.bodyTimeoutMs})` },
  { flag: "--max-connections-per-address N", env: "COHERE_MCP_MAX_CONNECTIONS_PER_ADDRESS", help: `HTTP: open connections from one client address; more are refused (default ${DEFAULTS.maxConnectionsPerAddress})` },
  { flag: "--store URL", env: "COHERE_MCP_STORE", help: "Share every counter (limits, budgets, throttles) with other replicas: redis://[:PASSWORD@]HOST:PORT/DB, rediss:// for TLS (default: this process's memory)" },
  { flag: "--store-prefix PREFIX", env: "COHERE_MCP_STORE_PREFIX", help: `With --store: prefix of every key written (default ${DEFAULTS.storePrefix})` },
  { flag: "--store-failure MODE", env: "COHERE_MCP_STORE_FAILURE", help: "With --store, while it is unreachable: deny (refuse calls that count; default) | allow (count on this replica only)" },
  { flag: "--store-timeout-ms MS", env: "COHERE_MCP_STORE_TIMEOUT_MS", help: `With --store: longest wait for one decision before the store counts as unreachable (default ${DEFAULTS.storeTimeoutMs})` },
  { flag: "--replica-id TAG", env: "COHERE_MCP_REPLICA_ID", help: "This replica's tag (letters, digits, - and _): session ids start with TAG. so a load balancer can route them (default: random)" },
  { flag: "--metrics-port PORT", env: "COHERE_MCP_METRICS_PORT", help: "Serve Prometheus metrics at /metrics on this port, apart from the agents' port (default: off; 0 picks a free one)" },
  { flag: "--metrics-host HOST", env: "COHERE_MCP_METRICS_HOST", help: `Bind address of --metrics-port (default ${DEFAULTS.host})` },
] as const;

export const ENV = [
  { env: "CO_API_KEY", help: "Cohere API key (also read: COHERE_API_KEY)" },
  { env: "CO_API_URL", help: `Cohere base URL (default ${DEFAULTS.baseUrl}; a trailing /v1 or /v2 is tolerated)` },
  { env: "COHERE_MCP_STORE_PASSWORD", help: "Password for --store when its URL carries none (never logged)" },
] as const;

function intOpt(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new ConfigError(`${name} must be an integer ≥ ${min}, got "${value}"`);
  return n;
}

/** 6 hex digits: a tag, not a secret (node:crypto is not loaded at start-up for it). */
function defaultReplicaId(): string {
  return Math.floor(Math.random() * 0x1000000)
    .toString(16)
    .padStart(6, "0");
}

function metricsPort(value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = intOpt("--metrics-port", value, 0);
  if (n > 65535) throw new ConfigError(`--metrics-port must be a port number (0-65535), got "${value}"`);
  return n;
}

function boolEnv(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
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
        store: { type: "string" },
        "store-prefix": { type: "string" },
        "store-failure": { type: "string" },
        "store-timeout-ms": { type: "string" },
        "replica-id": { type: "string" },
        "metrics-port": { type: "string" },
        "metrics-host": { type: "string" },
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
  const confirm = (v["confirm-destructive"] ?? env.COHERE_MCP_CONFIRM_DESTRUCTIVE ?? "elicit") as ConfirmMode;
  if (confirm !== "elicit" && confirm !== "never") {
    throw new ConfigError(`--confirm-destructive must be elicit or never, got "${confirm}"`);
  }
  const storeFailure = (v["store-failure"] ?? env.COHERE_MCP_STORE_FAILURE ?? "deny") as StoreFailureMode;
  if (storeFailure !== "deny" && storeFailure !== "allow") {
    throw new ConfigError(`--store-failure must be deny or allow, got "${storeFailure}"`);
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
    allowWrite: v["allow-write"] ?? boolEnv(env.COHERE_MCP_ALLOW_WRITE),
    allowDestructive: v["allow-destructive"] ?? boolEnv(env.COHERE_MCP_ALLOW_DESTRUCTIVE),
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
    port: intOpt("--port", v.port ?? env.COHERE_MCP_PORT, DEFAULTS.port),
    sessions: v.sessions ?? false,
    allowedHosts: parseList(v["allowed-hosts"] ?? env.COHERE_MCP_ALLOWED_HOSTS),
    allowedOrigins: parseList(v["allowed-origins"] ?? env.COHERE_MCP_ALLOWED_ORIGINS),
    auditLog: v["audit-log"] ?? env.COHERE_MCP_AUDIT_LOG,
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
    store,
    storePassword: env.COHERE_MCP_STORE_PASSWORD || undefined,
    storePrefix: v["store-prefix"] ?? env.COHERE_MCP_STORE_PREFIX ?? DEFAULTS.storePrefix,
    storeFailure,
    storeTimeoutMs: intOpt("--store-timeout-ms", v["store-timeout-ms"] ?? env.COHERE_MCP_STORE_TIMEOUT_MS, DEFAULTS.storeTimeoutMs, 1),
    replicaId,
    budgetPeriodMs: env.COHERE_MCP_BUDGET_PERIOD_MS ? intOpt("COHERE_MCP_BUDGET_PERIOD_MS", env.COHERE_MCP_BUDGET_PERIOD_MS, 0, 1) : undefined,
    metricsPort: metricsPort(v["metrics-port"] ?? env.COHERE_MCP_METRICS_PORT),
    metricsHost: v["metrics-host"] ?? env.COHERE_MCP_METRICS_HOST ?? DEFAULTS.host,
  };
}

function parseLimits(v: Record<string, string | boolean | (string | boolean)[] | undefined>, env: NodeJS.ProcessEnv): ServerLimits {
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
  };
}
