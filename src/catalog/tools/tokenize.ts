import { z } from "zod";
import { defineTool } from "../types.js";

const model = z.string().min(1).describe("Model whose tokenizer to use, e.g. command-a-03-2025");

export const tokenize = defineTool({
  name: "tokenize",
  title: "Tokenize text",
  group: "tokenize",
  access: "read",
  method: "POST",
  path: "/v1/tokenize",
  apiVersion: "v1",
  description:
    "Split text into the model's BPE tokens, e.g. to count tokens before a call or to check a context limit. " +
    "Returns tokens (ids) and token_strings. Stores nothing; rate limited.",
  input: z
    .object({
      text: z.string().min(1).max(65536).describe("Text to tokenize (1–65,536 characters)"),
      model,
    })
    .strict(),
  resource: (i) => `${i.text.length} characters with model ${i.model}`,
});

export const detokenize = defineTool({
  name: "detokenize",
  title: "Detokenize tokens",
  group: "tokenize",
  access: "read",
  method: "POST",
  path: "/v1/detokenize",
  apiVersion: "v1",
  description:
    "Turn token ids (as returned by tokenize) back into text with the model's tokenizer. " +
    "Returns {text}. Stores nothing; rate limited.",
  input: z
    .object({
      tokens: z.array(z.number().int()).min(1).max(65536).describe("Token ids to decode"),
      model,
    })
    .strict(),
  resource: (i) => `${i.tokens.length} tokens with model ${i.model}`,
});
