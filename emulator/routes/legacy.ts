/**
 * The legacy v1 text endpoints: generate (deprecated; NDJSON stream), classify and summarize
 * (deprecated), tokenize / detokenize, check-api-key. The three deprecated operations answer
 * with the X-API-Warning header the spec declares for them.
 */
import { applyLimits, logprobItem, pieces } from "../generation.js";
import { checkMaxTokens, findModel, knownModel, useModel } from "../models.js";
import * as S from "../schemas.js";
import { ORG_ID, OWNER_ID } from "../state.js";
import { countTokens, detokenize, overlapScore, tokenize, uuidFrom } from "../util.js";
import { badRequest, json, type Ctx, type Reply, type Route, type StreamEvent } from "./types.js";
import { blank, checkStreamAccept, echo, EMULATE_ERROR, isStream, meta } from "./common.js";

const deprecated = (path: string, guide: string) =>
  `The ${path} endpoint is deprecated and no longer maintained, for more information please refer to ${guide}`;

function generate(ctx: Ctx): Reply {
  const body = ctx.body as Record<string, unknown>;
  const model = useModel(ctx.state, body.model, "generate");
  const prompt = body.prompt as string;
  if (blank(prompt)) badRequest("prompt must be at least 1 token long.");
  if (body.max_tokens === 0 && body.return_likelihoods !== "ALL") {
    badRequest("max_tokens can only be 0 if return_likelihoods is set to 'ALL' and prompt is longer than 1 token.");
  }
  checkMaxTokens(model, body.max_tokens);
  const n = (body.num_generations as number | undefined) ?? 1;
  const id = uuidFrom(`gen:${ctx.seq}:${JSON.stringify(body)}`);
  const errored = prompt.includes(EMULATE_ERROR);
  const likelihoods = body.return_likelihoods === "GENERATION" || body.return_likelihoods === "ALL";
  const gens = Array.from({ length: n }, (_, i) => {
    const full = echo(prompt) + (i > 0 ? ` (variant ${i + 1})` : "");
    // end_sequences are cut off; stop_sequences stay in the text
    const ended = applyLimits(full, { stopSequences: body.end_sequences as string[] | undefined });
    const limited = applyLimits(ended.text, {
      stopSequences: body.stop_sequences as string[] | undefined,
      keepStop: true,
      maxTokens: body.max_tokens as number | undefined,
    });
    const finish = errored ? "ERROR" : limited.finish === "COMPLETE" ? ended.finish : limited.finish;
    return { id: uuidFrom(`${id}:${i}`), text: limited.text, index: i, finish };
  });
  const billed = { input_tokens: countTokens(prompt), output_tokens: gens.reduce((s, g) => s + countTokens(g.text), 0) };
  if (body.stream !== true) {
    // spec SingleGeneration: no finish_reason outside a stream
    const generations = gens.map((g) => {
      const out: Record<string, unknown> = { id: g.id, text: g.text, index: g.index };
      if (likelihoods) {
        const tokens = tokenize(g.text).token_strings.map((t) => ({ token: t, likelihood: logprobItem(t).logprobs[0] ?? 0 }));
        out.likelihood = tokens.length ? tokens.reduce((s, t) => s + t.likelihood, 0) / tokens.length : 0;
        out.token_likelihoods = tokens;
      }
      return out;
    });
    return json({ id, generations, prompt, meta: meta("1", billed) });
  }
  const events: StreamEvent[] = [];
  const push = (data: Record<string, unknown>) => events.push({ name: data.event_type as string, data });
  gens.forEach((g, index) => {
    let parts = pieces(g.text);
    if (errored) parts = parts.slice(0, Math.max(1, Math.ceil(parts.length / 2)));
    for (const text of parts) push({ event_type: "text-generation", text, index, is_finished: false });
  });
  if (errored) {
    push({ event_type: "stream-error", index: 0, is_finished: true, finish_reason: "ERROR", err: "emulated error: the generation failed mid-way" });
  } else {
    const finish = gens.find((g) => g.finish !== "COMPLETE")?.finish ?? "COMPLETE";
    push({
      event_type: "stream-end",
      is_finished: true,
      finish_reason: finish,
      response: { id, prompt, generations: gens.map((g) => ({ id: g.id, text: g.text, index: g.index, finish_reason: g.finish })) },
    });
  }
  return { kind: "stream", format: ctx.streamFormat ?? "ndjson", events };
}

