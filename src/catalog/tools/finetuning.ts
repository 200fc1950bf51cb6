import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { nameOf, pageToken, resourceId, quoted, shown } from "./common.js";

/** BaseType in the spec. */
const BASE_TYPES = [
  "BASE_TYPE_UNSPECIFIED",
  "BASE_TYPE_GENERATIVE",
  "BASE_TYPE_CLASSIFICATION",
  "BASE_TYPE_RERANK",
  "BASE_TYPE_CHAT",
] as const;
/** Strategy in the spec (both real values are deprecated). */
const STRATEGIES = ["STRATEGY_UNSPECIFIED", "STRATEGY_VANILLA", "STRATEGY_TFEW"] as const;
/** LoraTargetModules in the spec. */
const LORA_TARGET_MODULES = [
  "LORA_TARGET_MODULES_UNSPECIFIED",
  "LORA_TARGET_MODULES_QV",
  "LORA_TARGET_MODULES_QKVO",
  "LORA_TARGET_MODULES_QKVO_FFN",
] as const;

const count = z.number().int().min(0).optional();
const rate = z.number().min(0).optional();

/** Settings in the spec, without its read-only fields (base_model.version, multi_label). */
const settings = z
  .object({
    base_model: z
      .object({
        base_type: z.enum(BASE_TYPES).describe("Kind of model, e.g. BASE_TYPE_CHAT"),
        name: z.string().min(1).optional().describe("Base model name"),
        strategy: z.enum(STRATEGIES).optional().describe("Deprecated"),
      })
      .strict(),
    dataset_id: z.string().min(1).describe("Id of a validated *-finetune-input dataset"),
    hyperparameters: z
      .object({
        early_stopping_patience: count,
        early_stopping_threshold: rate,
        train_batch_size: count,
        train_epochs: count,
        learning_rate: rate,
        lora_alpha: count,
        lora_rank: count,
        lora_target_modules: z.enum(LORA_TARGET_MODULES).optional(),
      })
      .strict()
      .optional()
      .describe("Training hyperparameters (omit for defaults)"),
    wandb: z
      .object({
        project: z.string().min(1),
        api_key: z.string().min(1),
        entity: z.string().min(1).optional(),
      })
      .strict()
      .optional()
      .describe("Weights & Biases logging (chat only)"),
  })
  .strict();

const ftName = z.string().min(1).describe("Fine-tuned model name");
const ftId = resourceId("Fine-tuned model id");
/** Spec: int32, 0 means the default of 50. */
const ftPageSize = z.number().int().min(0).optional().describe("Items per page (0 or unset: 50)");
const orderBy = z.string().min(1).optional().describe('Sort, e.g. "created_at desc" (default created_at)');

export const list_finetuned_models = defineTool({
  name: "list_finetuned_models",
  title: "List fine-tuned models",
  group: "finetuning",
  access: "read",
  method: "GET",
  path: "/v1/finetuning/finetuned-models",
  apiVersion: "v1",
  deprecated: true,
  description:
    "List your fine-tuned models (deprecated API) with status and settings. " +
    "Returns finetuned_models[], total_size and next_page_token: pass it as page_token for more.",
  input: z.object({ page_size: ftPageSize, page_token: pageToken, order_by: orderBy }).strict(),
  resource: () => "fine-tuned models",
  output: { finetuned_models: "array", next_page_token: "string" },
});

export const create_finetuned_model = defineTool({
  name: "create_finetuned_model",
  title: "Fine-tune a model",
  group: "finetuning",
  access: "write",
  method: "POST",
  path: "/v1/finetuning/finetuned-models",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Train and deploy a custom model on a validated fine-tune dataset (deprecated API). Paid: training is billed per token and can take hours. " +
    "Returns {finetuned_model}: poll get_finetuned_model until status is STATUS_READY (or STATUS_FAILED); list_finetuning_events shows progress.",
  input: z.object({ name: ftName, settings }).strict(),
  resource: (i) => `fine-tuned model ${quoted(i.name)} on dataset ${shown(i.settings.dataset_id)}`,
  output: { finetuned_model: "object" },
});

