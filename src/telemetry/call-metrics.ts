/**
 * The OTLP metrics of calls and sessions, counted here and handed to the SDK's metric reader at
 * export time (a MetricProducer), instead of through its instruments on every call: an instrument
 * hashes its attribute set on each record (sorted keys, JSON text), several µs a call for the three
 * of them. Here a call finds its pre-made attribute set by one Map lookup and adds to a few
 * numbers; the SDK's reader and OTLP exporter still collect, encode and send them as before.
 *
 * Same instruments, names, units and attributes as the MCP and GenAI conventions ask:
 * mcp.server.operation.duration, gen_ai.client.token.usage, mcp.server.session.duration (s,
 * histograms with the conventions' buckets) and our cohere_mcp.calls (a monotonic sum).
 * Cumulative unless the exporter prefers delta (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE).
 */
import { ValueType, type Attributes, type HrTime } from "@opentelemetry/api";
import { hrTime } from "@opentelemetry/core";
import {
  AggregationTemporality,
  DataPointType,
  InstrumentType,
  type CollectionResult,
  type MetricData,
  type MetricProducer,
  type PushMetricExporter,
  type SumMetricData,
} from "@opentelemetry/sdk-metrics";

/** The MCP conventions' advice for both durations, in seconds. */
const DURATION_BUCKETS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
/** The GenAI conventions' advice for gen_ai.client.token.usage. */
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];
/** Most attribute sets an instrument keeps; beyond, one overflow set (as the SDK's cardinality limit does). */
const MAX_SETS = 2000;
const OVERFLOW: Attributes = { "otel.metric.overflow": true };

class Hist {
  counts: number[];
  sum = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;
  constructor(
    readonly attributes: Attributes,
    readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }
  record(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++; // a boundary is its bucket's inclusive upper bound
    this.counts[i]!++;
    this.sum += v;
    this.count++;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }
  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }
}

class Sum {
  value = 0;
  constructor(readonly attributes: Attributes) {}
}

/** One instrument's attribute sets, by a key the caller makes (a few strings joined). */
class Sets<T extends { attributes: Attributes }> {
  readonly byKey = new Map<string, T>();
  constructor(private readonly make: (a: Attributes) => T) {}
  get(key: string, attributes: () => Attributes): T {
    let v = this.byKey.get(key);
    if (v) return v;
    const full = this.byKey.size >= MAX_SETS;
    v = full ? this.byKey.get("\u0000overflow") : undefined;
    if (v) return v;
    v = this.make(full ? OVERFLOW : attributes());
    this.byKey.set(full ? "\u0000overflow" : key, v);
    return v;
  }
}

export interface CallMetrics extends MetricProducer {
  /** One call's duration and its count, under its attribute sets (made once per key). */
  call(key: string, seconds: number, attrs: () => { op: Attributes; calls: Attributes }): void;
  tokens(type: "input" | "output", n: number): void;
  session(seconds: number, key: string, attributes: () => Attributes): void;
}

export function callMetrics(scope: { name: string; version: string }, exporter: PushMetricExporter): CallMetrics {
  const delta =
    exporter.selectAggregationTemporality?.(InstrumentType.HISTOGRAM) === AggregationTemporality.DELTA;
  const temporality = delta ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE;
  let startTime: HrTime = hrTime();
  const ops = new Sets((a) => new Hist(a, DURATION_BUCKETS));
  const calls = new Sets((a) => new Sum(a));
  const tokens = new Sets((a) => new Hist(a, TOKEN_BUCKETS));
  const sessions = new Sets((a) => new Hist(a, DURATION_BUCKETS));
  const opAttrs = new Map<string, { op: Attributes; calls: Attributes }>();
  const tokenAttrs = (type: "input" | "output"): Attributes => ({
    "gen_ai.provider.name": "cohere",
    "gen_ai.operation.name": "execute_tool",
    "gen_ai.token.type": type,
  });

  const sum = (m: Omit<SumMetricData, "dataPointType">): SumMetricData => ({ ...m, dataPointType: DataPointType.SUM });
  const histogram = (name: string, unit: string, description: string, sets: Sets<Hist>, endTime: HrTime): MetricData => ({
    dataPointType: DataPointType.HISTOGRAM,
    descriptor: { name, unit, description, valueType: ValueType.DOUBLE },
    aggregationTemporality: temporality,
    dataPoints: [...sets.byKey.values()]
      .filter((h) => h.count > 0 || !delta)
      .map((h) => ({
        startTime,
        endTime,
        attributes: h.attributes,
        value: {
          buckets: { boundaries: [...h.bounds], counts: [...h.counts] },
          sum: h.sum,
          count: h.count,
          ...(h.count ? { min: h.min, max: h.max } : {}),
        },
      })),
  });

  return {
    call(key, seconds, attrs) {
      let a = opAttrs.get(key);
      if (!a) {
        a = attrs();
        if (opAttrs.size < MAX_SETS) opAttrs.set(key, a);
      }
      const pair = a;
      ops.get(key, () => pair.op).record(seconds);
      calls.get(key, () => pair.calls).value++;
    },
    tokens(type, n) {
      tokens.get(type, () => tokenAttrs(type)).record(n);
    },
    session(seconds, key, attributes) {
      sessions.get(key, attributes).record(seconds);
    },
    async collect(): Promise<CollectionResult> {
      const endTime = hrTime();
      const metrics: MetricData[] = [
        histogram("mcp.server.operation.duration", "s", "MCP request duration as observed on the receiver from the time it was received until the result or ack is sent.", ops, endTime),
        sum({
          descriptor: { name: "cohere_mcp.calls", unit: "", description: "Tool calls by tool, decision and outcome (the Prometheus cohere_mcp_calls_total)", valueType: ValueType.INT },
          aggregationTemporality: temporality,
          isMonotonic: true,
          dataPoints: [...calls.byKey.values()].filter((c) => c.value > 0 || !delta).map((c) => ({ startTime, endTime, attributes: c.attributes, value: c.value })),
        }),
        histogram("gen_ai.client.token.usage", "{token}", "Tokens Cohere billed per call", tokens, endTime),
        histogram("mcp.server.session.duration", "s", "The duration of the MCP session as observed on the MCP server.", sessions, endTime),
      ].filter((m) => m.dataPoints.length > 0);
      if (delta) {
        for (const s of [ops, tokens, sessions]) for (const h of s.byKey.values()) h.reset();
        for (const c of calls.byKey.values()) c.value = 0;
        startTime = endTime;
      }
      return { resourceMetrics: { resource: undefined as never, scopeMetrics: metrics.length ? [{ scope, metrics }] : [] }, errors: [] };
    },
  };
}
