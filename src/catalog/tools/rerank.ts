import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { LATEST } from "../models.js";
import { priority, shown, counted } from "./common.js";
import { shapeRerank } from "../../shape/ranking.js";

export const rerank = defineTool({
  name: "rerank",
  title: "Rerank documents",
  group: "rerank",
  access: "read",
  method: "POST",
  path: "/v2/rerank",
  apiVersion: "v2",
  description:
    "Order documents by relevance to a query (Rerank v2): {index, relevance_score}, best first. " +
    "Billed per search unit; rate limited.",
  input: z
    .object({
      model: z.string().min(1).describe(`e.g. ${LATEST.rerank}`),
      query: z.string().min(1).refine((q) => q.trim() !== "", "must not be only whitespace"),
      documents: z
        .array(z.string())
        .min(1)
        .max(10000)
        .describe("≤1,000 advised; objects as YAML"),
      top_n: z.number().int().min(1).optional().describe("Only the best N"),
      max_tokens_per_doc: z.number().int().min(1).optional().describe("Default 4096"),
      priority,
    })
    .strict(),
  resource: (i) => `${counted(i.documents.length, "document")} with ${shown(i.model)}`,
  shape: shapeRerank,
  output: { results: "array" },
  budgetHint: "Ask for fewer results (top_n).",
});
