/**
 * Tool calling the way Cohere's models do it, deterministically: the tools a request needs are
 * chosen from what the user wrote (the tool's name, or enough overlap with its name, description
 * and the values its parameters ask for — so the spec's own "sales summary for 29th September
 * 2023 … 'Electronics' category" example calls both of its tools), several calls per turn, and
 * each call's arguments are filled from the tool's JSON Schema: every required property present,
 * with the type it asks for, taken from the request where it says (dates, quoted names, numbers,
 * enum values).
 */
import { hash32, tokenize, words } from "./util.js";

export interface JsonSchemaLike {
  type?: string | string[];
  properties?: Record<string, JsonSchemaLike>;
  required?: string[];
  items?: JsonSchemaLike;
  enum?: unknown[];
  format?: string;
  description?: string;
  minimum?: number;
}

export interface ToolSpec {
  name: string;
  description: string;
  schema: JsonSchemaLike;
}

/** v2 `tools`: [{type: "function", function: {name, description, parameters}}]. */
export function toolsV2(tools: unknown): ToolSpec[] {
  if (!Array.isArray(tools)) return [];
  return tools
    .map((t) => (t as { function?: { name?: unknown; description?: unknown; parameters?: unknown } }).function)
    .filter((f): f is { name: string; description?: unknown; parameters?: unknown } => typeof f?.name === "string" && f.name.length > 0)
    .map((f) => ({
      name: f.name,
      description: typeof f.description === "string" ? f.description : "",
      schema: (f.parameters && typeof f.parameters === "object" ? f.parameters : {}) as JsonSchemaLike,
    }));
}

/** v1 Python type names in parameter_definitions → JSON Schema types. */
function pyType(t: unknown): string {
  const s = String(t ?? "str").toLowerCase();
  if (/^(int|integer)$/.test(s)) return "integer";
  if (/^(float|number|double)$/.test(s)) return "number";
  if (/^bool/.test(s)) return "boolean";
  if (/^(list|array)/.test(s)) return "array";
  if (/^(dict|object)/.test(s)) return "object";
  return "string";
}

/** v1 `tools`: [{name, description, parameter_definitions: {p: {type, description, required}}}]. */
export function toolsV1(tools: unknown): ToolSpec[] {
  if (!Array.isArray(tools)) return [];
  return (tools as Array<{ name?: unknown; description?: unknown; parameter_definitions?: Record<string, Record<string, unknown>> }>)
    .filter((t) => typeof t.name === "string" && t.name.length > 0)
    .map((t) => {
      const defs = t.parameter_definitions ?? {};
      const properties: Record<string, JsonSchemaLike> = {};
      const required: string[] = [];
      for (const [p, d] of Object.entries(defs)) {
        properties[p] = { type: pyType(d?.type), description: typeof d?.description === "string" ? d.description : undefined };
        if (d?.required === true) required.push(p);
      }
      return { name: t.name as string, description: typeof t.description === "string" ? t.description : "", schema: { type: "object", properties, required } };
    });
}

// ---------------------------------------------------------------------------------------------
// Values found in the user's text

const MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];

/** The first date the text names, as YYYY-MM-DD. */
export function findDate(text: string): string | undefined {
  const iso = /\b(\d{4})-(\d{2})-(\d{2})\b/.exec(text);
  if (iso) return iso[0];
  const month = `(${MONTHS.join("|")}|${MONTHS.map((m) => m.slice(0, 3)).join("|")})\\.?`;
  const pad = (n: string | number) => String(n).padStart(2, "0");
  const monthNo = (m: string) => MONTHS.findIndex((x) => x.startsWith(m.toLowerCase().slice(0, 3))) + 1;
  const dmy = new RegExp(`\\b(\\d{1,2})(?:st|nd|rd|th)?(?:\\s+of)?\\s+${month}\\s+(\\d{4})\\b`, "i").exec(text);
  if (dmy) return `${dmy[3]}-${pad(monthNo(dmy[2]!))}-${pad(dmy[1]!)}`;
  const mdy = new RegExp(`\\b${month}\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4})\\b`, "i").exec(text);
  if (mdy) return `${mdy[3]}-${pad(monthNo(mdy[1]!))}-${pad(mdy[2]!)}`;
  return undefined;
}

