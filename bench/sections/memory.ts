/**
 * Section 6: memory over time, RSS of the server over many stdio calls (4 in flight), against
 * the bare SDK server.
 */
import { performance } from "node:perf_hooks";
import { BENCH_KEY, MINIMAL_SERVER, RERANK_ARGS, connectOurStdio, connectStdioCmd, mib, rssOf, scrubbedEnv, sleep, type CallResult, type McpConn } from "../lib.js";
import { f1, f2, int, out, ratio, target } from "../report.js";
import { CALL_TIMEOUT_MS, S } from "../settings.js";

export async function memory(emuUrl: string, auditFile: string): Promise<void> {
  const half = S.memCalls / 2;
  const total = S.memCalls + S.memExtra;
  out(
    `## 6. Memory over time (RSS of the server process; ${int(total)} rerank calls over stdio, ${S.memConc} in flight; ` +
      `the target is read at ${int(half)} and ${int(S.memCalls)}${S.memExtra ? `, the rest shows where it settles` : ""})`,
  );
  out("");
  type Mem = { idle: number; at: Map<number, number>; errors: number; secs: number };
  const marks = [half, S.memCalls, ...(S.memExtra ? [S.memCalls + S.memExtra / 2, total] : [])];
  const drive = async (conn: McpConn): Promise<Mem> => {
    await conn.client.listTools();
    await sleep(1000);
    const idle = rssOf(conn.pid);
    const at = new Map<number, number>();
    let done = 0;
    let errors = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: S.memConc }, async () => {
        while (done < total) {
          const k = ++done;
          try {
            const r = (await conn.client.callTool({ name: "rerank", arguments: RERANK_ARGS }, undefined, { timeout: CALL_TIMEOUT_MS })) as CallResult;
            if (r.isError) errors++;
          } catch {
            errors++;
          }
          if (marks.includes(k)) at.set(k, rssOf(conn.pid));
        }
      }),
    );
    const secs = (performance.now() - t0) / 1000;
    return { idle, at, errors, secs };
  };
  const ours = await connectOurStdio(emuUrl, ["--audit-log", auditFile]);
  const o = await drive(ours);
  await ours.close();
  const min = await connectStdioCmd(process.execPath, [MINIMAL_SERVER], scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emuUrl }));
  const m = await drive(min);
  await min.close();
  out(`| server | idle RSS | ${marks.map((k) => `after ${int(k)} calls`).join(" | ")} | growth ${int(half)}→${int(S.memCalls)} | calls/s | errors |`);
  out(`|---|---:|${marks.map(() => "---:").join("|")}|---:|---:|---:|`);
  const growth = (x: Mem) => {
    const a = x.at.get(half)!;
    const b = x.at.get(S.memCalls)!;
    return `${mib(b - a)} (${f1((100 * (b - a)) / a)}%)`;
  };
  const line = (label: string, x: Mem) =>
    out(`| ${label} | ${mib(x.idle)} | ${marks.map((k) => mib(x.at.get(k) ?? NaN)).join(" | ")} | ${growth(x)} | ${int(total / x.secs)} | ${x.errors} |`);
  line("cohere-mcp (stdio, audit on)", o);
  line("minimal SDK server", m);
  out(`| ratio | ${f2(ratio(o.idle, m.idle))}× | ${marks.map((k) => `${f2(ratio(o.at.get(k)!, m.at.get(k)!))}×`).join(" | ")} | | | |`);
  out("");
  const idleR = ratio(o.idle, m.idle);
  const fullR = ratio(o.at.get(S.memCalls)!, m.at.get(S.memCalls)!);
  const oh = o.at.get(half)!;
  const of = o.at.get(S.memCalls)!;
  const leveled = of - oh <= Math.max(0.05 * oh, 4 * 1048576);
  out(`levels off between ${int(half)} and ${int(S.memCalls)} calls (growth ≤ 5% or ≤ 4 MiB): ${leveled ? "yes" : "no"}`);
  if (S.memExtra) {
    const last = o.at.get(total)!;
    out(`after ${int(total)} calls: ${mib(last)} (${f1((100 * (last - of)) / of)}% from ${int(S.memCalls)}); minimal SDK server ${mib(m.at.get(total)!)}`);
  }
  out("");
  target("6. idle RSS", "≤ 1.15× minimal SDK server", `${f2(idleR)}× (${mib(o.idle)} vs ${mib(m.idle)})`, idleR <= 1.15);
  target(`6. RSS after ${int(S.memCalls)} calls`, "≤ 1.15× minimal SDK server", `${f2(fullR)}× (${mib(of)} vs ${mib(m.at.get(S.memCalls)!)})`, fullR <= 1.15 && o.errors === 0);
  target("6. RSS levels off", `no growth ${int(half)}→${int(S.memCalls)} (≤ 5% or 4 MiB)`, growth(o), leveled);
}
