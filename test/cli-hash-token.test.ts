/**
 * `cohere-mcp hash-token`: the SHA-256 the server compares, from stdin or a new token; the
 * trailing newline `echo` adds is stripped with a warning. Schema and server agree on hex case:
 * config.schema.json accepts an uppercase hash, which the server accepts too (the fixture's
 * curator-agent: test/cli-access.test.ts signs in with it).
 */
import { readFileSync } from "node:fs";
import AjvModule from "ajv";
import addFormatsModule from "ajv-formats";
import { describe, expect, it } from "vitest";
import { cli, CURATOR_TOKEN, fixture } from "./cli-support.js";
import { sha256Hex } from "./http-support.js";

const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;

describe("cohere-mcp hash-token", () => {
  it("hashes stdin; strips a trailing newline with a warning", async () => {
    const exact = await cli(["hash-token"], { stdin: CURATOR_TOKEN });
    expect(exact).toEqual({ code: 0, stdout: sha256Hex(CURATOR_TOKEN) + "\n", stderr: "" });
    const echoed = await cli(["hash-token"], { stdin: CURATOR_TOKEN + "\n" });
    expect(echoed.code).toBe(0);
    expect(echoed.stdout).toBe(sha256Hex(CURATOR_TOKEN) + "\n");
    expect(echoed.stderr).toBe("cohere-mcp hash-token: warning: removed a trailing newline from the token (use printf %s, not echo)\n");
    const crlf = await cli(["hash-token", "--json"], { stdin: CURATOR_TOKEN + "\r\n" });
    expect(JSON.parse(crlf.stdout)).toEqual({ sha256: sha256Hex(CURATOR_TOKEN), strippedNewline: true });
  });

  it("--new: the token on stderr, its hash on stdout", async () => {
    const r = await cli(["hash-token", "--new"]);
    expect(r.code).toBe(0);
    const token = /: ([0-9a-f]{64})\n$/.exec(r.stderr)?.[1];
    expect(token).toBeDefined();
    expect(r.stdout).toBe(sha256Hex(token!) + "\n");
  });

  it("a token the server could never accept exits 1; a short one warns", async () => {
    const spaced = await cli(["hash-token"], { stdin: "has a space in it, 0123456789" });
    expect(spaced.code).toBe(1);
    expect(spaced.stderr).toMatch(/may hold only A-Z a-z 0-9/);
    expect(spaced.stdout).toBe("");
    expect((await cli(["hash-token"], { stdin: "" })).code).toBe(1);
    const short = await cli(["hash-token"], { stdin: "abc" });
    expect(short.code).toBe(0);
    expect(short.stderr).toMatch(/shorter than 16 characters/);
  });
});

describe("hex case: schema and server agree", () => {
  const schema = JSON.parse(readFileSync(new URL("../config.schema.json", import.meta.url), "utf8")) as object;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  it("config.schema.json accepts an uppercase token_sha256 (and tokens[].sha256)", () => {
    const config = JSON.parse(readFileSync(fixture("team.json"), "utf8")) as { agents: Array<Record<string, unknown>> };
    expect(config.agents[2]!.token_sha256).toBe(sha256Hex(CURATOR_TOKEN).toUpperCase());
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    config.agents[2] = { name: "curator-agent", profile: "curator", tokens: [{ sha256: sha256Hex("x").toUpperCase(), label: "2026-12", not_after: "2027-01-31T00:00:00Z" }, { env: "NEXT", label: "2027-01" }] };
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    config.agents[2] = { name: "curator-agent", profile: "curator", token_sha256: "not-hex" };
    expect(validate(config)).toBe(false);
  });
});
