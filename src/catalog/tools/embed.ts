import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { LATEST } from "../models.js";
import { EMBED_HINT, EMBED_OUTPUT, embedInputType, embeddingTypes, explainUnion, imageDataUri, outputDimensionSupported, priority, returnVectors, truncate, shown, counted } from "./common.js";
import { shapeEmbeddings } from "../../shape/embed.js";

/** Cohere accepts at most 96 texts, images or inputs per call. */
const EMBED_MAX_INPUTS = 96;
const tooMany = (what: string) => `at most ${EMBED_MAX_INPUTS} ${what} per call; split into several calls`;

/* Spec: EmbedInput { content: EmbedContent[] }, EmbedContent discriminated on `type`. */
const embedInput = z
  .object({
    content: z
      .array(
        z.discriminatedUnion("type", [
          z.object({ type: z.literal("text"), text: z.string() }).strict(),
          z.object({ type: z.literal("image_url"), image_url: z.object({ url: z.string().min(1) }).strict() }).strict(),
        ]),
      )
      .min(1),
  })
  .strict();

export const embed = defineTool({
  name: "embed",
  title: "Embed texts or images",
  group: "embed",
  access: "read",
  method: "POST",
  path: "/v2/embed",
  apiVersion: "v2",
  description:
    "Embeddings (Embed v2) of one of `texts`, `images` or `inputs` (≤96); a summary unless return_vectors. " +
    "Billed per token; rate limited.",
  input: z
    .object({
      model: z.string().min(1).describe(`e.g. ${LATEST.embed}`),
      input_type: embedInputType.describe("search_document to index, search_query to search"),
      texts: z.array(z.string()).min(1).max(EMBED_MAX_INPUTS, tooMany("texts")).optional(),
      images: z
        .array(imageDataUri)
        .min(1)
        .max(EMBED_MAX_INPUTS, tooMany("images"))
        .optional()
        .describe("Data URIs (jpeg, png, webp, gif)"),
      inputs: z
        .array(embedInput)
        .min(1)
        .max(EMBED_MAX_INPUTS, tooMany("inputs"))
        .optional()
        .describe("Mixed text and image inputs"),
      max_tokens: z.number().int().min(1).optional().describe("Per input"),
      output_dimension: z
        .union([z.literal(256), z.literal(512), z.literal(1024), z.literal(1536)], {
          errorMap: explainUnion("256, 512, 1024 or 1536"),
        })
        .optional()
        .describe("embed-v4+; default 1536"),
      embedding_types: embeddingTypes,
      truncate,
      priority,
      return_vectors: returnVectors,
    })
    .strict()
    .superRefine((i, ctx) => {
      const given = (["texts", "images", "inputs"] as const).filter((k) => i[k] !== undefined);
      if (given.length !== 1) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: given.length ? [given[1] ?? given[0]] : [],
          message:
            given.length === 0
              ? "give one of `texts`, `images` or `inputs`"
              : `give only one of \`texts\`, \`images\` or \`inputs\` (got ${given.join(" and ")})`,
        });
      }
      if (i.output_dimension !== undefined && !outputDimensionSupported(i.model)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["output_dimension"],
          message: `${i.model} does not take output_dimension (embed-v4.0 and newer only); leave it out`,
        });
      }
    }),
  resource: (i) => `${counted((i.texts ?? i.images ?? i.inputs ?? []).length, "input")} with ${shown(i.model)}`,
  localKeys: ["return_vectors"],
  shape: (data, i, budget) => shapeEmbeddings(data, i, budget.maxChars),
  output: EMBED_OUTPUT,
  budgetHint: EMBED_HINT,
});
