/**
 * The refusal / failed-login throttle (src/policy/throttle.ts) and the per-agent concurrency
 * guard (src/policy/concurrency.ts), in process: a shared store makes two replicas one throttle
 * with ONE summary per window, and a slot is handed to the next waiter or refused after the wait.
 */
import { describe, expect, it } from "vitest";
import { MemoryCounterStore } from "../src/store/memory.js";
import { WindowThrottle, type ThrottleSummary } from "../src/policy/throttle.js";
import { concurrencyGuard } from "../src/policy/concurrency.js";
import type { AgentScope } from "../src/policy/types.js";
import type { ToolDef } from "../src/catalog/types.js";

describe("WindowThrottle", () => {
  it("two replicas sharing a store: the limit is global, and exactly one of them writes the window's summary", async () => {
    const store = new MemoryCounterStore();
    const summaries: Array<ThrottleSummary<string>> = [];
    const a = new WindowThrottle<string>(() => store, "rf", 200, (s) => summaries.push(s));
    const b = new WindowThrottle<string>(() => store, "rf", 200, (s) => summaries.push(s));
    const allowed: boolean[] = [];
    for (let i = 0; i < 30; i++) allowed.push((await (i % 2 ? a : b).hit("mallory", 5, i % 2 ? "a" : "b")).allowed);
    expect(allowed.filter(Boolean)).toHaveLength(5);
    expect(allowed.slice(0, 5).every(Boolean)).toBe(true);
    // another subject has its own window
    expect((await a.hit("alice", 5, "a")).allowed).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({ subject: "mallory", suppressed: 25 });
    expect(summaries[0]!.to - summaries[0]!.from).toBe(200);
    // a new window starts afresh
    expect((await a.hit("mallory", 5, "a")).allowed).toBe(true);
  });

  it("close() writes the pending summaries at once (shutdown)", async () => {
    const store = new MemoryCounterStore();
    const summaries: Array<ThrottleSummary<null>> = [];
    const t = new WindowThrottle<null>(() => store, "af", 60_000, (s) => summaries.push(s));
    for (let i = 0; i < 12; i++) await t.hit("10.0.0.9", 10, null);
    expect(summaries).toHaveLength(0);
    await t.close();
    expect(summaries).toEqual([expect.objectContaining({ subject: "10.0.0.9", suppressed: 2 })]);
  });
});

describe("concurrencyGuard", () => {
  const tool = { name: "rerank" } as ToolDef;
  const scope = (agent: string, transport: "http" | "stdio" = "http"): AgentScope => ({ agent, transport, visible: new Set() });

  it("holds at most the limit per agent; a waiter gets the next free slot; past the wait it is refused; other agents are apart", async () => {
    const g = concurrencyGuard({ httpDefault: 2, waitMs: 150, config: () => undefined });
    const s1 = await g.check(scope("a"), tool, {});
    const s2 = await g.check(scope("a"), tool, {});
    expect(s1.ok && s2.ok).toBe(true);
    expect(g.active("a")).toBe(2);
    expect((await g.check(scope("b"), tool, {})).ok).toBe(true); // another agent: its own slots
    const waiting = g.check(scope("a"), tool, {});
    setTimeout(() => s1.ok && s1.after?.({ ok: true, sent: true }), 50);
    const third = await waiting;
    expect(third.ok).toBe(true);
    expect(g.active("a")).toBe(2);
    const refused = await g.check(scope("a"), tool, {});
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.reason).toBe("concurrency");
      expect(refused.message).toMatch(/^Too many calls in flight \(429\): agent "a" already has 2 calls running .*waited 150 ms/);
    }
    // releasing twice gives back one slot only
    if (s2.ok) {
      await s2.after?.({ ok: true, sent: true });
      await s2.after?.({ ok: true, sent: true });
    }
    expect(g.active("a")).toBe(1);
  });

  it("stdio has no default limit; a profile's limits.max_concurrent_calls applies anywhere", async () => {
    const g = concurrencyGuard({ httpDefault: 1, waitMs: 10, config: () => ({ profiles: { p: { limits: { max_concurrent_calls: 1 } } } }) });
    for (let i = 0; i < 5; i++) expect((await g.check(scope("local", "stdio"), tool, {})).ok).toBe(true);
    const withProfile: AgentScope = { ...scope("x", "stdio"), profile: "p" };
    expect((await g.check(withProfile, tool, {})).ok).toBe(true);
    expect((await g.check(withProfile, tool, {})).ok).toBe(false);
  });
});
