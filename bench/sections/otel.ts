/**
 * Section 9: what OpenTelemetry costs (issue 24). "Tracing on" is `--otel`: traces at 100 %
 * sampling and the OTLP metrics, to a local OTLP/HTTP receiver on 127.0.0.1 (it answers 200 to
 * every POST and counts them). `--audit-otlp` (the audit as log records) is another feature,
 * measured beside it and reported apart. Stdio: rerank p50 and the server's CPU per call off (the
 * default: nothing of the SDK loaded), on, on with --audit-otlp, and on at 10 %; with --baseline,
 * that build too (for "off equals today's"). HTTP: 32-client throughput off, on, on with
 * --audit-otlp. Interleaved rounds after a warm-up, medians of the rounds.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { connectOurStdio, connectStdioCmd, median, RERANK_ARGS, scrubbedEnv, spawnOurHttp, BENCH_KEY, type McpConn } from "../lib.js";
import { closeAll, closedLoop, connectMany, mcpCall, measureSeq, warmUp } from "../measure.js";
import { f1, f2, int, out, target } from "../report.js";
import { BASELINE, QUICK, S } from "../settings.js";

/** A local OTLP/HTTP sink: 200 to every POST, counting requests and bytes. */
async function sink(): Promise<{ url: string; posts: () => number; bytes: () => number; close(): Promise<void> }> {
  let posts = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on("data", (d: Buffer) => (bytes += d.length));
    req.on("end", () => {
      posts++;
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    posts: () => posts,
    bytes: () => bytes,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

export async function otelCost(emuUrl: string, tmp: string): Promise<void> {
  out("## 9. What OpenTelemetry costs (stdio rerank p50 and CPU per call; HTTP 32-client throughput; interleaved rounds)");
  out("");
  const receiver = await sink();
  const on = {
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
    OTEL_TRACES_SAMPLER: "always_on",
    OTEL_METRIC_EXPORT_INTERVAL: "5000",
  };
  const stdio: Array<[string, McpConn]> = [
    ["off (default)", await connectOurStdio(emuUrl, ["--audit-log", join(tmp, "otel-off.jsonl")])],
    ["on (--otel), 100 % sampled", await connectOurStdio(emuUrl, ["--audit-log", join(tmp, "otel-on.jsonl"), "--otel"], on)],
    ["on, 100 %, and --audit-otlp", await connectOurStdio(emuUrl, ["--audit-log", join(tmp, "otel-audit.jsonl"), "--otel", "--audit-otlp"], on)],
    [
      "on, 10 % sampled",
      await connectOurStdio(emuUrl, ["--audit-log", join(tmp, "otel-10.jsonl"), "--otel"], { ...on, OTEL_TRACES_SAMPLER: "parentbased_traceidratio", OTEL_TRACES_SAMPLER_ARG: "0.1" }),
    ],
  ];
  if (BASELINE) {
    const env = scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emuUrl });
    stdio.push(["baseline build (--baseline), off", await connectStdioCmd(process.execPath, [BASELINE, "--audit-log", join(tmp, "otel-base.jsonl")], env)]);
  }
  const httpOff = (await spawnOurHttp(emuUrl, ["--audit-log", join(tmp, "otel-http-off.jsonl")])).server;
  const httpOn = (await spawnOurHttp(emuUrl, ["--audit-log", join(tmp, "otel-http-on.jsonl"), "--otel"], on)).server;
  const httpAudit = (await spawnOurHttp(emuUrl, ["--audit-log", join(tmp, "otel-http-audit.jsonl"), "--otel", "--audit-otlp"], on)).server;
  try {
    const rounds = QUICK ? 2 : 4;
    const seqN = Math.max(300, Math.floor(S.seqN / rounds));
    const warm = QUICK ? 300 : Math.min(S.steadyWarm * 2, 5000);
    for (const [, c] of stdio) await measureSeq(mcpCall(c, "rerank", RERANK_ARGS), 1, warm, c.pid);
    const res = new Map<string, { p50: number[]; cpu: number[] }>(stdio.map(([n]) => [n, { p50: [], cpu: [] }]));
    for (let r = 0; r < rounds; r++) {
      for (const [name, c] of r % 2 ? [...stdio].reverse() : stdio) {
        const seq = await measureSeq(mcpCall(c, "rerank", RERANK_ARGS), seqN, 20, c.pid);
        res.get(name)!.p50.push(seq.p50);
        res.get(name)!.cpu.push(seq.cpuUs);
      }
    }
    out("| stdio server | rerank p50 ms | server CPU µs per call |");
    out("|---|---:|---:|");
    const m = new Map([...res].map(([n, v]) => [n, { p50: median(v.p50), cpu: median(v.cpu) }]));
    for (const [n, v] of m) out(`| ${n} | ${f2(v.p50)} | ${int(v.cpu)} |`);
    out("");
    const off = m.get("off (default)")!;
    const onS = m.get("on (--otel), 100 % sampled")!;
    const auditS = m.get("on, 100 %, and --audit-otlp")!;
    const base = BASELINE ? m.get("baseline build (--baseline), off") : undefined;
    const dP50us = (onS.p50 - off.p50) * 1000;
    out(`${rounds} interleaved rounds of ${seqN} sequential calls after ${warm} warm-up calls per server.`);
    out("");

    let tput = { off: NaN, on: NaN, audit: NaN };
    if (httpOff && httpOn && httpAudit) {
      const servers = [
        ["off", httpOff],
        ["on", httpOn],
        ["audit", httpAudit],
      ] as const;
      for (const [, srv] of servers) {
        const conns = await connectMany(32, srv.mcpUrl, "otel-warm");
        await warmUp(conns, "rerank", S.warmMs);
        await closeAll(conns);
      }
      const t = { off: [] as number[], on: [] as number[], audit: [] as number[] };
      const loopMs = Math.max(1000, Math.floor(S.levelMs / 2));
      for (let r = 0; r < rounds; r++) {
        for (const [name, srv] of r % 2 ? [...servers].reverse() : servers) {
          const conns = await connectMany(32, srv.mcpUrl, "otel-32");
          const loop = await closedLoop(conns, "rerank", loopMs, srv.proc.pid);
          await closeAll(conns);
          t[name].push(loop.perSec);
        }
      }
      tput = { off: median(t.off), on: median(t.on), audit: median(t.audit) };
      out("| HTTP server (stateless) | 32 clients calls/s (median of rounds) | over off |");
      out("|---|---:|---:|");
      out(`| off | ${int(tput.off)} | |`);
      out(`| on (--otel), 100 % sampled | ${int(tput.on)} | ${f2(tput.on / tput.off)}× |`);
      out(`| on, 100 %, and --audit-otlp | ${int(tput.audit)} | ${f2(tput.audit / tput.off)}× |`);
      out("");
    }
    out(`the receiver got ${int(receiver.posts())} OTLP requests (${f1(receiver.bytes() / 1048576)} MiB).`);
    out("");
    target(
      "9. OTel off",
      base ? "stdio rerank p50 and CPU per call equal to the baseline build within noise" : "per-call cost unchanged (run with --baseline to compare)",
      base
        ? `p50 ${f2(base.p50)} → ${f2(off.p50)} ms, CPU ${int(base.cpu)} → ${int(off.cpu)} µs`
        : `p50 ${f2(off.p50)} ms, CPU ${int(off.cpu)} µs per call`,
      // within noise: no slower than the baseline by more than 5 % (or 50 µs)
      base ? off.p50 <= base.p50 + Math.max(0.05, base.p50 * 0.05) && off.cpu <= base.cpu * 1.1 : undefined,
    );
    target(
      "9. OTel on (stdio)",
      "≤ +50 µs rerank p50 at 100 % sampling (--otel)",
      `${dP50us >= 0 ? "+" : ""}${int(dP50us)} µs p50, CPU ${int(off.cpu)} → ${int(onS.cpu)} µs per call (with --audit-otlp: +${int((auditS.p50 - off.p50) * 1000)} µs, ${int(auditS.cpu)} µs)`,
      dP50us <= 50,
    );
    target(
      "9. OTel on (HTTP)",
      "32-client throughput ≥ 0.9× off (--otel, 100 %)",
      `${int(tput.off)} → ${int(tput.on)} calls/s (${f2(tput.on / tput.off)}×; with --audit-otlp ${f2(tput.audit / tput.off)}×)`,
      tput.on / tput.off >= 0.9,
    );
  } finally {
    for (const [, c] of stdio) await c.close();
    await httpOff?.stop();
    await httpOn?.stop();
    await httpAudit?.stop();
    await receiver.close();
  }
}
