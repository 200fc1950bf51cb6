/**
 * Section 8: what an open console costs the agents (issue 23 item 12). Two servers in the same
 * interleaved rounds: one without the console, one with --admin-port and a browser's live
 * Activity view open (an SSE client on /admin/api/v1/activity/stream receiving every call).
 * Rerank p50 (sequential) and 32-client throughput of each; the target is within 5 %.
 */
import http from "node:http";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { connectHttp, median, RERANK_ARGS, spawnOurHttp, type HttpServer } from "../lib.js";
import { closeAll, closedLoop, connectMany, mcpCall, measureSeq, warmUp } from "../measure.js";
import { f2, int, out, target } from "../report.js";
import { S, QUICK } from "../settings.js";

const ADMIN_TOKEN = "bench-admin-token-0c9f8e7d6b5a4c3d";

function adminPort(srv: HttpServer): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const look = () => {
      const m = /cohere-mcp console on http:\/\/127\.0\.0\.1:(\d+)\//.exec(srv.stderr());
      if (m) return resolve(Number(m[1]));
      if (Date.now() - t0 > 10_000) return reject(new Error(`the console did not start: ${srv.stderr().slice(-500)}`));
      setTimeout(look, 50);
    };
    look();
  });
}

/** A browser's live Activity view: counts the events it receives. */
function openActivity(port: number): { events(): number; close(): void } {
  let n = 0;
  const req = http.get(
    { host: "127.0.0.1", port, path: "/admin/api/v1/activity/stream", headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, Accept: "text/event-stream" } },
    (res) => {
      res.setEncoding("utf8");
      res.on("data", (d: string) => (n += (d.match(/^event: activity$/gm) ?? []).length));
    },
  );
  req.on("error", () => undefined);
  return { events: () => n, close: () => req.destroy() };
}

export async function consoleCost(emuUrl: string, tmp: string): Promise<void> {
  out("## 8. What an open console costs the agents (rerank p50 and 32-client throughput, interleaved rounds)");
  out("");
  const config = join(tmp, "console-bench.json");
  writeFileSync(
    config,
    JSON.stringify({ profiles: {}, admins: [{ name: "bench", role: "admin", token_sha256: createHash("sha256").update(ADMIN_TOKEN).digest("hex") }] }),
  );
  const plain = (await spawnOurHttp(emuUrl, ["--config", config, "--audit-log", join(tmp, "audit-plain.jsonl")])).server;
  const withConsole = (await spawnOurHttp(emuUrl, ["--config", config, "--audit-log", join(tmp, "audit-console.jsonl"), "--admin-port", "0"])).server;
  if (!plain || !withConsole) {
    out("HTTP: not available");
    target("8. console cost", "within 5 % of no console", "not measured", undefined);
    return;
  }
  try {
    const view = openActivity(await adminPort(withConsole));
    const rounds = QUICK ? 2 : 4;
    const seqN = Math.max(200, Math.floor(S.seqN / rounds));
    const loopMs = Math.max(1000, Math.floor(S.levelMs / 2));
    const res = { plain: { p50: [] as number[], tput: [] as number[] }, console: { p50: [] as number[], tput: [] as number[] } };
    const servers = [
      ["plain", plain],
      ["console", withConsole],
    ] as const;
    for (const [, srv] of servers) {
      const conns = await connectMany(32, srv.mcpUrl, "console-warm");
      await warmUp(conns, "rerank", S.warmMs);
      await closeAll(conns);
    }
    for (let r = 0; r < rounds; r++) {
      for (const [name, srv] of r % 2 ? [...servers].reverse() : servers) {
        const one = await connectHttp(srv.mcpUrl);
        const seq = await measureSeq(mcpCall(one, "rerank", RERANK_ARGS), seqN, 50, srv.proc.pid);
        await one.close();
        res[name].p50.push(seq.p50);
        const conns = await connectMany(32, srv.mcpUrl, "console-32");
        const loop = await closedLoop(conns, "rerank", loopMs, srv.proc.pid);
        await closeAll(conns);
        res[name].tput.push(loop.perSec);
      }
    }
    const events = view.events();
    view.close();
    const p50 = { plain: median(res.plain.p50), console: median(res.console.p50) };
    const tput = { plain: median(res.plain.tput), console: median(res.console.tput) };
    const dP50 = (p50.console / p50.plain - 1) * 100;
    const dTput = (tput.console / tput.plain - 1) * 100;
    out("| server | rerank p50 ms (median of rounds) | 32 clients calls/s (median of rounds) |");
    out("|---|---:|---:|");
    out(`| no console | ${f2(p50.plain)} | ${int(tput.plain)} |`);
    out(`| console with live Activity open | ${f2(p50.console)} | ${int(tput.console)} |`);
    out(`| difference | ${dP50 >= 0 ? "+" : ""}${f2(dP50)} % | ${dTput >= 0 ? "+" : ""}${f2(dTput)} % |`);
    out("");
    out(`${rounds} interleaved rounds of ${seqN} sequential calls and ${loopMs / 1000} s of 32 clients each; the Activity view received ${int(events)} live events.`);
    out("");
    target(
      "8. console cost",
      "with the live Activity view open: rerank p50 and 32-client throughput within 5 % of no console",
      `p50 ${f2(p50.plain)} → ${f2(p50.console)} ms (${f2(dP50)} %), 32 clients ${int(tput.plain)} → ${int(tput.console)}/s (${f2(dTput)} %); ${int(events)} live events`,
      dP50 <= 5 && dTput >= -5 && events > 0,
    );
  } finally {
    await plain.stop();
    await withConsole.stop();
  }
}
