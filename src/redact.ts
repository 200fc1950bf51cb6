/**
 * Redaction of secrets (the Cohere key, every agent token the process knows) from anything that
 * came from upstream or goes to an agent. Rules:
 *
 *   - every occurrence of a secret, and of its JSON-escaped form, becomes [REDACTED];
 *   - redaction happens BEFORE any cut, so a cut never splits a whole secret;
 *   - after a cut, a trailing prefix of ≥ MIN_TAIL characters of a secret is redacted too;
 *   - streamed pieces hold back a trailing possible secret prefix until the next piece shows
 *     whether it completes a secret (StreamRedactor).
 *
 * Secrets shorter than MIN_SECRET are ignored (they would redact ordinary words).
 */

export const REDACTED = "[REDACTED]";
/** Shorter strings are not treated as secrets. */
export const MIN_SECRET = 4;
/** A trailing prefix this long or longer of a secret, left at the end by a cut, is redacted. */
export const MIN_TAIL = 6;

export type Secrets = readonly string[];

const cache = new WeakMap<Secrets, string[]>();

/** The secrets worth matching, with their JSON-escaped forms, longest first. */
function usable(secrets: Secrets): string[] {
  let list = cache.get(secrets);
  if (list) return list;
  const set = new Set<string>();
  for (const s of secrets) {
    if (typeof s !== "string" || s.length < MIN_SECRET) continue;
    set.add(s);
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) set.add(escaped);
  }
  list = [...set].sort((a, b) => b.length - a.length);
  cache.set(secrets, list);
  return list;
}

/** Every occurrence of every secret replaced by [REDACTED]. */
export function redactText(text: string, secrets: Secrets): string {
  let out = text;
  for (const s of usable(secrets)) if (out.includes(s)) out = out.split(s).join(REDACTED);
  return out;
}

/** Does the text hold a whole secret? */
export function holdsSecret(text: string, secrets: Secrets): boolean {
  return usable(secrets).some((s) => text.includes(s));
}

/** Length of the longest suffix of `text` that is a prefix of a secret (at least `min` characters). */
function secretPrefixAtEnd(text: string, list: readonly string[], min: number, proper: boolean): number {
  let best = 0;
  for (const s of list) {
    const max = Math.min(proper ? s.length - 1 : s.length, text.length);
    for (let k = max; k >= Math.max(min, best + 1); k--) {
      if (text.charCodeAt(text.length - k) === s.charCodeAt(0) && text.endsWith(s.slice(0, k))) {
        best = k;
        break;
      }
    }
  }
  return best;
}

/** A trailing prefix of ≥ MIN_TAIL characters of a secret (what a cut can leave) replaced by [REDACTED]. */
export function redactTail(text: string, secrets: Secrets): string {
  const k = secretPrefixAtEnd(text, usable(secrets), MIN_TAIL, false);
  return k ? text.slice(0, text.length - k) + REDACTED : text;
}

/**
 * The first `max` characters of the redacted text (redacted before the cut, the cut's end checked
 * for a secret prefix). Only a window of `max` + the longest secret is redacted, so a huge text
 * costs no more than a short one.
 */
export function cutRedacted(text: string, max: number, secrets: Secrets): string {
  const list = usable(secrets);
  const longest = list[0]?.length ?? 0;
  const window = text.length > max + longest ? text.slice(0, max + longest) : text;
  const red = redactText(window, secrets);
  if (red.length <= max && window.length === text.length) return red;
  return redactTail(red.slice(0, max), secrets);
}

type Node = Record<string, unknown> | unknown[];

/**
 * Redact every string (and object key) of a JSON-like value IN PLACE (the value must be the
 * caller's own, e.g. freshly parsed). Iterative, so a deeply nested hostile body cannot overflow
 * the stack. Returns the value (a string is returned redacted).
 */
