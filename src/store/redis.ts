/**
 * Counters shared by replicas, in Redis. Every decision is ONE Lua script run by Redis as a
 * single atomic step (EVALSHA; EVAL once after a Redis restart flushed the script cache), so
 * replicas taking from the same window at the same instant can never pass its limit together,
 * and a decision costs one round trip. Concurrent decisions share the connection: node-redis
 * writes the commands of one tick together (pipelining).
 *
 * Keys are `<prefix><key>` and every one carries a TTL (its window's end), so nothing grows
 * forever. Values are whole numbers (checkWindows/checkAmount in types.ts refuse anything else
 * before a command is sent; a command Redis refuses for its values is that call's error, not an outage).
 *
 * Failure: commands are never queued while the connection is down (disableOfflineQueue) and each
 * decision has a deadline (--store-timeout-ms), so it fails fast instead of waiting; the client
 * reconnects by itself.
 * What a call gets meanwhile is decided above this (failover.ts).
 */
import { createHash } from "node:crypto";
import { createClient, ErrorReply, type RedisClientType } from "@redis/client";
import { checkAmount, checkWindows, StoreValueError, type CounterReading, type CounterStore, type TakeResult, type WindowSpec } from "./types.js";

interface Script {
  src: string;
  sha: string;
}

const script = (src: string): Script => ({ src, sha: createHash("sha1").update(src).digest("hex") });

/**
 * KEYS: the windows. ARGV: limit, ttlMs, cost for each window, in order.
 * Returns {1, count1, pttl1, count2, pttl2, ...} when every window had room (all charged), or
 * {0, index0, count, pttl} naming the first full one (nothing charged).
 */
const TAKE = script(`
local n = #KEYS
local now = redis.call('MGET', unpack(KEYS))
for i = 1, n do
  local c = tonumber(now[i] or '0')
  if c + tonumber(ARGV[3 * i]) > tonumber(ARGV[3 * i - 2]) then
    local pttl = redis.call('PTTL', KEYS[i])
    if pttl < 0 then pttl = tonumber(ARGV[3 * i - 1]) end
    return {0, i - 1, tostring(c), pttl}
  end
end
local out = {1}
for i = 1, n do
  local v
  local cost = ARGV[3 * i]
  -- INCRBY when both are whole numbers (cheaper); INCRBYFLOAT for fractions
  if string.find(cost, '^-?%d+$') and (now[i] == false or string.find(now[i], '^-?%d+$')) then
    v = redis.call('INCRBY', KEYS[i], cost)
  else
    v = redis.call('INCRBYFLOAT', KEYS[i], cost)
  end
  local pttl = redis.call('PTTL', KEYS[i])
  if pttl < 0 then
    pttl = tonumber(ARGV[3 * i - 1])
    redis.call('PEXPIRE', KEYS[i], pttl)
  end
  out[#out + 1] = v
  out[#out + 1] = pttl
end
return out
`);

/** KEYS[1]; ARGV: amount, ttlMs. Returns {count, pttl}. A window that exists keeps its end. */
const ADD = script(`
local v = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
local pttl = redis.call('PTTL', KEYS[1])
if pttl < 0 then
  pttl = tonumber(ARGV[2])
  redis.call('PEXPIRE', KEYS[1], pttl)
end
return {v, pttl}
`);

/** KEYS: windows. Returns {count1|false, pttl1, ...}: one consistent reading of all of them. */
const GET = script(`
local out = {}
for i = 1, #KEYS do
  out[#out + 1] = redis.call('GET', KEYS[i]) or ''
  out[#out + 1] = redis.call('PTTL', KEYS[i])
end
return out
`);

type Reply = Array<string | number>;

