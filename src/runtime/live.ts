/**
 * The current configuration and everything derived from it, in ONE object swapped whole: a
 * Generation. SIGHUP (src/runtime/reload.ts) builds a new generation from the file (profiles' tool sets,
 * guards, Cohere keys, and every part a transport derives: the HTTP ceilings, authenticator and
 * scopes); if any step throws, nothing changes. Otherwise a single assignment swaps it in, so each
 * request sees either the old or the new configuration, never a mix.
 *
 * A call that has started keeps what it took from its generation (its guards' reservations and
 * slots, its Cohere client), so in-flight calls finish under the rules they started with.
 * Counters live in the CounterStore, keyed by agent and key, so they carry over a reload.
 */
import type { CohereClient } from "../cohere/client.js";
import type { ConfigFile } from "../config/file.js";
import { ConfigError } from "../config/file.js";
import type { Options } from "../config/options.js";
import type { CallOutcome } from "../call/executor.js";
import type { Logger } from "./logger.js";
import { buildKeyRing, type KeyRing } from "../cohere/keyring.js";
import { resolveVisible, type PolicyTool } from "../policy/allowlist.js";
import { profileTools } from "../policy/access.js";
import { argumentGuard } from "../policy/guards.js";
import { rateLimitGuard } from "../policy/ratelimit.js";
import { budgetGuard, type BudgetGuard } from "../policy/budget.js";
import { assertConfigUsable } from "../config/validate.js";
import { cohereKeyGuard } from "../policy/cohere-limits.js";
import { mergeNotes, type AgentScope, type Guard, type GuardAfter, type GuardVerdict, type SettleNote } from "../policy/types.js";
import type { CounterStore } from "../store/types.js";
import type { ToolDef } from "../catalog/types.js";
import { configHash } from "../fleet/hash.js";

/** The agent of HTTP requests when the config has no agents (also exported by http/plan.ts). */
export const ANONYMOUS = "anonymous";

export interface Generation {
  /** 1 at start-up, +1 per successful reload. */
  readonly id: number;
  readonly config?: ConfigFile;
  /** Content hash of the effective configuration (src/fleet/hash.ts): equal on replicas that agree. */
  readonly hash: string;
  /** stdio and --list-tools: what the flags (and --profile) make visible. */
  readonly visible: ReadonlySet<string>;
  readonly ignored: string[];
  /** Argument rules, rate limits, budgets: in that order. */
  readonly guards: readonly Guard[];
  /** Cohere key limits: run after every other guard (app.lastGuards), so a call another rule
   *  refuses (concurrency included) never takes a slot of the shared key. */
  readonly lastGuards: readonly Guard[];
  readonly keys: KeyRing;
  readonly budgets?: BudgetGuard;
  profileVisible(name: string): ReadonlySet<string>;
  /** Agents and their profiles in this configuration (metrics, reload diffs). */
  agentProfiles(): Array<{ agent: string; profile?: string }>;
  /** What transports derive from this generation (see LiveConfig.derive). */
  readonly parts: Map<string, unknown>;
}

export interface GenerationDeps {
  options: Options;
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** The app's store, read at each use (a shared store set after start-up is picked up). */
  store: CounterStore;
  policyTools: readonly PolicyTool[];
  resolveFromOptions(options: Options, config: ConfigFile | undefined): { visible: Set<string>; ignored: string[] };
  profileSpec(p: NonNullable<ConfigFile["profiles"][string]>): Parameters<typeof resolveVisible>[1];
  clientFor(value: string | undefined): CohereClient;
  addSecret(value: string): void;
  now?: () => number;
}

/** The stdio agent's name (also in transports/stdio.ts). */
export const stdioAgent = (o: Options) => o.profile ?? "stdio";

/** Build a generation from a config. Throws ConfigError / PolicyError when it is not usable. */
export function buildGeneration(deps: GenerationDeps, config: ConfigFile | undefined, id: number): Generation {
  const o = deps.options;
  // The one validation of start-up, reload and `cohere-mcp check` (src/config/validate.ts).
  assertConfigUsable(config, { env: deps.env, agents: o.mode === "http", apiKey: o.apiKey, now: deps.now });
  const { visible, ignored } = deps.resolveFromOptions(o, config);
  const keys = buildKeyRing(config, {
    env: deps.env,
    apiKey: o.apiKey,
    apiKeySource: o.apiKeySource,
    clientFor: deps.clientFor,
    addSecret: deps.addSecret,
  });
  const guards: Guard[] = [];
  let budgets: BudgetGuard | undefined;
  if (config) {
    budgets = budgetGuard(config, deps.store, { now: deps.now, periodMs: o.budgetPeriodMs, logger: deps.logger });
    guards.push(
      argumentGuard(config),
      rateLimitGuard(config, deps.store, { windowMs: o.rateWindowMs, now: deps.now }),
      budgets,
    );
  }
  const lastGuards: Guard[] = [];
  if (keys.byName.size) lastGuards.push(cohereKeyGuard(keys, deps.store, { windowMs: o.rateWindowMs, periodMs: o.budgetPeriodMs, now: deps.now }));

  const profileCache = new Map<string, ReadonlySet<string>>();
  return {
    id,
    config,
    hash: configHash(config),
    visible,
    ignored,
    guards,
    lastGuards,
    keys,
    budgets,
    parts: new Map(),
    profileVisible(name) {
      let v = profileCache.get(name);
      if (!v) {
        const p = config?.profiles[name];
        if (!p) throw new ConfigError(`No profile "${name}"`);
        v = profileTools(p);
        profileCache.set(name, v);
      }
      return v;
    },
    agentProfiles() {
      if (o.mode !== "http") return [{ agent: stdioAgent(o), profile: o.profile ?? config?.default_profile }];
      const agents = config?.agents ?? [];
      if (!agents.length) return [{ agent: ANONYMOUS, profile: o.profile ?? config?.default_profile }];
      return agents.map((a) => ({ agent: a.name, profile: a.profile }));
    },
  };
}

