/** The route model: one record per Cohere operation, a request context, and the reply kinds. */
import type { QuerySpec } from "../schemas.js";
import type { EmulatorState } from "../state.js";
import type { ParsedMultipart } from "../util.js";
import type { Schema } from "../validate.js";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export interface StreamEvent {
  /** SSE event name (v2: the `type`; v1: the `event_type`). */
  name: string;
  data: unknown;
}

export type Reply =
  | { kind: "json"; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: "empty"; status: number; headers?: Record<string, string> }
  | { kind: "stream"; format: "sse" | "ndjson"; events: StreamEvent[]; headers?: Record<string, string> };

export interface Ctx {
  /** Recorded request id (1, 2, ...): part of generated ids so they differ between calls. */
  seq: number;
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  multipart?: ParsedMultipart;
  state: EmulatorState;
  /** Forced v1 stream format (control API), else chosen by the request. */
  streamFormat?: "sse" | "ndjson";
}

export interface FormSpec {
  fields: Record<string, { required?: boolean; type?: "string" | "number" }>;
  files: Record<string, { required?: boolean }>;
}

export interface Route {
  op: string;
  method: HttpMethod;
  /** Cohere path template, e.g. /v1/datasets/{id} or /v2/batches/{id}:cancel */
  path: string;
  body: "json" | "multipart" | "none";
  schema?: Schema;
  query?: QuerySpec;
  form?: FormSpec;
  /** Path parameter constraints (regex the decoded value must match). */
  paramPatterns?: Record<string, RegExp>;
  /** Extra semantic checks after the schema; returns a problem or undefined. */
  check?: (ctx: Ctx) => string | undefined;
  /** True when this request asks for a streamed answer. */
  streams?: (ctx: Ctx) => boolean;
  /**
   * The X-API-Warning Cohere sends on this operation: the spec declares the header on these
   * deprecated operations (generate, classify, summarize), so every answer carries it.
   */
  deprecation?: string;
  handle: (ctx: Ctx) => Reply;
}

/** A Cohere error answer: status and Cohere's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const json = (body: unknown, status = 200, headers?: Record<string, string>): Reply => ({ kind: "json", status, body, headers });

export const notFound = (message: string): never => {
  throw new ApiError(404, message);
};

/** 400 with Cohere's usual "invalid request: " prefix. */
export const badRequest = (message: string): never => {
  throw new ApiError(400, `invalid request: ${message}`);
};

/** 400 with a message Cohere sends as is (its errors page lists some without the prefix). */
export const rejected = (message: string): never => {
  throw new ApiError(400, message);
};
