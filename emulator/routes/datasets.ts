/** Datasets: multipart upload (validated JSONL), list with filters, usage, get, delete. */
import * as S from "../schemas.js";
import type { DatasetRec } from "../state.js";
import type { ParsedMultipart } from "../util.js";
import { json, notFound, type Ctx, type Route } from "./types.js";
import { qnum, qstr } from "./common.js";
import { E404 } from "../cohere-errors.js";

export function createDataset(ctx: Ctx, opts: { name: string; type: string; files: ParsedMultipart["files"] }): DatasetRec {
  const st = ctx.state;
  const id = `ds-${st.next()}`;
  const now = st.now();
  const keep = ctx.query.keep_fields;
  const parts: Array<Record<string, unknown>> = [];
  let bytes = 0;
  let validationError: string | undefined;
  Object.entries(opts.files).forEach(([field, f], index) => {
    const lines = f.text.split(/\r?\n/).filter((l) => l.trim() !== "");
    bytes += f.size;
    const isJsonl = /\.jsonl$/i.test(f.filename ?? "") || (f.contentType ?? "").includes("jsonl");
    if (isJsonl && ctx.query.skip_malformed_input !== "true" && !validationError) {
      const bad = lines.findIndex((l) => {
        try {
          JSON.parse(l);
          return false;
        } catch {
          return true;
        }
      });
      if (bad >= 0) validationError = `${field}: line ${bad + 1} is not valid JSON`;
    }
    parts.push({ id: `${id}-part-${index}`, name: f.filename || field, index, size_bytes: f.size, num_rows: lines.length, samples: lines.slice(0, 3) });
  });
  const dataset: DatasetRec["dataset"] = {
    id,
    name: opts.name,
    created_at: now,
    updated_at: now,
    dataset_type: opts.type,
    validation_status: validationError ? "failed" : "validated",
    schema: "",
    required_fields: opts.type === "embed-input" ? ["text"] : [],
    preserve_fields: keep === undefined ? [] : Array.isArray(keep) ? keep : [keep],
    dataset_parts: parts,
    validation_warnings: [],
  };
  if (validationError) dataset.validation_error = validationError;
  const rec = { dataset, bytes };
  st.datasets.set(id, rec);
  return rec;
}

function getDatasetRec(ctx: Ctx, id: string): DatasetRec {
  const rec = ctx.state.datasets.get(id);
  if (!rec) notFound(E404.dataset(id));
  return rec!;
}

const datasetId = { id: /^(?!usage$).+$/ };

export const DATASET_ROUTES: Route[] = [
  {
    op: "create-dataset",
    method: "POST",
    path: "/v1/datasets",
    body: "multipart",
    query: {
      name: { type: "string", required: true },
      type: { type: "string", enum: S.DATASET_TYPES, required: true },
      keep_original_file: { type: "boolean" },
      skip_malformed_input: { type: "boolean" },
      keep_fields: { type: "string[]" },
      optional_fields: { type: "string[]" },
      text_separator: { type: "string" },
      csv_delimiter: { type: "string" },
    },
    form: { fields: {}, files: { data: { required: true }, eval_data: {} } },
    handle: (ctx) => {
      const rec = createDataset(ctx, { name: qstr(ctx, "name")!, type: qstr(ctx, "type")!, files: ctx.multipart!.files });
      return json({ id: rec.dataset.id });
    },
  },
  {
    op: "list-datasets",
    method: "GET",
    path: "/v1/datasets",
    body: "none",
    query: {
      datasetType: { type: "string" },
      before: { type: "string", dateTime: true },
      after: { type: "string", dateTime: true },
      limit: { type: "number", minimum: 0 },
      offset: { type: "number", minimum: 0 },
      validationStatus: { type: "string", enum: S.DATASET_VALIDATION_STATUSES },
    },
    handle: (ctx) => {
      const type = qstr(ctx, "datasetType");
      const status = qstr(ctx, "validationStatus");
      const before = qstr(ctx, "before");
      const after = qstr(ctx, "after");
      let list = [...ctx.state.datasets.values()].map((r) => r.dataset);
      if (type) list = list.filter((d) => d.dataset_type === type);
      if (status) list = list.filter((d) => d.validation_status === status);
      if (before) list = list.filter((d) => Date.parse(d.created_at) < Date.parse(before));
      if (after) list = list.filter((d) => Date.parse(d.created_at) > Date.parse(after));
      const offset = qnum(ctx, "offset") ?? 0;
      const limit = qnum(ctx, "limit");
      list = list.slice(offset, limit === undefined ? undefined : offset + limit);
      return json({ datasets: list });
    },
  },
  {
    op: "get-dataset-usage",
    method: "GET",
    path: "/v1/datasets/usage",
    body: "none",
    handle: (ctx) => json({ organization_usage: [...ctx.state.datasets.values()].reduce((n, r) => n + r.bytes, 0) }),
  },
  {
    op: "get-dataset",
    method: "GET",
    path: "/v1/datasets/{id}",
    body: "none",
    paramPatterns: datasetId,
    handle: (ctx) => json({ dataset: getDatasetRec(ctx, ctx.params.id!).dataset }),
  },
  {
    op: "delete-dataset",
    method: "DELETE",
    path: "/v1/datasets/{id}",
    body: "none",
    paramPatterns: datasetId,
    handle: (ctx) => {
      getDatasetRec(ctx, ctx.params.id!);
      ctx.state.datasets.delete(ctx.params.id!);
      return json({});
    },
  },
];
