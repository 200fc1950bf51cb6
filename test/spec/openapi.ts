/**
 * Cohere's OpenAPI spec (the copy in bench/fixtures, identical to /work/shared/cohere) as JSON
 * Schema validators, with ONLY the spec defects listed in ENDPOINTS.md ("Spec problems") worked
 * around. Every workaround is recorded in `patches`, and the fidelity test fails if a workaround
 * fires anywhere the list does not name, so a new spec defect (or an emulator bug hidden by an
 * over-broad workaround) cannot slip through.
 *
 *   defect 1/2  discriminated oneOf whose branches share one enum (and the v2 stream union that
 *               leaves out the citation events): rebuilt from discriminator.mapping with a const tag;
 *               where the shared enum does not even hold a tag the mapping names (v1 chat's
 *               ChatStreamEvent lacks tool-calls-generation and tool-calls-chunk), the mapping wins
 *               and the tag is added to that enum (recorded as "discriminator-enum")
 *   defect 3    `required` names that are not among `properties` (LogprobItem, the embed
 *               responses' api_version, GenerateStreamEnd.finish_response, token_likelihoods[].id,
 *               CreateConnectorOAuth's camelCase names, UpdateFinetunedModel's finetuned_model)
 *   defect 7    formats: int32/int64/float/double/binary/uuid/date-time (ajv-formats + our own)
 *   defect 8    YAML loaded with the `yaml` core schema (dates in examples stay strings)
 *   validator   components/schemas/TruncationStrategy has `oneOf: []` and is unused: removed
 *   parse       the spec has Parse's response schemas but no /v2/parse: test/spec/parse.ts adds the
 *               path and ParseRequest (from Cohere's reference and cohere-ai 8.1.0); ParsePage's
 *               mapping names a schema the spec lacks (raw_generation): the entry is dropped
 *               (recorded as "dangling-mapping")
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Ajv2020Module, { type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { parse } from "yaml";
import { supplementParse } from "./parse.js";

// ajv and ajv-formats are CommonJS: their default export arrives wrapped under NodeNext
const Ajv2020 = (Ajv2020Module as unknown as { default?: typeof Ajv2020Module }).default ?? Ajv2020Module;
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

export const SPEC_PATH = fileURLToPath(new URL("../../bench/fixtures/cohere-openapi.yaml", import.meta.url));

type Json = Record<string, unknown>;

export interface Patch {
  defect: "discriminator" | "discriminator-enum" | "dangling-mapping" | "required-not-in-properties" | "empty-oneOf";
  /** JSON pointer of the schema that was rewritten */
  where: string;
  detail: string;
}

/** Where ENDPOINTS.md says defect 3 lives (schema name, or a path under one). */
export const LISTED_REQUIRED_DEFECTS: readonly RegExp[] = [
  /^#\/components\/schemas\/LogprobItem$/,
  /^#\/components\/schemas\/EmbedFloatsResponse$/,
  /^#\/components\/schemas\/EmbedByTypeResponse$/,
  /^#\/components\/schemas\/GenerateStreamEnd(\/|$)/,
  /^#\/components\/schemas\/SingleGeneration\/.*token_likelihoods/,
  /^#\/components\/schemas\/CreateConnectorOAuth$/,
  /^#\/paths\/~1v1~1finetuning~1finetuned-models~1\{id\}\/patch\/requestBody/,
];

