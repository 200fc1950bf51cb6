/**
 * Cohere API emulator: a real HTTP server (node:http) that speaks Cohere's wire format for all
 * 41 operations, validates what it receives, records every request, and can inject faults.
 *
 *   const emu = await startEmulator();          // http://127.0.0.1:<free port>
 *   emu.addFault({ path: "/v2/chat", fault: { kind: "status", status: 429, retryAfter: "1" } });
 *   emu.addFault({ path: /./, times: Infinity, fault: { kind: "echo-auth" } });   // a hostile proxy
 *   ...
 *   await emu.stop();
 *
 * A separate process can steer a running emulator through the control API under /_emulator/
 * (see handleControl below); control requests need no auth and are not recorded.
 */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ApiError, EmulatorState, ROUTES, type Ctx, type FormSpec, type Reply, type Route, type StreamEvent } from "./handlers.js";
import type { QuerySpec } from "./schemas.js";
import { multipartBoundary, parseMultipart, type ParsedMultipart } from "./util.js";
import { validate } from "./validate.js";

export interface EmulatorOptions {
  host?: string;
  port?: number;
  latencyMs?: number;
  apiKey?: string;
  streamChunkDelayMs?: number;
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
}

export type Fault =
  | { kind: "status"; status: number; message?: string; retryAfter?: string; headers?: Record<string, string> }
  | { kind: "reset" }
  /** A 200 whose body is not JSON (an HTML error page unless `body` is given). */
  | { kind: "not-json"; body?: string }
  | { kind: "cut-stream"; afterEvents: number }
  | { kind: "delay"; ms: number }
  /** This exact answer instead of the route's (after auth; the request is still validated and recorded). */
  | { kind: "json"; status?: number; body: unknown; headers?: Record<string, string> }
  /**
   * A hostile proxy that echoes the request's Authorization header: the route's normal answer
   * with the header value appended to every string of a JSON body (except ids, statuses and
   * other enum-like fields, so the answer still works), split across two consecutive text
   * pieces of a stream (`splitAt` characters in the first; default half), and sent back as
   * the x-request-id header. With `cut`, a stream is cut right after the first half.
   */
  | { kind: "echo-auth"; splitAt?: number; cut?: boolean };

export interface FaultRule {
  method?: string;
  path?: string | RegExp;
  /** default 1; Infinity allowed */
  times?: number;
  fault: Fault;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const JSON_TYPE = "application/json";

const DEFAULT_STATUS_MESSAGES: Record<number, string> = {
  400: "invalid request: emulated fault",
  401: "invalid api token",
  402: "Please add or update your payment method to continue using the API.",
  403: "forbidden",
  404: "not found",
  408: "request timeout",
  422: "unprocessable entity",
  429: "You are past the per minute request limit, please wait and try again later.",
  498: "invalid token",
  499: "request cancelled",
  500: "internal server error",
  501: "not implemented",
  502: "bad gateway",
  503: "service unavailable",
  504: "gateway timeout",
};

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
}

interface ActiveFault {
  rule: FaultRule;
  remaining: number;
}

