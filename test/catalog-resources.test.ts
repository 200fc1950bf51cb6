import { describe, expect, it } from "vitest";
import { zodToJsonSchema } from "zod-to-json-schema";
import type { BuiltRequest, MultipartPart, ToolDef } from "../src/catalog/types.js";
import * as tokenizeTools from "../src/catalog/tools/tokenize.js";
import * as modelTools from "../src/catalog/tools/models.js";
import * as accountTools from "../src/catalog/tools/account.js";
import * as audioTools from "../src/catalog/tools/audio.js";
import * as datasetTools from "../src/catalog/tools/datasets.js";
import * as embedJobTools from "../src/catalog/tools/embed_jobs.js";
import * as batchTools from "../src/catalog/tools/batches.js";
import * as finetuningTools from "../src/catalog/tools/finetuning.js";
import * as connectorTools from "../src/catalog/tools/connectors.js";
import { contentTypeFor } from "../src/catalog/tools/common.js";

const {
  tokenize,
  detokenize,
} = tokenizeTools;
const { list_models, get_model } = modelTools;
const { check_api_key } = accountTools;
const { transcribe_audio } = audioTools;
const { create_dataset, list_datasets, get_dataset_usage, get_dataset, delete_dataset } = datasetTools;
const { create_embed_job, list_embed_jobs, get_embed_job, cancel_embed_job } = embedJobTools;
const { create_batch, list_batches, get_batch, cancel_batch } = batchTools;
const {
  list_finetuned_models,
  create_finetuned_model,
  update_finetuned_model,
  get_finetuned_model,
  delete_finetuned_model,
  list_finetuning_events,
  list_training_step_metrics,
} = finetuningTools;
const {
  list_connectors,
  create_connector,
  get_connector,
  update_connector,
  delete_connector,
  authorize_connector_oauth,
} = connectorTools;

function toolsOf(mod: Record<string, unknown>): ToolDef[] {
  return Object.values(mod).filter(
    (v): v is ToolDef => typeof v === "object" && v !== null && "input" in v && "path" in v,
  );
}

const MODULES = {
  tokenize: tokenizeTools,
  models: modelTools,
  account: accountTools,
  audio: audioTools,
  datasets: datasetTools,
  embed_jobs: embedJobTools,
  batches: batchTools,
  finetuning: finetuningTools,
  connectors: connectorTools,
} as const;

const ALL: ToolDef[] = Object.values(MODULES).flatMap((m) => toolsOf(m as Record<string, unknown>));

/** Parse, failing the test with zod's message if the input is rejected. */
function parse(tool: ToolDef, input: unknown): Record<string, unknown> {
  const r = tool.input.safeParse(input);
  if (!r.success) throw new Error(`${tool.name} rejected ${JSON.stringify(input)}: ${r.error.message}`);
  return r.data;
}

function rejects(tool: ToolDef, input: unknown): boolean {
  return !tool.input.safeParse(input).success;
}

function build(tool: ToolDef, input: unknown): BuiltRequest {
  if (!tool.buildRequest) throw new Error(`${tool.name} has no buildRequest`);
  return tool.buildRequest(parse(tool, input));
}

function part(req: BuiltRequest, name: string): MultipartPart {
  const p = req.multipart?.find((x) => x.name === name);
  if (!p) throw new Error(`no multipart part ${name}`);
  return p;
}

function text(value: string | Uint8Array): string {
  return typeof value === "string" ? value : new TextDecoder().decode(value);
}

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString("base64");

const SETTINGS = {
  base_model: { base_type: "BASE_TYPE_CHAT", name: "command-r-08-2024" },
  dataset_id: "ds-123",
  hyperparameters: { train_epochs: 1, learning_rate: 0.01, lora_target_modules: "LORA_TARGET_MODULES_QV" },
  wandb: { project: "p", api_key: "k" },
};

