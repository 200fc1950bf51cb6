/**
 * The tool index that start-up needs, without the zod catalog: names, classes, groups and the
 * ready-made descriptors that `tools/list` sends. It is read from the generated
 * tools.manifest.json (one JSON.parse), so neither the zod schemas nor zod-to-json-schema are
 * loaded before the first tools/list answer. The full records load on the first tools/call.
 *
 * test/catalog.test.ts proves that these descriptors equal what the catalog itself produces,
 * and that the manifest is fresh, so the two can never disagree in a checked-in tree.
 */
import { readFileSync } from "node:fs";
import type { Access, Group, ToolDef } from "./types.js";
import type { ToolAnnotations, ToolDescriptor } from "./describe.js";
import type { PolicyTool } from "../policy/allowlist.js";

/** One tool of tools.manifest.json: the record's plain fields plus its generated descriptor parts. */
export interface ManifestTool extends Pick<ToolDef, "name" | "title" | "group" | "access" | "method" | "path" | "apiVersion" | "description"> {
  deprecated: boolean;
  defaultVisible: boolean;
  annotations: ToolAnnotations;
  inputSchema: ToolDescriptor["inputSchema"];
  outputSchema?: ToolDescriptor["outputSchema"];
}

export interface ToolInfo {
  name: string;
  group: Group;
  access: Access;
  deprecated: boolean;
  /** What the policy needs (deprecated = "kept out of the default set"). */
  policy: PolicyTool;
  descriptor: ToolDescriptor;
}

/** The descriptor clients see, from a manifest entry. Must equal describeTool(record). */
export function descriptorFromManifest(e: ManifestTool): ToolDescriptor {
  const d: ToolDescriptor = {
    name: e.name,
    title: e.title,
    description: e.deprecated ? `[Deprecated] ${e.description}` : e.description,
    inputSchema: e.inputSchema,
    annotations: e.annotations,
  };
  if (e.outputSchema) d.outputSchema = e.outputSchema;
  return d;
}

/** The policy's view of a record: out of the default set when deprecated or marked so. */
export function policyOf(t: Pick<ToolDef, "name" | "group" | "access" | "deprecated" | "defaultVisible">): PolicyTool {
  return {
    name: t.name,
    group: t.group,
    access: t.access,
    deprecated: t.deprecated === true || t.defaultVisible === false,
  };
}

function fromManifest(e: ManifestTool): ToolInfo {
  // A read tool outside the default set is deprecated or marked defaultVisible: false.
  const policy: PolicyTool = {
    name: e.name,
    group: e.group,
    access: e.access,
    deprecated: e.deprecated || (e.access === "read" && !e.defaultVisible),
  };
  return { name: e.name, group: e.group, access: e.access, deprecated: e.deprecated, policy, descriptor: descriptorFromManifest(e) };
}

async function fromCatalog(): Promise<ToolInfo[]> {
  const [{ CATALOG }, { describeTool }] = await Promise.all([import("./index.js"), import("./describe.js")]);
  return CATALOG.map((t) => ({
    name: t.name,
    group: t.group,
    access: t.access,
    deprecated: t.deprecated === true,
    policy: policyOf(t),
    descriptor: describeTool(t),
  }));
}

/** dist/src/catalog/light.js → the package root's tools.manifest.json. */
const MANIFEST_URL = new URL("../../../tools.manifest.json", import.meta.url);

function readManifest(): ManifestTool[] | undefined {
  try {
    const m = JSON.parse(readFileSync(MANIFEST_URL, "utf8")) as { tools?: ManifestTool[] };
    return Array.isArray(m.tools) ? m.tools : undefined;
  } catch {
    return undefined;
  }
}

const manifestTools = readManifest();

/** Every tool, in catalog order. Falls back to the catalog itself when no manifest is shipped. */
export const TOOL_INDEX: readonly ToolInfo[] = manifestTools ? manifestTools.map(fromManifest) : await fromCatalog();

export const TOOL_NAMES: ReadonlySet<string> = new Set(TOOL_INDEX.map((t) => t.name));

let records: Promise<ReadonlyMap<string, ToolDef>> | undefined;

/** The full records (zod schemas, hooks), loaded once, on first need. */
export function loadRecords(): Promise<ReadonlyMap<string, ToolDef>> {
  return (records ??= import("./index.js").then((m) => m.BY_NAME));
}
