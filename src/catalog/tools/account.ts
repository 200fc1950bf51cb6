import { z } from "zod/v3";
import { defineTool } from "../types.js";

export const check_api_key = defineTool({
  name: "check_api_key",
  title: "Check API key",
  group: "account",
  access: "read",
  method: "POST",
  path: "/v1/check-api-key",
  apiVersion: "v1",
  description:
    "Is the configured Cohere key valid? Gives organization_id and owner_id.",
  input: z.object({}).strict(),
  buildRequest: () => ({}),
  resource: () => "API key",
  output: { valid: "boolean" },
});
