/**
 * Generation limits and per-token data, shared by chat v1/v2 and generate: a reply is cut at
 * the first stop sequence (finish STOP_SEQUENCE) and at max_tokens output tokens (finish
 * MAX_TOKENS), so billed output tokens always equal the tokens returned; logprobs are one
 * LogprobItem per piece of text (one per streamed content-delta).
 */
import { chunkWords, tokenize } from "./util.js";

export type Finish = "COMPLETE" | "MAX_TOKENS" | "STOP_SEQUENCE";

export interface LimitOptions {
  maxTokens?: number;
  stopSequences?: readonly string[];
  /** generate's stop_sequences keep the sequence in the text; chat's and end_sequences do not. */
  keepStop?: boolean;
}

/** The text as a model bound by these limits returns it, and why it ended. */
export function applyLimits(text: string, o: LimitOptions): { text: string; finish: Finish } {
  let out = text;
  let finish: Finish = "COMPLETE";
  let cut = -1;
  let cutLen = 0;
  for (const s of o.stopSequences ?? []) {
    if (!s) continue;
    const i = out.indexOf(s);
    if (i >= 0 && (cut < 0 || i < cut)) {
      cut = i;
      cutLen = s.length;
    }
  }
  if (cut >= 0) {
    out = out.slice(0, o.keepStop ? cut + cutLen : cut);
    finish = "STOP_SEQUENCE";
  }
  if (o.maxTokens !== undefined) {
    const { token_strings } = tokenize(out);
    if (token_strings.length > o.maxTokens) {
      out = token_strings.slice(0, o.maxTokens).join("");
      finish = "MAX_TOKENS";
    }
  }
  return { text: out, finish };
}

/** Spec LogprobItem for one piece of text: its tokens and a (deterministic) log probability each. */
export function logprobItem(piece: string): { text: string; token_ids: number[]; logprobs: number[] } {
  const { tokens } = tokenize(piece);
  return { text: piece, token_ids: tokens, logprobs: tokens.map((t) => -((t % 97) / 100 + 0.01)) };
}

/** The pieces a reply is streamed in (about five words each); they join back to the text. */
export const pieces = (text: string): string[] => chunkWords(text);
