/**
 * The spec's own example requests, one list per operation: the `request` of each
 * x-fern-examples entry where the spec gives one, else the entry's cURL code sample (method,
 * URL, --data, --form), parsed here. Nothing is invented: what the test has to change to make an
 * example runnable (placeholder ids, a cURL that contradicts the spec) is listed in the test's
 * fix table with the reason.
 */
import { loadSpec, opPointer } from "./openapi.js";

type Json = Record<string, unknown>;

export interface ExampleRequest {
  operationId: string;
  method: string;
  /** the spec's path template */
  template: string;
  /** path parameter values as the example gives them */
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  /** JSON body */
  body?: unknown;
  /** multipart fields: plain value, or `@file` */
  form?: Array<{ name: string; value: string; file?: boolean }>;
  source: "request" | "curl";
  /** index of the x-fern-examples entry */
  index: number;
}

/** Splits a shell command line into words, honouring '…', "…" (with \-escapes) and '\'' joins. */
export function shellWords(cmd: string): string[] {
  const out: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (c === "\\" && cmd[i + 1] === "\n") {
      i++;
      continue;
    }
    if (/\s/.test(c)) {
      if (inWord) out.push(cur);
      cur = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      cur += cmd.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      i++;
      for (; i < cmd.length && cmd[i] !== '"'; i++) {
        if (cmd[i] === "\\" && /["\\$`\n]/.test(cmd[i + 1] ?? "")) i++;
        cur += cmd[i];
      }
    } else if (c === "\\") {
      cur += cmd[++i] ?? "";
    } else cur += c;
  }
  if (inWord) out.push(cur);
  return out;
}

/** JSON as cURL samples write it (a trailing comma now and then). */
function lenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return JSON.parse(text.replace(/,(\s*[}\]])/g, "$1"));
  }
}

function templateRegex(template: string): { re: RegExp; names: string[] } {
  const names: string[] = [];
  const re = template
    .split(/(\{[^}]+\})/)
    .map((part) => {
      const m = /^\{([^}]+)\}$/.exec(part);
      if (m) {
        names.push(m[1]!);
        return "([^/]+?)";
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("");
  return { re: new RegExp(`^${re}$`), names };
}

export function parseCurl(code: string): {
  method: string;
  path: string;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body?: unknown;
  form?: ExampleRequest["form"];
} {
  const words = shellWords(code);
  let method = "GET";
  let url = "";
  const headers: Record<string, string> = {};
  let body: unknown;
  const form: NonNullable<ExampleRequest["form"]> = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = () => words[++i] ?? "";
    if (w === "--request" || w === "-X") method = next().toUpperCase();
    else if (w === "--url") url = next();
    else if (w === "--header" || w === "-H") {
      const h = next();
      const c = h.indexOf(":");
      headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
    } else if (w === "--data" || w === "-d" || w === "--data-raw") body = lenientJson(next());
    else if (w === "--form" || w === "-F") {
      const f = next();
      const eq = f.indexOf("=");
      const value = f.slice(eq + 1);
      form.push(value.startsWith("@") ? { name: f.slice(0, eq), value: value.slice(1), file: true } : { name: f.slice(0, eq), value });
    } else if (/^https?:\/\//.test(w) && !url) url = w;
  }
  const u = new URL(url);
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of u.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { method, path: decodeURIComponent(u.pathname), query, headers, body, form: form.length ? form : undefined };
}

interface OperationRecord {
  method: string;
  path: string;
  operationId: string;
}

/** Every example request of one operation. Throws when a cURL sample does not fit the template. */
export function examplesOf(op: OperationRecord): ExampleRequest[] {
  const spec = loadSpec();
  const node = spec.at(opPointer(op.method, op.path)) as Json;
  const entries = (node["x-fern-examples"] as Json[] | undefined) ?? [];
  const out: ExampleRequest[] = [];
  entries.forEach((e, index) => {
    const base = { operationId: op.operationId, method: op.method, template: op.path, index };
    if (e.request !== undefined || e["path-parameters"] !== undefined || e["query-parameters"] !== undefined) {
      out.push({
        ...base,
        params: (e["path-parameters"] as Record<string, string>) ?? {},
        query: (e["query-parameters"] as Record<string, string>) ?? {},
        headers: (e.headers as Record<string, string>) ?? {},
        body: e.request,
        source: "request",
      });
      return;
    }
    const samples = (e["code-samples"] as Json[] | undefined) ?? [];
    const curl = samples.find((s) => (s.sdk ?? s.language) === "curl");
    if (!curl) return;
    const c = parseCurl(String(curl.code));
    const { re, names } = templateRegex(op.path);
    const m = re.exec(c.path);
    const params: Record<string, string> = {};
    if (m) names.forEach((n, i) => (params[n] = m[i + 1]!));
    out.push({
      ...base,
      method: c.method,
      params,
      query: c.query,
      headers: {},
      body: c.body,
      form: c.form,
      source: "curl",
      ...(m ? {} : { template: `${op.path} (cURL URL ${c.path} does not match)` }),
    });
  });
  return out;
}
