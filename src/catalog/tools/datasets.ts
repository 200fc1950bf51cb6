import { z } from "zod/v3";
import { defineTool, type MultipartPart } from "../types.js";
import { base64String, contentTypeFor, fileBytes, fileName, filePath, nameOf, resourceId, quoted, shown } from "./common.js";

/** DatasetType in the spec. */
export const DATASET_TYPES = [
  "embed-input",
  "embed-result",
  "cluster-result",
  "cluster-outliers",
  "reranker-finetune-input",
  "single-label-classification-finetune-input",
  "chat-finetune-input",
  "multi-label-classification-finetune-input",
  "batch-chat-input",
  "batch-openai-chat-input",
  "batch-embed-v2-input",
  "batch-chat-v2-input",
] as const;

/** DatasetValidationStatus in the spec. */
const VALIDATION_STATUSES = ["unknown", "queued", "processing", "failed", "validated", "skipped"] as const;

/** The path's `^(?!usage$)` pattern: `usage` is the usage endpoint, not a dataset. */
const datasetId = resourceId("Dataset id").refine((v) => v !== "usage", "'usage' is not a dataset id");

/** Query keys of create_dataset (everything but the file parts). */
const CREATE_QUERY = [
  "name",
  "type",
  "keep_original_file",
  "skip_malformed_input",
  "keep_fields",
  "optional_fields",
  "text_separator",
  "csv_delimiter",
] as const;

/**
 * File name for an uploaded part when none is given: `<base>.<ext>`, with the extension
 * sniffed from the bytes (Parquet/Avro magic, JSON lines) or from the CSV/text options.
 */
export function defaultDatasetFilename(
  base: string,
  bytes: Uint8Array,
  hints: { csv_delimiter?: string; text_separator?: string },
): string {
  const head = new TextDecoder().decode(bytes.subarray(0, 4));
  if (head === "PAR1") return `${base}.parquet`;
  if (head.startsWith("Obj\u0001")) return `${base}.avro`;
  const first = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart()[0];
  if (first === "{") return `${base}.jsonl`;
  if (hints.csv_delimiter !== undefined) return `${base}.csv`;
  if (hints.text_separator !== undefined) return `${base}.txt`;
  return `${base}.jsonl`;
}

export const create_dataset = defineTool({
  name: "create_dataset",
  title: "Create a dataset",
  group: "datasets",
  access: "write",
  method: "POST",
  path: "/v1/datasets",
  apiVersion: "v1",
  description:
    "Upload a file (text, base64 or a path if allowed; jsonl, csv, txt, parquet, avro) as a Cohere dataset to feed an embed job (type embed-input), a batch (batch-*-input) or a fine-tune. " +
    "Returns {id}; validation runs async: poll get_dataset until validation_status is validated (failed: read validation_error). Storage counts toward the 10 GB org quota.",
  input: z
    .object({
      name: z.string().min(1).describe("Dataset name"),
      type: z.enum(DATASET_TYPES).describe("Dataset type; decides how the data is validated"),
      data_text: z.string().min(1).optional().describe("File content as text (or data_base64, or data_path)"),
      data_base64: base64String.optional().describe("File content as base64 (binary formats)"),
      data_path: filePath,
      data_filename: fileName.optional().describe("File name; extension gives the format (default data.jsonl)"),
      eval_data_text: z.string().min(1).optional().describe("Optional evaluation file, as text"),
      eval_data_base64: base64String.optional().describe("Optional evaluation file, as base64"),
      eval_data_path: filePath,
      eval_data_filename: fileName.optional().describe("Evaluation file name (default eval_data.jsonl)"),
      keep_original_file: z.boolean().optional().describe("Also store the original file"),
      skip_malformed_input: z.boolean().optional().describe("Drop malformed rows (reported as warnings) instead of failing"),
      keep_fields: z.array(z.string().min(1)).optional().describe("Extra fields to keep; validation fails if one is missing"),
      optional_fields: z.array(z.string().min(1)).optional().describe("Extra fields to keep when present"),
      text_separator: z.string().min(1).optional().describe("Splits a .txt upload into entries"),
      csv_delimiter: z.string().min(1).optional().describe("Delimiter of a .csv upload"),
    })
    .strict()
    .superRefine((v, ctx) => {
      const given = (keys: Array<keyof typeof v>) => keys.filter((k) => v[k] !== undefined).length;
      if (given(["data_text", "data_base64", "data_path"]) !== 1) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["data_text"],
          message: "give exactly one of data_text, data_base64 or data_path",
        });
      }
      const evals = given(["eval_data_text", "eval_data_base64", "eval_data_path"]);
      if (evals > 1) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["eval_data_text"],
          message: "give at most one of eval_data_text, eval_data_base64 or eval_data_path",
        });
      }
      if (v.eval_data_filename !== undefined && evals === 0) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ["eval_data_filename"],
          message: "eval_data_filename needs eval_data_text, eval_data_base64 or eval_data_path",
        });
      }
    }),
  query: CREATE_QUERY,
  buildRequest: (i) => {
    const query: Record<string, string | boolean | string[] | undefined> = {};
    for (const key of CREATE_QUERY) query[key] = i[key];

    const hints = { csv_delimiter: i.csv_delimiter, text_separator: i.text_separator };
    const data = fileBytes(i.data_text, i.data_base64);
    const dataName = i.data_filename ?? defaultDatasetFilename("data", data, hints);
    const multipart: MultipartPart[] = [
      { name: "data", value: data, filename: dataName, contentType: contentTypeFor(dataName) },
    ];
    if (i.eval_data_text !== undefined || i.eval_data_base64 !== undefined) {
      const evalData = fileBytes(i.eval_data_text, i.eval_data_base64);
      const evalName = i.eval_data_filename ?? defaultDatasetFilename("eval_data", evalData, hints);
      multipart.push({ name: "eval_data", value: evalData, filename: evalName, contentType: contentTypeFor(evalName) });
    }
    return { query, multipart };
  },
  resource: (i) => `dataset ${quoted(i.name)} (${shown(i.type)})`,
  files: [
    { key: "data_path", into: "data_base64", filename: "data_filename" },
    { key: "eval_data_path", into: "eval_data_base64", filename: "eval_data_filename" },
  ],
  output: { id: "string" },
});

