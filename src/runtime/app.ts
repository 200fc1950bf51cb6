/**
 * The application: config → policy → catalog → Cohere client, assembled once per process and
 * shared by every agent and transport.
 */
import { TOOL_INDEX, loadRecords, type ToolInfo } from "../catalog/light.js";
import type { ToolDef } from "../catalog/types.js";
import type { ToolDescriptor } from "../catalog/describe.js";
import { CohereClient, normaliseBaseUrl } from "../cohere/client.js";
import { ConfigError, loadConfigFile, type ConfigFile, type Profile } from "../config/file.js";
import type { Options } from "../config/options.js";
import { narrow, resolveVisible, type PolicySpec } from "../policy/allowlist.js";
import { policyTools, profileSpec } from "../policy/access.js";
import type { Logger } from "./logger.js";
import type { AuditSink } from "../audit/index.js";
import type { AgentScope, Guard } from "../policy/types.js";
import type { CohereKey } from "../cohere/keyring.js";
import { buildGeneration, generationGuard, LiveConfig, storeRef } from "./live.js";
import type { CounterStore } from "../store/types.js";
import { MemoryCounterStore } from "../store/memory.js";
import type { SharedState } from "../store/shared.js";
import { MemorySharedState } from "../store/shared-memory.js";
import { createRefusalPolicy, type RefusalPolicy } from "../policy/refusals.js";

export interface App {
  options: Options;
  /** The current configuration (changes on reload; see `live`). */
  readonly config?: ConfigFile;
  logger: Logger;
  /** The client for the process's own key (CO_API_KEY): probes, and agents without a cohere_key. */
  client: CohereClient;
  /** Every tool's name, class, group and descriptor (no zod: cheap at start-up). */
  tools: readonly ToolInfo[];
  /** The full record of a tool (zod schema, hooks); the catalog loads on first use. */
  loadTool(name: string): Promise<ToolDef | undefined>;
  /** Visible set for stdio / --list-tools (flags, or --profile narrowed by --tools). */
  readonly visible: ReadonlySet<string>;
  /** Items of --tools that named nothing inside --profile. */
  readonly ignored: string[];
  /** Visible set per profile name (HTTP agents), in the current configuration. */
  profileVisible(name: string): ReadonlySet<string>;
  descriptorsFor(visible: ReadonlySet<string>): ToolDescriptor[];
  /** Run in order before a call is sent. The first runs the current configuration's guards
   *  (src/runtime/live.ts); guards that do not depend on the config may be pushed after it. */
  guards: Guard[];
  /** Run after `guards` (and whatever was pushed onto them): the Cohere key limits, so that only a
   *  call every other rule admitted takes a slot of the shared key. */
  lastGuards: Guard[];
  /** The configuration and all it derives, swapped whole on reload. */
  live: LiveConfig;
  /** The Cohere key (and its client) an agent's calls use. */
  cohereKey(scope: Pick<AgentScope, "profile">): CohereKey;
  /** Every counter the gateway keeps (limits, budgets, throttles): memory, or shared by replicas. */
  store: CounterStore;
  audit?: AuditSink;
  /** Refused calls: charged to the agent's rate limit, throttled in the audit (policy/refusals.ts). */
  refusals: RefusalPolicy;
  /** otlpDropped: audit records the OTLP export dropped (--audit-otlp; src/telemetry/audit-ship.ts). */
  metrics: { calls: number; errors: number; otlpDropped?: number };
  /** Secrets that must never be written anywhere (one frozen array until a secret is added). */
  secrets(): readonly string[];
  /** Remember a secret (a Cohere key, an agent token): redacted from logs and the audit from now on. */
  addSecret(secret: string | undefined): void;
  /** HTTP --sessions: open sessions per agent (metrics read it at each scrape). */
  sessionCounts?: () => ReadonlyMap<string, number>;
  /** HTTP, modern era: open subscriptions/listen streams per agent (metrics read it at each scrape). */
  listenCounts?: () => ReadonlyMap<string, number>;
  /** HTTP --sessions: the open sessions (the console lists them) and ending some at once. */
  openSessions?: () => Array<{ id: string; agent: string; openedAt: number }>;
  endSessions?: (match: (s: { id: string; agent: string }) => boolean, why: string) => number;
  /** Every replica's open sessions, and ending one wherever it is held (src/fleet/sessions.ts). */
  sessionFleet?: import("../fleet/sessions.js").SessionFleet;
  /** Documents, announcements, admin sessions and activity: memory, or shared by replicas (--store). */
  shared: SharedState;
  /** --policy-store: read the policy from the shared document instead of the file (reloads). */
  loadPolicy?: () => Promise<ConfigFile>;
  /** Is this replica's configuration the same as the others'? (src/fleet/converge.ts) */
  fleet?: { mismatch: boolean; detail(): Record<string, string> };
  /** Run first by close(), in order: e.g. write the audit summaries of throttles still counting,
   *  stop the metrics server. */
  onClose(fn: () => Promise<void> | void): void;
  close(): Promise<void>;
}

export interface AppExtras {
  /** Environment for cohere_keys and agent tokens (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Clock for budgets and limits (tests). */
  now?: () => number;
}

// The tool index and a profile's spec live with the access matrix (one computation, every caller).
export { policyTools, profileSpec };

