/**
 * Turn tool records into what MCP clients see: JSON Schema input (plain `type: object`,
 * no `$schema` tag, no $refs), title, and the four annotations derived from the access class.
 */
import { zodToJsonSchema } from "zod-to-json-schema";
import type { Access, JsonType, ToolDef } from "./types.js";

export interface ToolAnnotations {
  readOnlyHint: boolean;
  destructiveHint: boolean;
  idempotentHint: boolean;
  openWorldHint: boolean;
}

export interface ToolDescriptor {
  name: string;
  title: string;
  description: string;
  inputSchema: { type: "object"; properties?: Record<string, unknown>; required?: string[]; [k: string]: unknown };
  /** Minimal schema of structuredContent: top-level property types only; extra properties allowed. */
  outputSchema?: { type: "object"; properties: Record<string, { type: JsonType }> };
  annotations: ToolAnnotations;
}

export function annotationsFor(t: Pick<ToolDef, "title" | "access" | "idempotent">): ToolAnnotations {
  const defaults: Record<Access, boolean> = { read: true, write: false, destructive: true };
  return {
    readOnlyHint: t.access === "read",
    destructiveHint: t.access === "destructive",
    idempotentHint: t.idempotent ?? defaults[t.access],
    openWorldHint: true,
  };
}

/**
 * Shrink what every agent pays for in context without loosening validation (zod still checks
 * the full, strict schema): nested `additionalProperties: false` go (kept at the top, where an
 * unknown argument is most likely), and the constraints that only say "not empty"
 * (`minLength: 1`, `minItems: 1`) or "anything" (`additionalProperties: {}`) are left out.
 *
 * And keep the schema portable (test/schema-portability.test.ts): no `format` (a bare
 * `new Ajv2020()` throws on an unknown format, and several model APIs refuse it; zod still
 * checks dates and URLs), and a `type` beside every `const` (older Gemini clients drop a tool
 * whose `const` has none).
 */
function isEmptyObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
}

/** The JSON Schema type of a literal (what a `const` needs beside it). */
function jsonTypeOf(v: unknown): JsonType | "null" | undefined {
  if (v === null) return "null";
  if (typeof v === "string") return "string";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return undefined;
}

export function compactSchema(node: unknown, depth = 0): unknown {
  if (Array.isArray(node)) return node.map((n) => compactSchema(n, depth));
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === "additionalProperties" && v === false && depth > 0) continue;
    if (k === "additionalProperties" && isEmptyObject(v)) continue;
    if ((k === "minLength" || k === "minItems") && v === 1) continue;
    if (k === "format" && typeof v === "string") continue;
    // property names are data, not schema keywords: recurse into their values only
    out[k] = k === "properties" && v && typeof v === "object"
      ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, compactSchema(pv, depth + 1)]))
      : compactSchema(v, depth + 1);
  }
  if ("const" in out && out.type === undefined) {
    const type = jsonTypeOf(out.const);
    if (type) return { type, ...out };
  }
  return out;
}

export function inputJsonSchema(t: ToolDef): ToolDescriptor["inputSchema"] {
  const raw = zodToJsonSchema(t.input, { $refStrategy: "none", target: "jsonSchema7" }) as Record<string, unknown>;
  delete raw.$schema;
  const schema = compactSchema(raw) as Record<string, unknown>;
  if (schema.type !== "object") throw new Error(`tool ${t.name}: input schema must be an object at the top`);
  for (const k of ["anyOf", "oneOf", "allOf"]) {
    if (k in schema) throw new Error(`tool ${t.name}: top-level ${k} is not allowed`);
  }
  return schema as ToolDescriptor["inputSchema"];
}

export function outputJsonSchema(t: ToolDef): ToolDescriptor["outputSchema"] {
  if (!t.output) return undefined;
  const properties: Record<string, { type: JsonType }> = {};
  for (const [k, type] of Object.entries(t.output)) properties[k] = { type };
  return { type: "object", properties };
}

export function describeTool(t: ToolDef): ToolDescriptor {
  const d: ToolDescriptor = {
    name: t.name,
    title: t.title,
    description: t.deprecated ? `[Deprecated] ${t.description}` : t.description,
    inputSchema: inputJsonSchema(t),
    annotations: annotationsFor(t),
  };
  const out = outputJsonSchema(t);
  if (out) d.outputSchema = out;
  return d;
}
