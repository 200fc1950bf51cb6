import { z } from "zod/v3";
import { defineTool, type MultipartPart } from "../types.js";
import { LATEST } from "../models.js";
import { base64String, contentTypeFor, fileBytes, filePath, shown } from "./common.js";
import { shapeTextField } from "../../shape/ranking.js";

const AUDIO_EXT = "flac|mp3|mpeg|mpga|ogg|wav";
const EXT_FOR_TYPE: Record<string, string> = {
  "audio/wav": "wav",
  "audio/x-wav": "wav",
  "audio/wave": "wav",
  "audio/mpeg": "mp3",
  "audio/mp3": "mp3",
  "audio/flac": "flac",
  "audio/x-flac": "flac",
  "audio/ogg": "ogg",
};

/** The file name sent with the audio part: the given one, else one matching content_type, else audio.wav. */
export function audioFilename(filename: string | undefined, contentType: string | undefined): string {
  if (filename) return filename;
  const ext = contentType ? EXT_FOR_TYPE[contentType.toLowerCase()] : undefined;
  return `audio.${ext ?? "wav"}`;
}

export const transcribe_audio = defineTool({
  name: "transcribe_audio",
  title: "Transcribe audio",
  group: "audio",
  access: "read",
  method: "POST",
  path: "/v2/audio/transcriptions",
  apiVersion: "v2",
  description:
    "Speech (flac, mp3, mpeg, mpga, ogg, wav; base64 or an allowed path) to text. Billed; stores nothing.",
  input: z
    .object({
      model: z.string().min(1).describe(`e.g. ${LATEST.transcribe}`),
      language: z
        .string()
        .regex(/^[a-z]{2}$/, "must be an ISO-639-1 code such as en")
        .describe("ISO-639-1, e.g. en"),
      file_base64: base64String.optional().describe("Audio bytes, base64"),
      file_path: filePath,
      filename: z
        .string()
        .max(255)
        .refine(
          (v) => new RegExp(`^[^/\\\\"\\r\\n]+\\.(${AUDIO_EXT}|${AUDIO_EXT.toUpperCase()})$`).test(v),
          `must be a plain file name ending in .${AUDIO_EXT.split("|").join(", .")}`,
        )
        .optional()
        .describe("Extension gives the format"),
      content_type: z
        .string()
        .refine((v) => /^[\w.+-]+\/[\w.+-]+$/.test(v), "must be a MIME type such as audio/mpeg")
        .optional(),
      temperature: z.number().min(0).max(1).optional(),
    })
    .strict()
    .superRefine((v, ctx) => {
      if ((v.file_base64 === undefined) === (v.file_path === undefined)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["file_base64"], message: "give exactly one of file_base64 or file_path" });
      }
    }),
  buildRequest: (i) => {
    const filename = audioFilename(i.filename, i.content_type);
    const parts: MultipartPart[] = [
      { name: "model", value: i.model },
      { name: "language", value: i.language },
    ];
    if (i.temperature !== undefined) parts.push({ name: "temperature", value: String(i.temperature) });
    parts.push({
      name: "file",
      value: fileBytes(undefined, i.file_base64),
      filename,
      contentType: i.content_type ?? contentTypeFor(filename, "audio/wav"),
    });
    return { multipart: parts };
  },
  resource: (i) => `audio ${shown(audioFilename(i.filename, i.content_type))} with model ${shown(i.model)}`,
  files: [{ key: "file_path", into: "file_base64", filename: "filename" }],
  shape: shapeTextField("text"),
  output: { text: "string" },
  budgetHint: "Transcribe a shorter recording.",
});