/** 'Quoted' or "quoted" names in the text, with where they stand. */
function quoted(text: string): Array<{ value: string; at: number }> {
  const out: Array<{ value: string; at: number }> = [];
  const re = /(?:^|[\s(])(['"\u2018\u201c])([^'"\u2019\u201d\n]{1,80})['"\u2019\u201d](?=[\s,.;:!?)]|$)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) out.push({ value: m[2]!, at: m.index });
  return out;
}

/** A number the text names that is not part of a date. */
function findNumber(text: string): number | undefined {
  const date = findDate(text);
  const cleaned = date ? text.replace(/\b\d{1,2}(?:st|nd|rd|th)?\b|\b\d{4}\b/g, " ") : text;
  const m = /(?<![\w.-])(-?\d+(?:\.\d+)?)(?![\w-])/.exec(cleaned);
  return m ? Number(m[1]) : undefined;
}

const STOP = new Set(
  "the a an and or of for to in on at by with from this that these those is are was were be been it its as can you your me my i we our they their them some any also give get please about into for example e.g than then there here what which who how when where will would could should do does did have has had not no yes all each".split(
    " ",
  ),
);

const contentWords = (text: string) => words(text).filter((w) => w.length >= 3 && !STOP.has(w) && !/^\d+(st|nd|rd|th)?$/.test(w));

/** Same word, allowing a plural or other ending (products/product, categories/category). */
const sameWord = (a: string, b: string) => a === b || (a.length >= 5 && b.length >= 5 && a.slice(0, 5) === b.slice(0, 5));

// ---------------------------------------------------------------------------------------------
// Arguments

const typeOf = (s: JsonSchemaLike): string => {
  const t = Array.isArray(s.type) ? s.type.find((x) => x !== "null") : s.type;
  if (t === "str") return "string";
  if (t === "int") return "integer";
  if (t === "float") return "number";
  if (t === "bool") return "boolean";
  return t ?? (s.properties ? "object" : s.items ? "array" : "string");
};

const isDateish = (name: string, s: JsonSchemaLike) =>
  s.format === "date" || s.format === "date-time" || /\b(date|day)\b|yyyy/i.test(`${name.replace(/_/g, " ")} ${s.description ?? ""}`);

/** A value of the schema's type for property `name`, and whether the text actually said it. */
function valueFor(name: string, s: JsonSchemaLike, text: string): { value: unknown; said: boolean } {
  if (Array.isArray(s.enum) && s.enum.length) {
    const hit = s.enum.find((e) => typeof e === "string" && text.toLowerCase().includes(e.toLowerCase()));
    return { value: hit ?? s.enum[0], said: hit !== undefined };
  }
  switch (typeOf(s)) {
    case "integer":
    case "number": {
      const n = findNumber(text);
      if (n !== undefined) return { value: typeOf(s) === "integer" ? Math.trunc(n) : n, said: true };
      return { value: s.minimum ?? 1, said: false };
    }
    case "boolean":
      return { value: true, said: false };
    case "array": {
      const item = valueFor(name, s.items ?? { type: "string" }, text);
      return { value: [item.value], said: item.said };
    }
    case "object":
      return { value: argumentsFor(s, text), said: false };
    default: {
      if (isDateish(name, s)) {
        const d = findDate(text);
        if (d) return { value: s.format === "date-time" ? `${d}T00:00:00Z` : d, said: true };
      }
      const q = quoted(text);
      if (q.length) {
        // the quoted name standing nearest to where the text mentions this property
        const stem = name.toLowerCase().replace(/_/g, " ").slice(0, 5);
        const mention = text.toLowerCase().indexOf(stem);
        const best = mention < 0 ? q[0]! : q.reduce((a, b) => (Math.abs(b.at - mention) < Math.abs(a.at - mention) ? b : a));
        return { value: best.value, said: mention >= 0 || q.length === 1 };
      }
      const ws = contentWords(text).slice(0, 4).join(" ");
      return { value: ws || name, said: false };
    }
  }
}

