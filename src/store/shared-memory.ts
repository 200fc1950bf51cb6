/** SharedState for one process (the default without --store). */
import { checkAmount } from "./types.js";
import { compareStreamIds, type CasResult, type SharedDoc, type SharedState, type StreamEntry } from "./shared.js";

export class MemorySharedState implements SharedState {
  readonly kind = "memory";
  private readonly docs = new Map<string, SharedDoc>();
  private readonly counters = new Map<string, number>();
  private readonly values = new Map<string, { value: string; until: number }>();
  private readonly maps = new Map<string, Map<string, string>>();
  /** When a map of counters ends (addFields). */
  private readonly mapUntil = new Map<string, number>();
  private readonly streams = new Map<string, StreamEntry[]>();
  private lastMs = 0;
  private seq = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async getDoc(key: string): Promise<SharedDoc | undefined> {
    return this.docs.get(key);
  }

  async casDoc(key: string, expect: number, value: string): Promise<CasResult> {
    const cur = this.docs.get(key);
    if ((cur?.version ?? 0) !== expect) return { ok: false, current: cur };
    const doc = { version: expect + 1, value };
    this.docs.set(key, doc);
    return { ok: true, version: doc.version };
  }

  async bump(key: string): Promise<number> {
    const n = (this.counters.get(key) ?? 0) + 1;
    this.counters.set(key, n);
    return n;
  }

  async counter(key: string): Promise<number> {
    return this.counters.get(key) ?? 0;
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    this.values.set(key, { value, until: this.now() + ttlMs });
    if (this.values.size % 256 === 0) {
      const t = this.now();
      for (const [k, v] of this.values) if (v.until <= t) this.values.delete(k);
    }
  }

  async fetch(key: string): Promise<string | undefined> {
    const v = this.values.get(key);
    if (!v) return undefined;
    if (v.until <= this.now()) {
      this.values.delete(key);
      return undefined;
    }
    return v.value;
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    if ((await this.fetch(key)) !== undefined) return false;
    await this.put(key, "1", ttlMs);
    return true;
  }

  async remove(key: string): Promise<void> {
    this.values.delete(key);
  }

  async putField(key: string, field: string, value: string): Promise<void> {
    let m = this.maps.get(key);
    if (!m) this.maps.set(key, (m = new Map()));
    m.set(field, value);
  }

  async fields(key: string): Promise<Record<string, string>> {
    const until = this.mapUntil.get(key);
    if (until !== undefined && until <= this.now()) {
      this.maps.delete(key);
      this.mapUntil.delete(key);
    }
    return Object.fromEntries(this.maps.get(key) ?? []);
  }

  async addFields(key: string, increments: Readonly<Record<string, number>>, ttlMs: number): Promise<void> {
    for (const [f, n] of Object.entries(increments)) checkAmount(`${key} ${f}`, n, ttlMs);
    await this.fields(key); // drops an ended map first
    let m = this.maps.get(key);
    if (!m) this.maps.set(key, (m = new Map()));
    for (const [f, n] of Object.entries(increments)) m.set(f, String((Number(m.get(f)) || 0) + n));
    this.mapUntil.set(key, this.now() + ttlMs);
  }

  async append(stream: string, value: string, maxLen: number): Promise<string> {
    let list = this.streams.get(stream);
    if (!list) this.streams.set(stream, (list = []));
    const ms = Math.max(this.now(), this.lastMs);
    this.seq = ms === this.lastMs ? this.seq + 1 : 0;
    this.lastMs = ms;
    const id = `${ms}-${this.seq}`;
    list.push({ id, value });
    // A ring buffer: drop the oldest in chunks (cheap amortised).
    if (list.length > maxLen + Math.max(16, maxLen >> 4)) list.splice(0, list.length - maxLen);
    return id;
  }

  async latest(stream: string, count: number, before?: string): Promise<StreamEntry[]> {
    const list = this.streams.get(stream) ?? [];
    const out: StreamEntry[] = [];
    for (let i = list.length - 1; i >= 0 && out.length < count; i--) {
      const e = list[i]!;
      if (before !== undefined && compareStreamIds(e.id, before) >= 0) continue;
      out.push(e);
    }
    return out;
  }

  async since(stream: string, after: string, count: number): Promise<StreamEntry[]> {
    const list = this.streams.get(stream) ?? [];
    const out: StreamEntry[] = [];
    for (const e of list) {
      if (compareStreamIds(e.id, after) > 0) out.push(e);
      if (out.length >= count) break;
    }
    return out;
  }

  async close(): Promise<void> {}
}