export interface Swap {
  prev: Generation;
  next: Generation;
}

export class LiveConfig {
  private gen: Generation;
  private readonly derivers = new Map<string, (g: Generation) => unknown>();
  private readonly listeners: Array<(swap: Swap) => void> = [];
  private readonly preparers: Array<(config: ConfigFile | undefined) => Promise<void>> = [];

  constructor(
    private readonly build: (config: ConfigFile | undefined, id: number) => Generation,
    config: ConfigFile | undefined,
    private readonly logger: Logger,
  ) {
    this.gen = build(config, 1);
  }

  get current(): Generation {
    return this.gen;
  }

  /**
   * Register a part derived from each generation (built now for the current one, and for every
   * new one before it is swapped in: a part that throws rejects the reload). Returns the
   * accessor for the current generation's part.
   */
  derive<T>(name: string, build: (g: Generation) => T): () => T {
    this.gen.parts.set(name, build(this.gen));
    this.derivers.set(name, build);
    return () => this.gen.parts.get(name) as T;
  }

  /**
   * Register async work a configuration needs before its generation can be built (e.g. loading
   * the OAuth module when the new file turns OAuth on): run by prepare(), before replace().
   */
  beforeBuild(fn: (config: ConfigFile | undefined) => Promise<void>): void {
    this.preparers.push(fn);
  }

  /** Run every beforeBuild hook for `config` (a reload awaits this, then calls replace). */
  async prepare(config: ConfigFile | undefined): Promise<void> {
    for (const fn of this.preparers) await fn(config);
  }

  /** Called after each swap (close sessions of removed agents, audit, metrics). */
  onSwap(fn: (swap: Swap) => void): void {
    this.listeners.push(fn);
  }

  /** Build a whole generation from `config` and swap it in; throws (and changes nothing) if any part fails. */
  replace(config: ConfigFile | undefined): Swap {
    const next = this.build(config, this.gen.id + 1);
    for (const [name, build] of this.derivers) next.parts.set(name, build(next));
    const swap = { prev: this.gen, next };
    this.gen = next;
    for (const fn of this.listeners) {
      try {
        fn(swap);
      } catch (err) {
        this.logger.error("a reload listener failed", { error: (err as Error)?.message });
      }
    }
    return swap;
  }
}

const REFUSED: CallOutcome = { ok: false, failure: "refused", sent: false };

/**
 * The one guard in app.guards that runs the current generation's guards, in order. The
 * generation is read once per call: a reload during the call does not change its rules, and what
 * its guards hold is settled by those same guards.
 */
export function generationGuard(live: LiveConfig, logger: Logger, pick: (g: Generation) => readonly Guard[] = (g) => g.guards): Guard {
  /** The generation's guards, in order (called only when it has some). */
  const run = async (guards: readonly Guard[], scope: AgentScope, tool: ToolDef, input: Record<string, unknown>): Promise<GuardVerdict> => {
    const afters: GuardAfter[] = [];
    const settle = async (outcome: CallOutcome): Promise<SettleNote | undefined> => {
      let note: SettleNote | undefined;
      for (const after of afters) {
        try {
          note = mergeNotes(note, await after(outcome));
        } catch (err) {
          logger.error("a guard could not settle a call", { tool: tool.name, agent: scope.agent, error: (err as Error)?.message });
        }
      }
      return note;
    };
    for (const guard of guards) {
      let verdict: GuardVerdict;
      try {
        verdict = await guard.check(scope, tool, input);
      } catch (err) {
        await settle(REFUSED);
        throw err;
      }
      if (!verdict.ok) {
        await settle(REFUSED);
        return verdict;
      }
      if (verdict.after) afters.push(verdict.after);
    }
    return afters.length ? { ok: true, after: settle } : { ok: true };
  };
  return {
    // a generation without guards (stdio without a config file, most often): no async function run
    check: (scope, tool, input) => {
      const guards = pick(live.current);
      return guards.length ? run(guards, scope, tool, input) : Promise.resolve({ ok: true });
    },
  };
}

/** A CounterStore that forwards to whatever `get()` returns at each call. */
export function storeRef(get: () => CounterStore): CounterStore {
  const ref: CounterStore & { readonly fallback?: string } = {
    get kind() {
      return get().kind;
    },
    // A shared store's failover note (--store-failure allow), when the store has one.
    get fallback() {
      return (get() as { fallback?: string }).fallback;
    },
    take: (w) => get().take(w),
    add: (k, a, t) => get().add(k, a, t),
    get: (k) => get().get(k),
    ping: () => get().ping(),
    close: () => get().close(),
  };
  return ref;
}
