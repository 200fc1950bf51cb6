/**
 * The application: config → policy → catalog → Cohere client, assembled once per process and
 * shared by every agent and transport.
 */
import { TOOL_INDEX, loadRecords, type ToolInfo } from "./catalog/light.js";
import type { ToolDef } from "./catalog/types.js";
import type { ToolDescriptor } from "./catalog/describe.js";
import { CohereClient, normaliseBaseUrl } from "./cohere/client.js";
import { ConfigError, loadConfigFile, type ConfigFile, type Profile } from "./config/file.js";
import type { Options } from "./config/options.js";
import { narrow, parseList, resolveVisible, type PolicySpec, type PolicyTool } from "./policy/allowlist.js";
import type { Logger } from "./logger.js";
import type { AuditSink } from "./audit.js";
import type { Guard } from "./policy/types.js";
import type { CounterStore } from "./store/types.js";
import { MemoryCounterStore } from "./store/memory.js";
import { createRefusalPolicy, type RefusalPolicy } from "./policy/refusals.js";

export interface App {
  options: Options;
  config?: ConfigFile;
  logger: Logger;
  client: CohereClient;
  /** Every tool's name, class, group and descriptor (no zod: cheap at start-up). */
  tools: readonly ToolInfo[];
  /** The full record of a tool (zod schema, hooks); the catalog loads on first use. */
  loadTool(name: string): Promise<ToolDef | undefined>;
  /** Visible set for stdio / --list-tools (flags, or --profile narrowed by --tools). */
  visible: ReadonlySet<string>;
  /** Items of --tools that named nothing inside --profile. */
  ignored: string[];
  /** Visible set per profile name (HTTP agents). */
  profileVisible(name: string): ReadonlySet<string>;
  descriptorsFor(visible: ReadonlySet<string>): ToolDescriptor[];
  guards: Guard[];
  /** Every counter the gateway keeps (limits, budgets, throttles): memory, or shared by replicas. */
  store: CounterStore;
  audit?: AuditSink;
  /** Refused calls: charged to the agent's rate limit, throttled in the audit (policy/refusals.ts). */
  refusals: RefusalPolicy;
  /** Run first by close(): e.g. write the audit summaries of throttles still counting. */
  onClose: Array<() => Promise<void>>;
  metrics: { calls: number; errors: number };
  /** Secrets that must never be written anywhere. */
  secrets(): string[];
  close(): Promise<void>;
}

export const policyTools: readonly PolicyTool[] = TOOL_INDEX.map((t) => t.policy);

export function profileSpec(p: Profile): PolicySpec {
  return {
    tools: parseList(p.tools),
    exclude: parseList(p.exclude_tools),
    allowWrite: p.allow_write ?? false,
    allowDestructive: p.allow_destructive ?? false,
  };
}

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

export function createApp(options: Options, logger: Logger): App {
  logger.addSecret(options.apiKey);
  let baseUrl: string;
  try {
    baseUrl = normaliseBaseUrl(options.baseUrl);
  } catch (err) {
    throw new ConfigError(`CO_API_URL is not a valid URL (${(err as Error).message})`);
  }
  const config = options.configPath ? loadConfigFile(options.configPath) : undefined;
  const { visible, ignored } = resolveFromOptions(options, config);
  const listCache = new Map<string, ToolDescriptor[]>();
  const profileCache = new Map<string, ReadonlySet<string>>();
  const client = new CohereClient({
    baseUrl,
    apiKey: options.apiKey,
    clientName: options.clientName,
    timeoutMs: options.timeoutMs,
    maxRetries: options.maxRetries,
    retryBaseMs: options.retryBaseMs,
    maxRetryDelayMs: options.maxRetryDelayMs,
    // late-bound: the HTTP transport adds agent tokens to app.secrets
    secrets: () => app.secrets(),
  });
  const app: App = {
    options,
    config,
    logger,
    client,
    tools: TOOL_INDEX,
    async loadTool(name) {
      return (await loadRecords()).get(name);
    },
    visible,
    ignored,
    profileVisible(name) {
      let v = profileCache.get(name);
      if (!v) {
        const p = config?.profiles[name];
        if (!p) throw new ConfigError(`No profile "${name}"`);
        v = resolveVisible(policyTools, profileSpec(p));
        profileCache.set(name, v);
      }
      return v;
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
    guards: [],
    store: new MemoryCounterStore(),
    refusals: undefined as unknown as RefusalPolicy, // set below: it reads app.store and app.audit late
    onClose: [],
    metrics: { calls: 0, errors: 0 },
    secrets: () => (options.apiKey ? [options.apiKey] : []),
    async close() {
      for (const f of app.onClose.splice(0)) await f().catch(() => undefined);
      await app.refusals.close();
      await client.close();
      await app.store.close();
      await app.audit?.close();
    },
  };
  app.refusals = createRefusalPolicy({
    config,
    store: () => app.store,
    maxPerMinute: options.limits.maxRefusalsPerMinute,
    windowMs: options.rateWindowMs,
    audit: () => app.audit,
    logger,
  });
  return app;
}
