/**
 * Shared state beside the counters (src/store/types.ts): what the console and the fleet need
 * every replica to see — versioned documents (the policy), announcements (a reload epoch), small
 * keyed values with a lifetime (admin sessions), per-replica reports (configuration hashes), maps of
 * counters (durable usage) and a capped append-only stream (the activity of every replica). Memory (one process) and Redis
 * (replicas) implementations side by side: shared-memory.ts, shared-redis.ts.
 */

export interface SharedDoc {
  /** 1 for the first write, +1 per write; 0 is "absent". */
  version: number;
  value: string;
}

export interface StreamEntry {
  /** `<ms>-<seq>`: increasing, comparable with compareStreamIds. */
  id: string;
  value: string;
}

export type CasResult = { ok: true; version: number } | { ok: false; current?: SharedDoc };

export interface SharedState {
  /** "memory" or "redis". */
  readonly kind: string;
  getDoc(key: string): Promise<SharedDoc | undefined>;
  /** Write `value` as version `expect + 1` when the document is at `expect` (0: absent); else nothing. */
  casDoc(key: string, expect: number, value: string): Promise<CasResult>;
  /** Add 1 to a counter that never expires (announcements); returns the new value. */
  bump(key: string): Promise<number>;
  /** A counter's value (0 when absent). */
  counter(key: string): Promise<number>;
  /** A value with a lifetime (refreshed by each put). */
  put(key: string, value: string, ttlMs: number): Promise<void>;
  fetch(key: string): Promise<string | undefined>;
  /** Take `key` for `ttlMs` if no one holds it: true for the first taker only (single-use tokens). */
  claim(key: string, ttlMs: number): Promise<boolean>;
  remove(key: string): Promise<void>;
  /** One field of a map (per-replica reports). */
  putField(key: string, field: string, value: string): Promise<void>;
  fields(key: string): Promise<Record<string, string>>;
  /**
   * Add whole numbers to fields of a map in one atomic step (usage counters), and make the map
   * live `ttlMs` from now; `fields` reads them back (as decimal strings).
   */
  addFields(key: string, increments: Readonly<Record<string, number>>, ttlMs: number): Promise<void>;
  /** Append to a capped stream (about `maxLen` newest entries kept). */
  append(stream: string, value: string, maxLen: number): Promise<string>;
  /** Newest first, at most `count`, older than `before` when given. */
  latest(stream: string, count: number, before?: string): Promise<StreamEntry[]>;
  /** Oldest first: entries after `after` (exclusive), at most `count`. */
  since(stream: string, after: string, count: number): Promise<StreamEntry[]>;
  close(): Promise<void>;
}

export function parseStreamId(id: string): [number, number] {
  const [a, b] = id.split("-");
  return [Number(a) || 0, Number(b) || 0];
}

export function compareStreamIds(a: string, b: string): number {
  const [am, as] = parseStreamId(a);
  const [bm, bs] = parseStreamId(b);
  return am !== bm ? am - bm : as - bs;
}