/** Error replies that say the server cannot serve any command now (an outage), not that one command's values were wrong. */
const SERVER_STATE = /^(LOADING|BUSY|MASTERDOWN|READONLY|CLUSTERDOWN|TRYAGAIN|NOAUTH|WRONGPASS|NOPERM|OOM|MISCONF|NOREPLICAS|EXECABORT)\b/;

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port/db or rediss:// (TLS). */
  url: string;
  /** Used when the URL carries no password. */
  password?: string;
  /** Prefix of every key (default "cohere-mcp:"). */
  prefix?: string;
  /** Longest wait for one command (default 1000 ms). */
  timeoutMs?: number;
  /** Called on connection state changes (never with a secret). */
  onEvent?: (event: "ready" | "down", detail?: string) => void;
}

/** `redis://:pw@host:6379/0` → `redis://host:6379/0`: what logs and /readyz may show. */
export function describeStoreUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname && u.pathname !== "/" ? u.pathname : ""}`;
  } catch {
    return "(invalid URL)";
  }
}

export class RedisCounterStore implements CounterStore {
  readonly kind = "redis";
  readonly where: string;
  private readonly client: RedisClientType;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private closed = false;
  private downSince: number | undefined;
  private readonly pending = new Set<{ at: number; reject: (err: Error) => void }>();
  private watchdog: NodeJS.Timeout | undefined;

  constructor(opts: RedisStoreOptions) {
    this.prefix = opts.prefix ?? "cohere-mcp:";
    this.timeoutMs = opts.timeoutMs ?? 1_000;
    this.where = describeStoreUrl(opts.url);
    const fromUrl = (() => {
      try {
        return new URL(opts.url).password !== "";
      } catch {
        return false;
      }
    })();
    this.client = createClient({
      url: opts.url,
      password: fromUrl ? undefined : opts.password,
      disableOfflineQueue: true,
      disableClientInfo: true,
      maintNotifications: "disabled", // a Redis Enterprise feature; nothing to negotiate
      // No per-command timer (node-redis defaults to 5 s, an AbortSignal.timeout per command):
      // the one watchdog of deadline() bounds every decision instead.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: Math.max(this.timeoutMs, 2_000),
        // Reconnect for ever: 50 ms, doubling, at most 1 s apart (with a little jitter).
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), 1_000) + Math.floor(Math.random() * 50),
      },
    }) as RedisClientType;
    this.client.on("ready", () => {
      this.downSince = undefined;
      opts.onEvent?.("ready");
    });
    this.client.on("error", (err: Error) => {
      // node-redis reports every failed (re)connection here; say it once per outage.
      if (this.downSince === undefined && !this.closed) {
        this.downSince = Date.now();
        opts.onEvent?.("down", err.message);
      }
    });
  }

  /** Start connecting; resolves when connected or after `waitMs`, whichever is first. The
   *  client goes on trying in the background either way. */
  async connect(waitMs = 3_000): Promise<boolean> {
    const connected = this.client.connect().then(
      () => true,
      () => false,
    );
    let timer: NodeJS.Timeout | undefined;
    let failed: ((err: Error) => void) | undefined;
    const late = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), waitMs);
      // A refused connection or a refused password need not be waited on.
      failed = () => r(false);
      this.client.once("error", failed);
    });
    try {
      return await Promise.race([connected, late]);
    } finally {
      clearTimeout(timer);
      if (failed) this.client.off("error", failed);
    }
  }

  /** Connected and able to take commands right now. */
  get ready(): boolean {
    return this.client.isReady;
  }

  private async run(s: Script, keys: readonly string[], args: readonly string[]): Promise<Reply> {
    const tail = [String(keys.length), ...keys.map((k) => this.prefix + k), ...args];
    try {
      try {
        return (await this.deadline(this.client.sendCommand(["EVALSHA", s.sha, ...tail]))) as Reply;
      } catch (err) {
        // Not run at all: Redis does not have the script (first use, or after a restart).
        if (!(err as Error)?.message?.startsWith("NOSCRIPT")) throw err;
        return (await this.deadline(this.client.sendCommand(["EVAL", s.src, ...tail]))) as Reply;
      }
    } catch (err) {
      // Redis answered, refusing this command's values (e.g. a number it cannot add): this
      // call's problem, not an outage. A server that cannot serve anyone (loading, read-only
      // replica, out of memory, auth) is an outage.
      if (err instanceof ErrorReply && !SERVER_STATE.test(err.message)) throw new StoreValueError(`${this.where}: ${err.message.slice(0, 200)}`);
      throw err;
    }
  }

  /**
   * A decision not answered within --store-timeout-ms fails (a hung Redis must not hold calls).
   * One watchdog timer for all pending decisions: node-redis's own per-command timeout creates
   * an AbortSignal.timeout per command, a measurable part of a decision's CPU.
   */
  private deadline<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = { at: Date.now(), reject };
      this.pending.add(entry);
      if (!this.watchdog) {
        this.watchdog = setInterval(() => this.expire(), Math.max(10, Math.min(250, Math.floor(this.timeoutMs / 4))));
        this.watchdog.unref();
      }
      p.then(
        (v) => {
          this.pending.delete(entry);
          resolve(v);
        },
        (err: unknown) => {
          this.pending.delete(entry);
          reject(err);
        },
      );
    });
  }

  private expire(): void {
    const cutoff = Date.now() - this.timeoutMs;
    for (const e of this.pending) {
      if (e.at > cutoff) break; // insertion order: the rest are younger
      this.pending.delete(e);
      e.reject(new Error(`no answer from ${this.where} within ${this.timeoutMs} ms`));
    }
    if (!this.pending.size && this.watchdog) {
      clearInterval(this.watchdog);
      this.watchdog = undefined;
    }
  }

  async take(specs: readonly WindowSpec[]): Promise<TakeResult> {
    if (!specs.length) return { ok: true, counts: [], resetAts: [] };
    checkWindows(specs);
    const args: string[] = [];
    for (const s of specs) args.push(String(s.limit), String(Math.max(1, Math.ceil(s.ttlMs))), String(s.cost ?? 1));
    const r = await this.run(
      TAKE,
      specs.map((s) => s.key),
      args,
    );
    const t = Date.now();
    if (Number(r[0]) !== 1) return { ok: false, index: Number(r[1]), count: Number(r[2]), resetAt: t + Number(r[3]) };
    const counts: number[] = [];
    const resetAts: number[] = [];
    for (let i = 1; i < r.length; i += 2) {
      counts.push(Number(r[i]));
      resetAts.push(t + Number(r[i + 1]));
    }
    return { ok: true, counts, resetAts };
  }

  async add(key: string, amount: number, ttlMs: number): Promise<CounterReading> {
    checkAmount(key, amount, ttlMs);
    const r = await this.run(ADD, [key], [String(amount), String(Math.max(1, Math.ceil(ttlMs)))]);
    return { count: Number(r[0]), resetAt: Date.now() + Number(r[1]) };
  }

  async get(keys: readonly string[]): Promise<CounterReading[]> {
    if (!keys.length) return [];
    const r = await this.run(GET, keys, []);
    const t = Date.now();
    const out: CounterReading[] = [];
    for (let i = 0; i < r.length; i += 2) {
      const v = r[i];
      const pttl = Number(r[i + 1]);
      out.push(v === "" || v === undefined ? { count: 0 } : { count: Number(v), resetAt: pttl >= 0 ? t + pttl : undefined });
    }
    return out;
  }

  async ping(): Promise<void> {
    if (!this.client.isReady) {
      const since = this.downSince ? ` for ${Math.round((Date.now() - this.downSince) / 1000)} s` : "";
      throw new Error(`${this.where} unreachable${since}; reconnecting`);
    }
    await this.deadline(this.client.sendCommand(["PING"]));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.watchdog);
    if (!this.client.isOpen) return;
    if (!this.client.isReady) return this.client.destroy();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.client.close(),
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error("close timed out")), this.timeoutMs);
        }),
      ]);
    } catch {
      this.client.destroy();
    } finally {
      clearTimeout(timer);
    }
  }
}
