/**
 * Section 3: cohere-mcp and the peer (@ivotoby/openapi-mcp-server) under 32 concurrent HTTP
 * clients: answers per second, and answers delivered to the wrong client.
 */
import { mib, spawnPeerHttp, type HttpServer } from "../lib.js";
import { closeAll, closedLoop, connectMany, warmUp, type LoadResult } from "../measure.js";
import { f1, f2, int, out, ratio, target } from "../report.js";
import { S } from "../settings.js";

export async function peerCompare(emuUrl: string, http: HttpServer | undefined): Promise<void> {
  const n = 32;
  out(`## 3. Peer comparison: ${n} concurrent HTTP clients, tagged rerank, ${S.peerMs / 1000} s each`);
  out("");
  out("Every call carries a unique tag that the answer encodes; an answer whose tag differs was delivered to the wrong client.");
  out("");
  let oursR: LoadResult | undefined;
  if (http) {
    const conns = await connectMany(n, http.mcpUrl, "ours");
    await warmUp(conns, "rerank", S.warmMs);
    oursR = await closedLoop(conns, "rerank", S.peerMs, http.proc.pid);
    await closeAll(conns);
  }
  const peer = await spawnPeerHttp(emuUrl);
  let peerR: LoadResult | undefined;
  try {
    const conns = await connectMany(n, peer.mcpUrl, "peer");
    await warmUp(conns, "rerankv-2", S.warmMs);
    peerR = await closedLoop(conns, "rerankv-2", S.peerMs, peer.proc.pid);
    await closeAll(conns);
  } finally {
    await peer.stop();
  }
  out(
    "| server | answers/s | right answers/s | p50 ms | p99 ms | answered | server CPU µs/call | error results | lost (no answer in 10 s) | other errors | wrong client | server RSS peak |",
  );
  out("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  const row = (label: string, r: LoadResult | undefined) =>
    r
      ? out(
          `| ${label} | ${int(r.perSec)} | ${int(r.correctPerSec)} | ${f2(r.lat.p50)} | ${f2(r.lat.p99)} | ${int(r.calls)} | ${int(r.cpuUs)} | ${r.errorResults} | ${r.timeouts} | ${r.thrown} | ${r.wrongClient} | ${mib(r.rssPeak)} |`,
        )
      : out(`| ${label} | HTTP: not available | | | | | | | | | | |`);
  row("cohere-mcp (stateless)", oursR);
  row("peer (openapi-mcp-server, sessions)", peerR);
  out("");
  const tr = oursR && peerR ? ratio(oursR.perSec, peerR.perSec) : NaN;
  out(
    oursR && peerR
      ? `throughput ratio cohere-mcp ÷ peer: ${f2(tr)}× (answers/s), ${f2(ratio(oursR.correctPerSec, peerR.correctPerSec))}× (right answers/s); ` +
          `p50 latency ratio peer ÷ cohere-mcp: ${f2(ratio(peerR.lat.p50, oursR.lat.p50))}×`
      : "throughput ratio: HTTP: not available",
  );
  if (peerR) {
    const delivered = peerR.calls - peerR.errorResults;
    out(
      `peer: ${peerR.wrongClient} of ${int(delivered)} answers went to the wrong client (${f1((100 * peerR.wrongClient) / Math.max(1, delivered))}%), ` +
        `${peerR.timeouts} calls never got an answer`,
    );
  }
  out("");
  target("3. peer throughput", "≥ 1.5× the peer at 32 HTTP clients", oursR && peerR ? `${f2(tr)}× (${int(oursR.perSec)}/s vs ${int(peerR.perSec)}/s)` : `HTTP: not available (peer ${int(peerR?.perSec ?? NaN)}/s)`, oursR && peerR ? tr >= 1.5 : undefined);
  target("3. wrong-client answers", "0 for cohere-mcp", oursR ? `ours ${oursR.wrongClient} (peer ${peerR?.wrongClient ?? "n/a"})` : `HTTP: not available (peer ${peerR?.wrongClient ?? "n/a"})`, oursR ? oursR.wrongClient === 0 && oursR.undecodable === 0 : undefined);
}
