/**
 * An audit line a person and an auditor can use (issue 22, item 9): over HTTP with sessions,
 * every line names the replica, the client address and the session; an accepted destructive
 * call says it was confirmed by the user; the sentence starts with its time; counts agree with
 * their nouns ("1 document").
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import type { AuditEvent } from "../src/audit/index.js";
import { TEST_KEY } from "./helpers.js";
import { startHttp, tempFile } from "./http-support.js";

let emu: CohereEmulator;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
});
afterAll(async () => emu.stop());

type Line = AuditEvent & { text: string };

describe("the audit line names replica, client, session and confirmation", () => {
  it("over HTTP --sessions, with an accepted destructive call", async () => {
    const audit = tempFile("audit.jsonl");
    const srv = await startHttp(emu.url, [
      "--sessions",
      "--replica-id",
      "east-1",
      "--tools",
      "datasets,rerank",
      "--allow-write",
      "--allow-destructive",
      "--audit-log",
      audit,
    ]);
    const client = new Client({ name: "audit-line-test", version: "1.0.0" }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: "accept", content: {} }));
    const transport = new StreamableHTTPClientTransport(new URL(srv.url));
    try {
      await client.connect(transport);
      const made = await client.callTool({
        name: "create_dataset",
        arguments: { name: "tickets", type: "embed-input", data_text: '{"text":"a"}\n' },
      });
      const id = (made.structuredContent as { id: string }).id;
      const gone = await client.callTool({ name: "delete_dataset", arguments: { id } });
      expect(gone.isError).toBeFalsy();
      await client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["only one"] } });
      await client.callTool({ name: "rerank", arguments: { model: "rerank-v3.5", query: "q", documents: ["a", "b"] } });
    } finally {
      await client.close();
      await srv.stop();
    }
    const lines = readFileSync(audit, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line);
    expect(lines.map((l) => l.tool)).toEqual(["create_dataset", "delete_dataset", "rerank", "rerank"]);
    const session = transport.sessionId;
    expect(session).toMatch(/^east-1\./);
    for (const l of lines) {
      expect(l).toMatchObject({ replica: "east-1", remote: "127.0.0.1", session });
      expect(l.text.startsWith(`${l.time} `), l.text).toBe(true);
    }
    const del = lines[1]!;
    expect(del.confirmed).toBe(true);
    expect(del.text).toMatch(/ called delete_dataset \(destructive\) on dataset \S+: allowed \(confirmed by the user\), 200 in \d+ ms$/);
    // no one was asked about a write call: no confirmation claimed
    expect(lines[0]!.confirmed).toBeUndefined();
    expect(lines[2]!.resource).toBe("1 document with rerank-v3.5");
    expect(lines[3]!.resource).toBe("2 documents with rerank-v3.5");
  });
});
