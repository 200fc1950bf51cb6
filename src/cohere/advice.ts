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
  // the rest of the errors page's texts an agent can act on (docs/cohere-sources.md, "Error texts")
  {
    status: 400,
    re: /a model parameter is required/i,
    advice: () => "Name a `model` (list_models with endpoint set to what you are calling lists them) and call again.",
  },
  {
    status: 400,
    re: /total number of texts must be at most (\d+) - received (\d+)/i,
    advice: (m) => `Send at most ${m[1]} texts per call (this call had ${m[2]}): split them into several calls.`,
  },
  {
    status: 400,
    re: /temperature must be between 0 and ([\d.]+)/i,
    advice: (m) => `Set temperature between 0 and ${m[1]} (or leave it out) and call again.`,
  },
  {
    status: 400,
    re: /presence_penalty must be between 0 and (\d+)/i,
    advice: (m) => `Set presence_penalty between 0 and ${m[1]} (or leave it out) and call again.`,
  },
  {
    status: 400,
    re: /images must be used with input_type=image/i,
    advice: () => "Set input_type to image when embedding `images` (embed texts and images in separate calls) and call again.",
  },
  {
    status: 400,
    re: /rank_fields cannot be empty/i,
    advice: () => "Leave rank_fields out to rank on each document's `text`, or name at least one field, and call again.",
  },
  {
    status: 400,
    re: /document does not have a 'snippet' or a 'text' field/i,
    advice: () => "Give every document a `text` field, or name the fields to rank on in rank_fields, and call again.",
  },
  {
    status: 400,
    re: /tool names can only contain certain characters.*?\(provided name: '([^']*)'\)/i,
    advice: (m) => `Rename the tool "${m[1]}" to letters, digits and _ only, not starting with a digit (e.g. "${m[1]!.replace(/[^A-Za-z0-9_]/g, "_")}"), and call again.`,
  },
  {
    status: 400,
    re: /tool call id not found in previous tool calls/i,
    advice: () => "Each tool message's tool_call_id must be the id of a tool call in an earlier assistant message: copy the ids from the assistant's tool_calls and call again.",
  },
  {
    status: 400,
    re: /tool call id must be provided with tool message/i,
    advice: () => "Give every tool message the tool_call_id of the assistant's tool call it answers, then call again.",
  },
  {
    status: 400,
    re: /cannot have duplicate tool ids/i,
    advice: () => "Every tool call in the conversation needs an id of its own: make the repeated ids unique (and their tool messages' tool_call_id with them) and call again.",
  },
  {
    status: 400,
    re: /duplicate document ID (.+) at index (\d+) and (\d+)/i,
    advice: (m) => `Documents ${m[3]} and ${m[2]} share the id "${m[1]}": give each document its own id (or leave ids out) and call again.`,
  },
  {
    status: 400,
    re: /Invalid role in chat_history at index (\d+)/i,
    advice: (m) => `chat_history[${m[1]}] has an unknown role: use USER, CHATBOT, SYSTEM or TOOL and call again.`,
  },
  {
    status: 400,
    re: /all elements in history must have a message/i,
    advice: () => "Every USER, CHATBOT and SYSTEM turn in chat_history needs a `message`: fill it in or drop the turn, then call again.",
  },
  {
    status: 400,
    re: /text must be longer than (\d+) characters/i,
    advice: (m) => `Summarize takes texts longer than ${m[1]} characters: give a longer text, or use the chat tool for a short one.`,
  },
  {
    status: 404,
    re: /connector '([^']*)' not found/i,
    advice: (m) => `No connector "${m[1]}" is available to this key: call list_connectors and use one of the ids it returns.`,
  },
  {
    status: 404,
    re: /dataset with id (\S+) not found/i,
    advice: (m) => `No dataset "${m[1]}" is available to this key: call list_datasets and use one of the ids it returns.`,
  },
  {
    status: 404,
    re: /finetuned model (\S+) not found/i,
    advice: (m) => `No fine-tuned model "${m[1]}" is available to this key: call list_finetuned_models and use one of the ids it returns.`,
  },
  {
    status: 402,
    re: /Maximum billing reached for this API key/i,
    advice: () =>
      "This key reached the maximum bill set for it in the Cohere dashboard: the operator must raise it (dashboard → billing), or wait for it to reset at the start of next month.",
  },
  {
    status: 401,
    re: /Your API key has expired/i,
    advice: () => "The Cohere API key has expired (Trial keys do): the operator must create a Production key and set it as CO_API_KEY.",
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
