/**
 * Cancel → upstream socket closed, measured end to end: the SDK client (stdio) cancels a streamed
 * chat at its first progress notification; cohere-mcp aborts the undici request; the emulator
 * records when it sees the client close the socket.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/cancel.js [runs]
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { fileURLToPath } from "node:url";
import { startEmulator } from "../emulator/server.js";

const runs = Number(process.argv[2] ?? 50);
const KEY = "bench-key";

function stats(xs: number[]): string {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return `median ${at(0.5).toFixed(2)} ms, p95 ${at(0.95).toFixed(2)} ms, max ${s[s.length - 1]!.toFixed(2)} ms`;
}

async function main(): Promise<void> {
  const emu = await startEmulator({ apiKey: KEY, streamChunkDelayMs: 20 });
  const entry = fileURLToPath(new URL("../src/index.js", import.meta.url));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [entry, "--log-level", "warn"],
    env: { PATH: process.env.PATH ?? "", CO_API_KEY: KEY, CO_API_URL: emu.url },
    stderr: "inherit",
  });
  const client = new Client({ name: "cancel-bench", version: "1.0.0" });
  await client.connect(transport);
  const content = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
  const closed: number[] = [];
  const rejected: number[] = [];
  for (let i = 0; i < runs; i++) {
    const ac = new AbortController();
    let t0 = 0;
    const firstNew = (emu.requests.at(-1)?.id ?? 0) + 1;
    const aborted = emu.waitForAbort((r) => r.id >= firstNew, 5_000).then(() => performance.now());
    const call = client
      .callTool({ name: "chat", arguments: { model: "command-a-03-2025", messages: [{ role: "user", content }] } }, undefined, {
        signal: ac.signal,
        onprogress: () => {
          if (t0) return;
          t0 = performance.now();
          ac.abort();
        },
      })
      .then(
        () => Number.NaN,
        () => performance.now(),
      );
    const [tClosed, tRejected] = await Promise.all([aborted, call]);
    closed.push(tClosed - t0);
    rejected.push(tRejected - t0);
  }
  const retried = emu.requests.length - runs;
  process.stdout.write(
    `${runs} streamed chats cancelled at their first progress notification (stdio client → cohere-mcp → emulator over HTTP):\n` +
      `  cancel → upstream socket closed: ${stats(closed)}\n` +
      `  cancel → client call rejected:   ${stats(rejected)}\n` +
      `  requests sent again after a cancel: ${retried}\n`,
  );
  await client.close();
  await emu.stop();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
