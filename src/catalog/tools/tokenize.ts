import { z } from "zod/v3";
import { counted, shown } from "./common.js";
import { defineTool } from "../types.js";
import { shapeTextField } from "../../shape/ranking.js";

const model = z.string().min(1).describe("e.g. command-a-03-2025");

export const tokenize = defineTool({
  name: "tokenize",
  title: "Tokenize text",
  group: "tokenize",
  access: "read",
  method: "POST",
  path: "/v1/tokenize",
  apiVersion: "v1",
  description:
    "Split text into the model's tokens (e.g. to count them). Rate limited.",
  input: z
    .object({
      text: z.string().min(1).max(65536),
      model,
    })
    .strict(),
  resource: (i) => `${counted(i.text.length, "character")} with model ${shown(i.model)}`,
  output: { tokens: "array" },
  budgetHint: "Tokenize a shorter text (split it and add up the counts).",
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
    "Token ids (from tokenize) back to text. Rate limited.",
  input: z
    .object({
      tokens: z.array(z.number().int()).min(1).max(65536),
      model,
    })
    .strict(),
  resource: (i) => `${counted(i.tokens.length, "token")} with model ${shown(i.model)}`,
  shape: shapeTextField("text"),
  output: { text: "string" },
  budgetHint: "Detokenize fewer tokens per call.",
});