export function redactDeep<T>(value: T, secrets: Secrets): T {
  const list = usable(secrets);
  if (!list.length) return value;
  if (typeof value === "string") return redactText(value, secrets) as T;
  if (!value || typeof value !== "object") return value;
  const stack: Node[] = [value as Node];
  const seen = new Set<Node>();
  while (stack.length) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v = node[i];
        if (typeof v === "string") {
          if (list.some((s) => v.includes(s))) node[i] = redactText(v, secrets);
        } else if (v && typeof v === "object") stack.push(v as Node);
      }
      continue;
    }
    for (const key of Object.keys(node)) {
      const v = node[key];
      let k = key;
      if (list.some((s) => key.includes(s))) {
        k = redactText(key, secrets);
        delete node[key];
        node[k] = v;
      }
      if (typeof v === "string") {
        if (list.some((s) => v.includes(s))) node[k] = redactText(v, secrets);
      } else if (v && typeof v === "object") stack.push(v as Node);
    }
  }
  return value;
}

/**
 * Parsed JSON from a raw body, redacted. Skips the walk when the raw text can hold no secret:
 * none appears literally and there is no escape sequence that could spell one.
 */
export function redactParsed<T>(raw: string, parsed: T, secrets: Secrets): T {
  const list = usable(secrets);
  if (!list.length) return parsed;
  if (!raw.includes("\\") && !list.some((s) => raw.includes(s))) return parsed;
  return redactDeep(parsed, secrets);
}

/** Header values with secrets redacted (a proxy may echo the Authorization header anywhere). */
export function redactHeaders(headers: Record<string, string>, secrets: Secrets): Record<string, string> {
  const list = usable(secrets);
  if (!list.length) return headers;
  for (const [k, v] of Object.entries(headers)) if (list.some((s) => v.includes(s))) headers[k] = redactText(v, secrets);
  return headers;
}

/**
 * Streamed text pieces (e.g. a chat's deltas forwarded as progress): a secret split across pieces
 * is redacted too. Each push returns what may be shown now; a trailing part that could be the
 * start of a secret is held back until the next piece (or flush) settles it.
 */
export class StreamRedactor {
  private held = "";
  private readonly list: string[];
  constructor(private readonly secrets: Secrets) {
    this.list = usable(secrets);
  }

  push(piece: string): string {
    if (!this.list.length) return piece;
    const text = redactText(this.held + piece, this.secrets);
    const k = secretPrefixAtEnd(text, this.list, 1, true);
    this.held = k ? text.slice(text.length - k) : "";
    return k ? text.slice(0, text.length - k) : text;
  }

  /** What is still held back (its end is a cut: a long secret prefix there is redacted). */
  flush(): string {
    const rest = this.held;
    this.held = "";
    return rest ? redactTail(rest, this.secrets) : "";
  }
}

/** Values whose JSON was seen to hold none of these secrets (noteClean), by the secrets array. */
const cleanOf = new WeakMap<object, Secrets>();

/**
 * Note that `value`, whose JSON is `json` (just made from it), holds none of the secrets: no
 * secret appears in the JSON, nor its JSON-escaped form, and there is no escape sequence that
 * could spell one (as redactParsed). redactResult then skips walking it, while it is unchanged
 * (the result is made and handed on: nothing changes it in between).
 */
export function noteClean(value: object, json: string, secrets: Secrets): void {
  const list = usable(secrets);
  if (!list.length || json.includes("\\")) return;
  for (const s of list) if (json.includes(s)) return;
  cleanOf.set(value, secrets);
}

/** A tool result with every secret redacted from its text and structuredContent (in place). */
export function redactResult<R extends { content?: unknown; structuredContent?: unknown }>(result: R, secrets: Secrets): R {
  if (!usable(secrets).length) return result;
  redactDeep(result.content, secrets);
  const s = result.structuredContent;
  if (s !== undefined && !(s !== null && typeof s === "object" && cleanOf.get(s) === secrets)) redactDeep(s, secrets);
  return result;
}
