/**
 * What to do about the Cohere errors an agent can fix itself, recognised by Cohere's own message
 * (the wording of Cohere's errors page). Anything else gets the status's general advice.
 */

interface Rule {
  status: number;
  re: RegExp;
  advice: (m: RegExpExecArray) => string;
}

const RULES: readonly Rule[] = [
  {
    status: 404,
    re: /model '([^']*)' not found/i,
    advice: (m) =>
      `Check the id or model name: no model named "${m[1]}" is available to this key. Call list_models (with endpoint set to ` +
      "what you are calling, e.g. chat) and call again with one of the names it returns.",
  },
  {
    status: 400,
    re: /model '([^']*)' is not supported by the (.+?) API/i,
    advice: (m) =>
      `"${m[1]}" cannot serve the ${m[2]} API: pick a model made for it (list_models with endpoint=${m[2]!.split(" ")[0]}) and call again.`,
  },
  {
    status: 400,
    re: /max tokens must be less than or equal to (\d+)/i,
    advice: (m) => `Lower max_tokens to at most ${m[1]} (this model's output limit), or leave it out, and call again.`,
  },
  {
    status: 400,
    re: /valid input_type must be provided/i,
    advice: () => "Embed v3 and newer models need input_type: search_document to index, search_query to search (or classification, clustering, image); call again with it.",
  },
  {
    status: 400,
    re: /list of documents must not be empty/i,
    advice: () => "Give at least one document to rank, then call again.",
  },
  {
    status: 400,
    re: /query must not be empty/i,
    advice: () => "Give a query with some text in it (not only spaces), then call again.",
  },
  {
    status: 400,
    re: /prompt must be at least 1 token/i,
    advice: () => "Give a prompt with some text in it (not only spaces), then call again.",
  },
  {
    status: 400,
    re: /message must be at least 1 token long or tool results must be specified/i,
    advice: () => "Give a `message` with some text in it, or answer the model's tool calls with `tool_results`, then call again.",
  },
  {
    status: 400,
    re: /message must not be empty in a turn/i,
    advice: () => "Every user and system message needs some content: remove the empty message or fill it in, then call again.",
  },
  {
    status: 400,
    re: /system turn must be the first/i,
    advice: () => "Move the system message to the start of `messages` (before any user, assistant or tool message), then call again.",
  },
  {
    status: 400,
    re: /response_format is not supported with RAG/i,
    advice: () =>
      "Cohere cannot combine JSON output (response_format json_object) with `documents`: drop one of them — " +
      "e.g. ask for the grounded answer first, then for JSON in a second call without documents.",
  },
  {
    status: 400,
    re: /min classes for classify request is 2 - received (\d+)/i,
    advice: (m) =>
      `The examples name ${m[1]} label(s): give examples for at least two different labels (two or more each), ` +
      "or use a fine-tuned classify `model`, then call again.",
  },
];

/** Advice for this Cohere error, or undefined when the status's general advice is all there is. */
export function specificAdvice(status: number, message: string): string | undefined {
  for (const r of RULES) {
    if (r.status !== status) continue;
    const m = r.re.exec(message);
    if (m) return r.advice(m);
  }
  return undefined;
}
