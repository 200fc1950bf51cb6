import { z } from "zod";
import { defineTool } from "../types.js";
import { pageSize, pageToken, resourceId } from "./common.js";

/** CompatibleEndpoint in the spec. */
const ENDPOINTS = ["chat", "embed", "classify", "summarize", "rerank", "rate", "generate"] as const;

export const list_models = defineTool({
  name: "list_models",
  title: "List models",
  group: "models",
  access: "read",
  method: "GET",
  path: "/v1/models",
  apiVersion: "v1",
  description:
    "List the Cohere models this key can use, optionally only those for one endpoint (or just its default model). " +
    "Returns models[] (name, endpoints, context_length, features) and next_page_token: pass it as page_token for more.",
  input: z
    .object({
      page_size: pageSize(1000, 20),
      page_token: pageToken,
      endpoint: z.enum(ENDPOINTS).optional().describe("Only models usable with this endpoint"),
      default_only: z.boolean().optional().describe("Only the endpoint's default model (needs endpoint)"),
    })
    .strict()
    .superRefine((v, ctx) => {
      if (v.default_only !== undefined && v.endpoint === undefined) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["default_only"],
          message: "default_only is only valid together with endpoint",
        });
      }
    }),
  resource: (i) => (i.endpoint ? `models for ${i.endpoint}` : "models"),
});

export const get_model = defineTool({
  name: "get_model",
  title: "Get a model",
  group: "models",
  access: "read",
  method: "GET",
  path: "/v1/models/{model}",
  apiVersion: "v1",
  description:
    "Get one model's details by name: endpoints it supports, context_length, features, is_deprecated, tokenizer_url. " +
    "Use list_models to find names.",
  input: z
    .object({
      model: resourceId("Model name, e.g. command-a-03-2025"),
    })
    .strict(),
  resource: (i) => `model ${i.model}`,
});