/** A minimal valid input for each tool, plus the path params it has. */
const VALID: Array<[ToolDef, Record<string, unknown>, string[]]> = [
  [tokenize, { text: "hello world", model: "command-a-03-2025" }, []],
  [detokenize, { tokens: [1, 2, 3], model: "command-a-03-2025" }, []],
  [list_models, { page_size: 10, endpoint: "chat", default_only: true }, []],
  [get_model, { model: "command-a-03-2025" }, ["model"]],
  [check_api_key, {}, []],
  [transcribe_audio, { model: "cohere-transcribe-03-2026", language: "en", file_base64: b64("RIFF") }, []],
  [create_dataset, { name: "d", type: "embed-input", data_text: '{"text":"a"}\n' }, []],
  [list_datasets, { datasetType: "embed-input", before: "2024-01-01T00:00:00Z", limit: 5, offset: 0, validationStatus: "validated" }, []],
  [get_dataset_usage, {}, []],
  [get_dataset, { id: "ds-1" }, ["id"]],
  [delete_dataset, { id: "ds-1" }, ["id"]],
  [create_embed_job, { model: "embed-english-v3.0", dataset_id: "ds-1", input_type: "search_document", embedding_types: ["float", "int8"], truncate: "END" }, []],
  [list_embed_jobs, {}, []],
  [get_embed_job, { id: "job-1" }, ["id"]],
  [cancel_embed_job, { id: "job-1" }, ["id"]],
  [create_batch, { name: "b", input_dataset_id: "ds-1", model: "command-a-03-2025" }, []],
  [list_batches, { page_size: 1000, page_token: "t", order_by: "updated_at" }, []],
  [get_batch, { id: "b-1" }, ["id"]],
  [cancel_batch, { id: "b-1" }, ["id"]],
  [list_finetuned_models, { page_size: 0, order_by: "created_at desc" }, []],
  [create_finetuned_model, { name: "ft", settings: SETTINGS }, []],
  [update_finetuned_model, { id: "ft-1", name: "ft2", settings: SETTINGS }, ["id"]],
  [get_finetuned_model, { id: "ft-1" }, ["id"]],
  [delete_finetuned_model, { id: "ft-1" }, ["id"]],
  [list_finetuning_events, { finetuned_model_id: "ft-1", page_size: 10 }, ["finetuned_model_id"]],
  [list_training_step_metrics, { finetuned_model_id: "ft-1", page_token: "x" }, ["finetuned_model_id"]],
  [list_connectors, { limit: 0, offset: 10 }, []],
  [
    create_connector,
    {
      name: "c",
      url: "https://example.com/search",
      oauth: {
        client_id: "id",
        client_secret: "secret",
        authorize_url: "https://example.com/authorize",
        token_url: "https://example.com/token",
        scope: "read",
      },
    },
    [],
  ],
  [get_connector, { id: "c-1" }, ["id"]],
  [update_connector, { id: "c-1", active: false, service_auth: { type: "bearer", token: "t" } }, ["id"]],
  [delete_connector, { id: "c-1" }, ["id"]],
  [authorize_connector_oauth, { id: "c-1", after_token_redirect: "https://example.com/done" }, ["id"]],
];

