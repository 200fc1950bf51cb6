/**
 * One attempt of a Cohere HTTP request as a CLIENT span (HTTP client and GenAI conventions):
 * `{method} {url.template}`, the server, the model asked for, the status, Cohere's request id and
 * the tokens billed. Never the URL's query, a header, a body or the key.
 */
import { redactText } from "../redact.js";
import type { SpanHandle, Telemetry } from "./index.js";

interface AttemptRequest {
  method: string;
  template?: string;
  json?: unknown;
}

/** server.address and server.port of an origin, worked out once. */
const servers = new Map<string, { address: string; port: number }>();
function serverOf(origin: string): { address: string; port: number } {
  let s = servers.get(origin);
  if (!s) {
    const u = new URL(origin);
    s = { address: u.hostname, port: u.port ? Number(u.port) : u.protocol === "https:" ? 443 : 80 };
    if (servers.size < 64) servers.set(origin, s);
  }
  return s;
}

export function attemptSpan(tel: Telemetry, req: AttemptRequest, origin: string, attempt: number, secrets: readonly string[]): SpanHandle {
  const server = serverOf(origin);
  const model = (req.json as { model?: unknown } | undefined)?.model;
  return tel.start(
    req.template ? `${req.method} ${req.template}` : req.method,
    {
      "http.request.method": req.method,
      "url.template": req.template,
      "server.address": server.address,
      "server.port": server.port,
      "http.request.resend_count": attempt > 0 ? attempt : undefined,
      "gen_ai.provider.name": "cohere",
      "gen_ai.request.model": typeof model === "string" ? redactText(model.slice(0, 100), secrets) : undefined,
    },
    "client",
  );
}

/** Tokens from Cohere's answer (`usage.billed_units`/`usage.tokens`, v1 `meta.billed_units`) onto the span. */
export function usageOf(span: SpanHandle, data: unknown): void {
  if (!data || typeof data !== "object") return;
  const d = data as { usage?: { billed_units?: Units; tokens?: Units }; meta?: { billed_units?: Units } };
  const units = d.usage?.billed_units ?? d.meta?.billed_units ?? d.usage?.tokens;
  if (!units) return;
  if (typeof units.input_tokens === "number") span.set("gen_ai.usage.input_tokens", units.input_tokens);
  if (typeof units.output_tokens === "number") span.set("gen_ai.usage.output_tokens", units.output_tokens);
  if (typeof units.search_units === "number") span.set("cohere.usage.search_units", units.search_units);
}

interface Units {
  input_tokens?: unknown;
  output_tokens?: unknown;
  search_units?: unknown;
}
