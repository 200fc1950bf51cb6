/**
 * One configuration on every replica (issue 22 item 6). Through the shared state (--store):
 *
 *  - announce: a reload on one replica (SIGHUP, a console save, `cohere-mcp reload --store`)
 *    bumps the counter `config:epoch`;
 *  - every replica reads that counter every 500 ms and, when it moved, re-reads its source (the
 *    --config file, or the policy document with --policy-store) — so all apply it within ~0.5 s;
 *  - each replica writes its configuration hash (src/fleet/hash.ts) under its --replica-id at
 *    each poll and reads the others'; a replica whose hash is not the one most live replicas
 *    have (or any, on a tie) is flagged: a warning log line, cohere_mcp_config_hash_mismatch 1,
 *    and the /readyz detail.
 *
 * With the memory store there is one replica: nothing to announce, never a mismatch.
 */
import type { App } from "../runtime/app.js";
import type { ReloadResult } from "../runtime/reload.js";

export const EPOCH_KEY = "config:epoch";
export const REPLICAS_KEY = "config:replicas";
export const POLL_MS = 500;
/** A replica not heard from for this long is left out of the comparison. */
export const STALE_MS = 5_000;

export interface Fleet {
  /** Tell every replica to re-read its configuration. */
  announce(): Promise<void>;
  readonly mismatch: boolean;
  detail(): Record<string, string>;
  /** Run one poll now (tests, and right after start). */
  poll(): Promise<void>;
  close(): void;
}

interface Report {
  hash: string;
  at: number;
  generation: number;
  /** The last announcement this replica had applied when it reported. */
  epoch: number;
}

export function startFleet(app: App, reload: () => Promise<ReloadResult>, now: () => number = Date.now): Fleet {
  const log = app.logger;
  const me = app.options.replicaId;
  const shared = () => app.shared;
  let seen: number | undefined;
  let mismatch = false;
  let streak = 0;
  let peers: Record<string, Report> = {};
  let polling: Promise<void> | undefined;
  let lastError = "";
  /** The first read of the announcement counter failed (the store was not reachable yet). */
  let missedStart = false;

  const compare = () => {
    const hash = app.live.current.hash;
    const t = now();
    // Only replicas that have applied the latest announcement are compared: one still re-reading
    // its file is not flagged (nor does it flag others) for the half second that takes.
    const live = Object.entries(peers).filter(([id, r]) => id === me || (t - r.at <= STALE_MS && r.epoch === seen));
    const counts = new Map<string, number>();
    for (const [, r] of live) counts.set(r.hash, (counts.get(r.hash) ?? 0) + 1);
    const best = Math.max(0, ...counts.values());
    const leaders = [...counts].filter(([, n]) => n === best).map(([h]) => h);
    const seenNow = counts.size > 1 && (leaders.length > 1 || leaders[0] !== hash);
    // Flagged after two polls in a row (a replica that has not reported since the announcement
    // can make a tie for one poll); cleared at once.
    streak = seenNow ? streak + 1 : 0;
    const differs = streak >= 2;
    if (differs !== mismatch) {
      mismatch = differs;
      const others = live
        .filter(([id]) => id !== me)
        .map(([id, r]) => `${id}=${r.hash}`)
        .join(", ");
      if (differs) {
        log.warn("this replica's configuration differs from the other replicas': it decides differently until its file matches theirs", {
          replica: me,
          config: hash,
          others,
        });
      } else log.info("this replica's configuration matches the other replicas' again", { replica: me, config: hash });
    }
  };

  const poll = async (): Promise<void> => {
    if (polling) return polling;
    polling = (async () => {
      try {
        const asked = seen;
        const epoch = await shared().counter(EPOCH_KEY);
        if (seen !== asked) {
          // announce() ran while we read: it set `seen` to its own, newer announcement.
        } else if (seen === undefined) {
          seen = epoch;
          // The store was not reachable when this replica started: an announcement made since
          // then cannot be told apart from the baseline, so re-read once to be sure.
          if (missedStart) {
            missedStart = false;
            const r = await reload();
            if (r.ok) log.info("configuration re-read: the shared store was not reachable at start, so a reload announced meanwhile may have been missed", { replica: me, config: app.live.current.hash });
          }
        } else if (epoch !== seen) {
          seen = epoch;
          const r = await reload();
          if (r.ok) log.info("configuration re-read: another replica announced a reload", { replica: me, config: app.live.current.hash });
        }
        const report: Report = { hash: app.live.current.hash, at: now(), generation: app.live.current.id, epoch: seen ?? epoch };
        await shared().putField(REPLICAS_KEY, me, JSON.stringify(report));
        const all = await shared().fields(REPLICAS_KEY);
        const next: Record<string, Report> = {};
        for (const [id, v] of Object.entries(all)) {
          try {
            next[id] = JSON.parse(v) as Report;
          } catch {
            /* not ours */
          }
        }
        peers = next;
        compare();
        lastError = "";
      } catch (err) {
        if (seen === undefined) missedStart = true;
        const msg = (err as Error)?.message ?? String(err);
        if (msg !== lastError) log.warn("could not compare configurations with the other replicas", { error: msg });
        lastError = msg;
      } finally {
        polling = undefined;
      }
    })();
    return polling;
  };

  const timer = app.shared.kind === "memory" ? undefined : setInterval(() => void poll(), POLL_MS);
  timer?.unref();
  void poll();

  return {
    async announce() {
      if (shared().kind === "memory") return;
      try {
        const epoch = await shared().bump(EPOCH_KEY);
        // Our own announcement: already applied here.
        seen = epoch;
      } catch (err) {
        log.warn("could not announce the reload to the other replicas", { error: (err as Error)?.message });
      }
      void poll();
    },
    get mismatch() {
      return mismatch;
    },
    detail() {
      const t = now();
      const out: Record<string, string> = { config_hash: app.live.current.hash };
      const others = Object.entries(peers).filter(([id, r]) => id !== me && t - r.at <= STALE_MS && r.epoch === seen);
      if (others.length) {
        out.replicas = others.map(([id, r]) => `${id} ${r.hash}`).join(", ");
        out.config_agreement = mismatch ? "this replica's configuration differs from the other replicas'" : "same as the other replicas";
      }
      return out;
    },
    poll,
    close() {
      if (timer) clearInterval(timer);
    },
  };
}

/** `cohere-mcp reload --store URL`: announce a reload to every replica sharing that store. */
export async function announceReload(shared: { bump(key: string): Promise<number> }): Promise<number> {
  return shared.bump(EPOCH_KEY);
}
