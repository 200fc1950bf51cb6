/** Background work: embed jobs (v1) and batches (v2), which advance one step per GET. */
import { findModel, modelWarningHeaders, useModel } from "../models.js";
import * as S from "../schemas.js";
import { ORG_ID, OWNER_ID, type BatchRec, type EmbedJobRec } from "../state.js";
import { uuidFrom } from "../util.js";
import { json, notFound, type Ctx, type Route } from "./types.js";
import { meta, pageOf, qstr, sortByOrder } from "./common.js";
import { createDataset } from "./datasets.js";

function embedJobView(ctx: Ctx, rec: EmbedJobRec, advance: boolean) {
  if (advance) {
    rec.gets++;
    if (rec.job.status === "processing" && rec.gets >= 2) {
      const out = createDataset(ctx, { name: `${(rec.job.name as string | undefined) ?? rec.job.job_id}-output`, type: "embed-result", files: {} });
      rec.job.status = "complete";
      rec.job.output_dataset_id = out.dataset.id;
    }
  }
  return rec.job;
}

function getEmbedJobRec(ctx: Ctx): EmbedJobRec {
  const rec = ctx.state.embedJobs.get(ctx.params.id!);
  if (!rec) notFound(`embed job with id ${ctx.params.id} not found`);
  return rec!;
}

function getBatchRec(ctx: Ctx): BatchRec {
  const rec = ctx.state.batches.get(ctx.params.id!);
  if (!rec) notFound(`batch ${ctx.params.id} not found`);
  return rec!;
}

function advanceBatch(ctx: Ctx, rec: BatchRec) {
  rec.gets++;
  const b = rec.batch;
  if (b.status === "BATCH_STATUS_QUEUED") {
    b.status = "BATCH_STATUS_IN_PROGRESS";
    b.updated_at = ctx.state.now();
  } else if (b.status === "BATCH_STATUS_IN_PROGRESS") {
    const input = ctx.state.datasets.get(b.input_dataset_id as string);
    const rows = input ? ((input.dataset.dataset_parts as Array<{ num_rows?: number }>)[0]?.num_rows ?? 1) : 1;
    const out = createDataset(ctx, { name: `${b.name as string}-output`, type: "batch-chat-v2-input", files: {} });
    b.status = "BATCH_STATUS_COMPLETED";
    b.updated_at = ctx.state.now();
    b.output_dataset_id = out.dataset.id;
    b.num_records = rows;
    b.num_successful_records = rows;
    b.num_failed_records = 0;
    b.input_tokens = String(rows * 42);
    b.output_tokens = String(rows * 17);
  }
}

export const JOB_ROUTES: Route[] = [
  // ----- batches
  {
    op: "ListBatches",
    method: "GET",
    path: "/v2/batches",
    body: "none",
    query: { ...S.PAGE_QUERY, order_by: { type: "string" } },
    handle: (ctx) => {
      const all = sortByOrder([...ctx.state.batches.values()].map((r) => r.batch), qstr(ctx, "order_by"));
      const { page, next } = pageOf(all, ctx, 50);
      return json(next ? { batches: page, next_page_token: next } : { batches: page });
    },
  },
  {
    op: "CreateBatch",
    method: "POST",
    path: "/v2/batches",
    body: "json",
    schema: S.CREATE_BATCH,
    handle: (ctx) => {
      // a batch runs chat or embed requests: any such model
      if (!findModel(ctx.state, String(ctx.body.model))?.endpoints.some((e) => e === "chat" || e === "embed")) useModel(ctx.state, ctx.body.model, "chat");
      const st = ctx.state;
      const now = st.now();
      const n = st.next();
      const batch: BatchRec["batch"] = {
        id: uuidFrom(`batch:${n}`),
        name: ctx.body.name,
        creator_id: OWNER_ID,
        org_id: ORG_ID,
        status: "BATCH_STATUS_QUEUED",
        created_at: now,
        updated_at: now,
        input_dataset_id: ctx.body.input_dataset_id,
        input_tokens: "0",
        output_tokens: "0",
        model: ctx.body.model,
        num_records: 0,
        num_successful_records: 0,
        num_failed_records: 0,
      };
      st.batches.set(batch.id, { batch, gets: 0 });
      return json({ batch });
    },
  },
  {
    op: "GetBatch",
    method: "GET",
    path: "/v2/batches/{id}",
    body: "none",
    handle: (ctx) => {
      const rec = getBatchRec(ctx);
      advanceBatch(ctx, rec);
      return json({ batch: rec.batch });
    },
  },
  {
    op: "CancelBatch",
    method: "POST",
    path: "/v2/batches/{id}:cancel",
    body: "none",
    handle: (ctx) => {
      const rec = getBatchRec(ctx);
      if (!["BATCH_STATUS_COMPLETED", "BATCH_STATUS_FAILED", "BATCH_STATUS_CANCELED"].includes(rec.batch.status)) {
        rec.batch.status = "BATCH_STATUS_CANCELED";
        rec.batch.updated_at = ctx.state.now();
        rec.batch.status_reason = "canceled by user";
      }
      return json({});
    },
  },

  // ----- embed jobs
  {
    op: "create-embed-job",
    method: "POST",
    path: "/v1/embed-jobs",
    body: "json",
    schema: S.CREATE_EMBED_JOB,
    handle: (ctx) => {
      useModel(ctx.state, ctx.body.model, "embed");
      const st = ctx.state;
      const job_id = `ej-${st.next()}`;
      const job: EmbedJobRec["job"] = {
        job_id,
        status: "processing",
        created_at: st.now(),
        input_dataset_id: ctx.body.dataset_id,
        model: ctx.body.model,
        truncate: ctx.body.truncate ?? "END",
        meta: meta("1"),
      };
      if (ctx.body.name !== undefined) job.name = ctx.body.name;
      st.embedJobs.set(job_id, { job, gets: 0 });
      return json({ job_id, meta: meta("1") }, 200, modelWarningHeaders(st, job.model));
    },
  },
  {
    op: "list-embed-jobs",
    method: "GET",
    path: "/v1/embed-jobs",
    body: "none",
    handle: (ctx) => json({ embed_jobs: [...ctx.state.embedJobs.values()].map((r) => r.job) }),
  },
  {
    op: "get-embed-job",
    method: "GET",
    path: "/v1/embed-jobs/{id}",
    body: "none",
    handle: (ctx) => {
      const job = embedJobView(ctx, getEmbedJobRec(ctx), true);
      return json(job, 200, modelWarningHeaders(ctx.state, job.model));
    },
  },
  {
    op: "cancel-embed-job",
    method: "POST",
    path: "/v1/embed-jobs/{id}/cancel",
    body: "none",
    handle: (ctx) => {
      const rec = getEmbedJobRec(ctx);
      if (rec.job.status === "processing" || rec.job.status === "cancelling") rec.job.status = "cancelled";
      return { kind: "empty", status: 200 };
    },
  },
];
