/**
 * A tiny JSON validator for the emulator. Deliberately small: it checks what the Cohere API
 * checks (required fields, basic types, enums, numeric and length limits, tagged unions) and
 * reports the first problem as a human-readable string, or undefined when the value is valid.
 */

export type Schema =
  | { kind: "string"; enum?: readonly string[]; minLength?: number; maxLength?: number; pattern?: RegExp; patternHint?: string }
  | { kind: "number"; integer?: boolean; minimum?: number; maximum?: number; enum?: readonly number[] }
  | { kind: "boolean" }
  | { kind: "array"; items?: Schema; minItems?: number; maxItems?: number }
  | {
      kind: "object";
      properties: Record<string, Schema>;
      required: readonly string[];
      /** false: unknown keys are rejected; a Schema: unknown keys must match it; true/undefined: allowed. */
      additional?: boolean | Schema;
    }
  | { kind: "any" }
  | { kind: "oneOf"; of: readonly Schema[]; hint: string }
  | { kind: "tagged"; tag: string; variants: Record<string, Schema> };

export const str = (o: Omit<Extract<Schema, { kind: "string" }>, "kind"> = {}): Schema => ({ kind: "string", ...o });
export const enm = (values: readonly string[]): Schema => ({ kind: "string", enum: values });
export const num = (o: Omit<Extract<Schema, { kind: "number" }>, "kind"> = {}): Schema => ({ kind: "number", ...o });
export const int = (o: Omit<Extract<Schema, { kind: "number" }>, "kind" | "integer"> = {}): Schema => ({
  kind: "number",
  integer: true,
  ...o,
});
export const bool = (): Schema => ({ kind: "boolean" });
export const any = (): Schema => ({ kind: "any" });
export const arr = (items?: Schema, o: { minItems?: number; maxItems?: number } = {}): Schema => ({ kind: "array", items, ...o });
export const obj = (
  properties: Record<string, Schema> = {},
  required: readonly string[] = [],
  additional?: boolean | Schema,
): Schema => ({ kind: "object", properties, required, additional });
export const oneOf = (hint: string, ...of: Schema[]): Schema => ({ kind: "oneOf", of, hint });
export const tagged = (tag: string, variants: Record<string, Schema>): Schema => ({ kind: "tagged", tag, variants });

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

function label(path: string): string {
  return path || "body";
}

/** Returns the first validation problem, or undefined when `value` matches `schema`. */
export function validate(schema: Schema, value: unknown, path = ""): string | undefined {
  switch (schema.kind) {
    case "any":
      return undefined;
    case "string": {
      if (typeof value !== "string") return `${label(path)} must be a string (got ${typeName(value)})`;
      if (schema.enum && !schema.enum.includes(value))
        return `${label(path)} must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")} (got ${JSON.stringify(value)})`;
      if (schema.minLength !== undefined && value.length < schema.minLength)
        return `${label(path)} must be at least ${schema.minLength} characters long (got ${value.length})`;
      if (schema.maxLength !== undefined && value.length > schema.maxLength)
        return `${label(path)} must be at most ${schema.maxLength} characters long (got ${value.length})`;
      if (schema.pattern && !schema.pattern.test(value))
        return `${label(path)} ${schema.patternHint ?? `must match ${schema.pattern}`}`;
      return undefined;
    }
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value))
        return `${label(path)} must be a ${schema.integer ? "integer" : "number"} (got ${typeName(value)})`;
      if (schema.integer && !Number.isInteger(value)) return `${label(path)} must be an integer (got ${value})`;
      if (schema.enum && !schema.enum.includes(value))
        return `${label(path)} must be one of ${schema.enum.join(", ")} (got ${value})`;
      if (schema.minimum !== undefined && value < schema.minimum)
        return `${label(path)} must be >= ${schema.minimum} (got ${value})`;
      if (schema.maximum !== undefined && value > schema.maximum)
        return `${label(path)} must be <= ${schema.maximum} (got ${value})`;
      return undefined;
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : `${label(path)} must be a boolean (got ${typeName(value)})`;
    case "array": {
      if (!Array.isArray(value)) return `${label(path)} must be an array (got ${typeName(value)})`;
      if (schema.minItems !== undefined && value.length < schema.minItems)
        return `${label(path)} must contain at least ${schema.minItems} item(s) (got ${value.length})`;
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        return `${label(path)} must contain at most ${schema.maxItems} items (got ${value.length})`;
      if (schema.items) {
        for (let i = 0; i < value.length; i++) {
          const err = validate(schema.items, value[i], join(path, i));
          if (err) return err;
        }
      }
      return undefined;
    }
    case "object": {
      if (!isPlainObject(value)) return `${label(path)} must be an object (got ${typeName(value)})`;
      for (const key of schema.required) {
        if (!(key in value) || value[key] === undefined) return `${join(path, key)} is required`;
      }
      for (const [key, v] of Object.entries(value)) {
        const prop = schema.properties[key];
        if (prop) {
          const err = validate(prop, v, join(path, key));
          if (err) return err;
        } else if (schema.additional === false) {
          return `unknown field ${join(path, key)}`;
        } else if (schema.additional && schema.additional !== true) {
          const err = validate(schema.additional, v, join(path, key));
          if (err) return err;
        }
      }
      return undefined;
    }
    case "oneOf": {
      for (const s of schema.of) if (validate(s, value, path) === undefined) return undefined;
      // Report the most specific failure when exactly one branch has the right JSON type.
      const sameType = schema.of.filter((s) => kindMatches(s, value));
      if (sameType.length === 1) return validate(sameType[0]!, value, path);
      return `${label(path)} must be ${schema.hint} (got ${typeName(value)})`;
    }
    case "tagged": {
      if (!isPlainObject(value)) return `${label(path)} must be an object (got ${typeName(value)})`;
      const tagValue = value[schema.tag];
      const tagPath = join(path, schema.tag);
      if (tagValue === undefined) return `${tagPath} is required`;
      const names = Object.keys(schema.variants);
      if (typeof tagValue !== "string" || !Object.hasOwn(schema.variants, tagValue))
        return `${tagPath} must be one of ${names.map((n) => JSON.stringify(n)).join(", ")} (got ${JSON.stringify(tagValue)})`;
      return validate(schema.variants[tagValue]!, value, path);
    }
  }
}

function kindMatches(s: Schema, v: unknown): boolean {
  switch (s.kind) {
    case "string":
      return typeof v === "string";
    case "number":
      return typeof v === "number";
    case "boolean":
      return typeof v === "boolean";
    case "array":
      return Array.isArray(v);
    case "object":
    case "tagged":
      return isPlainObject(v);
    default:
      return true;
  }
}
