/**
 * A Cohere tool is a declarative record. One generic executor (src/call/executor.ts) runs every
 * record: validate input with `input`, build the HTTP request from `method`/`path`/`query`,
 * call Cohere, shape the result. Special cases are small optional hooks on the record.
 */
import type { z } from "zod/v3";

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
  "parse",
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

/** JSON types an output property may declare (kept minimal: it costs agent context in tools/list). */
export type JsonType = "string" | "number" | "integer" | "boolean" | "array" | "object";

/**
 * What a tool returns beside its text: `structured` becomes `structuredContent` (it must match the
 * record's `output`), `text` the short readable content (omitted: the JSON of `structured`).
 * `error` marks a result that is a failure even though Cohere answered 200 (e.g. finish_reason ERROR).
 */
export interface Shaped {
  structured: Record<string, unknown>;
  text?: string;
  error?: boolean;
}

/** Which streamed wire format a tool's Cohere call speaks when the caller asked for progress. */
export type StreamKind = "chat-v2" | "chat-v1" | "generate";

/** A composite "wait" tool: poll the record's GET path until a terminal status or the deadline. */
export interface PollSpec {
  /** Key of the resource in the structured result (e.g. "embed_job"). */
  key: string;
  /** The resource object inside the GET response (e.g. `data.batch`). */
  pick: (data: unknown) => Record<string, unknown> | undefined;
  /** Terminal statuses: polling stops on any of them. */
  terminal: readonly string[];
  /** What to do next once the poll ended (terminal state or timeout). */
  next: (resource: Record<string, unknown>, done: boolean) => string;
}

/** A file input given as a path (read only inside --allow-file-read directories). */
export interface FileInput {
  /** Input key holding the path, e.g. "data_path". */
  key: string;
  /** Inline base64 key the file's bytes go into, e.g. "data_base64". */
  into: string;
  /** Input key of the file name; set to the path's base name when absent. */
  filename?: string;
  /** Cohere's own size limit for this input: a larger file is refused before anything is sent. */
  limit?: { bytes: number; what: string };
  /** The value put in `into` (default: the bytes in base64); throws FileRefused for a file Cohere would refuse. */
  encode?: (bytes: Uint8Array, name: string) => string;
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

  /* ---- Optional hooks the one executor (and callTool) understand ---- */

  /** false: not in the default tool set even though it is a non-deprecated read tool. */
  defaultVisible?: boolean;
  /** Input keys cohere-mcp uses itself; never sent to Cohere (e.g. embed's `return_vectors`). */
  localKeys?: readonly string[];
  /** Top-level properties of `structuredContent` → the tool's `outputSchema`. Absent: no structured result. */
  output?: Readonly<Record<string, JsonType>>;
  /** Turn Cohere's JSON into the structured result and readable text. Default: the JSON as is. */
  shape?: (data: unknown, input: I, budget: { maxChars: number }) => Shaped;
  /** How to get what the output budget cut (added to the truncation marker). */
  budgetHint?: string;
  /** How to fetch the next page, when the response is one page of several. */
  nextPage?: (data: Record<string, unknown>, input: I) => string | undefined;
  /** Stream this call (forwarding pieces as progress) when the caller sent a progress token. */
  stream?: StreamKind;
  /** Composite wait tool: poll `path` (a GET) until done. */
  poll?: PollSpec;
  /** Path inputs read from disk (only with --allow-file-read) into inline base64 inputs. */
  files?: readonly FileInput[];
  /** Destructive tools: a cheap GET that finds the target's human name for the confirmation. */
  confirmLookup?: { path: string; name: (data: unknown) => string | undefined };
}

/** Helper so each tool file gets inference on `I` from its zod schema. */
export function defineTool<S extends z.ZodType<Record<string, any>, z.ZodTypeDef, unknown>>(
  def: Omit<ToolDef<z.output<S>>, "input"> & { input: S },
): ToolDef {
  return def as unknown as ToolDef;
}
