/**
 * Argument rules from a profile's `arguments`, checked after validation and before anything is
 * sent (a Guard in server.ts's callTool). A violation is a tool error naming the rule; the call
 * is audited as denied with reason `argument_rule`.
 *
 *   models        every `model` argument must match one of these globs (a call that leaves
 *                 `model` out, so Cohere would pick one, is refused too). get_model, which only
 *                 looks a model up, is exempt. A fine-tune's settings.base_model.name is checked
 *                 when given.
 *   max_documents rerank / rerank_v1: at most this many documents.
 *   max_inputs    embed / embed_v1 (texts + images + inputs) and classify (inputs).
 *   max_tokens    chat / chat_v1 / generate: max_tokens must be given and at most this.
 *   max_input_chars   every tool: total characters of every string value in the arguments
 *                 (texts, documents, messages, inline file content, ...), however nested, so one
 *                 1 MB document counts as much as a thousand small ones. Files named by path are
 *                 bounded by --max-file-bytes instead.
 *   max_content_parts every tool: items of every `content` array in the arguments (embed
 *                 `inputs[].content`, chat `messages[].content`); a plain-string content is one.
 *   dataset_ids   dataset ids a call names (datasets tools' `id`, `dataset_id`,
 *                 `input_dataset_id`, a fine-tune's settings.dataset_id) must match a glob.
 *   job_ids       embed job / batch / fine-tuned model ids a call names (`id` in those groups,
 *                 `finetuned_model_id`) must match a glob.
 */
import { z } from "zod/v3";
import type { ToolDef } from "../catalog/types.js";
import type { ArgumentRules, ConfigFile } from "../config/file.js";
import type { AgentScope, Guard } from "./types.js";

export interface RuleViolation {
  rule: keyof ArgumentRules;
  /** What is wrong, without the preamble. */
  problem: string;
}

const MODEL_LOOKUPS = new Set(["get_model"]);
const DOC_TOOLS = new Set(["rerank", "rerank_v1"]);
const INPUT_TOOLS = new Set(["embed", "embed_v1", "classify"]);
const TOKEN_TOOLS = new Set(["chat", "chat_v1", "generate"]);
const JOB_GROUPS = new Set(["embed_jobs", "batches", "finetuning"]);

const globCache = new Map<string, RegExp>();
function globRe(glob: string): RegExp {
  let re = globCache.get(glob);
  if (!re) {
    const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    re = new RegExp(`^${escaped}$`, "s");
    globCache.set(glob, re);
  }
  return re;
}

export function matchesAny(value: string, globs: readonly string[]): boolean {
  return globs.some((g) => globRe(g).test(value));
}

const keyCache = new WeakMap<ToolDef, ReadonlySet<string>>();
/** Top-level input keys of a tool's schema (through .superRefine / .transform wrappers). */
export function inputKeys(tool: ToolDef): ReadonlySet<string> {
  let keys = keyCache.get(tool);
  if (keys) return keys;
  let s: z.ZodTypeAny = tool.input as unknown as z.ZodTypeAny;
  for (let i = 0; i < 8; i++) {
    if (s instanceof z.ZodEffects) s = s.innerType();
    else if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap();
    else if (s instanceof z.ZodDefault) s = s.removeDefault();
    else break;
  }
  keys = new Set(s instanceof z.ZodObject ? Object.keys(s.shape as Record<string, unknown>) : []);
  keyCache.set(tool, keys);
  return keys;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const quote = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);

/** Dataset ids a call names. */
export function datasetIds(tool: ToolDef, input: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (tool.group === "datasets" && str(input.id)) out.push(input.id as string);
  for (const k of ["dataset_id", "input_dataset_id"]) if (str(input[k])) out.push(input[k] as string);
  const settings = obj(input.settings);
  if (settings && str(settings.dataset_id)) out.push(settings.dataset_id as string);
  return out;
}

/** Embed job, batch and fine-tuned model ids a call names. */
export function jobIds(tool: ToolDef, input: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (JOB_GROUPS.has(tool.group) && str(input.id)) out.push(input.id as string);
  if (str(input.finetuned_model_id)) out.push(input.finetuned_model_id as string);
  return out;
}

/** The id allowlists: the rule, the ids a call names, and what they are called in a refusal. */
const ID_RULES = [
  ["dataset_ids", datasetIds, "dataset"],
  ["job_ids", jobIds, "job"],
] as const;

type Walked = Record<string, unknown> | unknown[];

/**
 * Total characters of every string value in the arguments, and content parts (items of every
 * array under a `content` key; a string `content` is one part). Iterative: validated input is
 * bounded, but deep nesting must not cost a stack.
 */
