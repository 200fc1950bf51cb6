/** The route table: one record per Cohere operation (42: the 41 of the spec and parse), gathered from the domain modules. */
import { CHAT_V1_ROUTES } from "./chat-v1.js";
import { CHAT_ROUTES } from "./chat.js";
import { CONNECTOR_ROUTES } from "./connectors.js";
import { DATASET_ROUTES } from "./datasets.js";
import { EMBED_ROUTES } from "./embed.js";
import { FINETUNING_ROUTES } from "./finetuning.js";
import { JOB_ROUTES } from "./jobs.js";
import { LEGACY_ROUTES } from "./legacy.js";
import { MODEL_ROUTES } from "./models.js";
import { PARSE_ROUTES } from "./parse.js";
import type { Route } from "./types.js";

export const ROUTES: readonly Route[] = [
  ...CHAT_V1_ROUTES,
  ...CHAT_ROUTES,
  ...LEGACY_ROUTES,
  ...EMBED_ROUTES,
  ...PARSE_ROUTES,
  ...MODEL_ROUTES,
  ...JOB_ROUTES,
  ...DATASET_ROUTES,
  ...CONNECTOR_ROUTES,
  ...FINETUNING_ROUTES,
];

export * from "./types.js";