describe("resource tool records", () => {
  it("covers every exported tool", () => {
    expect(ALL.map((t) => t.name).sort()).toEqual(VALID.map(([t]) => t.name).sort());
    expect(ALL).toHaveLength(32);
  });

  it("use the file's group, a matching apiVersion and path placeholders that are input keys", () => {
    for (const [group, mod] of Object.entries(MODULES)) {
      for (const tool of toolsOf(mod as Record<string, unknown>)) {
        expect(tool.group, tool.name).toBe(group);
        expect(tool.path.startsWith(`/${tool.apiVersion}/`), tool.name).toBe(true);
        expect(tool.name).toMatch(/^[a-z0-9_]{1,64}$/);
        expect(tool.description.length, tool.name).toBeLessThan(600);
        const placeholders = [...tool.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        const schema = zodToJsonSchema(tool.input, { $refStrategy: "none" }) as { required?: string[] };
        for (const p of placeholders) expect(schema.required ?? [], `${tool.name} ${p}`).toContain(p);
      }
    }
  });

  it("marks every fine-tuning and connector tool deprecated, and no other", () => {
    for (const tool of ALL) {
      expect(tool.deprecated === true, tool.name).toBe(tool.group === "finetuning" || tool.group === "connectors");
    }
  });

  it("classes access: creates/updates write, deletes/cancels destructive, the rest read", () => {
    const destructive = ALL.filter((t) => t.access === "destructive").map((t) => t.name).sort();
    expect(destructive).toEqual([
      "cancel_batch",
      "cancel_embed_job",
      "delete_connector",
      "delete_dataset",
      "delete_finetuned_model",
    ]);
    const write = ALL.filter((t) => t.access === "write").map((t) => t.name).sort();
    expect(write).toEqual([
      "authorize_connector_oauth",
      "create_batch",
      "create_connector",
      "create_dataset",
      "create_embed_job",
      "create_finetuned_model",
      "update_connector",
      "update_finetuned_model",
    ]);
    expect(update_connector.idempotent).toBe(true);
    expect(update_finetuned_model.idempotent).toBe(true);
    expect(cancel_batch.path).toBe("/v2/batches/{id}:cancel");
  });

  it("have a plain object JSON Schema within the size budget", () => {
    const large = new Set(["create_dataset", "create_finetuned_model", "update_finetuned_model", "create_connector", "update_connector"]);
    for (const tool of ALL) {
      const schema = zodToJsonSchema(tool.input, { $refStrategy: "none" }) as Record<string, unknown>;
      expect(schema.type, tool.name).toBe("object");
      expect(schema.additionalProperties, tool.name).toBe(false);
      expect(schema).not.toHaveProperty("anyOf");
      expect(schema).not.toHaveProperty("oneOf");
      expect(JSON.stringify(schema).length, tool.name).toBeLessThanOrEqual(large.has(tool.name) ? 2500 : 1200);
    }
  });

  it.each(VALID.map(([t, input, paths]) => [t.name, t, input, paths] as const))(
    "%s: accepts a valid input, rejects unknown keys and a '/' in path params",
    (_name, tool, input, paths) => {
      parse(tool, input);
      expect(rejects(tool, { ...input, not_a_field: 1 })).toBe(true);
      for (const p of paths) {
        expect(rejects(tool, { ...input, [p]: "a/b" }), p).toBe(true);
        expect(rejects(tool, { ...input, [p]: "" }), p).toBe(true);
        const { [p]: _omit, ...rest } = input;
        expect(rejects(tool, rest), `missing ${p}`).toBe(true);
      }
      expect(tool.resource?.(parse(tool, input) as never), tool.name).toMatch(/\S/);
    },
  );

  it("resource phrases name the acted-on resource", () => {
    expect(get_dataset.resource?.({ id: "ds-1" })).toBe("dataset ds-1");
    expect(get_embed_job.resource?.({ id: "j" })).toBe("embed job j");
    expect(cancel_batch.resource?.({ id: "b" })).toBe("batch b");
    expect(get_model.resource?.({ model: "m" })).toBe("model m");
  });
});

describe("required fields and enums", () => {
  const cases: Array<[string, ToolDef, Record<string, unknown>]> = [
    ["tokenize without model", tokenize, { text: "x" }],
    ["tokenize empty text", tokenize, { text: "", model: "m" }],
    ["tokenize text over 65,536", tokenize, { text: "x".repeat(65537), model: "m" }],
    ["detokenize empty tokens", detokenize, { tokens: [], model: "m" }],
    ["detokenize non-integer token", detokenize, { tokens: [1.5], model: "m" }],
    ["list_models page_size 0", list_models, { page_size: 0 }],
    ["list_models page_size 1001", list_models, { page_size: 1001 }],
    ["list_models bad endpoint", list_models, { endpoint: "chat2" }],
    ["list_models default_only without endpoint", list_models, { default_only: true }],
    ["check_api_key with a field", check_api_key, { key: "x" }],
    ["transcribe without file", transcribe_audio, { model: "m", language: "en" }],
    ["transcribe without language", transcribe_audio, { model: "m", file_base64: "AAAA" }],
    ["transcribe bad language", transcribe_audio, { model: "m", language: "english", file_base64: "AAAA" }],
    ["transcribe bad base64", transcribe_audio, { model: "m", language: "en", file_base64: "not base64!" }],
    ["transcribe unsupported extension", transcribe_audio, { model: "m", language: "en", file_base64: "AAAA", filename: "a.txt" }],
    ["transcribe temperature > 1", transcribe_audio, { model: "m", language: "en", file_base64: "AAAA", temperature: 1.5 }],
    ["create_dataset without data", create_dataset, { name: "d", type: "embed-input" }],
    ["create_dataset with both data forms", create_dataset, { name: "d", type: "embed-input", data_text: "a", data_base64: "AAAA" }],
    ["create_dataset without name", create_dataset, { type: "embed-input", data_text: "a" }],
    ["create_dataset without type", create_dataset, { name: "d", data_text: "a" }],
    ["create_dataset bad type", create_dataset, { name: "d", type: "embed-output", data_text: "a" }],
    ["create_dataset both eval forms", create_dataset, { name: "d", type: "embed-input", data_text: "a", eval_data_text: "b", eval_data_base64: "AAAA" }],
    ["create_dataset eval filename alone", create_dataset, { name: "d", type: "embed-input", data_text: "a", eval_data_filename: "e.jsonl" }],
    ["create_dataset filename with slash", create_dataset, { name: "d", type: "embed-input", data_text: "a", data_filename: "../x.jsonl" }],
    ["list_datasets bad date", list_datasets, { before: "yesterday" }],
    ["list_datasets bad status", list_datasets, { validationStatus: "done" }],
    ["get_dataset id usage", get_dataset, { id: "usage" }],
    ["delete_dataset id usage", delete_dataset, { id: "usage" }],
    ["create_embed_job without input_type", create_embed_job, { model: "m", dataset_id: "d" }],
    ["create_embed_job bad input_type", create_embed_job, { model: "m", dataset_id: "d", input_type: "query" }],
    ["create_embed_job truncate NONE", create_embed_job, { model: "m", dataset_id: "d", input_type: "clustering", truncate: "NONE" }],
    ["create_embed_job bad embedding type", create_embed_job, { model: "m", dataset_id: "d", input_type: "clustering", embedding_types: ["float32"] }],
    ["create_batch without model", create_batch, { name: "b", input_dataset_id: "d" }],
    ["create_batch with read-only status", create_batch, { name: "b", input_dataset_id: "d", model: "m", status: "BATCH_STATUS_QUEUED" }],
    ["list_batches page_size 1001", list_batches, { page_size: 1001 }],
    ["list_batches bad order_by", list_batches, { order_by: "name" }],
    ["create_finetuned_model without settings", create_finetuned_model, { name: "ft" }],
    ["create_finetuned_model without dataset_id", create_finetuned_model, { name: "ft", settings: { base_model: { base_type: "BASE_TYPE_CHAT" } } }],
    ["create_finetuned_model without base_type", create_finetuned_model, { name: "ft", settings: { base_model: {}, dataset_id: "d" } }],
    ["create_finetuned_model bad base_type", create_finetuned_model, { name: "ft", settings: { ...SETTINGS, base_model: { base_type: "CHAT" } } }],
    ["create_finetuned_model read-only version", create_finetuned_model, { name: "ft", settings: { ...SETTINGS, base_model: { base_type: "BASE_TYPE_CHAT", version: "1" } } }],
    ["create_finetuned_model wandb without api_key", create_finetuned_model, { name: "ft", settings: { ...SETTINGS, wandb: { project: "p" } } }],
    ["update_finetuned_model without name", update_finetuned_model, { id: "ft-1", settings: SETTINGS }],
    ["update_finetuned_model without settings", update_finetuned_model, { id: "ft-1", name: "ft" }],
    ["update_finetuned_model with finetuned_model", update_finetuned_model, { id: "ft-1", name: "ft", settings: SETTINGS, finetuned_model: {} }],
    ["list_finetuned_models negative page_size", list_finetuned_models, { page_size: -1 }],
    ["list_connectors limit 101", list_connectors, { limit: 101 }],
    ["create_connector without url", create_connector, { name: "c" }],
    ["create_connector bad url", create_connector, { name: "c", url: "not a url" }],
    ["create_connector camelCase oauth", create_connector, { name: "c", url: "https://e.com", oauth: { clientId: "a", clientSecret: "b", authorizeUrl: "https://e.com/a", tokenUrl: "https://e.com/t" } }],
    ["create_connector oauth without token_url", create_connector, { name: "c", url: "https://e.com", oauth: { client_id: "a", client_secret: "b", authorize_url: "https://e.com/a" } }],
    ["create_connector bad service_auth type", create_connector, { name: "c", url: "https://e.com", service_auth: { type: "token", token: "t" } }],
    [
      "create_connector with oauth and service_auth",
      create_connector,
      {
        name: "c",
        url: "https://e.com",
        oauth: { client_id: "a", client_secret: "b", authorize_url: "https://e.com/a", token_url: "https://e.com/t" },
        service_auth: { type: "bearer", token: "t" },
      },
    ],
    ["update_connector with description (not in spec)", update_connector, { id: "c-1", description: "x" }],
    ["authorize_connector_oauth bad redirect", authorize_connector_oauth, { id: "c-1", after_token_redirect: "nope" }],
  ];
  it.each(cases)("rejects %s", (_label, tool, input) => {
    expect(rejects(tool, input)).toBe(true);
  });

  it("accepts optional fields left out", () => {
    parse(list_models, {});
    parse(list_models, { endpoint: "embed" });
    parse(update_connector, { id: "c-1" });
    parse(update_connector, { id: "c-1", name: "new", url: "https://e.com/s", excludes: ["body"] });
    parse(create_connector, { name: "c", url: "https://e.com", description: "d", continue_on_failure: true });
    parse(create_finetuned_model, { name: "ft", settings: { base_model: { base_type: "BASE_TYPE_RERANK" }, dataset_id: "d" } });
    parse(list_datasets, {});
    parse(list_datasets, { after: "2024-05-01T10:00:00+02:00" });
  });
});

describe("create_dataset request", () => {
  it("sends data as a multipart file and everything else in the query string", () => {
    const req = build(create_dataset, {
      name: "my docs",
      type: "embed-input",
      data_text: '{"text":"hello"}\n{"text":"world"}\n',
      data_filename: "docs.jsonl",
      keep_original_file: true,
      skip_malformed_input: false,
      keep_fields: ["title", "url"],
      optional_fields: ["author"],
    });
    expect(req.json).toBeUndefined();
    expect(req.multipart?.map((p) => p.name)).toEqual(["data"]);
    const data = part(req, "data");
    expect(data.filename).toBe("docs.jsonl");
    expect(data.value).toBeInstanceOf(Uint8Array);
    expect(text(data.value)).toBe('{"text":"hello"}\n{"text":"world"}\n');
    expect(data.contentType).toBe("application/octet-stream");
    const query = Object.fromEntries(Object.entries(req.query ?? {}).filter(([, v]) => v !== undefined));
    expect(query).toEqual({
      name: "my docs",
      type: "embed-input",
      keep_original_file: true,
      skip_malformed_input: false,
      keep_fields: ["title", "url"],
      optional_fields: ["author"],
    });
  });

  it("decodes base64 bytes exactly and adds eval_data", () => {
    const bytes = Uint8Array.from([0x50, 0x41, 0x52, 0x31, 0x00, 0xff, 0x10, 0x80]);
    const req = build(create_dataset, {
      name: "d",
      type: "reranker-finetune-input",
      data_base64: b64(bytes),
      eval_data_text: "a,b\n1,2\n",
      eval_data_filename: "eval.csv",
      csv_delimiter: ",",
    });
    expect(req.multipart?.map((p) => p.name)).toEqual(["data", "eval_data"]);
    const data = part(req, "data");
    expect(Array.from(data.value as Uint8Array)).toEqual(Array.from(bytes));
    expect(data.filename).toBe("data.parquet");
    const evalData = part(req, "eval_data");
    expect(text(evalData.value)).toBe("a,b\n1,2\n");
    expect(evalData.filename).toBe("eval.csv");
    expect(evalData.contentType).toBe("text/csv");
    expect(req.query?.csv_delimiter).toBe(",");
    expect(req.query).not.toHaveProperty("data_base64");
    expect(req.query).not.toHaveProperty("eval_data_text");
  });

  it("derives a file name when none is given", () => {
    const name = (input: Record<string, unknown>) =>
      part(build(create_dataset, { name: "d", type: "embed-input", ...input }), "data").filename;
    expect(name({ data_text: '  {"text":"a"}' })).toBe("data.jsonl");
    expect(name({ data_text: "text\nhello", csv_delimiter: ";" })).toBe("data.csv");
    expect(name({ data_text: "one--two", text_separator: "--" })).toBe("data.txt");
    expect(name({ data_base64: b64("Obj\u0001rest") })).toBe("data.avro");
    expect(
      part(build(create_dataset, { name: "d", type: "embed-input", data_text: "{}", eval_data_text: "{}" }), "eval_data").filename,
    ).toBe("eval_data.jsonl");
  });
});

describe("transcribe_audio request", () => {
  it("sends model, language, temperature and the file as multipart parts", () => {
    const audio = Uint8Array.from([0x49, 0x44, 0x33, 0x04, 0x00, 0xfe]);
    const req = build(transcribe_audio, {
      model: "cohere-transcribe-03-2026",
      language: "fr",
      file_base64: b64(audio),
      filename: "talk.mp3",
      temperature: 0.2,
    });
    expect(req.json).toBeUndefined();
    expect(req.query).toBeUndefined();
    expect(req.multipart?.map((p) => p.name)).toEqual(["model", "language", "temperature", "file"]);
    expect(part(req, "model").value).toBe("cohere-transcribe-03-2026");
    expect(part(req, "language").value).toBe("fr");
    expect(part(req, "temperature").value).toBe("0.2");
    const file = part(req, "file");
    expect(Array.from(file.value as Uint8Array)).toEqual(Array.from(audio));
    expect(file.filename).toBe("talk.mp3");
    expect(file.contentType).toBe("audio/mpeg");
  });

  it("defaults to audio.wav and follows an explicit content_type", () => {
    const plain = build(transcribe_audio, { model: "m", language: "en", file_base64: b64("RIFF") });
    expect(plain.multipart?.map((p) => p.name)).toEqual(["model", "language", "file"]);
    expect(part(plain, "file").filename).toBe("audio.wav");
    expect(part(plain, "file").contentType).toBe("audio/wav");

    const flac = build(transcribe_audio, { model: "m", language: "en", file_base64: b64("fLaC"), content_type: "audio/flac" });
    expect(part(flac, "file").filename).toBe("audio.flac");
    expect(part(flac, "file").contentType).toBe("audio/flac");
  });
});

describe("body-less and query-only requests", () => {
  it("send no JSON body", () => {
    expect(build(check_api_key, {})).toEqual({});
    expect(build(cancel_embed_job, { id: "job-1" })).toEqual({});
    expect(build(cancel_batch, { id: "b-1" })).toEqual({});
  });

  it("authorize_connector_oauth puts after_token_redirect in the query and not the id", () => {
    const req = build(authorize_connector_oauth, { id: "c-1", after_token_redirect: "https://example.com/done" });
    expect(req).toEqual({ query: { after_token_redirect: "https://example.com/done" } });
    expect(authorize_connector_oauth.query).toEqual(["after_token_redirect"]);
  });

  it("create_dataset never puts file content or names into the query", () => {
    expect(create_dataset.query).toEqual([
      "name",
      "type",
      "keep_original_file",
      "skip_malformed_input",
      "keep_fields",
      "optional_fields",
      "text_separator",
      "csv_delimiter",
    ]);
  });
});

describe("common helpers", () => {
  it("contentTypeFor guesses from the extension", () => {
    expect(contentTypeFor("a.WAV")).toBe("audio/wav");
    expect(contentTypeFor("a.csv")).toBe("text/csv");
    expect(contentTypeFor("a.jsonl")).toBe("application/octet-stream");
    expect(contentTypeFor("noext", "audio/wav")).toBe("audio/wav");
  });
});