/** Arguments for a call: every required property, plus the optional ones the text gives a value for. */
export function argumentsFor(schema: JsonSchemaLike, text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const required = new Set(Array.isArray(schema.required) ? schema.required : []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const { value, said } = valueFor(name, prop ?? {}, text);
    if (required.has(name) || said) out[name] = value;
  }
  return out;
}

/** Proper names the text lists (capitalised words not opening a sentence): "Madrid", "Brasilia". */
function properNames(text: string): string[] {
  const out: string[] = [];
  const re = /\p{Lu}[\p{L}'-]+(?:\s+\p{Lu}[\p{L}'-]+)*/gu;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const before = text.slice(0, m.index).trimEnd();
    if (!before || /[.!?:]$/.test(before) || STOP.has(m[0].toLowerCase())) continue;
    if (!out.includes(m[0])) out.push(m[0]);
  }
  return out;
}

/**
 * The arguments of each call of one tool this turn: one call, or one per name when the tool takes
 * a single required string (not a date or an enum) and the text names several ("the weather in
 * Madrid and Brasilia" → two calls, as in Cohere's parallel tool use guide).
 */
export function argumentSets(schema: JsonSchemaLike, text: string): Array<Record<string, unknown>> {
  const props = schema.properties ?? {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const only = required.length === 1 ? required[0]! : undefined;
  const prop = only !== undefined ? props[only] : undefined;
  const names = properNames(text);
  if (only === undefined || !prop || typeOf(prop) !== "string" || Array.isArray(prop.enum) || isDateish(only, prop) || names.length < 2 || quoted(text).length) {
    return [argumentsFor(schema, text)];
  }
  return names.map((name) => ({ ...argumentsFor(schema, text), [only]: name }));
}

// ---------------------------------------------------------------------------------------------
// Which tools

function score(tool: ToolSpec, text: string): number {
  const lower = text.toLowerCase();
  if (lower.includes(tool.name.toLowerCase())) return Infinity;
  const nameWords = contentWords(tool.name.replace(/[_-]+/g, " "));
  const toolWords = [...nameWords, ...contentWords(tool.description)];
  const textWords = contentWords(text);
  const hits = new Set(textWords.filter((w) => toolWords.some((t) => sameWord(w, t))));
  // a word of the tool's own name weighs double
  const nameHit = textWords.some((w) => nameWords.some((t) => sameWord(w, t)));
  // a parameter whose value the text states (a date for a `day`, a quoted category…) counts too
  let said = 0;
  for (const [name, prop] of Object.entries(tool.schema.properties ?? {})) if (valueFor(name, prop ?? {}, text).said) said++;
  return hits.size + (nameHit ? 1 : 0) + Math.min(said, 1);
}

/**
 * The tools this turn calls: those named in the text or scoring at least two signals (words of
 * the tool's name count double, a parameter value the text states counts one);
 * none with tool_choice NONE; at least the best one with tool_choice REQUIRED.
 */
export function chooseTools(text: string, tools: ToolSpec[], choice?: unknown): ToolSpec[] {
  if (!tools.length || choice === "NONE") return [];
  const scored = tools.map((t) => ({ t, s: score(t, text) }));
  const picked = scored.filter((x) => x.s >= 2).map((x) => x.t);
  if (!picked.length && choice === "REQUIRED") return [scored.reduce((a, b) => (b.s > a.s ? b : a)).t];
  return picked;
}

/** Cohere's tool call ids: `<tool name>_<12 lower-case letters and digits>`. */
export function toolCallId(name: string, seed: string): string {
  let n = hash32(`${seed}:${name}`) * 4096 + (hash32(`${name}:${seed}`) % 4096);
  let s = "";
  for (let i = 0; i < 12; i++) {
    s += "abcdefghijklmnopqrstuvwxyz0123456789"[n % 36];
    n = Math.floor(n / 36) || hash32(`${s}:${seed}`);
  }
  return `${name}_${s}`;
}

/** The pieces a call's JSON arguments stream in (tool-call-delta), about three tokens each. */
export function argumentFragments(json: string): string[] {
  const { token_strings } = tokenize(json);
  const out: string[] = [];
  for (let i = 0; i < token_strings.length; i += 3) out.push(token_strings.slice(i, i + 3).join(""));
  return out.length ? out : [json];
}
