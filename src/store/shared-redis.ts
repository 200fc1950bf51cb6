/**
 * SharedState in Redis (--store): documents are hashes {v, body} written by one Lua script
 * (compare-and-set on the version), announcements are INCR counters, sessions are strings with a
 * PEXPIRE, replica reports and usage counters hashes (HINCRBY in one script), the activity a capped stream (XADD MAXLEN ~ N). Its own
 * connection, apart from the counters' (a slow XRANGE never delays a decision).
 */
import { createClient, type RedisClientType } from "@redis/client";
import { checkAmount } from "./types.js";
import type { CasResult, SharedDoc, SharedState, StreamEntry } from "./shared.js";

const CAS = `
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then
  return {0, v, redis.call('HGET', KEYS[1], 'body') or ''}
end
redis.call('HSET', KEYS[1], 'v', v + 1, 'body', ARGV[2])
return {1, v + 1}
`;

/** KEYS[1] the map; ARGV[1] its life in ms, then field, amount pairs: all added, or none. */
const ADD_FIELDS = `
for i = 2, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`;

type Raw = string | number | null | Raw[];

export interface RedisSharedOptions {
  url: string;
  password?: string;
  prefix: string;
  timeoutMs: number;
}

export class RedisSharedState implements SharedState {
  readonly kind = "redis";
  private readonly client: RedisClientType;
  private readonly prefix: string;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(o: RedisSharedOptions) {
    this.prefix = o.prefix;
    this.timeoutMs = o.timeoutMs;
    const fromUrl = (() => {
      try {
        return new URL(o.url).password !== "";
      } catch {
        return false;
      }
    })();
    this.client = createClient({
      url: o.url,
      password: fromUrl ? undefined : o.password,
      disableOfflineQueue: true,
      disableClientInfo: true,
      maintNotifications: "disabled",
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: Math.max(o.timeoutMs, 2_000),
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 5), 1_000) + Math.floor(Math.random() * 50),
      },
    }) as RedisClientType;
    this.client.on("error", () => {
      /* the counter store reports outages; this connection reconnects by itself */
    });
  }

  async connect(waitMs: number): Promise<boolean> {
    const connected = this.client.connect().then(
      () => true,
      () => false,
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), waitMs);
    });
    try {
      return await Promise.race([connected, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async cmd(args: string[]): Promise<Raw> {
    if (!this.client.isReady) throw new Error("the shared store is not reachable right now");
    let timer: NodeJS.Timeout | undefined;
    try {
      return (await Promise.race([
        this.client.sendCommand(args) as unknown as Promise<Raw>,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer from the shared store within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]));
    } finally {
      clearTimeout(timer);
    }
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  async getDoc(key: string): Promise<SharedDoc | undefined> {
    const r = (await this.cmd(["HMGET", this.k(key), "v", "body"])) as Array<string | null>;
    if (!r[0]) return undefined;
    return { version: Number(r[0]), value: r[1] ?? "" };
  }

  async casDoc(key: string, expect: number, value: string): Promise<CasResult> {
    const r = (await this.cmd(["EVAL", CAS, "1", this.k(key), String(expect), value])) as Raw[];
    if (Number(r[0]) === 1) return { ok: true, version: Number(r[1]) };
    const v = Number(r[1]);
    return { ok: false, current: v ? { version: v, value: String(r[2] ?? "") } : undefined };
  }

  async bump(key: string): Promise<number> {
    return Number(await this.cmd(["INCR", this.k(key)]));
  }

  async counter(key: string): Promise<number> {
    return Number((await this.cmd(["GET", this.k(key)])) ?? 0);
  }

  async put(key: string, value: string, ttlMs: number): Promise<void> {
    await this.cmd(["SET", this.k(key), value, "PX", String(Math.max(1, Math.ceil(ttlMs)))]);
  }

  async fetch(key: string): Promise<string | undefined> {
    const r = await this.cmd(["GET", this.k(key)]);
    return r === null ? undefined : String(r);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const r = await this.cmd(["SET", this.k(key), "1", "PX", String(Math.max(1, Math.ceil(ttlMs))), "NX"]);
    return r !== null;
  }

  async remove(key: string): Promise<void> {
    await this.cmd(["DEL", this.k(key)]);
  }

  async putField(key: string, field: string, value: string): Promise<void> {
    await this.cmd(["HSET", this.k(key), field, value]);
  }

  async fields(key: string): Promise<Record<string, string>> {
    const r = (await this.cmd(["HGETALL", this.k(key)])) as unknown;
    if (Array.isArray(r)) {
      const out: Record<string, string> = {};
      for (let i = 0; i + 1 < r.length; i += 2) out[String(r[i])] = String(r[i + 1]);
      return out;
    }
    if (r && typeof r === "object") return Object.fromEntries(Object.entries(r as Record<string, unknown>).map(([a, b]) => [a, String(b)]));
    return {};
  }

  async addFields(key: string, increments: Readonly<Record<string, number>>, ttlMs: number): Promise<void> {
    const pairs = Object.entries(increments);
    for (const [f, n] of pairs) checkAmount(`${key} ${f}`, n, ttlMs);
    if (!pairs.length) return;
    await this.cmd(["EVAL", ADD_FIELDS, "1", this.k(key), String(Math.max(1, Math.ceil(ttlMs))), ...pairs.flatMap(([f, n]) => [f, String(n)])]);
  }

  async append(stream: string, value: string, maxLen: number): Promise<string> {
    return String(await this.cmd(["XADD", this.k(stream), "MAXLEN", "~", String(maxLen), "*", "v", value]));
  }

  private entries(r: Raw): StreamEntry[] {
    if (!Array.isArray(r)) return [];
    return r.map((e) => {
      const [id, fields] = e as [string, Raw[]];
      const f = Array.isArray(fields) ? fields : [];
      let value = "";
      for (let i = 0; i + 1 < f.length; i += 2) if (String(f[i]) === "v") value = String(f[i + 1]);
      return { id: String(id), value };
    });
  }

  async latest(stream: string, count: number, before?: string): Promise<StreamEntry[]> {
    const r = await this.cmd(["XREVRANGE", this.k(stream), before ? `(${before}` : "+", "-", "COUNT", String(count)]);
    return this.entries(r);
  }

  async since(stream: string, after: string, count: number): Promise<StreamEntry[]> {
    const r = await this.cmd(["XRANGE", this.k(stream), `(${after}`, "+", "COUNT", String(count)]);
    return this.entries(r);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.client.isOpen) return;
    try {
      if (this.client.isReady) await this.client.close();
      else this.client.destroy();
    } catch {
      this.client.destroy();
    }
  }
}
