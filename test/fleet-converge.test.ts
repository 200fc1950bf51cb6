/**
 * The announcement poll (src/fleet/converge.ts) against a shared state that is down at first,
 * as a replica sees Redis while it is still connecting. Found by the scale suite: a replica whose
 * first reads failed took the epoch it first read as its baseline, so a reload announced in
 * between was never applied there.
 */
import { describe, expect, it } from "vitest";
import { startFleet } from "../src/fleet/converge.js";
import { MemorySharedState } from "../src/store/shared-memory.js";
import type { App } from "../src/runtime/app.js";
import type { ReloadResult } from "../src/runtime/reload.js";

/** A shared state that is "test" (not "memory": the fleet treats it as a real store) and down until told. */
function flakyShared() {
  const mem = new MemorySharedState();
  const shared = {
    kind: "test",
    down: true,
    counter: (key: string) => (shared.down ? Promise.reject(new Error("the shared store is not reachable right now")) : mem.counter(key)),
    bump: (key: string) => mem.bump(key),
    putField: (key: string, field: string, value: string) => mem.putField(key, field, value),
    fields: (key: string) => mem.fields(key),
  };
  return shared;
}
type FlakyShared = ReturnType<typeof flakyShared>;

function fakeApp(shared: FlakyShared): { app: App; logs: string[] } {
  const logs: string[] = [];
  const logger = { info: (m: string) => logs.push(m), warn: (m: string) => logs.push(m), error: (m: string) => logs.push(m), debug: () => {} };
  const app = { options: { replicaId: "r3" }, logger, shared, live: { current: { hash: "aaaaaaaaaaaa", id: 1 } } } as unknown as App;
  return { app, logs };
}

/** The fleet of `app`, with a reload that only counts how often it ran. */
function countedFleet(app: App): { fleet: ReturnType<typeof startFleet>; reloads: () => number } {
  let n = 0;
  const fleet = startFleet(app, async () => {
    n++;
    return { ok: true } as ReloadResult;
  });
  return { fleet, reloads: () => n };
}

describe("announced reloads reach a replica whose store was down at start", () => {
  it("a reload announced before the replica's first successful read is applied there (re-read once)", async () => {
    const shared = flakyShared();
    const { app, logs } = fakeApp(shared);
    const { fleet, reloads } = countedFleet(app);
    await fleet.poll(); // the store is not reachable yet
    shared.down = false;
    await shared.bump("config:epoch"); // another replica announces a reload meanwhile
    await fleet.poll();
    expect(reloads()).toBe(1);
    expect(logs.join("\n")).toMatch(/not reachable at start/);
    await fleet.poll(); // nothing new: no further reload
    expect(reloads()).toBe(1);
    fleet.close();
  });

  it("with the store up from the first read, a start does not reload; an announcement does, once", async () => {
    const shared = flakyShared();
    shared.down = false;
    const { app } = fakeApp(shared);
    const { fleet, reloads } = countedFleet(app);
    await fleet.poll();
    expect(reloads()).toBe(0);
    await shared.bump("config:epoch");
    await fleet.poll();
    await fleet.poll();
    expect(reloads()).toBe(1);
    fleet.close();
  });

  it("its own announcement during a poll is not re-applied", async () => {
    const shared = flakyShared();
    shared.down = false;
    const { app } = fakeApp(shared);
    const { fleet, reloads } = countedFleet(app);
    await fleet.poll();
    const inFlight = fleet.poll();
    await fleet.announce(); // SIGHUP here: applied already, announced to the others
    await inFlight;
    await fleet.poll();
    expect(reloads()).toBe(0);
    fleet.close();
  });
});
