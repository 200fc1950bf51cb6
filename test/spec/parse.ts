/**
 * POST /v2/parse for the fidelity check: the spec (bench/fixtures/cohere-openapi.yaml) has Parse's
 * response schemas (`ParseResponse`, `ParsePage`, `ParseDocument`, `ParseOutputFormat`, …) but no
 * path and no request schema. What is missing is written here from Cohere's API reference
 * (docs.cohere.com/v2/reference/parse) and cohere-ai 8.1.0's types
 * (`api/resources/v2/client/requests/ParseRequest.d.ts`: `model`, `document`, `outputFormat?`),
 * reusing the spec's own component schemas, and added to the loaded document as if the spec had it.
 *
 * One spec defect in those schemas is worked around: `ParsePage`'s discriminator maps
 * `raw_generation` to `ParseRawGenerationPageVariant`, a schema the spec does not have (the SDK's
 * `ParsePage` is `Blocks | Markdown` only). loadSpec() drops a mapping entry whose target is
 * missing and records it as a "dangling-mapping" patch.
 */

type Json = Record<string, unknown>;

/** Where the request schema comes from (docs/cohere-sources.md). */
export const PARSE_SOURCE = "docs.cohere.com/v2/reference/parse; cohere-ai 8.1.0 ParseRequest (model, document, output_format)";

/** ParseRequest, as the reference and the SDK give it: nothing else is sent. */
const PARSE_REQUEST: Json = {
  type: "object",
  description: `Request of POST /v2/parse (supplementary: ${PARSE_SOURCE})`,
  required: ["model", "document"],
  additionalProperties: false,
  properties: {
    model: { type: "string", minLength: 1, description: "The name of a compatible Cohere parse model." },
    document: { $ref: "#/components/schemas/ParseDocument" },
    output_format: { $ref: "#/components/schemas/ParseOutputFormat" },
  },
};

/** The error statuses the reference lists for parse, answered with the spec's shared error responses. */
const ERRORS: Record<string, string> = {
  "400": "BadRequest",
  "401": "Unauthorized",
  "403": "Forbidden",
  "404": "NotFound",
  "422": "UnprocessableEntity",
  "429": "RateLimit",
  "498": "InvalidToken",
  "499": "RequestCancelled",
  "500": "InternalServerError",
  "501": "NotImplemented",
  "503": "ServiceUnavailable",
  "504": "GatewayTimeout",
};

/** The SDK's two `@example`s of ParseRequest (ParseRequest.d.ts), in wire names (its serializer: imageUrl → image_url, outputFormat → output_format). */
const SDK_EXAMPLES = (["markdown", "blocks"] as const).map((output_format) => ({
  request: { model: "parse-v5.0", document: { type: "image_url", image_url: "https://cohere.com/favicon-32x32.png" }, output_format },
}));

const PARSE_OPERATION: Json = {
  post: {
    operationId: "parse",
    "x-supplementary": PARSE_SOURCE,
    "x-fern-examples": SDK_EXAMPLES,
    requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/ParseRequest" } } } },
    responses: {
      "200": { description: "OK", content: { "application/json": { schema: { $ref: "#/components/schemas/ParseResponse" } } } },
      ...Object.fromEntries(Object.entries(ERRORS).map(([status, name]) => [status, { $ref: `#/components/responses/${name}` }])),
    },
  },
};

/**
 * Adds /v2/parse and ParseRequest to the spec document (before its defects are worked around).
 * Throws when the spec already has either: then this supplement is stale and must go.
 */
export function supplementParse(doc: Json): void {
  const schemas = (doc.components as Json).schemas as Json;
  const paths = doc.paths as Json;
  if (paths["/v2/parse"] || schemas.ParseRequest) throw new Error("the spec now has /v2/parse: drop test/spec/parse.ts");
  if (!schemas.ParseResponse || !schemas.ParseDocument || !schemas.ParseOutputFormat) throw new Error("the spec lost its Parse schemas");
  schemas.ParseRequest = PARSE_REQUEST;
  paths["/v2/parse"] = PARSE_OPERATION;
}
