import { describe, expect, it } from "vitest";
import { revokedBy } from "../src/reload.js";
import type { ConfigFile } from "../src/config/file.js";

const H1 = "a".repeat(64);
const H2 = "b".repeat(64);
const cfg = (agent: Record<string, unknown>): ConfigFile =>
  ({ profiles: { p: { tools: ["rerank"] } }, agents: [{ name: "ag", profile: "p", ...agent }] }) as unknown as ConfigFile;

describe("a reload revokes an agent only when one of its credentials is gone", () => {
  it("adding a token beside the first (an overlapping rotation) revokes nothing", () => {
    expect(revokedBy(cfg({ token_sha256: H1 }), cfg({ tokens: [{ sha256: H1, label: "token" }, { sha256: H2, label: "2026-12" }] })).agents).toEqual([]);
    expect(revokedBy(cfg({ tokens: [{ sha256: H1, label: "a" }] }), cfg({ tokens: [{ sha256: H1, label: "a" }, { env: "NEW_TOKEN", label: "b" }] })).agents).toEqual([]);
  });
  it("removing or replacing a token, shortening its expiry, or removing the agent revokes it", () => {
    expect(revokedBy(cfg({ token_sha256: H1 }), cfg({ token_sha256: H2 })).agents).toEqual(["ag"]);
    expect(revokedBy(cfg({ tokens: [{ sha256: H1, label: "a" }, { sha256: H2, label: "b" }] }), cfg({ tokens: [{ sha256: H2, label: "b" }] })).agents).toEqual(["ag"]);
    expect(revokedBy(cfg({ tokens: [{ sha256: H1, label: "a" }] }), cfg({ tokens: [{ sha256: H1, label: "a", not_after: "2026-01-01T00:00:00Z" }] })).agents).toEqual(["ag"]);
    expect(revokedBy(cfg({ token_sha256: H1 }), { profiles: { p: { tools: ["rerank"] } }, agents: [] } as unknown as ConfigFile).agents).toEqual(["ag"]);
  });
  it("the hash's letter case is not a change", () => {
    expect(revokedBy(cfg({ token_sha256: H1.toUpperCase() }), cfg({ token_sha256: H1 })).agents).toEqual([]);
  });
});
