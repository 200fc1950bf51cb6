import { z } from "zod/v3";
import { defineTool } from "../types.js";
import { pageSize, pageToken, resourceId, quoted, shown } from "./common.js";

const batchId = resourceId("Batch id");

export const create_batch = defineTool({
  name: "create_batch",
  title: "Start a batch",
  group: "batches",
  access: "write",
  method: "POST",
  path: "/v2/batches",
  apiVersion: "v2",
  description:
    "Start a paid async batch that runs every request in a validated dataset (type batch-chat-v2-input or batch-embed-v2-input, from create_dataset) through a model; billed for the tokens it processes. " +
    "Returns {batch}: poll get_batch until status is BATCH_STATUS_COMPLETED, then read output_dataset_id with get_dataset.",
  input: z
    .object({
      name: z.string().min(1).describe("Batch name"),
      input_dataset_id: z.string().min(1).describe("Id of the dataset of requests"),
      model: z.string().min(1).describe("Model to run, e.g. command-a-03-2025"),
    })
    .strict(),
  resource: (i) => `batch ${quoted(i.name)} on dataset ${shown(i.input_dataset_id)} with model ${shown(i.model)}`,
  output: { batch: "object" },
});

export const list_batches = defineTool({
  name: "list_batches",
  title: "List batches",
  group: "batches",
  access: "read",
  method: "GET",
  path: "/v2/batches",
  apiVersion: "v2",
  description:
    "List batches with status and record counts. Pass next_page_token as page_token for more.",
  input: z
    .object({
      page_size: pageSize(1000, 50),
      page_token: pageToken,
      order_by: z.enum(["created_at", "updated_at"]).optional(),
    })
    .strict(),
  resource: () => "batches",
  output: { batches: "array", next_page_token: "string" },
});

export const get_batch = defineTool({
  name: "get_batch",
  title: "Get a batch",
  group: "batches",
  access: "read",
  method: "GET",
  path: "/v2/batches/{id}",
  apiVersion: "v2",
  description:
    "One batch: status, counts, status_reason and, once completed, output_dataset_id (for get_dataset). wait_for_batch polls it.",
  input: z.object({ id: batchId }).strict(),
  resource: (i) => `batch ${shown(i.id)}`,
  output: { batch: "object" },
});

export const cancel_batch = defineTool({
  name: "cancel_batch",
  title: "Cancel a batch",
  group: "batches",
  access: "destructive",
  method: "POST",
  path: "/v2/batches/{id}:cancel",
  apiVersion: "v2",
  description:
    "Cancel an in-progress batch. This cannot be undone; tokens already processed may still be billed. " +
    "get_batch then shows BATCH_STATUS_CANCELING, then _CANCELED.",
  input: z.object({ id: batchId }).strict(),
  buildRequest: () => ({}),
  resource: (i) => `batch ${shown(i.id)}`,
});