export const list_datasets = defineTool({
  name: "list_datasets",
  title: "List datasets",
  group: "datasets",
  access: "read",
  method: "GET",
  path: "/v1/datasets",
  apiVersion: "v1",
  description:
    "List datasets (id, name, dataset_type, validation_status) by type, status or date; page with offset/limit.",
  input: z
    .object({
      datasetType: z.string().min(1).optional().describe("Dataset type, e.g. embed-input"),
      before: z.string().datetime({ offset: true }).optional().describe("Created before"),
      after: z.string().datetime({ offset: true }).optional().describe("Created after"),
      limit: z.number().int().min(1).optional(),
      offset: z.number().int().min(0).optional(),
      validationStatus: z.enum(VALIDATION_STATUSES).optional(),
    })
    .strict(),
  resource: (i) => (i.datasetType ? `${shown(i.datasetType)} datasets` : "datasets"),
  output: { datasets: "array" },
  nextPage: (d, i) => {
    const n = Array.isArray(d.datasets) ? d.datasets.length : 0;
    return i.limit !== undefined && n >= i.limit
      ? `More may exist: call list_datasets again with offset: ${(i.offset ?? 0) + n}.`
      : undefined;
  },
});

export const get_dataset_usage = defineTool({
  name: "get_dataset_usage",
  title: "Get dataset storage usage",
  group: "datasets",
  access: "read",
  method: "GET",
  path: "/v1/datasets/usage",
  apiVersion: "v1",
  description:
    "Dataset storage the organization uses, in bytes (limit 10 GB).",
  input: z.object({}).strict(),
  resource: () => "dataset storage usage",
  output: { organization_usage: "number" },
});

export const get_dataset = defineTool({
  name: "get_dataset",
  title: "Get a dataset",
  group: "datasets",
  access: "read",
  method: "GET",
  path: "/v1/datasets/{id}",
  apiVersion: "v1",
  description:
    "One dataset: validation_status (poll after create_dataset until validated or failed), validation_error, dataset_parts.",
  input: z.object({ id: datasetId }).strict(),
  resource: (i) => `dataset ${shown(i.id)}`,
  output: { dataset: "object" },
});

export const delete_dataset = defineTool({
  name: "delete_dataset",
  title: "Delete a dataset",
  group: "datasets",
  access: "destructive",
  method: "DELETE",
  path: "/v1/datasets/{id}",
  apiVersion: "v1",
  description:
    "Permanently delete a dataset and free its storage; this cannot be undone (datasets are also auto-deleted after 30 days). " +
    "Returns an empty object.",
  input: z.object({ id: datasetId }).strict(),
  resource: (i) => `dataset ${shown(i.id)}`,
  confirmLookup: { path: "/v1/datasets/{id}", name: (d) => nameOf(d, "dataset") },
});