const esc = (k: string) => k.replace(/~/g, "~0").replace(/\//g, "~1");

function isObj(v: unknown): v is Json {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/** Walks every object in the document, children first. */
function walk(node: unknown, pointer: string, visit: (o: Json, pointer: string) => void): void {
  if (Array.isArray(node)) node.forEach((v, i) => walk(v, `${pointer}/${i}`, visit));
  else if (isObj(node)) {
    for (const [k, v] of Object.entries(node)) walk(v, `${pointer}/${esc(k)}`, visit);
    visit(node, pointer);
  }
}

/** The tag property's enum in a branch (or in what the branch's allOf refers to). */
function widenTagEnum(doc: Json, ref: string, prop: string, key: string, patches: Patch[], depth = 0): void {
  if (depth > 4 || !ref.startsWith("#/")) return;
  let node: unknown = doc;
  for (const part of ref.slice(2).split("/")) node = isObj(node) ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  if (!isObj(node)) return;
  const tag = isObj(node.properties) ? (node.properties as Json)[prop] : undefined;
  if (isObj(tag) && Array.isArray(tag.enum) && !tag.enum.includes(key)) {
    tag.enum = [...(tag.enum as unknown[]), key];
    patches.push({ defect: "discriminator-enum", where: `${ref}/properties/${prop}`, detail: key });
  }
  for (const part of Array.isArray(node.allOf) ? node.allOf : []) {
    if (isObj(part) && typeof part.$ref === "string") widenTagEnum(doc, part.$ref, prop, key, patches, depth + 1);
  }
}

/** The object a local `#/…` reference points to, or undefined. */
function resolve(doc: Json, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let node: unknown = doc;
  for (const part of ref.slice(2).split("/")) node = isObj(node) ? node[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
  return node;
}

export interface LoadedSpec {
  doc: Json;
  patches: Patch[];
  /** A validator for the schema at a JSON pointer in the (patched) document. */
  validator(pointer: string): ValidateFunction;
  /** The (patched) object at a JSON pointer. */
  at(pointer: string): unknown;
}

let cached: LoadedSpec | undefined;

export function loadSpec(): LoadedSpec {
  if (cached) return cached;
  const doc = parse(readFileSync(SPEC_PATH, "utf8")) as Json;
  const patches: Patch[] = [];
  supplementParse(doc);

  const schemas = (doc.components as Json).schemas as Json;
  const trunc = schemas.TruncationStrategy as Json | undefined;
  if (trunc && Array.isArray(trunc.oneOf) && trunc.oneOf.length === 0) {
    delete schemas.TruncationStrategy;
    patches.push({ defect: "empty-oneOf", where: "#/components/schemas/TruncationStrategy", detail: "oneOf: [] (unused)" });
  }

  walk(doc, "#", (o, pointer) => {
    // defect 1/2: discriminator with mapping → one branch per mapping key, tag pinned by const
    const disc = o.discriminator as { propertyName?: string; mapping?: Record<string, string> } | undefined;
    if (isObj(disc) && disc.propertyName && isObj(disc.mapping) && Array.isArray(o.oneOf)) {
      const prop = disc.propertyName;
      for (const [key, ref] of Object.entries(disc.mapping)) {
        if (resolve(doc, ref) !== undefined) continue;
        delete disc.mapping[key];
        patches.push({ defect: "dangling-mapping", where: pointer, detail: `${key} → ${ref}` });
      }
      o.oneOf = Object.entries(disc.mapping).map(([key, ref]) => ({
        allOf: [{ $ref: ref }, { type: "object", required: [prop], properties: { [prop]: { const: key } } }],
      }));
      delete o.discriminator;
      patches.push({ defect: "discriminator", where: pointer, detail: `${prop}: ${Object.keys(disc.mapping).join(", ")}` });
      for (const [key, ref] of Object.entries(disc.mapping)) widenTagEnum(doc, ref, prop, key, patches);
    }
    // defect 3: required names that are not properties
    if (Array.isArray(o.required) && isObj(o.properties) && !o.allOf) {
      const props = o.properties;
      const missing = (o.required as string[]).filter((r) => !Object.hasOwn(props, r));
      if (missing.length) {
        o.required = (o.required as string[]).filter((r) => Object.hasOwn(props, r));
        patches.push({ defect: "required-not-in-properties", where: pointer, detail: missing.join(", ") });
      }
    }
  });

  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  const intIn = (min: number, max: number) => ({ type: "number" as const, validate: (n: number) => Number.isInteger(n) && n >= min && n <= max });
  ajv.addFormat("int32", intIn(-(2 ** 31), 2 ** 31 - 1));
  ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat("float", { type: "number", validate: () => true });
  ajv.addFormat("double", { type: "number", validate: () => true });
  ajv.addFormat("binary", () => true);
  ajv.addSchema({ ...doc, $id: "cohere" });

  const compiled = new Map<string, ValidateFunction>();
  const at = (pointer: string): unknown => {
    let node: unknown = doc;
    for (const raw of pointer.replace(/^#\/?/, "").split("/").filter(Boolean)) {
      const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
      node = isObj(node) || Array.isArray(node) ? (node as Json)[key] : undefined;
    }
    return node;
  };
  cached = {
    doc,
    patches,
    at,
    validator(pointer) {
      let v = compiled.get(pointer);
      if (!v) {
        if (at(pointer) === undefined) throw new Error(`no schema at ${pointer}`);
        v = ajv.compile({ $ref: `cohere${pointer}` });
        compiled.set(pointer, v);
      }
      return v;
    },
  };
  return cached;
}

/** "#/paths/~1v2~1chat/post" for POST /v2/chat. */
export function opPointer(method: string, path: string): string {
  return `#/paths/${esc(path)}/${method.toLowerCase()}`;
}

/** Ajv errors as short lines: `/message/content/0 must have required property 'text'`. */
export function errorsText(v: ValidateFunction, max = 8): string {
  const all = v.errors ?? [];
  // a union's other branches fail on their tag (const) and the union itself (oneOf): noise
  // next to the matching branch's real problem, so left out when there is one
  const real = all.filter((e) => e.keyword !== "const" && e.keyword !== "oneOf");
  return (real.length ? real : all)
    .slice(0, max)
    .map((e) => `${e.instancePath || "/"} ${e.message ?? ""}${e.params && "allowedValues" in e.params ? ` ${JSON.stringify(e.params.allowedValues)}` : ""}`)
    .join("; ");
}
