/**
 * Showing values that came from someone else (an upstream-stored name, an agent's id or tool
 * name) to a human: in a confirmation prompt, in an audit sentence. Such a value must not be
 * able to rewrite the text around it, so it is quoted, cut to a bound, and every character that
 * moves the cursor or reorders text is written as a visible escape:
 *
 *   C0 controls U+0000–U+001F, DEL U+007F, C1 controls U+0080–U+009F   → \n \r \t or \u001b …
 *   bidi embeddings/overrides U+202A–U+202E, isolates U+2066–U+2069,
 *   marks U+200E U+200F U+061C                                           → \u202e …
 *   line and paragraph separators U+2028 U+2029                          → \u2028 …
 *   the quote itself and the backslash                                   → \" \\
 */

/** Characters that move the cursor, reorder text or break lines. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, plus what could close a quote around the value. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"\\]/g;

/** The same sets, to test for (most values hold none: then no replace runs). */
const HAS_CONTROL = new RegExp(CONTROLS.source);
const HAS_UNSAFE = new RegExp(UNSAFE.source);

const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\" };

const escape = (c: string): string => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** The value with every control, bidi and separator character (and `"`, `\`) written as an escape. */
export function escapeForHumans(value: string): string {
  return HAS_UNSAFE.test(value) ? value.replace(UNSAFE, escape) : value;
}

/** Only the control, bidi and separator characters escaped: for a phrase of ours that holds a value. */
export function escapeControls(value: string): string {
  return HAS_CONTROL.test(value) ? value.replace(CONTROLS, escape) : value;
}

/** The first `max` characters, never ending inside a surrogate pair. */
export function cutChars(value: string, max: number): string {
  if (value.length <= max) return value;
  let end = Math.max(1, Math.floor(max));
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return value.slice(0, end);
}

/**
 * `"value"`, escaped as escapeForHumans does, and cut to `maxChars` characters of the original
 * (never inside a surrogate pair) with `…` and the original length when longer:
 * `"aaaa…" (3900000 characters)`. `total`: the original length, when `value` is already a cut
 * prefix of it (src/audit/show.ts).
 */
export function quoteForHumans(value: string, maxChars = 200, total = value.length): string {
  const chars = Math.max(1, Math.floor(maxChars));
  if (value.length <= chars && total === value.length) return `"${escapeForHumans(value)}"`;
  return `"${escapeForHumans(cutChars(value, chars))}…" (${total} characters)`;
}
