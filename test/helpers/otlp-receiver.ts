/**
 * A real OTLP/HTTP receiver for the tests (127.0.0.1, a free port): POST /v1/traces, /v1/logs and
 * /v1/metrics in both encodings, http/protobuf decoded with the OpenTelemetry packages' own
 * generated protobuf root (@opentelemetry/otlp-transformer's, under the alias
 * otlp-transformer-protos) and http/json parsed as the OTLP/JSON mapping says (hex ids). What it
 * captured is normalized to plain spans, log records and metric points; `raw` keeps every
 * request decoded to JSON text, for the secrets scan (under `npm run test:stress` it is also
 * written to PROOF_LOG_DIR when the receiver stops, which that suite scans). Modes: "ok", "500" (answers 500), "slow"
 * (answers after 10 s).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
interface PbType {
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: Record<string, unknown>): unknown;
}
const root = require("otlp-transformer-protos/build/src/generated/root.js") as {
  opentelemetry: { proto: { collector: Record<"trace" | "logs" | "metrics", { v1: Record<string, PbType> }> } };
};
const TYPES: Record<string, PbType> = {
  "/v1/traces": root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest!,
  "/v1/logs": root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest!,
  "/v1/metrics": root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest!,
};

export type Value = string | number | boolean | Value[] | { [k: string]: Value } | undefined;
export type Attrs = Record<string, Value>;

export interface CapturedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client */
  kind: number;
  start: number;
  end: number;
  attributes: Attrs;
  status: { code?: number; message?: string };
  links: Array<{ traceId: string; spanId: string }>;
  resource: Attrs;
  encoding: "protobuf" | "json";
}
export interface CapturedLog {
  body: Value;
  attributes: Attrs;
  traceId: string;
  spanId: string;
  severityNumber?: number;
  eventName?: string;
  encoding: "protobuf" | "json";
}
export interface CapturedMetric {
  name: string;
  unit?: string;
  /** data points: attributes and count/sum (histograms) or value (sums) */
  points: Array<{ attributes: Attrs; count?: number; sum?: number; value?: number }>;
}

export interface OtlpReceiver {
  url: string;
  spans: CapturedSpan[];
  logs: CapturedLog[];
  metrics: CapturedMetric[];
  /** Every request body decoded to JSON text (secrets scan). */
  raw: string[];
  /** Requests received per path (answered or not). */
  hits: Record<string, number>;
  mode: "ok" | "500" | "slow";
  stop(): Promise<void>;
}

const hex = (b64: unknown): string => (typeof b64 === "string" && b64 ? Buffer.from(b64, "base64").toString("hex") : "");

function anyValue(v: Record<string, unknown> | undefined): Value {
  if (!v) return undefined;
  if ("stringValue" in v) return v.stringValue as string;
  if ("boolValue" in v) return v.boolValue as boolean;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("arrayValue" in v) return ((v.arrayValue as { values?: Record<string, unknown>[] }).values ?? []).map(anyValue);
  if ("kvlistValue" in v) return attrs((v.kvlistValue as { values?: unknown[] }).values) as { [k: string]: Value };
  if ("bytesValue" in v) return String(v.bytesValue);
  return undefined;
}

