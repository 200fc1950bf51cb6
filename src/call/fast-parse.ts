/**
 * A quick yes for a tool's arguments that zod (v3) would accept, with the very value zod's parse
 * would give; anything else is left to zod, which then says what is wrong in its own words.
 *
 * zod v3's safeParse of rerank's input cost ~12 µs a call (a context, a status and an issue list
 * per value, a result object per key). This walks the same schema once to make a plain checker
 * (cached per schema) for the few kinds the catalog's inputs mostly use: objects (strict or
 * strip), strings with min/max/length, finite numbers with int/min/max, booleans, enums, literals,
 * arrays with min/max/length, records of string keys, unknown/any, optional and nullable, and
 * refinements (run as zod runs them; a refinement that adds an issue sends the call to zod). A
 * schema holding any other kind or check (transforms, defaults, unions, regexes…) gets no checker:
 * zod parses it as before. What the checker accepts zod accepts, with an equal value (the same
 * keys in the same order); test/fast-parse.test.ts holds them equal for every tool.
 */
import { z } from "zod/v3";

/** The checker said "not sure": zod decides. */
export const UNSURE: unique symbol = Symbol("unsure");
type Checker = (v: unknown) => unknown;

/** The context a refinement is handed: an issue means zod must say it. */
class RefineCtx {
  issue = false;
  readonly path: (string | number)[] = [];
  addIssue(): void {
    this.issue = true;
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

const compiled = new WeakMap<z.ZodTypeAny, Checker | null>();

/** The schema's checker, or undefined when some part of it is beyond this file (zod parses). */
export function fastChecker(schema: z.ZodTypeAny): Checker | undefined {
  let c = compiled.get(schema);
  if (c === undefined) {
    try {
      c = build(schema) ?? null;
    } catch {
      c = null;
    }
    compiled.set(schema, c);
  }
  return c ?? undefined;
}

/** Zod's answer for `args` when the checker is sure it is a yes, else UNSURE. */
export function fastParse(schema: z.ZodTypeAny, args: unknown): unknown {
  const check = fastChecker(schema);
  return check ? check(args) : UNSURE;
}

function build(s: z.ZodTypeAny): Checker | undefined {
  const def = s._def as z.ZodTypeDef & Record<string, unknown> & { typeName?: string };
  if ((def as { coerce?: boolean }).coerce) return undefined;
  switch (def.typeName) {
    case z.ZodFirstPartyTypeKind.ZodString:
      return stringChecker(s as z.ZodString);
    case z.ZodFirstPartyTypeKind.ZodNumber:
      return numberChecker(s as z.ZodNumber);
    case z.ZodFirstPartyTypeKind.ZodBoolean:
      return (v) => (typeof v === "boolean" ? v : UNSURE);
    case z.ZodFirstPartyTypeKind.ZodUnknown:
    case z.ZodFirstPartyTypeKind.ZodAny:
      return (v) => v;
    case z.ZodFirstPartyTypeKind.ZodEnum: {
      const options = new Set<unknown>((s as z.ZodEnum<[string, ...string[]]>).options);
      return (v) => (typeof v === "string" && options.has(v) ? v : UNSURE);
    }
    case z.ZodFirstPartyTypeKind.ZodLiteral: {
      const value = (s as z.ZodLiteral<unknown>).value;
      return (v) => (v === value ? v : UNSURE);
    }
    case z.ZodFirstPartyTypeKind.ZodOptional: {
      const inner = build((s as z.ZodOptional<z.ZodTypeAny>).unwrap());
      return inner && ((v) => (v === undefined ? undefined : inner(v)));
    }
    case z.ZodFirstPartyTypeKind.ZodNullable: {
      const inner = build((s as z.ZodNullable<z.ZodTypeAny>).unwrap());
      return inner && ((v) => (v === null ? null : inner(v)));
    }
    case z.ZodFirstPartyTypeKind.ZodArray:
      return arrayChecker(s as z.ZodArray<z.ZodTypeAny>);
    case z.ZodFirstPartyTypeKind.ZodObject:
      return objectChecker(s as z.AnyZodObject);
    case z.ZodFirstPartyTypeKind.ZodRecord:
      return recordChecker(s as z.ZodRecord);
    case z.ZodFirstPartyTypeKind.ZodEffects:
      return refinementChecker(s as z.ZodEffects<z.ZodTypeAny>);
    default:
      return undefined;
  }
}

function stringChecker(s: z.ZodString): Checker | undefined {
  let min = 0;
  let max = Infinity;
  for (const c of s._def.checks) {
    if (c.kind === "min") min = Math.max(min, c.value);
    else if (c.kind === "max") max = Math.min(max, c.value);
    else if (c.kind === "length") (min = Math.max(min, c.value)), (max = Math.min(max, c.value));
    else return undefined;
  }
  return (v) => (typeof v === "string" && v.length >= min && v.length <= max ? v : UNSURE);
}

function numberChecker(s: z.ZodNumber): Checker | undefined {
  const checks: Array<(n: number) => boolean> = [];
  for (const c of s._def.checks) {
    if (c.kind === "int") checks.push(Number.isInteger);
    else if (c.kind === "finite") continue; // every number let through here is finite
    else if (c.kind === "min") {
      const { value, inclusive } = c;
      checks.push(inclusive ? (n) => n >= value : (n) => n > value);
    } else if (c.kind === "max") {
      const { value, inclusive } = c;
      checks.push(inclusive ? (n) => n <= value : (n) => n < value);
    } else return undefined;
  }
  return (v) => {
    if (typeof v !== "number" || !Number.isFinite(v)) return UNSURE;
    for (const ok of checks) if (!ok(v)) return UNSURE;
    return v;
  };
}

function arrayChecker(s: z.ZodArray<z.ZodTypeAny>): Checker | undefined {
  const item = build(s.element);
  if (!item) return undefined;
  const d = s._def;
  const min = Math.max(d.minLength?.value ?? 0, d.exactLength?.value ?? 0);
  const max = Math.min(d.maxLength?.value ?? Infinity, d.exactLength?.value ?? Infinity);
  return (v) => {
    if (!Array.isArray(v) || v.length < min || v.length > max) return UNSURE;
    const out: unknown[] = new Array(v.length);
    for (let i = 0; i < v.length; i++) {
      const r = item(v[i]);
      if (r === UNSURE) return UNSURE;
      out[i] = r;
    }
    return out;
  };
}

function objectChecker(s: z.AnyZodObject): Checker | undefined {
  const d = s._def;
  if (d.catchall._def.typeName !== z.ZodFirstPartyTypeKind.ZodNever) return undefined;
  const strict = d.unknownKeys === "strict";
  if (!strict && d.unknownKeys !== "strip") return undefined;
  const shape = s.shape as Record<string, z.ZodTypeAny>;
  const keys = Object.keys(shape);
  const checks: Checker[] = [];
  for (const k of keys) {
    const c = build(shape[k]!);
    if (!c) return undefined;
    checks.push(c);
  }
  const known = new Set(keys);
  return (v) => {
    if (!isPlainObject(v)) return UNSURE;
    // zod: every enumerable key (own or inherited) not in the shape is an unrecognized key
    if (strict) for (const k in v) if (!known.has(k)) return UNSURE;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const r = checks[i]!(v[k]);
      if (r === UNSURE) return UNSURE;
      // as zod's merge: a key given (even as undefined) is kept, an absent one left out
      if (r !== undefined || k in v) out[k] = r;
    }
    return out;
  };
}

function recordChecker(s: z.ZodRecord): Checker | undefined {
  const keyDef = s._def.keyType._def as { typeName?: string; checks?: unknown[]; coerce?: boolean };
  if (keyDef.typeName !== z.ZodFirstPartyTypeKind.ZodString || keyDef.checks?.length || keyDef.coerce) return undefined;
  const value = build(s._def.valueType);
  if (!value) return undefined;
  return (v) => {
    if (!isPlainObject(v)) return UNSURE;
    const out: Record<string, unknown> = {};
    for (const k in v) {
      // zod leaves a `__proto__` key out: zod decides
      if (k === "__proto__") return UNSURE;
      const r = value(v[k]);
      if (r === UNSURE) return UNSURE;
      out[k] = r;
    }
    return out;
  };
}

function refinementChecker(s: z.ZodEffects<z.ZodTypeAny>): Checker | undefined {
  const effect = s._def.effect;
  if (effect.type !== "refinement") return undefined;
  const inner = build(s._def.schema);
  if (!inner) return undefined;
  const refine = effect.refinement as (v: unknown, ctx: RefineCtx) => unknown;
  return (v) => {
    const r = inner(v);
    if (r === UNSURE) return UNSURE;
    const ctx = new RefineCtx();
    const ok = refine(r, ctx);
    if (ctx.issue || ok instanceof Promise) return UNSURE;
    return r;
  };
}
