/**
 * The catalog: every Cohere operation as a tool record, in one ordered list.
 * Order is the order agents see in tools/list (most useful first). One record per Cohere
 * operation, plus the composite wait_for_* tools (records with a `poll` hook).
 */
import type { ToolDef } from "./types.js";
import { chat } from "./tools/chat.js";
import { embed } from "./tools/embed.js";
import { rerank } from "./tools/rerank.js";
import { classify } from "./tools/classify.js";
import { tokenize, detokenize } from "./tools/tokenize.js";
import { list_models, get_model } from "./tools/models.js";
import { check_api_key } from "./tools/account.js";
import { transcribe_audio } from "./tools/audio.js";
import { parse } from "./tools/parse.js";
import { create_dataset, list_datasets, get_dataset_usage, get_dataset, delete_dataset } from "./tools/datasets.js";
import { create_embed_job, list_embed_jobs, get_embed_job, cancel_embed_job } from "./tools/embed_jobs.js";
import { create_batch, list_batches, get_batch, cancel_batch } from "./tools/batches.js";
import {
  list_finetuned_models,
  create_finetuned_model,
  update_finetuned_model,
  get_finetuned_model,
  delete_finetuned_model,
  list_finetuning_events,
  list_training_step_metrics,
} from "./tools/finetuning.js";
import {
  list_connectors,
  create_connector,
  get_connector,
  update_connector,
  delete_connector,
  authorize_connector_oauth,
} from "./tools/connectors.js";
import { chat_v1, generate, summarize, embed_v1, rerank_v1 } from "./tools/legacy.js";
import { wait_for_embed_job, wait_for_batch, wait_for_finetuned_model } from "./tools/wait.js";

export const CATALOG: readonly ToolDef[] = [
  chat,
  embed,
  rerank,
  tokenize,
  detokenize,
  list_models,
  get_model,
  check_api_key,
  transcribe_audio,
  parse,
  list_datasets,
  get_dataset,
  get_dataset_usage,
  create_dataset,
  delete_dataset,
  list_embed_jobs,
  get_embed_job,
  wait_for_embed_job,
  create_embed_job,
  cancel_embed_job,
  list_batches,
  get_batch,
  wait_for_batch,
  create_batch,
  cancel_batch,
  classify,
  list_finetuned_models,
  get_finetuned_model,
  wait_for_finetuned_model,
  list_finetuning_events,
  list_training_step_metrics,
  create_finetuned_model,
  update_finetuned_model,
  delete_finetuned_model,
  list_connectors,
  get_connector,
  create_connector,
  update_connector,
  authorize_connector_oauth,
  delete_connector,
  chat_v1,
  generate,
  summarize,
  embed_v1,
  rerank_v1,
];

export const BY_NAME: ReadonlyMap<string, ToolDef> = new Map(CATALOG.map((t) => [t.name, t]));
