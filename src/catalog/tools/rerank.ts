import { z } from "zod";
import { defineTool } from "../types.js";
import { priority } from "./common.js";

export const rerank = defineTool({
  name: "rerank",
  title: "Rerank documents",
  group: "rerank",
  access: "read",
  method: "POST",
  path: "/v2/rerank",
  apiVersion: "v2",
  description:
    "Order documents by relevance to a query (Cohere Rerank v2). Use after a search to keep the best hits. " +
    "Returns results as {index, relevance_score}, best first; index points into `documents`. " +
    "Billed per search unit; rate limited (Trial 10/min).",
  input: z
    .object({
      model: z.string().min(1).describe("Rerank model, e.g. rerank-v3.5"),
      query: z.string().min(1).describe("The search query"),
      documents: z
        .array(z.string())
        .min(1)
        .max(10000)
        .describe("Texts to rank against the query (≤1,000 recommended; format structured data as YAML)"),
      top_n: z.number().int().min(1).optional().describe("Return only the best N results"),
      max_tokens_per_doc: z.number().int().min(1).optional().describe("Truncate each document to N tokens (default 4096)"),
      priority,
    })
    .strict(),
  resource: (i) => `${i.documents.length} documents with ${i.model}`,
});
