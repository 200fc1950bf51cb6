import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { embedInputType, embeddingTypes, resourceId, shown } from "./common.js";

const jobId = resourceId("Embed job id");

export const create_embed_job = defineTool({
  name: "create_embed_job",
  title: "Start an embed job",
  group: "embed_jobs",
  access: "write",
  method: "POST",
  path: "/v1/embed-jobs",
  apiVersion: "v1",
  description:
    "Start a paid async job that embeds every row of a validated embed-input dataset (from create_dataset); billed per input token like Embed. " +
    "Returns {job_id}: poll get_embed_job until status is complete, then read output_dataset_id with get_dataset.",
  input: z
    .object({
      model: z.string().min(1).describe("Embedding model, e.g. embed-english-v3.0"),
      dataset_id: z.string().min(1).describe("Id of a validated embed-input dataset"),
      input_type: embedInputType.describe("What the texts will be used for"),
      name: z.string().min(1).optional().describe("Job name"),
      embedding_types: embeddingTypes.describe("Embedding formats to return (default float)"),
      truncate: z.enum(["START", "END"]).optional().describe("Which end to cut from over-long inputs (default END)"),
    })
    .strict(),
  resource: (i) => `embed job on dataset ${shown(i.dataset_id)} with model ${shown(i.model)}`,
  output: { job_id: "string" },
});

export const list_embed_jobs = defineTool({
  name: "list_embed_jobs",
  title: "List embed jobs",
  group: "embed_jobs",
  access: "read",
  method: "GET",
  path: "/v1/embed-jobs",
  apiVersion: "v1",
  description:
    "All embed jobs (no paging): job_id, status, input and output dataset ids.",
  input: z.object({}).strict(),
  resource: () => "embed jobs",
  output: { embed_jobs: "array" },
});

export const get_embed_job = defineTool({
  name: "get_embed_job",
  title: "Get an embed job",
  group: "embed_jobs",
  access: "read",
  method: "GET",
  path: "/v1/embed-jobs/{id}",
  apiVersion: "v1",
  description:
    "One embed job: status and, once complete, output_dataset_id (for get_dataset). wait_for_embed_job polls it.",
  input: z.object({ id: jobId }).strict(),
  resource: (i) => `embed job ${shown(i.id)}`,
  output: { status: "string" },
});

export const cancel_embed_job = defineTool({
  name: "cancel_embed_job",
  title: "Cancel an embed job",
  group: "embed_jobs",
  access: "destructive",
  method: "POST",
  path: "/v1/embed-jobs/{id}/cancel",
  apiVersion: "v1",
  description:
    "Stop a running embed job. This cannot be undone: embeddings done so far are still billed and partial results are not kept. " +
    "Returns no body; get_embed_job then shows cancelling/cancelled.",
  input: z.object({ id: jobId }).strict(),
  buildRequest: () => ({}),
  resource: (i) => `embed job ${shown(i.id)}`,
});