interface AbortWaiter {
  pred: (r: RecordedRequest) => boolean;
  resolve: (r: RecordedRequest) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const pattern = route.path
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (m) {
        names.push(m[1]!);
        return "([^/]+)";
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return { route, regex: new RegExp(`^${pattern}$`), names };
}

const COMPILED: readonly CompiledRoute[] = ROUTES.map(compile);

type Match = { kind: "ok"; route: Route; params: Record<string, string> } | { kind: "not-found" } | { kind: "method"; allow: string[] };

function matchRoute(method: string, path: string): Match {
  const allow: string[] = [];
  for (const c of COMPILED) {
    const m = c.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    let ok = true;
    c.names.forEach((name, i) => {
      let v: string;
      try {
        v = decodeURIComponent(m[i + 1]!);
      } catch {
        ok = false;
        return;
      }
      const pat = c.route.paramPatterns?.[name];
      if (pat && !pat.test(v)) ok = false;
      params[name] = v;
    });
    if (!ok) continue;
    if (c.route.method === method) return { kind: "ok", route: c.route, params };
    allow.push(c.route.method);
  }
  return allow.length ? { kind: "method", allow: [...new Set(allow)] } : { kind: "not-found" };
}

function parseQuery(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of search) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

function validateQuery(spec: QuerySpec | undefined, query: Record<string, string | string[]>): string | undefined {
  for (const name of Object.keys(query)) {
    if (!spec || !Object.hasOwn(spec, name)) return `unknown query parameter ${name}`;
  }
  for (const [name, q] of Object.entries(spec ?? {})) {
    const v = query[name];
    if (v === undefined || v === "") {
      if (q.required) return `query parameter ${name} is required`;
      if (v === undefined) continue;
    }
    const values = Array.isArray(v) ? v : [v];
    if (q.type !== "string[]" && values.length > 1) return `query parameter ${name} must not be repeated`;
    for (const s of values) {
      switch (q.type) {
        case "string":
          if (q.enum && !q.enum.includes(s))
            return `query parameter ${name} must be one of ${q.enum.map((e) => JSON.stringify(e)).join(", ")} (got ${JSON.stringify(s)})`;
          if (q.dateTime && Number.isNaN(Date.parse(s))) return `query parameter ${name} must be an RFC 3339 date-time (got ${JSON.stringify(s)})`;
          break;
        case "boolean":
          if (s !== "true" && s !== "false") return `query parameter ${name} must be true or false (got ${JSON.stringify(s)})`;
          break;
        case "integer":
        case "number": {
          const n = Number(s);
          if (s.trim() === "" || !Number.isFinite(n)) return `query parameter ${name} must be a number (got ${JSON.stringify(s)})`;
          if (q.type === "integer" && !Number.isInteger(n)) return `query parameter ${name} must be an integer (got ${JSON.stringify(s)})`;
          if (q.minimum !== undefined && n < q.minimum) return `query parameter ${name} must be >= ${q.minimum} (got ${s})`;
          if (q.maximum !== undefined && n > q.maximum) return `query parameter ${name} must be <= ${q.maximum} (got ${s})`;
          break;
        }
        case "string[]":
          break;
      }
    }
  }
  return undefined;
}

function validateForm(form: FormSpec, mp: ParsedMultipart): string | undefined {
  for (const part of mp.order) {
    if (part.file && !form.files[part.name]) {
      return form.fields[part.name] ? `form field ${part.name} must be a plain field, not a file` : `unknown form field ${part.name}`;
    }
    if (!part.file && !form.fields[part.name]) {
      return form.files[part.name] ? `form field ${part.name} must be a file part (with a filename)` : `unknown form field ${part.name}`;
    }
  }
  for (const [name, f] of Object.entries(form.files)) if (f.required && !mp.files[name]) return `file ${name} is required`;
  for (const [name, f] of Object.entries(form.fields)) {
    const v = mp.fields[name];
    if (v === undefined || v === "") {
      if (f.required) return `form field ${name} is required`;
      continue;
    }
    if (f.type === "number" && !Number.isFinite(Number(v))) return `form field ${name} must be a number (got ${JSON.stringify(v)})`;
  }
  return undefined;
}

const isJsonType = (ct: string | undefined) => !!ct && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(ct);

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        if (!done) {
          done = true;
          reject(Object.assign(new Error("request body too large"), { tooLarge: true }));
        }
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!done) {
        done = true;
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", (e) => {
      if (!done) {
        done = true;
        reject(e);
      }
    });
    req.on("close", () => {
      if (!done) {
        done = true;
        reject(new Error("client closed the connection while sending the body"));
      }
    });
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Keys whose values stay as they are under echo-auth: ids, statuses and enum-like fields the client switches on. */
const ECHO_KEEP = /^(?:id|.*_id|status|type|role|finish_reason|event_type|object|is_finished|embedding_types|input_type|response_type|dataset_type|state|name_type|format|content_type)$/;

/** A copy of `value` with `echo` appended to every string except those under ECHO_KEEP keys. */
export function echoInto(value: unknown, echo: string, key = ""): unknown {
  if (typeof value === "string") return ECHO_KEEP.test(key) ? value : `${value} ${echo}`;
  if (Array.isArray(value)) return value.map((v) => echoInto(v, echo, key));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, echoInto(v, echo, k)]));
  }
  return value;
}

/**
 * The first event carrying text is followed by two copies of itself whose texts are the echo's
 * two halves (so the echo is split across two pieces); every other event gets it whole.
 */
