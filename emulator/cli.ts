#!/usr/bin/env node
/**
 * Starts the Cohere emulator as its own process:
 *   node dist/emulator/cli.js [--port N] [--host H] [--latency MS] [--api-key K] [--stream-delay MS] [--max-recorded N]
 *                             [--stream-split BYTES] [--stream-crlf] [--stream-format sse|ndjson]
 * --stream-split delivers streamed answers in chunks of at most BYTES (cut inside UTF-8
 * characters and between \r and \n too); --stream-crlf ends stream lines with \r\n;
 * --stream-format forces v1 chat / generate streams to SSE or NDJSON.
 * Prints "cohere-emulator listening on <url>" to stdout and exits cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startEmulator } from "./server.js";

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`cohere-emulator: --${name} must be a non-negative number (got ${JSON.stringify(v)})\n`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: "string" },
        host: { type: "string" },
        latency: { type: "string" },
        "api-key": { type: "string" },
        "stream-delay": { type: "string" },
        "max-recorded": { type: "string" },
        "stream-split": { type: "string" },
        "stream-crlf": { type: "boolean" },
        "stream-format": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    process.stderr.write(`cohere-emulator: ${(e as Error).message}\n`);
    process.exit(2);
  }
  if (values.help) {
    process.stdout.write(
      "usage: cohere-emulator [--port N] [--host H] [--latency MS] [--api-key K] [--stream-delay MS] [--max-recorded N]\n" +
        "                       [--stream-split BYTES] [--stream-crlf] [--stream-format sse|ndjson]\n",
    );
    return;
  }
  const format = values["stream-format"] as string | undefined;
  if (format !== undefined && format !== "sse" && format !== "ndjson") {
    process.stderr.write(`cohere-emulator: --stream-format must be sse or ndjson (got ${JSON.stringify(format)})\n`);
    process.exit(2);
  }
  const splitBytes = num("stream-split", values["stream-split"] as string | undefined);
  const crlf = values["stream-crlf"] === true;
  const emu = await startEmulator({
    port: num("port", values.port as string | undefined),
    host: values.host as string | undefined,
    latencyMs: num("latency", values.latency as string | undefined),
    apiKey: values["api-key"] as string | undefined,
    streamChunkDelayMs: num("stream-delay", values["stream-delay"] as string | undefined),
    maxRecordedRequests: num("max-recorded", values["max-recorded"] as string | undefined),
    streamSplit: splitBytes !== undefined || crlf ? { maxChunkBytes: splitBytes ? Math.max(1, Math.round(splitBytes)) : undefined, crlf } : undefined,
    streamFormat: format,
  });
  process.stdout.write(`cohere-emulator listening on ${emu.url}\n`);

  let stopping = false;
  const shutdown = () => {
    if (stopping) return;
    stopping = true;
    emu.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`cohere-emulator: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
