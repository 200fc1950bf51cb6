import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { pageSize, pageToken, resourceId, shown } from "./common.js";

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
    "Models this key can use (optionally for one endpoint): name, endpoints, context_length, features; more: page_token.",
  input: z
    .object({
      page_size: pageSize(1000, 20),
      page_token: pageToken,
      endpoint: z.enum(ENDPOINTS).optional().describe("Only models usable with this endpoint"),
      default_only: z.boolean().optional().describe("The endpoint's default only"),
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
  resource: (i) => (i.endpoint ? `models for ${shown(i.endpoint)}` : "models"),
  output: { models: "array", next_page_token: "string" },
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
    "One model's details by name: endpoints, context_length, features, is_deprecated. list_models gives the names.",
  input: z
    .object({
      model: resourceId("e.g. command-a-03-2025"),
    })
    .strict(),
  resource: (i) => `model ${shown(i.model)}`,
  output: { name: "string" },
});
