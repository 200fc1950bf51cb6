/**
 * Cohere API emulator: a real HTTP server (node:http) that speaks Cohere's wire format for all
 * 42 operations (the spec's 41 and parse), validates what it receives, records every request, and can inject faults.
 *
 *   const emu = await startEmulator();          // http://127.0.0.1:<free port>
 *   emu.addFault({ path: "/v2/chat", fault: { kind: "status", status: 429, retryAfter: "1" } });
 *   ...
 *   await emu.stop();
 *
 * Like Cohere, every answer carries an `x-debug-trace-id` header (Cohere's request trace id; the
 * spec declares no request-id header), and error bodies are `{message, id}` with that id where
 * the spec's error schema has an `id` (not on batches or fine-tuning, whose errors are {message}).
 * Routes live in routes/, stream writing in wire.ts, faults in faults.ts, what is recorded of
 * each request in requests.ts, how answers are written in respond.ts, the control API (a
 * separate process can steer the emulator under /_emulator/) in control.ts.
 */
import { createHash, randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { handleControl, type Controllable } from "./control.js";
import { FaultList, type FaultRule } from "./faults.js";
import { isJsonType, matchRoute, readBody, sendJson, sleep, validateRequest } from "./http.js";
import { ApiError, type Ctx, type Reply } from "./routes/index.js";
import { E404 } from "./cohere-errors.js";
import { EmulatorState } from "./state.js";
import type { StreamSplit } from "./wire.js";
import { recordOf, RequestLog, type RecordedRequest } from "./requests.js";
import { answerFault, apiKeyProblem, sendError, sendReply } from "./respond.js";

export type { Fault, FaultRule } from "./faults.js";
export type { StreamSplit } from "./wire.js";
export type { RecordedRequest } from "./requests.js";

export interface EmulatorOptions {
  host?: string;
  port?: number;
  latencyMs?: number;
  apiKey?: string;
  streamChunkDelayMs?: number;
  /** Deliver streamed answers in arbitrary chunks (inside UTF-8 characters, between \r and \n). */
  streamSplit?: StreamSplit;
  /** Force the format of v1 streams (chat, generate); default: what the request asks for. */
  streamFormat?: "sse" | "ndjson";
  /** Oldest recorded requests are dropped beyond this many (default 10000) so long benchmarks do not grow without bound. */
  maxRecordedRequests?: number;
}

export class CohereEmulator implements Controllable {
  private readonly log: RequestLog;
  /** e.g. http://127.0.0.1:41234 (no trailing slash), set after start */
  url = "";

  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly inflight = new Set<AbortController>();
  private readonly faults = new FaultList();
  private state = new EmulatorState();
  private latencyMs: number;
  private streamChunkDelayMs: number;
  private streamSplit: StreamSplit | undefined;
  private streamFormat: "sse" | "ndjson" | undefined;
  private nextId = 1;
  private stopping = false;
  private readonly traceSalt = randomBytes(8).toString("hex");

  constructor(private readonly opts: EmulatorOptions = {}) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.streamChunkDelayMs = opts.streamChunkDelayMs ?? 0;
    this.streamSplit = opts.streamSplit;
    this.streamFormat = opts.streamFormat;
    this.log = new RequestLog(opts.maxRecordedRequests ?? 10_000);
  }

  /** Every request received (the oldest dropped beyond maxRecordedRequests), in order. */
  get requests(): RecordedRequest[] {
    return this.log.requests;
  }

  async start(): Promise<string> {
    if (this.server) return this.url;
    this.stopping = false;
    const server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) sendJson(res, 500, { message: `internal emulator error: ${(err as Error)?.message ?? String(err)}` });
        else if (!res.destroyed) res.destroy();
      });
    });
    server.on("connection", (socket: Socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    server.keepAliveTimeout = 5_000;
    this.server = server;
    const host = this.opts.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const addr = server.address() as AddressInfo;
    const shownHost = addr.family === "IPv6" || addr.address.includes(":") ? `[${addr.address}]` : addr.address;
    this.url = `http://${shownHost}:${addr.port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.stopping = true;
    this.server = undefined;
    for (const ac of this.inflight) ac.abort();
    this.inflight.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
    this.log.rejectWaiters();
  }

  addFault(rule: FaultRule): void {
    this.faults.add(rule);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  faultsJson(): unknown[] {
    return this.faults.toJson();
  }

  /** Clears recorded requests, faults and stored state; latency and stream settings go back to the start options. */
  reset(): void {
    this.log.clear();
    this.faults.clear();
    this.state = new EmulatorState();
    this.nextId = 1;
    this.latencyMs = this.opts.latencyMs ?? 0;
    this.streamChunkDelayMs = this.opts.streamChunkDelayMs ?? 0;
    this.streamSplit = this.opts.streamSplit;
    this.streamFormat = this.opts.streamFormat;
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** Delay between streamed events (SSE / NDJSON). */
  setStreamChunkDelay(ms: number): void {
    this.streamChunkDelayMs = Math.max(0, ms);
  }

  /** Deliver streams in arbitrary chunks (undefined: one write per event). */
  setStreamSplit(split: StreamSplit | undefined): void {
    this.streamSplit = split;
  }

  /** Force v1 streams (chat, generate) to SSE or NDJSON whatever the request asks (undefined: as asked). */
  setStreamFormat(format: "sse" | "ndjson" | undefined): void {
    this.streamFormat = format;
  }

  /** resolves when a request matching the predicate has been aborted by the client (socket closed before end) */
  waitForAbort(pred: (r: RecordedRequest) => boolean = () => true, timeoutMs = 5_000): Promise<RecordedRequest> {
    return this.log.waitForAbort(pred, timeoutMs);
  }

  /** number of currently open client sockets */
  openConnections(): number {
    return this.sockets.size;
  }

  // -------------------------------------------------------------------------------------------

  private traceId(seq: number): string {
    return createHash("sha256").update(`${this.traceSalt}:${seq}`).digest("hex").slice(0, 32);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    if (url.pathname === "/_emulator" || url.pathname.startsWith("/_emulator/")) return handleControl(this, req, res, url, method);

    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (err) {
      if ((err as { tooLarge?: boolean }).tooLarge) sendJson(res, 413, { message: "invalid request: request body too large" }, { connection: "close" });
      return;
    }

    const id = this.nextId++;
    const rec = recordOf(req, method, url, raw, id, this.traceId(id));
    const headers = rec.headers;
    this.log.add(rec);

    // Abort detection and cancellation of our own timers for this request.
    const ac = new AbortController();
    this.inflight.add(ac);
    let selfDestroyed = false;
    const destroy = () => {
      selfDestroyed = true;
      req.socket.destroy();
    };
    res.on("close", () => {
      this.inflight.delete(ac);
      ac.abort();
      if (!res.writableFinished && !selfDestroyed && !this.stopping) this.log.markAborted(rec);
    });

    const contentType = headers["content-type"];
    if (raw.length && isJsonType(contentType)) {
      try {
        rec.body = JSON.parse(rec.rawBody);
      } catch {
        /* reported by validation below */
      }
    }

    const match = matchRoute(method, url.pathname);
    const route = match.kind === "ok" ? match.route : undefined;
    const ctx: Ctx = {
      seq: rec.id,
      method,
      path: url.pathname,
      params: match.kind === "ok" ? match.params : {},
      query: rec.query,
      headers,
      body: rec.body,
      state: this.state,
      streamFormat: this.streamFormat,
    };

    // Decide the answer: route, then auth, then the request contract.
    let failure: { status: number; message: string; headers?: Record<string, string> } | undefined;
    if (match.kind === "not-found") failure = { status: 404, message: E404.page };
    else if (match.kind === "method") failure = { status: 405, message: "method not allowed", headers: { allow: match.allow.join(", ") } };
    if (!failure) {
      const authProblem = apiKeyProblem(headers.authorization, this.opts.apiKey);
      if (authProblem) failure = { status: 401, message: authProblem };
    }
    if (!failure && route) {
      const problem = validateRequest(route, ctx, rec, raw, contentType);
      if (problem) failure = { status: 400, message: problem };
    }
    if (failure) {
      rec.valid = false;
      rec.validationError = failure.message;
    }

    const fault = this.faults.take(method, url.pathname, route?.path);

    await sleep(this.latencyMs, ac.signal);
    if (ac.signal.aborted) return;

    if (fault?.kind === "delay") {
      await sleep(fault.ms, ac.signal);
      if (ac.signal.aborted) return;
    }
    if (answerFault(res, rec, fault, failure !== undefined, () => !!route?.streams?.(ctx), destroy)) return;

    if (failure) return sendError(res, rec, failure.status, failure.message, failure.headers);

    let reply: Reply;
    try {
      reply = route!.handle(ctx);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 400) {
        rec.valid = false;
        rec.validationError = err.message;
      }
      return sendError(res, rec, err.status, err.message);
    }

    return sendReply(res, rec, route!, reply, fault, { signal: ac.signal, delayMs: this.streamChunkDelayMs, split: this.streamSplit, destroy });
  }
}

export async function startEmulator(opts?: EmulatorOptions): Promise<CohereEmulator> {
  const emu = new CohereEmulator(opts);
  await emu.start();
  return emu;
}