function classify(ctx: Ctx): Reply {
  const b = ctx.body as { inputs: string[]; examples?: Array<{ text?: string; label?: string }>; model?: string };
  const model = useModel(ctx.state, b.model, "classify");
  const examples = (b.examples ?? []).filter((e) => typeof e.label === "string");
  const labels = [...new Set(examples.map((e) => e.label as string))];
  const finetuned = findModel(ctx.state, model)?.finetuned === true;
  if (labels.length < 2 && !finetuned) badRequest(`min classes for classify request is 2 - received ${labels.length}`);
  if (!labels.length) labels.push("default");
  b.inputs.forEach((input, i) => {
    if (input === "") badRequest(`inputs contains an element that is the empty string at index ${i}`);
  });
  const classifications = b.inputs.map((input, i) => {
    const scores = labels.map((label) => {
      const best = examples
        .filter((e) => e.label === label)
        .reduce((m, e) => Math.max(m, overlapScore(e.text ?? "", input) + overlapScore(input, e.text ?? "")), 0);
      return Math.exp(3 * best);
    });
    const total = scores.reduce((a, c) => a + c, 0);
    const conf = scores.map((s) => Math.round((s / total) * 1e6) / 1e6);
    let bestIdx = 0;
    conf.forEach((c, j) => {
      if (c > conf[bestIdx]!) bestIdx = j;
    });
    const prediction = labels[bestIdx]!;
    return {
      id: uuidFrom(`cls:${ctx.seq}:${i}:${input}`),
      input,
      prediction,
      predictions: [prediction],
      confidence: conf[bestIdx]!,
      confidences: [conf[bestIdx]!],
      labels: Object.fromEntries(labels.map((l, j) => [l, { confidence: conf[j]! }])),
      classification_type: "single-label",
    };
  });
  return json({ id: uuidFrom(`cls:${ctx.seq}:${JSON.stringify(b)}`), classifications, meta: meta("1", { classifications: b.inputs.length }) });
}

function summarize(ctx: Ctx): Reply {
  const b = ctx.body as { text: string; length?: string; format?: string; model?: string };
  useModel(ctx.state, b.model, "summarize");
  const sentences = b.text.replace(/\s+/g, " ").trim().split(/(?<=[.!?])\s+/).filter(Boolean);
  const n = b.length === "short" ? 1 : b.length === "long" ? 4 : 2;
  const chosen = sentences.slice(0, n);
  const summary = b.format === "bullets" ? chosen.map((s) => `- ${s}`).join("\n") : chosen.join(" ");
  return json({
    id: uuidFrom(`sum:${ctx.seq}:${JSON.stringify(b)}`),
    summary,
    meta: meta("1", { input_tokens: countTokens(b.text), output_tokens: countTokens(summary) }),
  });
}

export const LEGACY_ROUTES: Route[] = [
  {
    op: "generate",
    method: "POST",
    path: "/v1/generate",
    body: "json",
    schema: S.GENERATE,
    streams: isStream,
    check: checkStreamAccept,
    deprecation: deprecated("/v1/generate", "https://docs.cohere.com/docs/migrating-from-cogenerate-to-cochat"),
    handle: generate,
  },
  {
    op: "classify",
    method: "POST",
    path: "/v1/classify",
    body: "json",
    schema: S.CLASSIFY,
    deprecation: deprecated("/v1/classify", "https://docs.cohere.com/docs/deprecations"),
    handle: classify,
  },
  {
    op: "summarize",
    method: "POST",
    path: "/v1/summarize",
    body: "json",
    schema: S.SUMMARIZE,
    deprecation: deprecated("/v1/summarize", "https://docs.cohere.com/docs/summarizing-text"),
    handle: summarize,
  },
  {
    op: "tokenize",
    method: "POST",
    path: "/v1/tokenize",
    body: "json",
    schema: S.TOKENIZE,
    handle: (ctx) => {
      knownModel(ctx.state, ctx.body.model as string);
      return json({ ...tokenize(ctx.body.text as string), meta: meta("1") });
    },
  },
  {
    op: "detokenize",
    method: "POST",
    path: "/v1/detokenize",
    body: "json",
    schema: S.DETOKENIZE,
    handle: (ctx) => {
      knownModel(ctx.state, ctx.body.model as string);
      return json({ text: detokenize(ctx.body.tokens as number[]), meta: meta("1") });
    },
  },
  {
    op: "checkAPIKey",
    method: "POST",
    path: "/v1/check-api-key",
    body: "none",
    handle: () => json({ valid: true, organization_id: ORG_ID, owner_id: OWNER_ID }),
  },
];
