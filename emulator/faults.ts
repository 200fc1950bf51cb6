/** Injected faults: rules (method, path or regex, how many times) and what each fault does. */
import { E401, E402, E404, E429, E499 } from "./cohere-errors.js";

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
   * the request-id headers. With `cut`, a stream is cut right after the first half.
   */
  | { kind: "echo-auth"; splitAt?: number; cut?: boolean };

export interface FaultRule {
  method?: string;
  path?: string | RegExp;
  /** default 1; Infinity allowed */
  times?: number;
  fault: Fault;
}

export const DEFAULT_STATUS_MESSAGES: Record<number, string> = {
  400: "invalid request: emulated fault",
  401: E401.invalidKey,
  402: E402,
  403: "forbidden",
  404: E404.page,
  408: "request timeout",
  422: "unprocessable entity",
  429: E429,
  498: "invalid token",
  499: E499,
  500: "internal server error",
  501: "not implemented",
  502: "bad gateway",
  503: "service unavailable",
  504: "gateway timeout",
};

export function checkFault(rule: FaultRule): void {
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

/** A rule from the control API's JSON (path "re:<regex>" for a RegExp; times null = Infinity). */
export function faultFromJson(input: unknown): FaultRule {
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

interface ActiveFault {
  rule: FaultRule;
  remaining: number;
}

/** The active rules; the first that matches a request fires and counts down. */
export class FaultList {
  private active: ActiveFault[] = [];

  add(rule: FaultRule): void {
    checkFault(rule);
    this.active.push({ rule, remaining: rule.times ?? 1 });
  }

  clear(): void {
    this.active = [];
  }

  get size(): number {
    return this.active.length;
  }

  take(method: string, path: string, template?: string): Fault | undefined {
    for (const a of this.active) {
      const r = a.rule;
      if (r.method && r.method.toUpperCase() !== method) continue;
      if (r.path !== undefined) {
        if (r.path instanceof RegExp) {
          r.path.lastIndex = 0;
          if (!r.path.test(path)) continue;
        } else if (r.path !== path && r.path !== template) continue;
      }
      a.remaining -= 1;
      if (a.remaining <= 0) this.active = this.active.filter((x) => x !== a);
      return r.fault;
    }
    return undefined;
  }

  toJson() {
    return this.active.map((a) => {
      const p = a.rule.path;
      return {
        method: a.rule.method,
        path: p instanceof RegExp ? `re:${p.source}` : p,
        times: a.rule.times ?? 1,
        remaining: a.remaining === Infinity ? null : a.remaining,
        fault: a.rule.fault,
      };
    });
  }
}