/** Resolve what the flags (and an optional profile) make visible. Throws on bad items. */
export function resolveFromOptions(
  options: Options,
  config: ConfigFile | undefined,
): { visible: Set<string>; ignored: string[] } {
  const profileName = options.profile ?? config?.default_profile;
  const flagSpec: PolicySpec = {
    tools: options.tools,
    exclude: options.excludeTools,
    allowWrite: options.allowWrite,
    allowDestructive: options.allowDestructive,
  };
  if (!profileName) return { visible: resolveVisible(policyTools, flagSpec), ignored: [] };
  if (!config) throw new ConfigError(`--profile ${profileName} needs --config FILE`);
  const profile = config.profiles[profileName];
  if (!profile) {
    throw new ConfigError(
      `No profile "${profileName}" in the config file; profiles: ${Object.keys(config.profiles).join(", ") || "(none)"}`,
    );
  }
  // The profile is a ceiling: --tools narrows it, --exclude-tools removes from it.
  const ceiling = resolveVisible(policyTools, profileSpec(profile));
  let visible = ceiling;
  let ignored: string[] = [];
  if (options.tools) ({ visible, ignored } = narrow(policyTools, ceiling, options.tools));
  if (options.excludeTools) {
    const drop = resolveVisible(policyTools, {
      tools: options.excludeTools,
      allowWrite: true,
      allowDestructive: true,
    });
    for (const n of drop) visible.delete(n);
  }
  return { visible, ignored };
}

export function createApp(options: Options, logger: Logger, extras: AppExtras = {}): App {
  const secrets = new Set<string>();
  // One array until a secret is added: redaction caches its matchers per array (src/redact.ts),
  // so a fresh copy per call would rebuild them on every call.
  let secretList: readonly string[] = Object.freeze([]);
  const addSecret = (secret: string | undefined) => {
    if (!secret || secret.length < 4) return;
    if (!secrets.has(secret)) {
      secrets.add(secret);
      secretList = Object.freeze([...secrets]);
    }
    logger.addSecret(secret);
  };
  addSecret(options.apiKey);
  addSecret(options.stateKey); // COHERE_MCP_STATE_KEY signs confirmation state (src/call/mrtr.ts)
  let baseUrl: string;
  try {
    baseUrl = normaliseBaseUrl(options.baseUrl);
  } catch (err) {
    throw new ConfigError(`CO_API_URL is not a valid URL (${(err as Error).message})`);
  }
  const config = options.configPath ? loadConfigFile(options.configPath) : undefined;
  const listCache = new Map<string, ToolDescriptor[]>();
  const clientOptions = {
    baseUrl,
    clientName: options.clientName,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
    retryBaseMs: options.retryBaseMs,
    maxRetryDelayMs: options.maxRetryDelayMs,
    // every client redacts every secret the process knows (late-bound: tokens are learned later)
    secrets: () => app.secrets(),
  };
  const client = new CohereClient({ ...clientOptions, apiKey: options.apiKey });
  // One client (one connection pool) per key value, kept across reloads.
  const clients = new Map<string | undefined, CohereClient>([[options.apiKey, client]]);
  const clientFor = (value: string | undefined) => {
    let c = clients.get(value);
    if (!c) {
      c = new CohereClient({ ...clientOptions, apiKey: value });
      clients.set(value, c);
    }
    return c;
  };
  const closers: Array<() => Promise<void> | void> = [];
  let store: CounterStore = new MemoryCounterStore(extras.now);
  let shared: SharedState = new MemorySharedState(extras.now);
  const live = new LiveConfig(
    (cfg, id) =>
      buildGeneration(
        {
          options,
          logger,
          env: extras.env ?? process.env,
          store: storeRef(() => store),
          policyTools,
          resolveFromOptions,
          profileSpec,
          clientFor,
          addSecret,
          now: extras.now,
        },
        cfg,
        id,
      ),
    config,
    logger,
  );
  const app: App = {
    options,
    get config() {
      return live.current.config;
    },
    logger,
    client,
    tools: TOOL_INDEX,
    async loadTool(name) {
      return (await loadRecords()).get(name);
    },
    get visible() {
      return live.current.visible;
    },
    get ignored() {
      return live.current.ignored;
    },
    profileVisible(name) {
      return live.current.profileVisible(name);
    },
    descriptorsFor(set) {
      const chosen = TOOL_INDEX.filter((t) => set.has(t.name));
      const key = chosen.map((t) => t.name).join(",");
      let list = listCache.get(key);
      if (!list) {
        list = chosen.map((t) => t.descriptor);
        listCache.set(key, list);
      }
      return list;
    },
    guards: [generationGuard(live, logger)],
    lastGuards: [generationGuard(live, logger, (g) => g.lastGuards)],
    live,
    cohereKey: (scope) => live.current.keys.forProfile(scope.profile),
    get store() {
      return store;
    },
    set store(s: CounterStore) {
      store = s;
    },
    get shared() {
      return shared;
    },
    set shared(s: SharedState) {
      shared = s;
    },
    refusals: undefined as unknown as RefusalPolicy, // set below: it reads app.store and app.audit late
    metrics: { calls: 0, errors: 0 },
    secrets: () => secretList,
    addSecret,
    onClose(fn) {
      closers.push(fn);
    },
    async close() {
      for (const fn of closers.splice(0)) {
        try {
          await fn();
        } catch (err) {
          logger.error("a close step failed", { error: (err as Error)?.message });
        }
      }
      await app.refusals.close();
      await Promise.all([...clients.values()].map((c) => c.close()));
      await app.store.close();
      await app.shared.close();
      await app.audit?.close();
    },
  };
  app.refusals = createRefusalPolicy({
    config: () => app.config, // the current configuration: a reload changes the limits
    store: () => app.store,
    maxPerMinute: options.limits.maxRefusalsPerMinute,
    windowMs: options.rateWindowMs,
    audit: () => app.audit,
    logger,
  });
  return app;
}
