/**
 * The CounterStore contract: every implementation (memory here; shared ones add themselves to
 * IMPLEMENTATIONS) must make the same decisions, because a limit means the same thing whether one
 * process or several replicas enforce it.
 */
import { afterEach, describe, expect, it } from "vitest";
import { MemoryCounterStore } from "../src/store/memory.js";
import type { CounterStore } from "../src/store/types.js";

export const IMPLEMENTATIONS: Array<[string, () => Promise<CounterStore>]> = [["memory", async () => new MemoryCounterStore()]];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(IMPLEMENTATIONS)("CounterStore contract: %s", (_name, make) => {
  let store: CounterStore;
  afterEach(async () => store?.close());
  let n = 0;
  const key = (s: string) => `test:${process.pid}:${Date.now()}:${++n}:${s}`;

  it("take is all or nothing across windows, and names the first full one", async () => {
    store = await make();
    const a = key("a");
    const b = key("b");
    expect((await store.take([{ key: a, limit: 2, ttlMs: 60_000 }])).ok).toBe(true);
    expect((await store.take([{ key: a, limit: 2, ttlMs: 60_000 }])).ok).toBe(true);
    // a is full: b must not be charged either
    const refused = await store.take([
      { key: b, limit: 5, ttlMs: 60_000 },
      { key: a, limit: 2, ttlMs: 60_000 },
    ]);
    expect(refused).toMatchObject({ ok: false, index: 1, count: 2 });
    expect((await store.get([a, b])).map((r) => r.count)).toEqual([2, 0]);
  });

  it("a cost larger than the room left is refused; a cost that fits is taken whole", async () => {
    store = await make();
    const k = key("cost");
    expect(await store.take([{ key: k, limit: 10, ttlMs: 60_000, cost: 7 }])).toMatchObject({ ok: true, counts: [7] });
    expect(await store.take([{ key: k, limit: 10, ttlMs: 60_000, cost: 4 }])).toMatchObject({ ok: false, count: 7 });
    expect(await store.take([{ key: k, limit: 10, ttlMs: 60_000, cost: 3 }])).toMatchObject({ ok: true, counts: [10] });
  });

  it("a window ends after its TTL and the next take starts a new one", async () => {
    store = await make();
    const k = key("ttl");
    const first = await store.take([{ key: k, limit: 1, ttlMs: 150 }]);
    expect(first.ok).toBe(true);
    const refused = await store.take([{ key: k, limit: 1, ttlMs: 150 }]);
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.resetAt).toBeGreaterThan(Date.now() - 50);
    await sleep(250);
    expect((await store.take([{ key: k, limit: 1, ttlMs: 150 }])).ok).toBe(true);
  });

  it("add charges past the limit and get reads it back", async () => {
    store = await make();
    const k = key("add");
    await store.add(k, 5, 60_000);
    const r = await store.add(k, 3, 60_000);
    expect(r.count).toBe(8);
    expect(r.resetAt).toBeGreaterThan(Date.now());
    expect((await store.get([k]))[0]!.count).toBe(8);
    expect((await store.take([{ key: k, limit: 8, ttlMs: 60_000 }])).ok).toBe(false);
    expect((await store.get([key("missing")]))[0]).toEqual({ count: 0 });
  });

  it("concurrent takes never pass the limit", async () => {
    store = await make();
    const k = key("race");
    const results = await Promise.all(Array.from({ length: 300 }, () => store.take([{ key: k, limit: 100, ttlMs: 60_000 }])));
    expect(results.filter((r) => r.ok).length).toBe(100);
  });
});