function attrs(list: unknown): Attrs {
  const out: Attrs = {};
  for (const kv of (list as Array<{ key: string; value?: Record<string, unknown> }>) ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

const nanosToMs = (v: unknown) => Number(BigInt(String(v ?? 0)) / 1000n) / 1000;

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const r: OtlpReceiver = { url: "", spans: [], logs: [], metrics: [], raw: [], hits: {}, mode: "ok", stop: async () => {} };
  const ingest = (path: string, doc: Record<string, unknown>, encoding: "protobuf" | "json") => {
    const id = encoding === "protobuf" ? hex : (v: unknown) => (typeof v === "string" ? v.toLowerCase() : "");
    if (path === "/v1/traces") {
      for (const rs of (doc.resourceSpans as Array<Record<string, unknown>>) ?? []) {
        const resource = attrs((rs.resource as { attributes?: unknown } | undefined)?.attributes);
        for (const ss of (rs.scopeSpans as Array<{ spans?: Array<Record<string, unknown>> }>) ?? []) {
          for (const s of ss.spans ?? []) {
            r.spans.push({
              traceId: id(s.traceId),
              spanId: id(s.spanId),
              parentSpanId: id(s.parentSpanId),
              name: String(s.name),
              kind: Number(s.kind ?? 0),
              start: nanosToMs(s.startTimeUnixNano),
              end: nanosToMs(s.endTimeUnixNano),
              attributes: attrs(s.attributes),
              status: (s.status as CapturedSpan["status"]) ?? {},
              links: ((s.links as Array<Record<string, unknown>>) ?? []).map((l) => ({ traceId: id(l.traceId), spanId: id(l.spanId) })),
              resource,
              encoding,
            });
          }
        }
      }
    } else if (path === "/v1/logs") {
      for (const rl of (doc.resourceLogs as Array<Record<string, unknown>>) ?? []) {
        for (const sl of (rl.scopeLogs as Array<{ logRecords?: Array<Record<string, unknown>> }>) ?? []) {
          for (const l of sl.logRecords ?? []) {
            r.logs.push({
              body: anyValue(l.body as Record<string, unknown>),
              attributes: attrs(l.attributes),
              traceId: id(l.traceId),
              spanId: id(l.spanId),
              severityNumber: l.severityNumber as number | undefined,
              eventName: l.eventName as string | undefined,
              encoding,
            });
          }
        }
      }
    } else {
      for (const rm of (doc.resourceMetrics as Array<Record<string, unknown>>) ?? []) {
        for (const sm of (rm.scopeMetrics as Array<{ metrics?: Array<Record<string, unknown>> }>) ?? []) {
          for (const m of sm.metrics ?? []) {
            const data = (m.histogram ?? m.sum ?? m.gauge) as { dataPoints?: Array<Record<string, unknown>> } | undefined;
            r.metrics.push({
              name: String(m.name),
              unit: m.unit as string | undefined,
              points: (data?.dataPoints ?? []).map((p) => ({
                attributes: attrs(p.attributes),
                count: p.count !== undefined ? Number(p.count) : undefined,
                sum: p.sum !== undefined ? Number(p.sum) : undefined,
                value: p.asInt !== undefined ? Number(p.asInt) : p.asDouble !== undefined ? Number(p.asDouble) : undefined,
              })),
            });
          }
        }
      }
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "").split("?")[0]!;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    r.hits[path] = (r.hits[path] ?? 0) + 1;
    const type = TYPES[path];
    if (req.method !== "POST" || !type) return void res.writeHead(404).end();
    const json = (req.headers["content-type"] ?? "").includes("json");
    let doc: Record<string, unknown>;
    try {
      doc = json
        ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>)
        : (type.toObject(type.decode(body), { longs: String, bytes: String, defaults: false }) as Record<string, unknown>);
    } catch (err) {
      return void res.writeHead(400, { "content-type": "text/plain" }).end(`undecodable: ${(err as Error).message}`);
    }
    r.raw.push(JSON.stringify(doc));
    if (r.mode === "slow") await new Promise((ok) => setTimeout(ok, 10_000));
    if (r.mode === "500") return void res.writeHead(500, { "content-type": "text/plain" }).end("receiver says no");
    ingest(path, doc, json ? "json" : "protobuf");
    if (json) res.writeHead(200, { "content-type": "application/json" }).end("{}");
    else res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
  };
  const server = createServer((req, res) => void handle(req, res).catch(() => res.destroy()));
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let stopped = false;
  r.stop = () =>
    new Promise<void>((ok) => {
      const dir = process.env.PROOF_LOG_DIR;
      if (dir && !stopped && r.raw.length) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, `otlp-receiver-${process.pid}-${Date.now()}.json.log`), r.raw.join("\n") + "\n");
      }
      stopped = true;
      server.closeAllConnections();
      server.close(() => ok());
    });
  return r;
}
