/**
 * Values that came from a caller (a tool name, an id, a model, a method, an upstream request
 * id), bounded and made safe for the audit log, built on src/audit/text.ts:
 *
 *   showValue   for the `text` sentence: a plain token (letters, digits and `_ . : @ / + ( ) -`,
 *               at most 200 characters) as is — with no space, quote, control or bidi character
 *               it cannot pass for another part of the sentence — and anything else quoted and
 *               escaped as quoteForHumans does: `"aaa…" (4194304 characters)`.
 *   boundValue  for a JSON field: the same escaping without the quotes, cut with `…` and the
 *               original length.
 *   boundPhrase for a phrase of ours that holds caller values (a resource, a refusal detail):
 *               cut, then control/bidi characters escaped (quotes kept).
 *
 * Each takes the original length separately (`total`), so a caller can cut a huge value to a
 * working prefix first (e.g. to redact secrets in it cheaply) and still report its real size.
 */
import { cutChars, escapeControls, escapeForHumans, quoteForHumans } from "./text.js";

/** Longest caller value kept in an audit field or sentence. */
export const AUDIT_VALUE_CHARS = 200;
/** Longest phrase (resource, detail) kept in an audit line: a few bounded values and our words. */
export const AUDIT_PHRASE_CHARS = 600;

const PLAIN = /^[A-Za-z0-9_.:@/+()-]+$/;

/** A plain token is safe to show as is: no space, quote, control or bidi character can be in it. */
export function isPlainToken(value: string, max = AUDIT_VALUE_CHARS): boolean {
  return value.length > 0 && value.length <= max && PLAIN.test(value);
}

const isCut = (value: string, max: number, total: number) => value.length > max || total !== value.length;

/** A caller's value in a sentence: as is when it is a plain token, else quoted and escaped (cut with its length). */
export function showValue(value: string, max = AUDIT_VALUE_CHARS, total = value.length): string {
  return !isCut(value, max, total) && isPlainToken(value, max) ? value : quoteForHumans(value, max, total);
}

/** A caller's value, always quoted and escaped (cut with its length): for messages to the agent. */
export function quoteValue(value: string, max = AUDIT_VALUE_CHARS, total = value.length): string {
  return quoteForHumans(value, max, total);
}

/** A caller's value in a JSON field: escaped (no quotes), cut to `max` with `…` and the original length. */
export function boundValue(value: string, max = AUDIT_VALUE_CHARS, total = value.length): string {
  if (!isCut(value, max, total)) return isPlainToken(value, max) ? value : escapeForHumans(value);
  return `${escapeForHumans(cutChars(value, max))}… (${total} characters)`;
}

/** A phrase of ours holding caller values: cut to `max` with `…` and the original length, controls escaped. */
export function boundPhrase(value: string, max = AUDIT_PHRASE_CHARS, total = value.length): string {
  if (!isCut(value, max, total)) return escapeControls(value);
  return `${escapeControls(cutChars(value, max))}… (${total} characters)`;
}
