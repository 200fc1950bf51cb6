/** Request plumbing for the emulator: route matching, body reading, query and form checks. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ROUTES, type Ctx, type FormSpec, type Route } from "./routes/index.js";
import type { QuerySpec } from "./schemas.js";
import type { RecordedRequest } from "./requests.js";
import { multipartBoundary, parseMultipart, type ParsedMultipart } from "./util.js";
import { validate } from "./validate.js";
import { ApiError } from "./routes/types.js";
import { E400, worded } from "./cohere-errors.js";

const MAX_BODY_BYTES = 64 * 1024 * 1024;
export const JSON_TYPE = "application/json";

interface CompiledRoute {
  route: Route;
  regex: RegExp;
  names: string[];
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

export type Match = { kind: "ok"; route: Route; params: Record<string, string> } | { kind: "not-found" } | { kind: "method"; allow: string[] };

export function matchRoute(method: string, path: string): Match {
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

export function parseQuery(search: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of search) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return out;
}

export function validateQuery(spec: QuerySpec | undefined, query: Record<string, string | string[]>): string | undefined {
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

export function validateForm(form: FormSpec, mp: ParsedMultipart): string | undefined {
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

export const isJsonType = (ct: string | undefined) => !!ct && /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(ct);

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (err) reject(err);
      else resolve(Buffer.concat(chunks));
    };
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) return finish(Object.assign(new Error("request body too large"), { tooLarge: true }));
      chunks.push(c);
    });
    req.on("end", () => finish());
    req.on("error", (e) => finish(e));
    req.on("close", () => finish(new Error("client closed the connection while sending the body")));
  });
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": JSON_TYPE, "content-length": String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/**
 * The request contract of a route (content type, body, query, form, extra checks): the first
 * problem as the complete message Cohere sends (see cohere-errors.ts), or undefined.
 */
export function validateRequest(route: Route, ctx: Ctx, rec: Pick<RecordedRequest, "body" | "multipart">, raw: Buffer, contentType: string | undefined): string | undefined {
  const problem = firstProblem(route, ctx, rec, raw, contentType);
  if (problem === undefined) return undefined;
  return typeof problem === "string" ? `invalid request: ${problem}` : problem.worded;
}

/** A problem in our words (prefixed with `invalid request: `), or one worded as Cohere words it. */
type Problem = string | { worded: string };

function firstProblem(route: Route, ctx: Ctx, rec: Pick<RecordedRequest, "body" | "multipart">, raw: Buffer, contentType: string | undefined): Problem | undefined {
  const qProblem = validateQuery(route.query, ctx.query);
  if (route.body === "json") {
    if (!isJsonType(contentType)) return `content-type must be application/json (got ${contentType ?? "none"})`;
    if (!raw.length) return "request body is required";
    if (rec.body === undefined) return { worded: E400.invalidJson(jsonSyntaxError(raw)) };
    if (qProblem) return qProblem;
    const cohere = worded[route.op]?.(rec.body as Record<string, unknown>);
    if (cohere) return { worded: cohere };
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
      files: Object.fromEntries(Object.entries(mp.files).map(([k, f]) => [k, { filename: f.filename, contentType: f.contentType, size: f.size, text: f.text }])),
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
  try {
    return route.check?.(ctx);
  } catch (err) {
    // a check may answer with one of Cohere's complete messages (cohere-errors.ts)
    if (err instanceof ApiError && err.status === 400) return { worded: err.message };
    throw err;
  }
}

/** What is wrong with a body that did not parse (Cohere's page quotes its Go decoder: "invalid character … in string literal"). */
function jsonSyntaxError(raw: Buffer): string {
  try {
    JSON.parse(raw.toString("utf8"));
    return "not a JSON value";
  } catch (e) {
    return (e as Error).message.replace(/^JSON\.parse: /, "");
  }
}
