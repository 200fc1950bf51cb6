/**
 * Cohere's own limits, kept per Cohere key across every agent (and replica) that uses it: the
 * per-minute limit of each endpoint and a Trial key's calls per month. A call that would pass a
 * per-minute limit waits for the window (at most the key's max_wait_ms) or is refused with when
 * to retry, instead of being sent to get a 429. Run last among the guards, so that a call another
 * rule refuses never takes a slot of the shared key.
 *
 * Windows are fixed and start at their first call (like the rate limits); the minute is
 * COHERE_MCP_RATE_WINDOW_MS long in tests. The month counter takes one per call up front and, when
 * the call ends, adds its retries and polls (every request Cohere sees counts) or gives the one
 * back when nothing was sent.
 */
import type { ToolDef } from "../catalog/types.js";
import type { CohereEndpoint } from "../config/keys.js";
import type { CallOutcome } from "../executor.js";
import type { CohereKey, KeyRing } from "../keyring.js";
import type { CounterStore, WindowSpec } from "../store/types.js";
import { periodAt } from "./budget.js";
import type { AgentScope, Guard, GuardVerdict } from "./types.js";
import { keyPart } from "../store/keys.js";

export interface KeyLimitOptions {
  /** Length of a "minute" (tests shorten it). */
  windowMs?: number;
  /** Tests only: the month is this long. */
  periodMs?: number;
  now?: () => number;
}

const ENDPOINT_OF: Record<string, CohereEndpoint> = {
  chat: "chat",
  chat_v1: "chat",
  rerank: "rerank",
  rerank_v1: "rerank",
  classify: "classify",
  tokenize: "tokenize",
  detokenize: "detokenize",
  generate: "generate",
  summarize: "summarize",
  create_embed_job: "embed_jobs",
};

const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/** What a call takes of each per-minute limit: embed counts inputs and images; the rest one call. */
export function endpointCosts(tool: Pick<ToolDef, "name">, input: Record<string, unknown>): Array<{ endpoint: CohereEndpoint; cost: number }> {
  if (tool.name === "embed" || tool.name === "embed_v1") {
    const out: Array<{ endpoint: CohereEndpoint; cost: number }> = [];
    // `inputs` mixes text and images: every image_url block counts against the image limit, an
    // input with any text against the input limit (20 images in inputs are 20 images, not 20 texts)
    let texts = len(input.texts);
    let images = len(input.images);
    for (const item of Array.isArray(input.inputs) ? (input.inputs as unknown[]) : []) {
      const content = item && typeof item === "object" ? (item as { content?: unknown }).content : undefined;
      const blocks = Array.isArray(content) ? (content as Array<{ type?: unknown }>) : [];
      const pictures = blocks.filter((b) => b && b.type === "image_url").length;
      images += pictures;
      if (pictures < blocks.length || blocks.length === 0) texts++;
    }
    if (texts || !images) out.push({ endpoint: "embed", cost: Math.max(1, texts) });
    if (images) out.push({ endpoint: "embed_images", cost: images });
    return out;
  }
  return [{ endpoint: ENDPOINT_OF[tool.name] ?? "other", cost: 1 }];
}

const UNIT: Partial<Record<CohereEndpoint, [string, string]>> = { embed: ["input", "inputs"], embed_images: ["image", "images"] };
const per = (windowMs: number) => (windowMs === 60_000 ? "a minute" : `per ${windowMs / 1000} s`);
const typeName = (k: CohereKey) => (k.type === "trial" ? "Trial" : "Production");
const n = (x: number) => x.toLocaleString("en-US");

interface Slot extends WindowSpec {
  endpoint?: CohereEndpoint;
  cost: number;
}

