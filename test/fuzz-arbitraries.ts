/**
 * fast-check arbitraries for tool arguments, derived from the JSON Schema each tool publishes
 * in tools/list (so new tools and new fields are fuzzed without touching this file):
 *
 *   valid(schema)        values that follow the published schema (refinements may still fail)
 *   mutated(schema)      a valid object with one thing broken: a required key dropped, a wrong
 *                        type, an unknown or prototype-pollution key, a huge string, deep nesting
 *   adversarial(schema)  objects made of the tool's own keys and hostile values
 */
import fc from "fast-check";

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema | JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  pattern?: string;
  format?: string;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

export const PROTO_KEYS = ["__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"];

/** Strings that have broken parsers, path builders and loggers before. */
export const NASTY_STRINGS = [
  "",
  " ",
  ".",
  "..",
  "../..",
  "../../v1/datasets",
  "%2e%2e",
  "%2F",
  "a/b",
  "a?b=c",
  "a#b",
  "a\u0000b",
  "\u0000",
  "\u202e\u0066\u0064\u0070", // RTL override
  "\u200b",
  "\ufeff",
  "\u2028\u2029",
  "\ud800", // lone surrogate
  "\udfff\ud800",
  "𝕮𝖔𝖍𝖊𝖗𝖊",
  "👩‍👩‍👧‍👦",
  "ﬁ",
  "Ａ",
  "null",
  "undefined",
  "NaN",
  "-1",
  "1e309",
  "true",
  "{}",
  "[]",
  '{"__proto__":{"polluted":1}}',
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "${jndi:ldap://x}",
  "{{7*7}}",
  "Bearer x",
  "\r\nX-Injected: 1",
  "%s%s%s%n",
  "\\",
  "\t\n\r",
];

const huge = fc.constantFrom(70_000, 300_000, 1_000_000).map((n) => "x".repeat(n));

/** An array or object nested `depth` levels deep. */
export function nested(depth: number, kind: "array" | "object"): unknown {
  let v: unknown = "leaf";
  for (let i = 0; i < depth; i++) v = kind === "array" ? [v] : { a: v };
  return v;
}

/** An object with an OWN property named like a prototype key (as JSON.parse makes it). */
export function withOwnKey(base: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
  Object.defineProperty(out, key, { value, enumerable: true, configurable: true, writable: true });
  return out;
}

const unicodeString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(...NASTY_STRINGS),
);

/** Any hostile JSON value. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 3, arbitrary: unicodeString },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: fc.integer({ min: 50, max: 3000 }).chain((d) => fc.constantFrom(nested(d, "array"), nested(d, "object"))) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      null,
      true,
      false,
      0,
      -0,
      -1,
      1.5,
      Number.MAX_SAFE_INTEGER + 2,
      -Number.MAX_VALUE,
      1e308,
      [],
      {},
      [null],
      [[]],
      { "": "" },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS).chain((k) => fc.constant(withOwnKey({}, k, { polluted: true }))) },
);

function types(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (s.type) return [s.type];
  return [];
}

function stringFor(s: JsonSchema): fc.Arbitrary<string> {
  if (s.pattern) {
    try {
      return fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length >= (s.minLength ?? 0) && x.length <= (s.maxLength ?? 10_000));
    } catch {
      /* fall through */
    }
  }
  if (s.format === "date-time") return fc.date({ noInvalidDate: true, min: new Date(0), max: new Date(4102444800000) }).map((d) => d.toISOString());
  if (s.format === "uri") return fc.webUrl();
  const min = s.minLength ?? 0;
  const max = Math.max(min, Math.min(s.maxLength ?? min + 24, min + 200));
  const nasty = NASTY_STRINGS.filter((x) => x.length >= min && x.length <= max);
  return fc.oneof(
    { weight: 5, arbitrary: fc.string({ minLength: min, maxLength: max }) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", minLength: min, maxLength: max }) },
    ...(nasty.length ? [{ weight: 1, arbitrary: fc.constantFrom(...nasty) }] : []),
  );
}

function numberFor(s: JsonSchema, integer: boolean): fc.Arbitrary<number> {
  const exMin = typeof s.exclusiveMinimum === "number" ? s.exclusiveMinimum : undefined;
  const exMax = typeof s.exclusiveMaximum === "number" ? s.exclusiveMaximum : undefined;
  let min = s.minimum ?? (exMin !== undefined ? exMin + (integer ? 1 : 1e-9) : -1e6);
  let max = s.maximum ?? (exMax !== undefined ? exMax - (integer ? 1 : 1e-9) : 1e6);
  if (s.exclusiveMinimum === true) min += integer ? 1 : 1e-9;
  if (s.exclusiveMaximum === true) max -= integer ? 1 : 1e-9;
  if (integer) return fc.integer({ min: Math.ceil(Math.max(min, -(2 ** 31))), max: Math.floor(Math.min(max, 2 ** 31)) });
  return fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
}

