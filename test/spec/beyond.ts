/**
 * Cohere operations that are not (yet) in cohere-openapi.yaml but are in Cohere's API reference
 * and its official SDK: the catalog has a tool for each, so the operation count is the spec's 41
 * plus these. Each names where its request and answer shapes come from (docs/cohere-sources.md).
 */
export const BEYOND_SPEC = [
  {
    method: "POST",
    path: "/v2/parse",
    operationId: "parse",
    source: "docs.cohere.com/v2/reference/parse; cohere-ai 8.1.0 (v2.parse, ParseRequest, ParseResponse)",
  },
] as const;

/** Operations in the spec (test/fixtures/cohere-operations.json). */
export const SPEC_OPERATIONS = 41;
/** Every operation the catalog and the emulator cover. */
export const ALL_OPERATIONS = SPEC_OPERATIONS + BEYOND_SPEC.length;