function echoIntoStream(events: StreamEvent[], echo: string, splitAt = Math.floor(echo.length / 2)): StreamEvent[] {
  const cut = Math.min(splitAt, echo.length);
  const out: StreamEvent[] = [];
  let split = false;
  for (const ev of events) {
    const path = textPath(ev.data);
    if (path && !split) {
      split = true;
      const withText = (text: string): StreamEvent => {
        const data = structuredClone(ev.data) as Record<string, unknown>;
        let node = data;
        for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
        node[path[path.length - 1]!] = text;
        return { name: ev.name, data };
      };
      out.push(ev, withText(` ${echo.slice(0, cut)}`), withText(`${echo.slice(cut)} `));
      continue;
    }
    out.push({ name: ev.name, data: echoInto(ev.data, echo) });
  }
  return out;
}

/** Where an event's streamed text is: v2 delta.message.content.text, v1/generate `text`. */
function textPath(data: unknown): string[] | undefined {
  const d = data as { type?: unknown; event_type?: unknown; delta?: { message?: { content?: { text?: unknown } } }; text?: unknown };
  if (d?.type === "content-delta" && typeof d.delta?.message?.content?.text === "string") return ["delta", "message", "content", "text"];
  if (d?.event_type === "text-generation" && typeof d.text === "string") return ["text"];
  return undefined;
}

function faultFromJson(input: unknown): FaultRule {
  if (!input || typeof input !== "object") throw new Error("fault rule must be a JSON object");
  const o = input as Record<string, unknown>;
  const fault = o.fault as Record<string, unknown> | undefined;
  if (!fault || typeof fault !== "object") throw new Error("fault rule needs a `fault` object");
  const rule: FaultRule = { fault: fault as unknown as Fault };
  if (o.method !== undefined) {
    if (typeof o.method !== "string") throw new Error("method must be a string");
    rule.method = o.method;
  }
  if (o.path !== undefined) {
    if (typeof o.path !== "string") throw new Error("path must be a string (prefix it with re: for a regex)");
    rule.path = o.path.startsWith("re:") ? new RegExp(o.path.slice(3)) : o.path;
  }
  if (o.times === null || o.times === "Infinity" || o.times === "infinity") rule.times = Infinity;
  else if (o.times !== undefined) rule.times = o.times as number;
  return rule;
}

function checkFault(rule: FaultRule): void {
  const f = rule.fault as Fault | undefined;
  const times = rule.times ?? 1;
  if (!(times === Infinity || (Number.isInteger(times) && times > 0))) throw new Error("times must be a positive integer or Infinity");
  switch (f?.kind) {
    case "status":
      if (!Number.isInteger(f.status) || f.status < 100 || f.status > 599) throw new Error("status fault needs an HTTP status 100..599");
      return;
    case "reset":
      return;
    case "not-json":
      if (f.body !== undefined && typeof f.body !== "string") throw new Error("not-json fault: body must be a string");
      return;
    case "json":
      if (f.status !== undefined && (!Number.isInteger(f.status) || f.status < 100 || f.status > 599)) throw new Error("json fault: status must be 100..599");
      return;
    case "echo-auth":
      if (f.splitAt !== undefined && (!Number.isInteger(f.splitAt) || f.splitAt < 0)) throw new Error("echo-auth fault: splitAt must be an integer >= 0");
      return;
    case "cut-stream":
      if (!Number.isInteger(f.afterEvents) || f.afterEvents < 0) throw new Error("cut-stream fault needs afterEvents >= 0");
      return;
    case "delay":
      if (typeof f.ms !== "number" || f.ms < 0) throw new Error("delay fault needs ms >= 0");
      return;
    default:
      throw new Error("fault.kind must be one of status, reset, not-json, cut-stream, delay, json, echo-auth");
  }
}

function ruleToJson(a: ActiveFault) {
  const p = a.rule.path;
  return {
    method: a.rule.method,
    path: p instanceof RegExp ? `re:${p.source}` : p,
    times: a.rule.times ?? 1,
    remaining: a.remaining === Infinity ? null : a.remaining,
    fault: a.rule.fault,
  };
}

export class CohereEmulator {
  readonly requests: RecordedRequest[] = [];
  /** e.g. http://127.0.0.1:41234 (no trailing slash), set after start */
  url = "";