/** Values that follow the schema (as far as JSON Schema says; zod refinements may still refuse). */
export function valid(s: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null);
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => valid(a, depth + 1)));
  const ts = types(s);
  if (ts.length > 1) return fc.oneof(...ts.map((t) => valid({ ...s, type: t }, depth)));
  switch (ts[0]) {
    case "string":
      return stringFor(s);
    case "integer":
      return numberFor(s, true);
    case "number":
      return numberFor(s, false);
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const item = Array.isArray(s.items) ? fc.oneof(...s.items.map((i) => valid(i, depth + 1))) : valid(s.items ?? {}, depth + 1);
      const minLength = s.minItems ?? 0;
      const maxLength = Math.max(minLength, Math.min(s.maxItems ?? minLength + 4, minLength + 4));
      return fc.array(item, { minLength, maxLength });
    }
    case "object":
      return objectFor(s, depth);
    default:
      if (s.properties) return objectFor(s, depth);
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function objectFor(s: JsonSchema, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const props = s.properties ?? {};
  const keys = Object.keys(props);
  if (!keys.length) {
    if (s.additionalProperties === false) return fc.constant({});
    return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
  }
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const k of keys) model[k] = valid(props[k]!, depth + 1);
  return fc.record(model, { requiredKeys: (s.required ?? []).filter((k) => k in props) }) as fc.Arbitrary<Record<string, unknown>>;
}

export type Mutation = "drop-required" | "wrong-type" | "unknown-key" | "proto-key" | "huge-string" | "deep-nesting" | "unicode";

/** A valid object with exactly one thing broken. */
export function mutated(s: JsonSchema): fc.Arbitrary<{ args: Record<string, unknown>; mutation: Mutation }> {
  const props = Object.keys(s.properties ?? {});
  const base = valid(s) as fc.Arbitrary<Record<string, unknown>>;
  const pick = props.length ? fc.constantFrom(...props) : fc.constant("x");
  const mutations: fc.Arbitrary<{ args: Record<string, unknown>; mutation: Mutation }>[] = [
    fc.tuple(base, pick, hostileValue).map(([b, k, v]) => ({ args: { ...b, [k]: v }, mutation: "wrong-type" as const })),
    fc.tuple(base, fc.string({ minLength: 1, maxLength: 12 }), hostileValue).map(([b, k, v]) => ({
      args: withOwnKey(b, k, v),
      mutation: "unknown-key" as const,
    })),
    fc.tuple(base, fc.constantFrom(...PROTO_KEYS), hostileValue).map(([b, k, v]) => ({
      args: withOwnKey(b, k, v),
      mutation: "proto-key" as const,
    })),
    fc.tuple(base, pick, huge).map(([b, k, v]) => ({ args: { ...b, [k]: v }, mutation: "huge-string" as const })),
    fc.tuple(base, pick, fc.integer({ min: 100, max: 2500 }), fc.boolean()).map(([b, k, d, arr]) => ({
      args: { ...b, [k]: nested(d, arr ? "array" : "object") },
      mutation: "deep-nesting" as const,
    })),
    fc.tuple(base, pick, unicodeString).map(([b, k, v]) => ({ args: { ...b, [k]: v }, mutation: "unicode" as const })),
  ];
  const required = s.required ?? [];
  if (required.length) {
    mutations.push(
      fc.tuple(base, fc.constantFrom(...required)).map(([b, k]) => {
        const out = { ...b };
        delete out[k];
        return { args: out, mutation: "drop-required" as const };
      }),
    );
  }
  return fc.oneof(...mutations);
}

/** Objects built from the tool's own keys, prototype keys and random keys, all with hostile values. */
export function adversarial(s: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const props = Object.keys(s.properties ?? {});
  const key = fc.oneof(
    { weight: 4, arbitrary: props.length ? fc.constantFrom(...props) : fc.constant("x") },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) },
    { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 10 }) },
  );
  return fc.array(fc.tuple(key, hostileValue), { maxLength: 6 }).map((pairs) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of pairs) Object.defineProperty(out, k, { value: v, enumerable: true, configurable: true, writable: true });
    return out;
  });
}

export type FuzzCase = { tool: string; args: Record<string, unknown>; kind: string };

/** One case for one of the tools: a third valid, a third mutated, a third adversarial (roughly). */
export function anyCase(tools: ReadonlyArray<{ name: string; inputSchema: JsonSchema }>): fc.Arbitrary<FuzzCase> {
  return fc.constantFrom(...tools).chain((t) =>
    fc.oneof(
      { weight: 3, arbitrary: valid(t.inputSchema).map((args) => ({ tool: t.name, args: args as Record<string, unknown>, kind: "valid" })) },
      { weight: 4, arbitrary: mutated(t.inputSchema).map(({ args, mutation }) => ({ tool: t.name, args, kind: mutation })) },
      { weight: 2, arbitrary: adversarial(t.inputSchema).map((args) => ({ tool: t.name, args, kind: "adversarial" })) },
    ),
  );
}
