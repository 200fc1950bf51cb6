import { describe, expect, it } from "vitest";
import { narrow, resolveVisible, PolicyError, parseList, type PolicySpec } from "../src/policy/allowlist.js";
import { policyTools, resolveFromOptions } from "../src/app.js";
import { parseOptions } from "../src/config/options.js";
import { configFileSchema } from "../src/config/file.js";

const names = (spec: PolicySpec) => [...resolveVisible(policyTools, spec)].sort();
const byClass = (a: string) => policyTools.filter((t) => t.access === a).map((t) => t.name);

const DEFAULT_SET = [
  "chat", "check_api_key", "detokenize", "embed", "get_batch", "get_dataset", "get_dataset_usage",
  "get_embed_job", "get_model", "list_batches", "list_datasets", "list_embed_jobs", "list_models",
  "parse", "rerank", "tokenize", "transcribe_audio",
].sort();

describe("allowlist: flag combinations → exact visible set", () => {
  const table: Array<[string, PolicySpec, string[]]> = [
    ["no flags: non-deprecated read tools", {}, DEFAULT_SET],
    ["exact destructive name selects exactly it", { tools: ["delete_dataset"] }, ["delete_dataset"]],
    ["exact write name selects exactly it", { tools: ["create_batch"] }, ["create_batch"]],
    ["group gives its read tools only", { tools: ["datasets"] }, ["get_dataset", "get_dataset_usage", "list_datasets"]],
    ["group + --allow-write adds writes", { tools: ["datasets"], allowWrite: true }, ["create_dataset", "get_dataset", "get_dataset_usage", "list_datasets"]],
    [
      "group + both flags adds destructive",
      { tools: ["datasets"], allowWrite: true, allowDestructive: true },
      ["create_dataset", "delete_dataset", "get_dataset", "get_dataset_usage", "list_datasets"],
    ],
    ["--allow-destructive alone does not add writes", { tools: ["batches"], allowDestructive: true }, ["cancel_batch", "get_batch", "list_batches", "wait_for_batch"]],
    ["glob list_*", { tools: ["list_*"] }, policyTools.filter((t) => t.name.startsWith("list_")).map((t) => t.name).sort()],
    ["* is every read tool", { tools: ["*"] }, byClass("read").sort()],
    ["exclude wins over an exact name", { tools: ["delete_dataset", "rerank"], exclude: ["delete_dataset"] }, ["rerank"]],
    // the wait_for_* tools are read tools outside the default set (defaultVisible: false)
    ["exclude a group from *", { tools: ["*"], exclude: ["legacy", "finetuning", "connectors", "classify"] }, [...DEFAULT_SET, "wait_for_batch", "wait_for_embed_job"].sort()],
    ["exclude a glob from the default", { exclude: ["list_*", "get_*"] }, ["chat", "check_api_key", "detokenize", "embed", "parse", "rerank", "tokenize", "transcribe_audio"]],
    ["default item plus one write", { tools: ["default", "create_dataset"] }, [...DEFAULT_SET, "create_dataset"].sort()],
    ["legacy group shows the v1 tools", { tools: ["legacy"] }, ["chat_v1", "embed_v1", "generate", "rerank_v1", "summarize"]],
  ];
  it.each(table)("%s", (_label, spec, expected) => {
    expect(names(spec)).toEqual(expected);
  });

  it("write and destructive tools are never reachable through globs or groups without the flag", () => {
    const groups = [...new Set(policyTools.map((t) => t.group))];
    for (const items of [["*"], ["*_*"], ["create_*", "list_*"], groups]) {
      const v = (() => {
        try {
          return resolveVisible(policyTools, { tools: items });
        } catch {
          return new Set<string>();
        }
      })();
      for (const n of [...byClass("write"), ...byClass("destructive")]) expect(v.has(n)).toBe(false);
    }
    const withWrite = resolveVisible(policyTools, { tools: ["*"], allowWrite: true });
    for (const n of byClass("destructive")) expect(withWrite.has(n)).toBe(false);
  });

  it("an unknown item stops startup and names the closest tools", () => {
    expect(() => resolveVisible(policyTools, { tools: ["delete_datset"] })).toThrow(PolicyError);
    expect(() => resolveVisible(policyTools, { tools: ["delete_datset"] })).toThrow(/closest: delete_dataset/);
    expect(() => resolveVisible(policyTools, { tools: ["Rerank"] })).toThrow(/closest: rerank/);
    expect(() => resolveVisible(policyTools, { exclude: ["nope_tool"] })).toThrow(/exclude "nope_tool" matches no tool/);
  });

  it("a glob that only matches gated tools says which flag it needs", () => {
    expect(() => resolveVisible(policyTools, { tools: ["cancel_*"] })).toThrow(/--allow-destructive/);
    expect(() => resolveVisible(policyTools, { tools: ["create_*"] })).toThrow(/--allow-write/);
  });

  it("parses comma lists from flags and env", () => {
    expect(parseList(" a, b,,c ")).toEqual(["a", "b", "c"]);
    expect(parseList(["a,b", "c"])).toEqual(["a", "b", "c"]);
    const o = parseOptions(["--tools", "rerank,embed", "--exclude-tools", "embed"], {});
    expect(o.tools).toEqual(["rerank", "embed"]);
    const e = parseOptions([], { COHERE_MCP_TOOLS: "datasets", COHERE_MCP_ALLOW_WRITE: "1" });
    expect(e.tools).toEqual(["datasets"]);
    expect(e.allowWrite).toBe(true);
    expect(parseOptions(["--tools", "x"], { COHERE_MCP_TOOLS: "y" }).tools).toEqual(["x"]);
  });
});

describe("profiles are ceilings", () => {
  const config = configFileSchema.parse({
    profiles: {
      search: { tools: ["rerank", "embed", "list_models"] },
      curator: { tools: "datasets", allow_write: true, allow_destructive: true, exclude_tools: ["get_dataset_usage"] },
    },
  });
  const opts = (argv: string[]) => parseOptions(argv, {});

  it("--profile picks the profile's set", () => {
    const { visible } = resolveFromOptions(opts(["--profile", "curator"]), config);
    expect([...visible].sort()).toEqual(["create_dataset", "delete_dataset", "get_dataset", "list_datasets"]);
  });

  it("--tools narrows inside the profile and never widens it", () => {
    const { visible, ignored } = resolveFromOptions(opts(["--profile", "search", "--tools", "rerank,chat,delete_dataset"]), config);
    expect([...visible]).toEqual(["rerank"]);
    expect(ignored).toEqual(["chat", "delete_dataset"]);
  });

  it("narrow() with a header list cannot add tools outside the ceiling", () => {
    const ceiling = new Set(["rerank", "embed"]);
    const r = narrow(policyTools, ceiling, ["rerank", "delete_dataset", "*"]);
    expect([...r.visible].sort()).toEqual(["embed", "rerank"]);
    expect(r.ignored).toEqual(["delete_dataset"]);
  });

  it("an unknown profile is a clear error", () => {
    expect(() => resolveFromOptions(opts(["--profile", "nope"]), config)).toThrow(/No profile "nope".*search, curator/);
  });

  it("config validation rejects plain tokens and unknown profiles", () => {
    const bad = configFileSchema.safeParse({ profiles: {}, agents: [{ name: "a", profile: "x", token: "secret" }] });
    expect(bad.success).toBe(false);
  });
});
