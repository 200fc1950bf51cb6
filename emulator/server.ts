/**
 * Cohere API emulator: a real HTTP server (node:http) that speaks Cohere's wire format for all
 * 41 operations, validates what it receives, records every request, and can inject faults.
 *
 *   const emu = await startEmulator();          // http://127.0.0.1:<free port>
 *   emu.addFault({ path: "/v2/chat", fault: { kind: "status", status: 429, retryAfter: "1" } });
 *   ...
 *   await emu.stop();
 *
 * Like Cohere, every answer carries an `x-debug-trace-id` header (Cohere's request trace id; the
 * spec declares no request-id header), and error bodies are `{message, id}` with that id where
 * the spec's error schema has an `id` (not on batches or fine-tuning, whose errors are {message}).
 * Routes live in routes/, stream writing in wire.ts, faults in faults.ts, the control API (a
 * separate process can steer the emulator under /_emulator/) in control.ts.
 */
import { createHash, randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { handleControl, type Controllable } from "./control.js";
import { DEFAULT_STATUS_MESSAGES, FaultList, type Fault, type FaultRule } from "./faults.js";
import { isJsonType, JSON_TYPE, matchRoute, parseQuery, readBody, sendJson, sleep, validateRequest } from "./http.js";
import { ApiError, type Ctx, type Reply } from "./routes/index.js";
import { EmulatorState } from "./state.js";
import { writeStream, type StreamSplit } from "./wire.js";
import { echoInto, echoIntoStream, textPath } from "./echo.js";

export type { Fault, FaultRule } from "./faults.js";
export type { StreamSplit } from "./wire.js";

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

export interface RecordedRequest {
  id: number;
  method: string;
  /** no query string */
  path: string;
  query: Record<string, string | string[]>;
  /** lower-cased names */
  headers: Record<string, string>;
  /** parsed JSON */
  body?: unknown;
  multipart?: {
    fields: Record<string, string>;
    files: Record<string, { filename?: string; contentType?: string; size: number; text: string }>;
  };
  rawBody: string;
  valid: boolean;
  validationError?: string;
  /** client closed the socket before the response finished */
  aborted?: boolean;
  /** the x-debug-trace-id the answer carried */
  traceId?: string;
}

interface AbortWaiter {
  pred: (r: RecordedRequest) => boolean;
  resolve: (r: RecordedRequest) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Batches and fine-tuning declare error bodies without an `id` (BatchError, Error). */
const errorBodyHasId = (path: string) => !/^\/v2\/batches(\/|$)|^\/v1\/finetuning\//.test(path);

export class CohereEmulator implements Controllable {
  readonly requests: RecordedRequest[] = [];
  /** e.g. http://127.0.0.1:41234 (no trailing slash), set after start */
  url = "";

  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly inflight = new Set<AbortController>();
  private readonly faults = new FaultList();
  private waiters: AbortWaiter[] = [];
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
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(new Error("emulator stopped"));
    }
    this.waiters = [];
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
    this.requests.length = 0;
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
    const already = this.requests.find((r) => r.aborted && pred(r));
    if (already) return Promise.resolve(already);
    return new Promise<RecordedRequest>((resolve, reject) => {
      const waiter: AbortWaiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== waiter);
          reject(new Error(`no aborted request seen within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** number of currently open client sockets */
  openConnections(): number {
    return this.sockets.size;
  }

  // -------------------------------------------------------------------------------------------

  private markAborted(rec: RecordedRequest): void {
    rec.aborted = true;
    const hit = this.waiters.filter((w) => w.pred(rec));
    if (!hit.length) return;
    this.waiters = this.waiters.filter((w) => !hit.includes(w));
    for (const w of hit) {
      clearTimeout(w.timer);
      w.resolve(rec);
    }
  }

  private traceId(seq: number): string {
    return createHash("sha256").update(`${this.traceSalt}:${seq}`).digest("hex").slice(0, 32);
  }

  /** Cohere's error answer: `{message}`, plus the trace id as `id` where the spec's schema has one. */
  private sendError(res: ServerResponse, rec: RecordedRequest, status: number, message: string, headers: Record<string, string> = {}): void {
    const body: Record<string, string> = { message };
    if (errorBodyHasId(rec.path)) body.id = rec.traceId!;
    sendJson(res, status, body, { "x-debug-trace-id": rec.traceId!, ...headers });
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

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    const id = this.nextId++;
    const rec: RecordedRequest = {
      id,
      method,
      path: url.pathname,
      query: parseQuery(url.searchParams),
      headers,
      rawBody: raw.toString("utf8"),
      valid: true,
      traceId: this.traceId(id),
    };
    this.requests.push(rec);
    const max = this.opts.maxRecordedRequests ?? 10_000;
    if (this.requests.length > max) this.requests.splice(0, this.requests.length - max);

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
      if (!res.writableFinished && !selfDestroyed && !this.stopping) this.markAborted(rec);
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
    if (match.kind === "not-found") failure = { status: 404, message: "not found" };
    else if (match.kind === "method") failure = { status: 405, message: "method not allowed", headers: { allow: match.allow.join(", ") } };
    if (!failure) {
      const authProblem = this.checkAuth(headers.authorization);
      if (authProblem) failure = { status: 401, message: authProblem };
    }
    if (!failure && route) {
      const problem = validateRequest(route, ctx, rec, raw, contentType);
      if (problem) failure = { status: 400, message: `invalid request: ${problem}` };
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
    } else if (fault?.kind === "status") {
      const extra: Record<string, string> = { ...fault.headers };
      if (fault.retryAfter !== undefined) extra["retry-after"] = fault.retryAfter;
      return this.sendError(res, rec, fault.status, fault.message ?? DEFAULT_STATUS_MESSAGES[fault.status] ?? `emulated ${fault.status} error`, extra);
    } else if (fault?.kind === "json" && !failure) {
      return sendJson(res, fault.status ?? 200, fault.body, { "x-debug-trace-id": rec.traceId!, ...fault.headers });
    } else if (fault?.kind === "not-json") {
      const html =
        fault.body ?? "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>upstream connect error</p></body></html>";
      res.writeHead(200, { "content-type": JSON_TYPE, "content-length": String(Buffer.byteLength(html)) });
      res.end(html);
      return;
    } else if (fault?.kind === "reset" || (fault?.kind === "cut-stream" && !(failure === undefined && route?.streams?.(ctx)))) {
      return this.sendPartialThenReset(res, destroy);
    }

    if (failure) return this.sendError(res, rec, failure.status, failure.message, failure.headers);

    let reply: Reply;
    try {
      reply = route!.handle(ctx);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (err.status === 400) {
        rec.valid = false;
        rec.validationError = err.message;
      }
      return this.sendError(res, rec, err.status, err.message);
    }

    const out: Record<string, string> = { "x-debug-trace-id": rec.traceId!, ...reply.headers };
    if (route!.deprecation) out["x-api-warning"] = route!.deprecation;
    // echo-auth: a hostile proxy echoes the Authorization header into the answer and its ids
    const echo = fault?.kind === "echo-auth" ? (headers.authorization ?? "") : undefined;
    if (echo !== undefined) Object.assign(out, { "x-request-id": echo, "x-debug-trace-id": echo });
    switch (reply.kind) {
      case "json":
        return sendJson(res, reply.status, echo !== undefined ? echoInto(reply.body, echo) : reply.body, out);
      case "empty":
        res.writeHead(reply.status, { "content-length": "0", ...out });
        res.end();
        return;
      case "stream": {
        const events = fault?.kind === "echo-auth" ? echoIntoStream(reply.events, echo!, fault.splitAt) : reply.events;
        // echo-auth with cut: cut right after the piece holding the echo's first half
        const echoCut = fault?.kind === "echo-auth" && fault.cut ? events.findIndex((ev) => textPath(ev.data)) + 2 : undefined;
        return writeStream(res, {
          format: reply.format,
          events,
          headers: out,
          signal: ac.signal,
          delayMs: this.streamChunkDelayMs,
          cutAfter: fault?.kind === "cut-stream" ? fault.afterEvents : echoCut || undefined,
          split: this.streamSplit,
          destroy,
        });
      }
    }
  }

  private checkAuth(authorization: string | undefined): string | undefined {
    const value = (authorization ?? "").trim();
    if (!value) return "no api key supplied";
    const m = /^bearer\s+(.*)$/i.exec(value);
    const token = m ? m[1]!.trim() : "";
    if (!m) return "invalid api token";
    if (!token) return "no api key supplied";
    if (this.opts.apiKey !== undefined && token !== this.opts.apiKey) return "invalid api token";
    return undefined;
  }

  private sendPartialThenReset(res: ServerResponse, destroy: () => void): void {
    if (res.destroyed) return;
    res.writeHead(200, { "content-type": JSON_TYPE, "content-length": "4096" });
    res.write('{"id":"emulated-connection-reset","text":"this response is cut', () => destroy());
  }
}

export async function startEmulator(opts?: EmulatorOptions): Promise<CohereEmulator> {
  const emu = new CohereEmulator(opts);
  await emu.start();
  return emu;
}