export function measureInput(input: Record<string, unknown>): { chars: number; parts: number } {
  let chars = 0;
  let parts = 0;
  const stack: Walked[] = [input];
  while (stack.length) {
    const node = stack.pop()!;
    const entries: Array<[string | number, unknown]> = Array.isArray(node) ? node.map((v, i) => [i, v]) : Object.entries(node);
    for (const [key, v] of entries) {
      if (key === "content") parts += Array.isArray(v) ? v.length : typeof v === "string" ? 1 : 0;
      if (typeof v === "string") chars += v.length;
      else if (v && typeof v === "object") stack.push(v as Walked);
    }
  }
  return { chars, parts };
}

/** The first rule a call breaks, or undefined. */
export function checkArguments(
  rules: ArgumentRules,
  tool: ToolDef,
  input: Record<string, unknown>,
): RuleViolation | undefined {
  if (rules.models && !MODEL_LOOKUPS.has(tool.name)) {
    const allowed = rules.models.join(", ") || "(none)";
    if (inputKeys(tool).has("model")) {
      const model = str(input.model);
      if (model === undefined) {
        return { rule: "models", problem: `this agent must name its model (one of: ${allowed}); call again with "model" set` };
      }
      if (!matchesAny(model, rules.models)) {
        return { rule: "models", problem: `model ${quote(model)} is not allowed for this agent (allowed: ${allowed})` };
      }
    }
    const base = str(obj(obj(input.settings)?.base_model)?.name);
    if (base !== undefined && !matchesAny(base, rules.models)) {
      return { rule: "models", problem: `base model ${quote(base)} is not allowed for this agent (allowed: ${allowed})` };
    }
  }
  if (rules.max_documents !== undefined && DOC_TOOLS.has(tool.name)) {
    const n = len(input.documents);
    if (n > rules.max_documents) {
      return { rule: "max_documents", problem: `${n} documents given, at most ${rules.max_documents} allowed; split the call` };
    }
  }
  if (rules.max_inputs !== undefined && INPUT_TOOLS.has(tool.name)) {
    const n = len(input.texts) + len(input.images) + len(input.inputs);
    if (n > rules.max_inputs) {
      return { rule: "max_inputs", problem: `${n} inputs given, at most ${rules.max_inputs} allowed; split the call` };
    }
  }
  if (rules.max_input_chars !== undefined || rules.max_content_parts !== undefined) {
    const { chars, parts } = measureInput(input);
    if (rules.max_input_chars !== undefined && chars > rules.max_input_chars) {
      return {
        rule: "max_input_chars",
        problem: `the arguments hold ${chars} characters of text, at most ${rules.max_input_chars} allowed per call; send less text or split the call`,
      };
    }
    if (rules.max_content_parts !== undefined && parts > rules.max_content_parts) {
      return {
        rule: "max_content_parts",
        problem: `${parts} content parts given, at most ${rules.max_content_parts} allowed per call; send fewer parts or split the call`,
      };
    }
  }
  if (rules.max_tokens !== undefined && TOKEN_TOOLS.has(tool.name)) {
    const m = input.max_tokens;
    if (typeof m !== "number") {
      return { rule: "max_tokens", problem: `set max_tokens (at most ${rules.max_tokens}) and call again` };
    }
    if (m > rules.max_tokens) {
      return { rule: "max_tokens", problem: `max_tokens ${m} is above this agent's limit of ${rules.max_tokens}` };
    }
  }
  for (const [rule, idsOf, what] of ID_RULES) {
    const allowed = rules[rule];
    if (!allowed) continue;
    const bad = idsOf(tool, input).find((id) => !matchesAny(id, allowed));
    if (bad !== undefined) {
      return { rule, problem: `${what} ${quote(bad)} is not one this agent may use (allowed: ${allowed.join(", ") || "(none)"})` };
    }
  }
  return undefined;
}

export function violationMessage(v: RuleViolation, profile: string): string {
  return `Refused by argument rule "${v.rule}" of profile "${profile}": ${v.problem}. Nothing was sent to Cohere.`;
}

/** The Guard that applies the scope's profile's `arguments`. */
export function argumentGuard(config: ConfigFile | undefined): Guard {
  return {
    check(scope: AgentScope, tool: ToolDef, input: Record<string, unknown>) {
      const rules = scope.profile ? config?.profiles[scope.profile]?.arguments : undefined;
      if (!rules) return { ok: true };
      const v = checkArguments(rules, tool, input);
      if (!v) return { ok: true };
      return {
        ok: false,
        reason: "argument_rule",
        message: violationMessage(v, scope.profile!),
        detail: `${v.rule} of profile "${scope.profile}": ${v.problem}`,
      };
    },
  };
}
