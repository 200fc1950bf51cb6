/**
 * The control API under /_emulator/ (no auth, not recorded), so another process can steer a
 * running emulator:
 *   POST   /_emulator/faults         body: FaultRule as JSON (path "re:<regex>" for a RegExp; times null = Infinity)
 *   GET    /_emulator/faults         active rules
 *   DELETE /_emulator/faults         clear rules
 *   GET    /_emulator/requests       recorded requests (JSON array)
 *   DELETE /_emulator/requests       clear recorded requests
 *   POST   /_emulator/latency        {"ms": N}
 *   POST   /_emulator/stream-delay   {"ms": N}
 *   POST   /_emulator/stream-split   {"maxChunkBytes"?: N, "seed"?: N, "crlf"?: bool} or {"off": true}
 *   POST   /_emulator/stream-format  {"format": "sse" | "ndjson" | null}  (v1 chat / generate streams)
 *   POST   /_emulator/reset          requests, faults, state, latency, stream settings
 *   GET    /_emulator/health         {"ok": true, "url": ...}
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { faultFromJson, type FaultRule } from "./faults.js";
import { readBody, sendJson } from "./http.js";
import type { StreamSplit } from "./wire.js";

/** What the control API needs from the emulator. */
export interface Controllable {
  url: string;
  requests: unknown[];
  addFault(rule: FaultRule): void;
  clearFaults(): void;
  faultsJson(): unknown[];
  setLatency(ms: number): void;
  setStreamChunkDelay(ms: number): void;
  setStreamSplit(split: StreamSplit | undefined): void;
  setStreamFormat(format: "sse" | "ndjson" | undefined): void;
  reset(): void;
  openConnections(): number;
}

export async function handleControl(emu: Controllable, req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch {
    return;
  }
  let body: unknown;
  if (raw.length) {
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      return sendJson(res, 400, { message: "control body must be JSON" });
    }
  }
  const o = (body ?? {}) as Record<string, unknown>;
  const ms = typeof o.ms === "number" && o.ms >= 0 ? o.ms : undefined;
  const needMs = () => sendJson(res, 400, { message: 'body must be {"ms": <non-negative number>}' });
  switch (`${method} ${url.pathname.replace(/\/+$/, "")}`) {
    case "POST /_emulator/faults":
      try {
        emu.addFault(faultFromJson(body));
      } catch (e) {
        return sendJson(res, 400, { message: (e as Error).message });
      }
      return sendJson(res, 200, { ok: true, faults: emu.faultsJson().length });
    case "GET /_emulator/faults":
      return sendJson(res, 200, emu.faultsJson());
    case "DELETE /_emulator/faults":
      emu.clearFaults();
      return sendJson(res, 200, { ok: true });
    case "GET /_emulator/requests":
      return sendJson(res, 200, emu.requests);
    case "DELETE /_emulator/requests":
      emu.requests.length = 0;
      return sendJson(res, 200, { ok: true });
    case "POST /_emulator/latency":
      if (ms === undefined) return needMs();
      emu.setLatency(ms);
      return sendJson(res, 200, { ok: true, ms });
    case "POST /_emulator/stream-delay":
      if (ms === undefined) return needMs();
      emu.setStreamChunkDelay(ms);
      return sendJson(res, 200, { ok: true, ms });
    case "POST /_emulator/stream-split": {
      if (o.off === true) {
        emu.setStreamSplit(undefined);
        return sendJson(res, 200, { ok: true, split: null });
      }
      const max = o.maxChunkBytes;
      if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1)) return sendJson(res, 400, { message: "maxChunkBytes must be an integer >= 1" });
      const split: StreamSplit = { maxChunkBytes: max as number | undefined, seed: typeof o.seed === "number" ? o.seed : undefined, crlf: o.crlf === true };
      emu.setStreamSplit(split);
      return sendJson(res, 200, { ok: true, split });
    }
    case "POST /_emulator/stream-format": {
      const f = o.format;
      if (f !== null && f !== "sse" && f !== "ndjson") return sendJson(res, 400, { message: 'body must be {"format": "sse" | "ndjson" | null}' });
      emu.setStreamFormat(f ?? undefined);
      return sendJson(res, 200, { ok: true, format: f });
    }
    case "POST /_emulator/reset":
      emu.reset();
      return sendJson(res, 200, { ok: true });
    case "GET /_emulator/health":
      return sendJson(res, 200, { ok: true, url: emu.url, requests: emu.requests.length, openConnections: emu.openConnections() });
    default:
      return sendJson(res, 404, { message: "unknown emulator control endpoint" });
  }
}
