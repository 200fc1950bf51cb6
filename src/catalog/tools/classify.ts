import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { truncate, shown, counted } from "./common.js";
import { shapeClassify } from "../../shape/ranking.js";

export const classify = defineTool({
  name: "classify",
  title: "Classify texts",
  group: "classify",
  access: "read",
  method: "POST",
  path: "/v1/classify",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Label each input text using a fine-tuned Classify `model` or few-shot `examples` ({text, label}, ≥2 per label) (Cohere Classify, deprecated by Cohere). " +
    "Returns one classification per input with the predicted label, confidence and per-label scores. " +
    "Billed per call; rate limited (500/min).",
  input: z
    .object({
      inputs: z
        .array(z.string().min(1))
        .min(1)
        .max(96, "at most 96 inputs per call; split into several calls")
        .describe("Texts to classify"),
      examples: z
        .array(z.object({ text: z.string().min(1), label: z.string().min(1) }).strict())
        .max(2500)
        .optional()
        .describe("Labelled examples; not needed with a fine-tuned model"),
      model: z.string().min(1).optional().describe("Fine-tuned Classify model id"),
      truncate,
    })
    .strict()
    .superRefine((i, ctx) => {
      const counts = new Map<string, number>();
      for (const e of i.examples ?? []) counts.set(e.label, (counts.get(e.label) ?? 0) + 1);
      const thin = [...counts].filter(([, n]) => n < 2).map(([label]) => JSON.stringify(label));
      // Cohere's "min classes for classify request is 2": few-shot needs two labels at least
      if (!i.model && counts.size < 2) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["examples"],
          message: `give examples for at least 2 different labels (got ${counts.size}), or a fine-tuned classify \`model\``,
        });
      }
      if (thin.length) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["examples"],
          message: `each label needs at least 2 examples; add more for ${thin.join(", ")}`,
        });
      }
    }),
  resource: (i) => `${counted(i.inputs.length, "input")}${i.model ? ` with ${shown(i.model)}` : ""}`,
  shape: shapeClassify,
  output: { classifications: "array" },
  budgetHint: "Classify fewer inputs per call.",
});
