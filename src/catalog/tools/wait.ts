/**
 * Composite wait tools: not Cohere operations, but records on the GET of the resource they wait
 * for, with a `poll` hook the executor runs (src/call/poll.ts). Read class; not in the default set
 * (an agent that can start jobs names their group, which brings these along).
 */
import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { resourceId, shown } from "./common.js";

const timeout = z
  .number()
  .int()
  .min(1)
  .max(3600)
  .optional()
  .describe("Seconds to wait at most (default 50; the server may cap it)");

type Obj = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);
const inner = (key: string) => (data: unknown) => {
  const v = (data as Obj | undefined)?.[key];
  return v && typeof v === "object" ? (v as Obj) : undefined;
};

export const wait_for_embed_job = defineTool({
  name: "wait_for_embed_job",
  title: "Wait for an embed job",
  group: "embed_jobs",
  access: "read",
  method: "GET",
  path: "/v1/embed-jobs/{id}",
  apiVersion: "v1",
  defaultVisible: false,
  description:
    "Poll an embed job until it is complete, failed or cancelled, or timeout_s passes; reports each status as progress. " +
    "Returns the job and what to do next (its output_dataset_id for get_dataset).",
  input: z.object({ id: resourceId("Embed job id"), timeout_s: timeout }).strict(),
  localKeys: ["timeout_s"],
  resource: (i) => `embed job ${shown(i.id)}`,
  poll: {
    key: "embed_job",
    pick: (d) => (d && typeof d === "object" ? (d as Obj) : undefined),
    terminal: ["complete", "failed", "cancelled"],
    next: (job, done) => {
      const out = str(job.output_dataset_id);
      if (job.status === "complete") {
        return out ? `Read the embeddings with get_dataset (id: "${out}").` : "Complete; get_embed_job shows its output_dataset_id.";
      }
      if (job.status === "failed") return "The job failed: check the input dataset with get_dataset, then start a new job.";
      if (job.status === "cancelled") return "The job was cancelled; nothing more will be produced.";
      return done ? "" : `Call wait_for_embed_job again to keep waiting, or get_embed_job later.`;
    },
  },
  output: { status: "string", done: "boolean", next: "string", embed_job: "object" },
});

export const wait_for_batch = defineTool({
  name: "wait_for_batch",
  title: "Wait for a batch",
  group: "batches",
  access: "read",
  method: "GET",
  path: "/v2/batches/{id}",
  apiVersion: "v2",
  defaultVisible: false,
  description:
    "Poll a batch until it is completed, failed or canceled, or timeout_s passes; reports each status as progress. " +
    "Returns the batch and what to do next (its output_dataset_id for get_dataset).",
  input: z.object({ id: resourceId("Batch id"), timeout_s: timeout }).strict(),
  localKeys: ["timeout_s"],
  resource: (i) => `batch ${shown(i.id)}`,
  poll: {
    key: "batch",
    pick: inner("batch"),
    terminal: ["BATCH_STATUS_COMPLETED", "BATCH_STATUS_FAILED", "BATCH_STATUS_CANCELED"],
    next: (b, done) => {
      const out = str(b.output_dataset_id);
      const reason = str(b.status_reason);
      if (b.status === "BATCH_STATUS_COMPLETED") {
        return out ? `Read the results with get_dataset (id: "${out}").` : "Completed; get_batch shows its output_dataset_id.";
      }
      if (b.status === "BATCH_STATUS_FAILED") return `The batch failed${reason ? `: ${reason}` : ""}. Fix the input dataset and start a new batch.`;
      if (b.status === "BATCH_STATUS_CANCELED") return "The batch was canceled.";
      return done ? "" : "Call wait_for_batch again to keep waiting, or get_batch later.";
    },
  },
  output: { status: "string", done: "boolean", next: "string", batch: "object" },
});

export const wait_for_finetuned_model = defineTool({
  name: "wait_for_finetuned_model",
  title: "Wait for a fine-tuned model",
  group: "finetuning",
  access: "read",
  method: "GET",
  path: "/v1/finetuning/finetuned-models/{id}",
  apiVersion: "v1",
  deprecated: true,
  defaultVisible: false,
  description:
    "Poll a fine-tuned model (deprecated API) until it is ready, failed, paused or deleted, or timeout_s passes; reports each status as progress. " +
    "Returns the model and what to do next.",
  input: z.object({ id: resourceId("Fine-tuned model id"), timeout_s: timeout }).strict(),
  localKeys: ["timeout_s"],
  resource: (i) => `fine-tuned model ${shown(i.id)}`,
  poll: {
    key: "finetuned_model",
    pick: inner("finetuned_model"),
    terminal: ["STATUS_READY", "STATUS_FAILED", "STATUS_DELETED", "STATUS_PAUSED", "STATUS_TEMPORARILY_OFFLINE"],
    next: (m, done) => {
      const id = str(m.id);
      if (m.status === "STATUS_READY") return `Ready: use it as the model of chat${id ? ` (model: "${id}-ft")` : ""}.`;
      if (m.status === "STATUS_FAILED") return "Training failed: list_finetuning_events shows why.";
      if (done) return `Stopped in ${String(m.status)}.`;
      return "Training can take hours: call wait_for_finetuned_model again, or get_finetuned_model later.";
    },
  },
  output: { status: "string", done: "boolean", next: "string", finetuned_model: "object" },
});
