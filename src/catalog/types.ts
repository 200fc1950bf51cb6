/**
 * A Cohere tool is a declarative record. One generic executor (src/executor.ts) runs every
 * record: validate input with `input`, build the HTTP request from `method`/`path`/`query`,
 * call Cohere, shape the result. Special cases are small optional hooks on the record.
 */
import type { z } from "zod";

/** read: no stored state changes (GET, and POSTs that only compute output).
 *  write: creates or changes a stored resource (create, update, OAuth authorize).
 *  destructive: cannot be undone (delete, cancel). */
export type Access = "read" | "write" | "destructive";

export type HttpMethod = "GET" | "POST" | "PATCH" | "DELETE";

export const GROUPS = [
  "chat",
  "embed",
  "rerank",
  "classify",
  "tokenize",
  "models",
  "account",
  "audio",
  "datasets",
  "embed_jobs",
  "batches",
  "finetuning",
  "connectors",
  "legacy",
] as const;
export type Group = (typeof GROUPS)[number];

/** One multipart form field. `data` is the raw bytes for a file part. */
export interface MultipartPart {
  name: string;
  value: string | Uint8Array;
  filename?: string;
  contentType?: string;
}

/** What the executor sends, once input is validated. Paths are already filled in. */
export interface BuiltRequest {
  query?: Record<string, string | number | boolean | Array<string | number | boolean> | undefined>;
  /** JSON body (POST/PATCH). Omitted for body-less calls. */
  json?: unknown;
  /** multipart/form-data body. Mutually exclusive with `json`. */
  multipart?: MultipartPart[];
  headers?: Record<string, string>;
}

export interface ToolDef<I extends Record<string, unknown> = Record<string, any>> {
  /** snake_case verb_noun, ≤ 64 chars, ^[a-zA-Z0-9_-]+$ */
  name: string;
  /** Short human title (MCP `title` and `annotations.title`). */
  title: string;
  group: Group;
  access: Access;
  method: HttpMethod;
  /** Cohere path template, e.g. "/v1/datasets/{id}" or "/v2/batches/{id}:cancel". */
  path: string;
  apiVersion: "v1" | "v2";
  /** Deprecated by Cohere's spec, or superseded by a v2 tool (legacy group). Hidden by default. */
  deprecated?: boolean;
  /** What an agent needs: when to use it, what it costs, what to do next. */
  description: string;
  /**
   * zod schema for the tool input. Must be a z.object (optionally wrapped in .superRefine)
   * so that the JSON Schema is a plain `type: object` at the top.
   */
  input: z.ZodType<I, z.ZodTypeDef, unknown>;
  /** Input keys that go to the query string (GET/DELETE put every non-path key there by default). */
  query?: readonly string[];
  /** Override the default request mapping (e.g. multipart bodies). Path params are removed first. */
  buildRequest?: (input: I) => BuiltRequest;
  /** MCP idempotentHint. Defaults: read → true, write → false, destructive → true. */
  idempotent?: boolean;
  /** The resource this call acts on, for audit lines and confirmations (e.g. a dataset id). */
  resource?: (input: I) => string | undefined;
}

/** Helper so each tool file gets inference on `I` from its zod schema. */
export function defineTool<S extends z.ZodType<Record<string, any>, z.ZodTypeDef, unknown>>(
  def: Omit<ToolDef<z.output<S>>, "input"> & { input: S },
): ToolDef {
  return def as unknown as ToolDef;
}
