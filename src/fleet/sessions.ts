/**
 * Open MCP sessions across replicas (--store): the console lists every replica's sessions and
 * ends one wherever it is held.
 *
 *  - every replica writes the list of its open sessions under its --replica-id in the map
 *    `sessions:replicas` every 500 ms (and at once after ending one); lists not refreshed for
 *    5 s (a replica that died) are left out, and a replica that stops withdraws its list;
 *  - ending a session held by another replica is announced through the capped stream
 *    `sessions:end` (as reloads are announced through `config:epoch`, converge.ts); each replica
 *    reads the stream at each poll and ends the sessions it holds that are named there.
 *
 * With the memory store there is one replica: its own sessions, ended directly.
 */
import type { App } from "../runtime/app.js";
import { POLL_MS, STALE_MS } from "./converge.js";

export const SESSIONS_KEY = "sessions:replicas";
export const END_STREAM = "sessions:end";
const END_STREAM_MAX = 1_000;

export interface FleetSession {
  id: string;
  agent: string;
  openedAt: number;
  replica: string;
}

export interface EndResult {
  /** How many sessions were ended (0 when the replica holding it did not confirm within the wait). */
  ended: number;
  replica: string;
}

export interface SessionFleet {
  /** Every replica's open sessions (this replica's first). */
  list(): Promise<FleetSession[]>;
  /** End a session wherever it is held; undefined when no replica holds it. */
  end(id: string, agent: string, why: string): Promise<EndResult | undefined>;
  poll(): Promise<void>;
  /** Stop polling; this replica's list is withdrawn (its sessions end with it). */
  close(): Promise<void>;
}

interface Report {
  at: number;
  sessions: Array<{ id: string; agent: string; openedAt: number }>;
}

interface EndRequest {
  id: string;
  agent: string;
  replica: string;
  why: string;
}

export function startSessionFleet(app: App, now: () => number = Date.now, waitMs = 2_500): SessionFleet {
  const me = app.options.replicaId;
  const log = app.logger;
  const local = () => (app.openSessions?.() ?? []).map((s) => ({ ...s, replica: me }));
  const shared = () => app.shared;
  const isMemory = () => shared().kind === "memory";
  /** The last end request read (undefined until the first read of the stream). */
  let cursor: string | undefined;
  let polling: Promise<void> | undefined;
  let lastError = "";

  const publish = async () => {
    if (!app.openSessions) return;
    const report: Report = { at: now(), sessions: app.openSessions() };
    await shared().putField(SESSIONS_KEY, me, JSON.stringify(report));
  };

  const reports = async (): Promise<Map<string, Report>> => {
    const out = new Map<string, Report>();
    const t = now();
    for (const [id, v] of Object.entries(await shared().fields(SESSIONS_KEY))) {
      try {
        const r = JSON.parse(v) as Report;
        if (id !== me && t - r.at <= STALE_MS && Array.isArray(r.sessions)) out.set(id, r);
      } catch {
        /* not ours */
      }
    }
    return out;
  };

  const poll = async (): Promise<void> => {
    if (isMemory()) return;
    if (polling) return polling;
    polling = (async () => {
      try {
        if (cursor === undefined) {
          // Requests made before this replica started cannot name its sessions.
          const [newest] = await shared().latest(END_STREAM, 1);
          cursor = newest?.id ?? "0-0";
        }
        const asked = await shared().since(END_STREAM, cursor, 500);
        for (const e of asked) {
          cursor = e.id;
          let r: EndRequest;
          try {
            r = JSON.parse(e.value) as EndRequest;
          } catch {
            continue;
          }
          if (r.replica !== me) continue;
          const n = app.endSessions?.((s) => s.id === r.id && s.agent === r.agent, r.why) ?? 0;
          if (n) log.info("ended a session at the request of another replica's console", { session: r.id, agent: r.agent });
        }
        await publish();
        lastError = "";
      } catch (err) {
        const msg = (err as Error)?.message ?? String(err);
        if (msg !== lastError) log.warn("could not share this replica's open sessions with the other replicas", { error: msg });
        lastError = msg;
      } finally {
        polling = undefined;
      }
    })();
    return polling;
  };

  const timer = isMemory() ? undefined : setInterval(() => void poll(), POLL_MS);
  timer?.unref();
  void poll();

  return {
    async list() {
      const mine = local();
      if (isMemory()) return mine;
      const others: FleetSession[] = [];
      for (const [replica, r] of await reports()) for (const s of r.sessions) others.push({ ...s, replica });
      return [...mine, ...others];
    },
    async end(id, agent, why) {
      if (local().some((s) => s.id === id && s.agent === agent)) {
        const n = app.endSessions?.((s) => s.id === id && s.agent === agent, why) ?? 0;
        if (!isMemory()) void poll();
        return { ended: n, replica: me };
      }
      if (isMemory()) return undefined;
      const holder = [...(await reports())].find(([, r]) => r.sessions.some((s) => s.id === id && s.agent === agent));
      if (!holder) return undefined;
      const replica = holder[0];
      const request: EndRequest = { id, agent, replica, why };
      await shared().append(END_STREAM, JSON.stringify(request), END_STREAM_MAX);
      // The holder ends it at its next poll (≤ 500 ms) and publishes its list at once.
      const until = now() + waitMs;
      while (now() < until) {
        await new Promise((r) => setTimeout(r, 100));
        const r = (await reports()).get(replica);
        if (r && !r.sessions.some((s) => s.id === id)) return { ended: 1, replica };
      }
      return { ended: 0, replica };
    },
    poll,
    async close() {
      if (timer) clearInterval(timer);
      if (isMemory()) return;
      const gone: Report = { at: 0, sessions: [] };
      await shared()
        .putField(SESSIONS_KEY, me, JSON.stringify(gone))
        .catch(() => undefined);
    },
  };
}