export const update_finetuned_model = defineTool({
  name: "update_finetuned_model",
  title: "Update a fine-tuned model",
  group: "finetuning",
  access: "write",
  method: "PATCH",
  path: "/v1/finetuning/finetuned-models/{id}",
  apiVersion: "v1",
  deprecated: true,
  idempotent: true,
  description:
    "Rename or reconfigure a fine-tuned model (deprecated API). Full replacement: send name and the complete settings " +
    "(read them with get_finetuned_model first). Returns {finetuned_model}.",
  input: z.object({ id: ftId, name: ftName, settings }).strict(),
  resource: (i) => `fine-tuned model ${shown(i.id)}`,
  output: { finetuned_model: "object" },
});

export const get_finetuned_model = defineTool({
  name: "get_finetuned_model",
  title: "Get a fine-tuned model",
  group: "finetuning",
  access: "read",
  method: "GET",
  path: "/v1/finetuning/finetuned-models/{id}",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Get one fine-tuned model (deprecated API): status (STATUS_QUEUED, STATUS_FINETUNING, STATUS_READY, STATUS_FAILED, ...), settings and timestamps. " +
    "Poll it after create_finetuned_model until STATUS_READY (usable) or STATUS_FAILED.",
  input: z.object({ id: ftId }).strict(),
  resource: (i) => `fine-tuned model ${shown(i.id)}`,
  output: { finetuned_model: "object" },
});

export const delete_finetuned_model = defineTool({
  name: "delete_finetuned_model",
  title: "Delete a fine-tuned model",
  group: "finetuning",
  access: "destructive",
  method: "DELETE",
  path: "/v1/finetuning/finetuned-models/{id}",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Permanently delete a fine-tuned model (deprecated API); it can no longer be used and this cannot be undone.",
  input: z.object({ id: ftId }).strict(),
  resource: (i) => `fine-tuned model ${shown(i.id)}`,
  confirmLookup: { path: "/v1/finetuning/finetuned-models/{id}", name: (d) => nameOf(d, "finetuned_model") },
});

export const list_finetuning_events = defineTool({
  name: "list_finetuning_events",
  title: "List fine-tuning events",
  group: "finetuning",
  access: "read",
  method: "GET",
  path: "/v1/finetuning/finetuned-models/{finetuned_model_id}/events",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Status history of a fine-tuned model (deprecated API), newest first: use it to see why training failed or how far it got. " +
    "Returns events[], total_size and next_page_token: pass it as page_token for more.",
  input: z
    .object({
      finetuned_model_id: resourceId("Fine-tuned model id"),
      page_size: ftPageSize,
      page_token: pageToken,
      order_by: orderBy,
    })
    .strict(),
  resource: (i) => `fine-tuned model ${shown(i.finetuned_model_id)}`,
  output: { events: "array", next_page_token: "string" },
});

export const list_training_step_metrics = defineTool({
  name: "list_training_step_metrics",
  title: "List training step metrics",
  group: "finetuning",
  access: "read",
  method: "GET",
  path: "/v1/finetuning/finetuned-models/{finetuned_model_id}/training-step-metrics",
  apiVersion: "v1",
  deprecated: true,
  description:
    "Evaluation metrics (name → value) per training step of a fine-tuned model (deprecated API), latest step first. " +
    "Returns step_metrics[] and next_page_token: pass it as page_token for more.",
  input: z
    .object({
      finetuned_model_id: resourceId("Fine-tuned model id"),
      page_size: ftPageSize,
      page_token: pageToken,
    })
    .strict(),
  resource: (i) => `fine-tuned model ${shown(i.finetuned_model_id)}`,
  output: { step_metrics: "array", next_page_token: "string" },
});
