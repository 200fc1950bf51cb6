/**
 * Turn tool records into what MCP clients see: JSON Schema input (plain `type: object`,
 * no `$schema` tag, no $refs), title, and the four annotations derived from the access class.
 */
import { zodToJsonSchema } from "zod-to-json-schema";
import type { Access, ToolDef } from "./types.js";

export interface ToolAnnotations {
  title: string;
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
  annotations: ToolAnnotations;
}

export function annotationsFor(t: Pick<ToolDef, "title" | "access" | "idempotent">): ToolAnnotations {
  const defaults: Record<Access, boolean> = { read: true, write: false, destructive: true };
  return {
    title: t.title,
    readOnlyHint: t.access === "read",
    destructiveHint: t.access === "destructive",
    idempotentHint: t.idempotent ?? defaults[t.access],
    openWorldHint: true,
  };
}

export function inputJsonSchema(t: ToolDef): ToolDescriptor["inputSchema"] {
  const schema = zodToJsonSchema(t.input, { $refStrategy: "none", target: "jsonSchema7" }) as Record<string, unknown>;
  delete schema.$schema;
  if (schema.type !== "object") throw new Error(`tool ${t.name}: input schema must be an object at the top`);
  for (const k of ["anyOf", "oneOf", "allOf"]) {
    if (k in schema) throw new Error(`tool ${t.name}: top-level ${k} is not allowed`);
  }
  return schema as ToolDescriptor["inputSchema"];
}

export function describeTool(t: ToolDef): ToolDescriptor {
  return {
    name: t.name,
    title: t.title,
    description: t.deprecated ? `[Deprecated] ${t.description}` : t.description,
    inputSchema: inputJsonSchema(t),
    annotations: annotationsFor(t),
  };
}
