/** Fine-tuned models (all deprecated by Cohere): CRUD, status that advances per GET, events, metrics. */
import * as S from "../schemas.js";
import { ORG_ID, OWNER_ID, type FinetuneRec } from "../state.js";
import { uuidFrom } from "../util.js";
import { json, notFound, type Ctx, type Route } from "./types.js";
import { pageOf, qstr, sortByOrder } from "./common.js";
import { E404 } from "../cohere-errors.js";

function getFinetuneRec(ctx: Ctx, id: string): FinetuneRec {
  const rec = ctx.state.finetunes.get(id);
  if (!rec) notFound(E404.finetune(id));
  return rec!;
}

function advanceFinetune(ctx: Ctx, rec: FinetuneRec) {
  rec.gets++;
  const m = rec.model;
  const step = (status: string) => {
    m.status = status;
    m.updated_at = ctx.state.now();
    rec.events.push({ user_id: OWNER_ID, status, created_at: m.updated_at as string });
  };
  if (m.status === "STATUS_QUEUED") step("STATUS_FINETUNING");
  else if (m.status === "STATUS_FINETUNING") {
    step("STATUS_READY");
    m.completed_at = m.updated_at;
  }
}

function stepMetrics(rec: FinetuneRec) {
  const steps = rec.model.status === "STATUS_READY" ? 10 : rec.model.status === "STATUS_FINETUNING" ? 4 : 0;
  const base = Date.parse(rec.model.created_at as string);
  return Array.from({ length: steps }, (_, i) => ({
    created_at: new Date(base + (i + 1) * 60_000).toISOString(),
    step_number: (i + 1) * 10,
    metrics: { loss: Math.round((2.5 / (i + 1.5)) * 1e4) / 1e4, accuracy: Math.round((0.5 + 0.045 * i) * 1e4) / 1e4 },
  }));
}

export const FINETUNING_ROUTES: Route[] = [
  {
    op: "ListFinetunedModels",
    method: "GET",
    path: "/v1/finetuning/finetuned-models",
    body: "none",
    query: { ...S.PAGE_QUERY, order_by: { type: "string" } },
    handle: (ctx) => {
      const all = sortByOrder([...ctx.state.finetunes.values()].map((r) => r.model), qstr(ctx, "order_by"));
      const { page, next } = pageOf(all, ctx, 50);
      return json({ finetuned_models: page, ...(next ? { next_page_token: next } : {}), total_size: all.length });
    },
  },
  {
    op: "CreateFinetunedModel",
    method: "POST",
    path: "/v1/finetuning/finetuned-models",
    body: "json",
    schema: S.CREATE_FINETUNE,
    handle: (ctx) => {
      const st = ctx.state;
      const now = st.now();
      const n = st.next();
      const model: FinetuneRec["model"] = {
        id: uuidFrom(`ft:${n}`),
        name: ctx.body.name,
        creator_id: OWNER_ID,
        organization_id: ORG_ID,
        settings: ctx.body.settings,
        status: "STATUS_QUEUED",
        created_at: now,
        updated_at: now,
      };
      st.finetunes.set(model.id, { model, gets: 0, events: [{ user_id: OWNER_ID, status: "STATUS_QUEUED", created_at: now }] });
      return json({ finetuned_model: model });
    },
  },
  {
    op: "UpdateFinetunedModel",
    method: "PATCH",
    path: "/v1/finetuning/finetuned-models/{id}",
    body: "json",
    schema: S.UPDATE_FINETUNE,
    handle: (ctx) => {
      const rec = getFinetuneRec(ctx, ctx.params.id!);
      rec.model.name = ctx.body.name;
      rec.model.settings = ctx.body.settings;
      rec.model.updated_at = ctx.state.now();
      return json({ finetuned_model: rec.model });
    },
  },
  {
    op: "GetFinetunedModel",
    method: "GET",
    path: "/v1/finetuning/finetuned-models/{id}",
    body: "none",
    handle: (ctx) => {
      const rec = getFinetuneRec(ctx, ctx.params.id!);
      advanceFinetune(ctx, rec);
      return json({ finetuned_model: rec.model });
    },
  },
  {
    op: "DeleteFinetunedModel",
    method: "DELETE",
    path: "/v1/finetuning/finetuned-models/{id}",
    body: "none",
    handle: (ctx) => {
      getFinetuneRec(ctx, ctx.params.id!);
      ctx.state.finetunes.delete(ctx.params.id!);
      return json({});
    },
  },
  {
    op: "ListEvents",
    method: "GET",
    path: "/v1/finetuning/finetuned-models/{finetuned_model_id}/events",
    body: "none",
    query: { ...S.PAGE_QUERY, order_by: { type: "string" } },
    handle: (ctx) => {
      const rec = getFinetuneRec(ctx, ctx.params.finetuned_model_id!);
      const all = sortByOrder(rec.events, qstr(ctx, "order_by"));
      const { page, next } = pageOf(all, ctx, 50);
      return json({ events: page, ...(next ? { next_page_token: next } : {}), total_size: all.length });
    },
  },
  {
    op: "ListTrainingStepMetrics",
    method: "GET",
    path: "/v1/finetuning/finetuned-models/{finetuned_model_id}/training-step-metrics",
    body: "none",
    query: S.PAGE_QUERY,
    handle: (ctx) => {
      const rec = getFinetuneRec(ctx, ctx.params.finetuned_model_id!);
      const { page, next } = pageOf(stepMetrics(rec), ctx, 50);
      return json({ step_metrics: page, ...(next ? { next_page_token: next } : {}) });
    },
  },
];
