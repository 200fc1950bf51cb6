/**
 * The SDK's setup from the environment and the config's `otel` section (./otel.ts starts it):
 * each signal's protocol and URL (the OTEL_* variables win; the exporters read endpoint, headers,
 * timeout and compression themselves), the sampler, the exporters (each loaded only for the
 * protocol asked), and the collector's header values to keep out of every log.
 */
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import type { PushMetricExporter } from "@opentelemetry/sdk-metrics";
import type { LogRecordExporter } from "@opentelemetry/sdk-logs";
import { ConfigError } from "../config/file.js";

export type Protocol = "http/protobuf" | "http/json";
export type Signal = "traces" | "metrics" | "logs";

const SAMPLERS = new Set([
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
]);

/** The protocol of one signal: OTEL_EXPORTER_OTLP_{SIGNAL}_PROTOCOL, OTEL_EXPORTER_OTLP_PROTOCOL, the config, http/protobuf. */
export function protocolOf(signal: Signal, env: NodeJS.ProcessEnv, configured: Protocol | undefined): Protocol {
  const name = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_PROTOCOL`;
  const raw = (env[name] || env.OTEL_EXPORTER_OTLP_PROTOCOL || configured || "http/protobuf").trim();
  if (raw === "http/protobuf" || raw === "http/json") return raw;
  const which = env[name] ? name : env.OTEL_EXPORTER_OTLP_PROTOCOL ? "OTEL_EXPORTER_OTLP_PROTOCOL" : "otel.protocol";
  throw new ConfigError(`${which} must be http/protobuf or http/json (gRPC is not supported), got "${raw.slice(0, 40)}"`);
}

/** The URL to give an exporter: none when an OTEL_* variable names one (the exporter reads it), else the config's endpoint. */
export function urlOf(signal: Signal, env: NodeJS.ProcessEnv, endpoint: string | undefined): string | undefined {
  for (const v of [`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`, "OTEL_EXPORTER_OTLP_ENDPOINT"]) {
    const value = (env[v] ?? "").trim();
    if (!value) continue;
    checkUrl(v, value);
    return undefined;
  }
  if (!endpoint) return undefined;
  return `${endpoint.replace(/\/+$/, "")}/v1/${signal}`;
}

export function checkUrl(name: string, value: string): void {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new ConfigError(`${name} is not a URL (give http://HOST:4318 or https://…)`);
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new ConfigError(`${name} must be an http:// or https:// URL, got ${u.protocol}`);
}

export function samplerOf(env: NodeJS.ProcessEnv, ratio: number | undefined): Sampler | undefined {
  const name = (env.OTEL_TRACES_SAMPLER ?? "").trim();
  if (name) {
    if (!SAMPLERS.has(name)) throw new ConfigError(`OTEL_TRACES_SAMPLER must be one of ${[...SAMPLERS].join(", ")}, got "${name.slice(0, 40)}"`);
    const arg = env.OTEL_TRACES_SAMPLER_ARG;
    if (name.includes("traceidratio") && arg !== undefined && arg.trim() !== "") {
      const n = Number(arg);
      if (!(n >= 0 && n <= 1)) throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1, got "${arg.slice(0, 40)}"`);
    }
    return undefined; // the SDK builds it from the environment
  }
  if (ratio === undefined) return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  if (ratio >= 1) return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  if (ratio <= 0) return new ParentBasedSampler({ root: new AlwaysOffSampler() });
  return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
}

export async function traceExporter(p: Protocol, url: string | undefined): Promise<SpanExporter> {
  const config = url ? { url } : {};
  if (p === "http/json") return new (await import("@opentelemetry/exporter-trace-otlp-http")).OTLPTraceExporter(config);
  return new (await import("@opentelemetry/exporter-trace-otlp-proto")).OTLPTraceExporter(config);
}

export async function metricExporter(p: Protocol, url: string | undefined): Promise<PushMetricExporter> {
  const config = url ? { url } : {};
  if (p === "http/json") return new (await import("@opentelemetry/exporter-metrics-otlp-http")).OTLPMetricExporter(config);
  return new (await import("@opentelemetry/exporter-metrics-otlp-proto")).OTLPMetricExporter(config);
}

export async function logExporter(p: Protocol, url: string | undefined): Promise<LogRecordExporter> {
  const config = url ? { url } : {};
  if (p === "http/json") return new (await import("@opentelemetry/exporter-logs-otlp-http")).OTLPLogExporter(config);
  return new (await import("@opentelemetry/exporter-logs-otlp-proto")).OTLPLogExporter(config);
}

/** Values of OTEL_EXPORTER_OTLP_*HEADERS (a collector's credentials): kept out of every log and result. */
export function headerSecrets(env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (!/^OTEL_EXPORTER_OTLP_(TRACES_|METRICS_|LOGS_)?HEADERS$/.test(k) || !v) continue;
    for (const pair of v.split(",")) {
      const i = pair.indexOf("=");
      if (i < 0) continue;
      const raw = pair.slice(i + 1).trim();
      let value = raw;
      try {
        value = decodeURIComponent(raw);
      } catch {
        /* as given */
      }
      for (const s of new Set([raw, value])) if (s.length >= 4) out.push(s);
    }
  }
  return out;
}
