/**
 * Human confirmation of destructive tools through MCP elicitation, over a real client against the
 * emulator: accept runs the call; decline, cancel or no answer send nothing; a client that cannot
 * elicit is refused unless the operator chose --confirm-destructive=never.
 */
import { ElicitRequestSchema, type ElicitResult } from "@modelcontextprotocol/sdk/types.js";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());
beforeEach(() => emu.reset());

const TOOLS = ["--tools", "datasets,batches", "--allow-write", "--allow-destructive"];

type Answer = ElicitResult | Error;

/** A client that can elicit and answers with `answer()`; records what it was asked. */
async function elicitingClient(args: string[], answer: () => Answer): Promise<{ c: Connected; asked: string[] }> {
  const c = await connectStdio(emu.url, args, { CO_API_KEY: TEST_KEY }, { capabilities: { elicitation: {} } });
  const asked: string[] = [];
  c.client.setRequestHandler(ElicitRequestSchema, async (req) => {
    asked.push(req.params.message);
    const a = answer();
    if (a instanceof Error) throw a;
    return a;
  });
  return { c, asked };
}

async function makeDataset(c: Connected, name = "support-tickets"): Promise<string> {
  const r = (await c.client.callTool({ name: "create_dataset", arguments: { name, type: "embed-input", data_text: '{"text":"a"}\n' } })) as ToolCallResult;
  expect(r.isError, textOf(r)).toBeFalsy();
  return (r.structuredContent as { id: string }).id;
}

const deletes = () => emu.requests.filter((r) => r.method === "DELETE");

describe("elicitation for destructive tools", () => {
  it("accept: asks with the exact target (id and name), then deletes", async () => {
    const { c, asked } = await elicitingClient(TOOLS, () => ({ action: "accept", content: {} }));
    try {
      const id = await makeDataset(c);
      const r = (await c.client.callTool({ name: "delete_dataset", arguments: { id } })) as ToolCallResult;
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(asked).toEqual([`Delete dataset ${id} "support-tickets"? This cannot be undone.`]);
      expect(emu.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
        "POST /v1/datasets",
        `GET /v1/datasets/${id}`, // the name for the question
        `DELETE /v1/datasets/${id}`,
      ]);
      // write tools are not confirmed
      expect(asked).toHaveLength(1);
    } finally {
      await c.close();
    }
  });

  it("a crafted upstream name cannot rewrite the question: quoted, controls and bidi overrides escaped, cut", async () => {
    const { c, asked } = await elicitingClient(TOOLS, () => ({ action: "decline" }));
    try {
      // a name that tries to end the question, add lines, reverse the text and close the quote
      const crafted =
        "x\"? This cannot be undone.\r\n\nKeep dataset ds-other \u202e'safe'\u202c\u2028\u2066ok\u2069\u001b[2K\u0085\u007f\\";
      const id = await makeDataset(c, crafted);
      const long = await makeDataset(c, "n".repeat(5_000));
      await c.client.callTool({ name: "delete_dataset", arguments: { id } });
      await c.client.callTool({ name: "delete_dataset", arguments: { id: long } });
      expect(asked).toHaveLength(2);
      const [q1, q2] = asked as [string, string];
      // one line, no control or bidi character left, one quoted value, our own ending once
      expect(q1).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
      expect(q1).toMatch(/^Delete dataset \S+ "(?:[^"\\]|\\.)*"\? This cannot be undone\.$/);
      expect(q1).toBe(
        `Delete dataset ${id} "x\\"? This cannot be undone.\\r\\n\\nKeep dataset ds-other \\u202e'safe'\\u202c\\u2028\\u2066ok\\u2069\\u001b[2K\\u0085\\u007f\\\\"? This cannot be undone.`,
      );
      // a long name is cut, with the original length
      expect(q2).toBe(`Delete dataset ${long} "${"n".repeat(200)}…" (5000 characters)? This cannot be undone.`);
      expect(deletes()).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it.each([
    ["decline", (): Answer => ({ action: "decline" }), /The user declined the confirmation "Delete dataset/],
    ["cancel", (): Answer => ({ action: "cancel" }), /The user dismissed the confirmation/],
    ["no answer (the client fails)", (): Answer => new Error("the user closed the window"), /There was no answer to the confirmation/],
  ])("%s: nothing is deleted, the agent is told why; audited as denied / not_confirmed", async (_label, answer, why) => {
    const dir = mkdtempSync(join(tmpdir(), "cmcp-elicit-"));
    const auditFile = join(dir, "audit.jsonl");
    const { c, asked } = await elicitingClient([...TOOLS, "--audit-log", auditFile], answer);
    try {
      const id = await makeDataset(c);
      const r = (await c.client.callTool({ name: "delete_dataset", arguments: { id } })) as ToolCallResult;
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(why);
      expect(textOf(r)).toMatch(/nothing was sent to Cohere/);
      expect(asked).toHaveLength(1);
      expect(deletes()).toHaveLength(0);
      await c.close();
      const lines = readFileSync(auditFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines.at(-1)).toMatchObject({ tool: "delete_dataset", decision: "denied", reason: "not_confirmed", resource: `dataset ${id}` });
    } finally {
      await c.close();
    }
  });

  it("asks for other destructive tools too (no lookup where a GET is not free of effects)", async () => {
    const { c, asked } = await elicitingClient(TOOLS, () => ({ action: "decline" }));
    try {
      const r = (await c.client.callTool({ name: "cancel_batch", arguments: { id: "b-7" } })) as ToolCallResult;
      expect(r.isError).toBe(true);
      expect(asked).toEqual(["Cancel batch b-7? This cannot be undone."]);
      expect(emu.requests).toHaveLength(0);
    } finally {
      await c.close();
    }
  });

  it("a missing dataset still gets asked, by id, and Cohere's 404 comes back after an accept", async () => {
    const { c, asked } = await elicitingClient(TOOLS, () => ({ action: "accept" }));
    try {
      const r = (await c.client.callTool({ name: "delete_dataset", arguments: { id: "ds-missing" } })) as ToolCallResult;
      expect(asked).toEqual(["Delete dataset ds-missing? This cannot be undone."]);
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/404/);
    } finally {
      await c.close();
    }
  });
});

describe("clients that cannot elicit", () => {
  it("--confirm-destructive=elicit (default): refused, nothing sent, the operator's way out named", async () => {
    const c = await connectStdio(emu.url, TOOLS);
    try {
      const r = (await c.client.callTool({ name: "delete_dataset", arguments: { id: "ds-1" } })) as ToolCallResult;
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/delete_dataset is destructive and needs the user's confirmation, but this MCP client cannot ask/);
      expect(textOf(r)).toMatch(/--confirm-destructive=never/);
      expect(emu.requests).toHaveLength(0);
      // read and write tools are unaffected
      const ok = (await c.client.callTool({ name: "list_datasets", arguments: {} })) as ToolCallResult;
      expect(ok.isError).toBeFalsy();
    } finally {
      await c.close();
    }
  });

  it("--confirm-destructive never: runs without asking, even a client that could", async () => {
    const { c, asked } = await elicitingClient([...TOOLS, "--confirm-destructive", "never"], () => ({ action: "decline" }));
    try {
      const id = await makeDataset(c);
      const r = (await c.client.callTool({ name: "delete_dataset", arguments: { id } })) as ToolCallResult;
      expect(r.isError, textOf(r)).toBeFalsy();
      expect(asked).toEqual([]);
      expect(deletes().map((q) => q.path)).toEqual([`/v1/datasets/${id}`]);
    } finally {
      await c.close();
    }
  });
});