export function cohereKeyGuard(keys: KeyRing, store: CounterStore, opts: KeyLimitOptions = {}): Guard {
  const windowMs = opts.windowMs ?? 60_000;
  const now = opts.now ?? Date.now;

  const limitText = (key: CohereKey, endpoint: CohereEndpoint, limit: number) => {
    const unit = UNIT[endpoint];
    const what = `${n(limit)}${unit ? ` ${limit === 1 ? unit[0] : unit[1]}` : ""} ${per(windowMs)}`;
    return key.overridden.has(endpoint)
      ? `The limit for ${endpoint} on Cohere key "${key.name}" (${typeName(key)}, cohere_keys.${key.name}.per_minute.${endpoint}) is ${what}`
      : `Cohere's ${typeName(key)} limit for ${endpoint} is ${what}`;
  };
  const upgrade = (key: CohereKey) => (key.type === "trial" ? " or use a Production key" : "");

  return {
    async check(_scope: AgentScope, tool: ToolDef, input: Record<string, unknown>): Promise<GuardVerdict> {
      const key = keys.forProfile(_scope.profile);
      if (!key.declared) return { ok: true };
      const t0 = now();
      const period = periodAt(t0, opts.periodMs);
      const slots: Slot[] = [];
      for (const { endpoint, cost } of endpointCosts(tool, input)) {
        const limit = key.perMinute[endpoint];
        if (limit === undefined) continue;
        if (cost > limit) {
          const [, many] = UNIT[endpoint] ?? ["call", "calls"];
          const message =
            `${limitText(key, endpoint, limit)}: this call has ${n(cost)} ${many}, more than fits in one window, so nothing was sent to Cohere. Split it into smaller calls.`;
          return { ok: false, reason: "cohere_limit", message, detail: `key "${key.name}": ${endpoint} call of ${cost} over the limit of ${limit}` };
        }
        slots.push({ key: `cohere:${keyPart(key.id)}:${keyPart(endpoint)}:minute`, limit, ttlMs: windowMs, cost, endpoint });
      }
      if (key.perMonth !== undefined) {
        slots.push({ key: `cohere:${keyPart(key.id)}:month:${period.label}`, limit: key.perMonth, ttlMs: Math.max(1, period.end - t0), cost: 1 });
      }
      if (!slots.length) return { ok: true };

      const deadline = t0 + key.maxWaitMs;
      for (;;) {
        const taken = await store.take(slots);
        if (taken.ok) {
          const month = key.perMonth !== undefined ? slots[slots.length - 1] : undefined;
          return {
            ok: true,
            after: async (outcome: CallOutcome) => {
              if (!month) return;
              // Every request Cohere saw counts toward the month: retries and polls too.
              const extra = outcome.sent ? Math.max(0, (outcome.attempts ?? 1) - 1) : -1;
              const left = period.end - now();
              if (extra !== 0 && left > 0) await store.add(month.key, extra, left);
            },
          };
        }
        const slot = slots[taken.index]!;
        const t = now();
        if (!slot.endpoint) {
          const message =
            `Cohere's ${typeName(key)} key "${key.name}" has used its ${n(slot.limit)} calls ${period.text}` +
            `${key.overridden.has("per_month") ? ` (cohere_keys.${key.name}.per_month)` : key.type === "trial" ? " (Trial keys are capped at 1,000 calls a month)" : ""}; ` +
            `nothing was sent to Cohere. It renews at ${new Date(period.end).toISOString()}${key.type === "trial" ? "; until then, use a Production key" : ""}.`;
          return { ok: false, reason: "cohere_limit", message, detail: `key "${key.name}": ${slot.limit} calls ${period.text} used` };
        }
        const wait = Math.max(1, taken.resetAt - t);
        if (t + wait <= deadline) {
          // The window ends within this key's max_wait_ms: wait for it and try again.
          await new Promise((r) => setTimeout(r, wait + 5 + Math.floor(Math.random() * 20)));
          continue;
        }
        const retryS = Math.max(1, Math.ceil(wait / 1000));
        const message =
          `${limitText(key, slot.endpoint, slot.limit)}: retry in ${retryS} s${upgrade(key)}. ` +
          `Key "${key.name}" is shared by every agent that uses it; nothing was sent to Cohere.`;
        return {
          ok: false,
          reason: "cohere_limit",
          message,
          detail: `key "${key.name}": ${slot.endpoint} ${slot.limit} ${per(windowMs)} used; retry in ${retryS} s`,
        };
      }
    },
  };
}
