/** Models (list, get; a deprecated model's GET carries X-API-Warning) and audio transcription. */
import { deprecatedModelWarning, MODELS, transcribeModel, type Endpoint } from "../models.js";
import * as S from "../schemas.js";
import { looksLikeText } from "../util.js";
import { badRequest, json, notFound, type Ctx, type Reply, type Route } from "./types.js";
import { pageOf, qstr } from "./common.js";
import { E404 } from "../cohere-errors.js";

function listModels(ctx: Ctx): Reply {
  const endpoint = qstr(ctx, "endpoint") as Endpoint | undefined;
  const defaultOnly = qstr(ctx, "default_only") === "true";
  if (defaultOnly && !endpoint) badRequest("default_only is only valid together with endpoint");
  let models = MODELS.filter((m) => !endpoint || m.endpoints.includes(endpoint));
  if (defaultOnly) models = models.filter((m) => m.default_endpoints.includes(endpoint!));
  const { page, next } = pageOf([...models], ctx, 20);
  return json(next ? { models: page, next_page_token: next } : { models: page });
}

function getModel(ctx: Ctx): Reply {
  const m = MODELS.find((x) => x.name === ctx.params.model);
  if (!m) notFound(E404.model(ctx.params.model!));
  const warning = deprecatedModelWarning(m);
  return json(m, 200, warning ? { "x-api-warning": warning } : undefined);
}

function transcribe(ctx: Ctx): Reply {
  transcribeModel(ctx.multipart!.fields.model!);
  const file = ctx.multipart!.files.file!;
  const text = looksLikeText(file.data) ? file.text.trim() : `transcribed ${file.size} bytes`;
  return json({ text });
}

export const MODEL_ROUTES: Route[] = [
  {
    op: "list-models",
    method: "GET",
    path: "/v1/models",
    body: "none",
    query: {
      page_size: { type: "number", minimum: 1, maximum: 1000 },
      page_token: { type: "string" },
      endpoint: { type: "string", enum: S.COMPATIBLE_ENDPOINTS },
      default_only: { type: "boolean" },
    },
    handle: listModels,
  },
  { op: "get-model", method: "GET", path: "/v1/models/{model}", body: "none", handle: getModel },
  {
    op: "create-transcription",
    method: "POST",
    path: "/v2/audio/transcriptions",
    body: "multipart",
    form: {
      fields: { model: { required: true }, language: { required: true }, temperature: { type: "number" } },
      files: { file: { required: true } },
    },
    handle: transcribe,
  },
];