  private server?: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly inflight = new Set<AbortController>();
  private faults: ActiveFault[] = [];
  private waiters: AbortWaiter[] = [];
  private state = new EmulatorState();
  private latencyMs: number;
  private streamChunkDelayMs: number;
  private nextId = 1;
  private stopping = false;

  constructor(private readonly opts: EmulatorOptions = {}) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.streamChunkDelayMs = opts.streamChunkDelayMs ?? 0;
  }

  async start(): Promise<string> {
    if (this.server) return this.url;
    this.stopping = false;
    const server = http.createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          this.sendJson(res, 500, { message: `internal emulator error: ${(err as Error)?.message ?? String(err)}` });
        } else if (!res.destroyed) {
          res.destroy();
        }
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
    checkFault(rule);
    this.faults.push({ rule, remaining: rule.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Clears recorded requests, faults and stored state; latency and stream delay go back to the start options. */
  reset(): void {
    this.requests.length = 0;
    this.faults = [];
    this.state = new EmulatorState();
    this.nextId = 1;
    this.latencyMs = this.opts.latencyMs ?? 0;
    this.streamChunkDelayMs = this.opts.streamChunkDelayMs ?? 0;
  }

  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  /** Delay between streamed events (SSE / NDJSON). */
  setStreamChunkDelay(ms: number): void {
    this.streamChunkDelayMs = Math.max(0, ms);
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

  private takeFault(method: string, path: string, route?: Route): Fault | undefined {
    for (const a of this.faults) {
      const r = a.rule;
      if (r.method && r.method.toUpperCase() !== method) continue;
      if (r.path !== undefined) {
        if (r.path instanceof RegExp) {
          r.path.lastIndex = 0;
          if (!r.path.test(path)) continue;
        } else if (r.path !== path && r.path !== route?.path) continue;
      }
      a.remaining -= 1;
      if (a.remaining <= 0) this.faults = this.faults.filter((x) => x !== a);
      return r.fault;
    }
    return undefined;
  }

  private sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": JSON_TYPE, "content-length": String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator.invalid");
    const method = (req.method ?? "GET").toUpperCase();
    if (url.pathname === "/_emulator" || url.pathname.startsWith("/_emulator/")) return this.handleControl(req, res, url, method);

    let raw: Buffer;
    try {
      raw = await readBody(req);
    } catch (err) {
      if ((err as { tooLarge?: boolean }).tooLarge) {
        this.sendJson(res, 413, { message: "invalid request: request body too large" }, { connection: "close" });
      }
      return;
    }

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
    const rec: RecordedRequest = {
      id: this.nextId++,
      method,
      path: url.pathname,
      query: parseQuery(url.searchParams),
      headers,
      rawBody: raw.toString("utf8"),
      valid: true,
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
      const problem = this.validateRequest(route, ctx, rec, raw, contentType);
      if (problem) failure = { status: 400, message: `invalid request: ${problem}` };
    }
    if (failure) {
      rec.valid = false;
      rec.validationError = failure.message;
    }

    const fault = this.takeFault(method, url.pathname, route);

    await sleep(this.latencyMs, ac.signal);
    if (ac.signal.aborted) return;

    if (fault?.kind === "delay") {
      await sleep(fault.ms, ac.signal);
      if (ac.signal.aborted) return;
    } else if (fault?.kind === "status") {
      const extra: Record<string, string> = { ...fault.headers };
      if (fault.retryAfter !== undefined) extra["retry-after"] = fault.retryAfter;
      this.sendJson(res, fault.status, { message: fault.message ?? DEFAULT_STATUS_MESSAGES[fault.status] ?? `emulated ${fault.status} error` }, extra);
      return;
    } else if (fault?.kind === "json" && !failure) {
      this.sendJson(res, fault.status ?? 200, fault.body, fault.headers);
      return;
    } else if (fault?.kind === "not-json") {
      const html =
        fault.body ?? "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><p>upstream connect error</p></body></html>";
      res.writeHead(200, { "content-type": JSON_TYPE, "content-length": String(Buffer.byteLength(html)) });
      res.end(html);
      return;
    } else if (fault?.kind === "reset" || (fault?.kind === "cut-stream" && !(failure === undefined && route?.streams?.(ctx)))) {
      this.sendPartialThenReset(res, destroy);
      return;
    }

    if (failure) {
      this.sendJson(res, failure.status, { message: failure.message }, failure.headers);
      return;
    }

    let reply: Reply;
    try {
      reply = route!.handle(ctx);
    } catch (err) {
      if (err instanceof ApiError) {
        if (err.status === 400) {
          rec.valid = false;
          rec.validationError = err.message;
        }
        this.sendJson(res, err.status, { message: err.message });
        return;
      }
      throw err;
    }

    const cutAfter = fault?.kind === "cut-stream" ? fault.afterEvents : undefined;
    const echo = fault?.kind === "echo-auth" ? (headers.authorization ?? "") : undefined;
    const echoHeaders: Record<string, string> = echo !== undefined ? { "x-request-id": echo } : {};
    switch (reply.kind) {
      case "json":
        this.sendJson(res, reply.status, echo !== undefined ? echoInto(reply.body, echo) : reply.body, {
          "x-emulator-request-id": String(rec.id),
          ...reply.headers,
          ...echoHeaders,
        });
        return;
      case "empty":
        res.writeHead(reply.status, { "content-length": "0", "x-emulator-request-id": String(rec.id), ...echoHeaders });
        res.end();
        return;
      case "stream": {
        if (fault?.kind !== "echo-auth") {
          await this.writeStream(res, reply.format, reply.events, ac.signal, cutAfter, destroy, rec.id);
          return;
        }
        const events = echoIntoStream(reply.events, echo!, fault.splitAt);
        // cut right after the piece holding the echo's first half
        const cutAt = fault.cut ? events.findIndex((ev) => textPath(ev.data)) + 2 : undefined;
        await this.writeStream(res, reply.format, events, ac.signal, cutAt || undefined, destroy, rec.id, echoHeaders);
        return;
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

  private validateRequest(route: Route, ctx: Ctx, rec: RecordedRequest, raw: Buffer, contentType: string | undefined): string | undefined {
    const qProblem = validateQuery(route.query, ctx.query);
    if (route.body === "json") {
      if (!isJsonType(contentType)) return `content-type must be application/json (got ${contentType ?? "none"})`;
      if (!raw.length) return "request body is required";
      if (rec.body === undefined) return "request body is not valid JSON";
      if (qProblem) return qProblem;
      const problem = route.schema ? validate(route.schema, rec.body) : undefined;
      if (problem) return problem;
    } else if (route.body === "multipart") {
      const boundary = multipartBoundary(contentType);
      if (!boundary) return `content-type must be multipart/form-data with a boundary (got ${contentType ?? "none"})`;
      let mp: ParsedMultipart;
      try {
        mp = parseMultipart(raw, boundary);
      } catch (e) {
        return `malformed multipart body: ${(e as Error).message}`;
      }
      rec.multipart = {
        fields: mp.fields,
        files: Object.fromEntries(
          Object.entries(mp.files).map(([k, f]) => [k, { filename: f.filename, contentType: f.contentType, size: f.size, text: f.text }]),
        ),
      };
      ctx.multipart = mp;
      if (qProblem) return qProblem;
      const problem = route.form ? validateForm(route.form, mp) : undefined;
      if (problem) return problem;
    } else {
      const text = raw.toString("utf8").trim();
      if (text !== "" && text !== "{}") {
        const b = rec.body;
        const empty = b !== null && typeof b === "object" && !Array.isArray(b) && Object.keys(b).length === 0;
        if (!empty) return "this endpoint does not take a request body";
      }
      if (qProblem) return qProblem;
    }
    return route.check?.(ctx);
  }

  private sendPartialThenReset(res: ServerResponse, destroy: () => void): void {
    if (res.destroyed) return;
    res.writeHead(200, { "content-type": JSON_TYPE, "content-length": "4096" });
    res.write('{"id":"emulated-connection-reset","text":"this response is cut', () => destroy());
  }

  private async writeStream(
    res: ServerResponse,
    format: "sse" | "ndjson",
    events: StreamEvent[],
    signal: AbortSignal,
    cutAfter: number | undefined,
    destroy: () => void,
    id: number,
    extraHeaders: Record<string, string> = {},
  ): Promise<void> {
    res.writeHead(200, {
      "content-type": format === "sse" ? "text/event-stream" : "application/stream+json",
      "cache-control": "no-cache",
      "x-emulator-request-id": String(id),
      ...extraHeaders,
    });
    res.flushHeaders();
    let flushed: Promise<void> = Promise.resolve();
    for (let i = 0; i < events.length; i++) {
      if (signal.aborted || res.destroyed) return;
      if (cutAfter !== undefined && i >= cutAfter) {
        await flushed;
        destroy();
        return;
      }
      if (i > 0 && this.streamChunkDelayMs > 0) {
        await sleep(this.streamChunkDelayMs, signal);
        if (signal.aborted || res.destroyed) return;
      }
      const ev = events[i]!;
      const line = format === "sse" ? `event: ${ev.name}\ndata: ${JSON.stringify(ev.data)}\n\n` : `${JSON.stringify(ev.data)}\n`;
      let ok = true;
      flushed = new Promise<void>((resolve) => {
        ok = res.write(line, () => resolve());
      });
      if (!ok) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
    if (cutAfter !== undefined && cutAfter < events.length) return;
    if (!res.destroyed) res.end();
  }

  // -------------------------------------------------------------------------------------------
  // Control API (no auth, not recorded):
  //   POST   /_emulator/faults        body: FaultRule as JSON (path "re:<regex>" for a RegExp; times null = Infinity)
  //   GET    /_emulator/faults        active rules
  //   DELETE /_emulator/faults        clear rules
  //   GET    /_emulator/requests      recorded requests (JSON array)
  //   DELETE /_emulator/requests      clear recorded requests
  //   POST   /_emulator/latency       {"ms": N}
  //   POST   /_emulator/stream-delay  {"ms": N}
  //   POST   /_emulator/reset         requests, faults, state, latency
  //   GET    /_emulator/health        {"ok": true, "url": ...}

  private async handleControl(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
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
        this.sendJson(res, 400, { message: "control body must be JSON" });
        return;
      }
    }
    const key = `${method} ${url.pathname.replace(/\/+$/, "")}`;
    const msBody = (): number | undefined => {
      const ms = (body as { ms?: unknown } | undefined)?.ms;
      return typeof ms === "number" && ms >= 0 ? ms : undefined;
    };
    switch (key) {
      case "POST /_emulator/faults": {
        try {
          const rule = faultFromJson(body);
          this.addFault(rule);
        } catch (e) {
          this.sendJson(res, 400, { message: (e as Error).message });
          return;
        }
        this.sendJson(res, 200, { ok: true, faults: this.faults.length });
        return;
      }
      case "GET /_emulator/faults":
        this.sendJson(res, 200, this.faults.map(ruleToJson));
        return;
      case "DELETE /_emulator/faults":
        this.clearFaults();
        this.sendJson(res, 200, { ok: true });
        return;
      case "GET /_emulator/requests":
        this.sendJson(res, 200, this.requests);
        return;
      case "DELETE /_emulator/requests":
        this.requests.length = 0;
        this.sendJson(res, 200, { ok: true });
        return;
      case "POST /_emulator/latency": {
        const ms = msBody();
        if (ms === undefined) return this.sendJson(res, 400, { message: 'body must be {"ms": <non-negative number>}' });
        this.setLatency(ms);
        this.sendJson(res, 200, { ok: true, ms });
        return;
      }
      case "POST /_emulator/stream-delay": {
        const ms = msBody();
        if (ms === undefined) return this.sendJson(res, 400, { message: 'body must be {"ms": <non-negative number>}' });
        this.setStreamChunkDelay(ms);
        this.sendJson(res, 200, { ok: true, ms });
        return;
      }
      case "POST /_emulator/reset":
        this.reset();
        this.sendJson(res, 200, { ok: true });
        return;
      case "GET /_emulator/health":
        this.sendJson(res, 200, { ok: true, url: this.url, requests: this.requests.length, openConnections: this.openConnections() });
        return;
      default:
        this.sendJson(res, 404, { message: "unknown emulator control endpoint" });
    }
  }
}

export async function startEmulator(opts?: EmulatorOptions): Promise<CohereEmulator> {
  const emu = new CohereEmulator(opts);
  await emu.start();
  return emu;
}
