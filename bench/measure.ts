/**
 * How the bench drives servers: sequential calls (latency and the server's CPU per call), and
 * closed loops of many HTTP clients (throughput, latency, wrong-client answers, memory).
 */
import { performance } from "node:perf_hooks";
import {
  TAG_SPACE,
  connectHttp,
  connectHttpModern,
  cpuOf,
  decodeRerankTag,
  rssOf,
  summarize,
  taggedRerankArgs,
  type CallResult,
  type McpConn,
  type Summary,
} from "./lib.js";
import { CALL_TIMEOUT_MS } from "./settings.js";

export type Call = () => Promise<unknown>;

export type Seq = Summary & { errors: number; cpuUs: number };

/** Sequential latency in ms, and the server's CPU µs per call when its pid is known. */
export async function measureSeq(call: Call, n: number, warm: number, pid?: number | null): Promise<Seq> {
  let errors = 0;
  for (let i = 0; i < warm; i++) {
    try {
      const r = await call();
      if ((r as CallResult | undefined)?.isError) errors++;
    } catch {
      errors++;
    }
  }
  const samples: number[] = [];
  const cpu0 = cpuOf(pid);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    try {
      const r = await call();
      if ((r as CallResult | undefined)?.isError) errors++;
    } catch {
      errors++;
    }
    samples.push(performance.now() - t0);
  }
  return { ...summarize(samples), errors, cpuUs: (cpuOf(pid) - cpu0) / n };
}

export function mcpCall(conn: McpConn, name: string, args: Record<string, unknown>): Call {
  return () => conn.client.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT_MS });
}

export interface LoadResult {
  calls: number;
  perSec: number;
  lat: Summary;
  errorResults: number;
  thrown: number;
  timeouts: number;
  wrongClient: number;
  undecodable: number;
  rssEnd: number;
  rssPeak: number;
  /** server CPU µs per answered call */
  cpuUs: number;
  correctPerSec: number;
}

/** Closed loop: every client calls the tagged rerank back to back until the deadline. */
export async function closedLoop(conns: McpConn[], tool: string, ms: number, pid: number | null | undefined): Promise<LoadResult> {
  let next = Math.floor(Math.random() * TAG_SPACE);
  const samples: number[] = [];
  let errorResults = 0;
  let thrown = 0;
  let timeouts = 0;
  let wrongClient = 0;
  let undecodable = 0;
  let rssPeak = rssOf(pid);
  const sampler = setInterval(() => {
    const r = rssOf(pid);
    if (r > rssPeak || !Number.isFinite(rssPeak)) rssPeak = r;
  }, 200);
  const cpu0 = cpuOf(pid);
  const t0 = performance.now();
  const deadline = t0 + ms;
  await Promise.all(
    conns.map(async (c) => {
      while (performance.now() < deadline) {
        const tag = next++ % TAG_SPACE;
        const s = performance.now();
        try {
          const r = await c.client.callTool({ name: tool, arguments: taggedRerankArgs(tag) }, undefined, {
            timeout: CALL_TIMEOUT_MS,
          });
          samples.push(performance.now() - s);
          if ((r as CallResult).isError) {
            errorResults++;
            continue;
          }
          const got = decodeRerankTag(r);
          if (got === undefined) undecodable++;
          else if (got !== tag) wrongClient++;
        } catch (err) {
          if (/timed out|timeout/i.test(String((err as Error)?.message))) timeouts++;
          else thrown++;
        }
      }
    }),
  );
  const elapsed = performance.now() - t0;
  const cpuUs = (cpuOf(pid) - cpu0) / Math.max(1, samples.length);
  clearInterval(sampler);
  const rssEnd = rssOf(pid);
  if (rssEnd > rssPeak) rssPeak = rssEnd;
  return {
    calls: samples.length,
    perSec: (samples.length / elapsed) * 1000,
    lat: summarize(samples),
    errorResults,
    thrown,
    timeouts,
    wrongClient,
    undecodable,
    rssEnd,
    rssPeak,
    cpuUs,
    correctPerSec: ((samples.length - errorResults - wrongClient - undecodable) / elapsed) * 1000,
  };
}

/** Untimed calls so the JIT and the pools are warm before a measured level. */
export async function warmUp(conns: McpConn[], tool: string, ms: number): Promise<void> {
  const end = performance.now() + ms;
  await Promise.all(
    conns.map(async (c) => {
      while (performance.now() < end) {
        try {
          await c.client.callTool({ name: tool, arguments: taggedRerankArgs(1) }, undefined, { timeout: CALL_TIMEOUT_MS });
        } catch {
          /* counted in the measured part */
        }
      }
    }),
  );
}

export async function connectMany(n: number, url: string, name: string, modern = false): Promise<McpConn[]> {
  const conns: McpConn[] = [];
  const connect = modern ? connectHttpModern : connectHttp;
  for (let i = 0; i < n; i += 16) {
    const batch = await Promise.all(Array.from({ length: Math.min(16, n - i) }, (_, j) => connect(url, {}, `${name}-${i + j}`)));
    conns.push(...batch);
  }
  return conns;
}

export async function closeAll(conns: McpConn[]): Promise<void> {
  await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
}
