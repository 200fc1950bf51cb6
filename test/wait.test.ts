/**
 * wait_for_embed_job / wait_for_batch / wait_for_finetuned_model over a real MCP client against
 * the emulator (whose jobs advance one status per GET): each status is reported as progress, the
 * wait ends on a terminal state with what to do next, and ends on the timeout otherwise.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type CohereEmulator } from "../emulator/server.js";
import { connectStdio, textOf, TEST_KEY, type Connected, type ToolCallResult } from "./helpers.js";

let emu: CohereEmulator;
let c: Connected;
beforeAll(async () => {
  emu = await startEmulator({ apiKey: TEST_KEY });
  c = await connectStdio(emu.url, ["--tools", "datasets,embed_jobs,batches,finetuning", "--allow-write", "--allow-destructive", "--confirm-destructive", "never"], {
    CO_API_KEY: TEST_KEY,
    COHERE_MCP_POLL_INTERVAL_MS: "20",
  });
});
afterAll(async () => {
  await c.close();
  await emu.stop();
});
beforeEach(() => emu.reset());

type Wait = { status: string; done: boolean; next: string; polls: number; timed_out?: boolean; waited_s: number };

async function call(name: string, args: Record<string, unknown>): Promise<ToolCallResult> {
  const r = (await c.client.callTool({ name, arguments: args })) as ToolCallResult;
  expect(r.isError, textOf(r)).toBeFalsy();
  return r;
}

async function wait(name: string, args: Record<string, unknown>): Promise<{ r: ToolCallResult; s: Wait; statuses: string[] }> {
  const messages: string[] = [];
  const r = (await c.client.callTool({ name, arguments: args }, undefined, {
    onprogress: (p) => messages.push(p.message ?? ""),
  })) as ToolCallResult;
  expect(r.isError, textOf(r)).toBeFalsy();
  const statuses = messages.map((m) => /status: (\S+)/.exec(m)?.[1] ?? "?");
  return { r, s: r.structuredContent as Wait, statuses };
}

async function dataset(type = "embed-input"): Promise<string> {
  const r = await call("create_dataset", { name: "d", type, data_text: '{"text":"a"}\n' });
  return (r.structuredContent as { id: string }).id;
}

describe("wait tools", () => {
  it("are read tools in their groups, not in the default set, and not sent `timeout_s`", async () => {
    const { tools } = await c.client.listTools();
    for (const name of ["wait_for_embed_job", "wait_for_batch", "wait_for_finetuned_model"]) {
      const t = tools.find((x) => x.name === name)!;
      expect(t.annotations?.readOnlyHint, name).toBe(true);
      expect(t.outputSchema?.properties, name).toHaveProperty("status");
    }
    const d = await connectStdio(emu.url);
    try {
      const names = (await d.client.listTools()).tools.map((t) => t.name);
      expect(names.filter((n) => n.startsWith("wait_for_"))).toEqual([]);
    } finally {
      await d.close();
    }
  });

  it("wait_for_embed_job: reports each status, ends on complete with the output dataset", async () => {
    const job = await call("create_embed_job", { model: "embed-v4.0", dataset_id: await dataset(), input_type: "search_document" });
    const id = (job.structuredContent as { job_id: string }).job_id;
    const { r, s, statuses } = await wait("wait_for_embed_job", { id, timeout_s: 10 });
    expect(statuses).toEqual(["processing", "complete"]);
    expect(s).toMatchObject({ status: "complete", done: true, polls: 2 });
    const out = (r.structuredContent as { embed_job: { output_dataset_id: string } }).embed_job.output_dataset_id;
    expect(out).toMatch(/^ds-/);
    expect(s.next).toContain(`get_dataset (id: "${out}")`);
    expect(textOf(r)).toMatch(/^embed_job complete after/);
    const gets = emu.requests.filter((q) => q.method === "GET");
    expect(gets.map((q) => q.path)).toEqual([`/v1/embed-jobs/${id}`, `/v1/embed-jobs/${id}`]);
    expect(gets.every((q) => Object.keys(q.query).length === 0)).toBe(true);
  });

  it("wait_for_embed_job: ends on cancelled", async () => {
    const job = await call("create_embed_job", { model: "embed-v4.0", dataset_id: await dataset(), input_type: "search_document" });
    const id = (job.structuredContent as { job_id: string }).job_id;
    await call("cancel_embed_job", { id });
    const { s, statuses } = await wait("wait_for_embed_job", { id });
    expect(statuses).toEqual(["cancelled"]);
    expect(s).toMatchObject({ status: "cancelled", done: true, polls: 1 });
    expect(s.next).toMatch(/cancelled/);
  });

  it("wait_for_batch: reports each status, ends on BATCH_STATUS_COMPLETED", async () => {
    const b = await call("create_batch", { name: "nightly", input_dataset_id: await dataset("batch-chat-v2-input"), model: "command-a-03-2025" });
    const id = (b.structuredContent as { batch: { id: string } }).batch.id;
    const { s, statuses, r } = await wait("wait_for_batch", { id, timeout_s: 10 });
    expect(statuses).toEqual(["BATCH_STATUS_IN_PROGRESS", "BATCH_STATUS_COMPLETED"]);
    expect(s).toMatchObject({ status: "BATCH_STATUS_COMPLETED", done: true });
    const out = (r.structuredContent as { batch: { output_dataset_id: string } }).batch.output_dataset_id;
    expect(s.next).toContain(out);
  });

  it("wait_for_batch: ends on BATCH_STATUS_CANCELED", async () => {
    const b = await call("create_batch", { name: "n", input_dataset_id: await dataset("batch-chat-v2-input"), model: "command-a-03-2025" });
    const id = (b.structuredContent as { batch: { id: string } }).batch.id;
    await call("cancel_batch", { id });
    const { s } = await wait("wait_for_batch", { id });
    expect(s).toMatchObject({ status: "BATCH_STATUS_CANCELED", done: true, polls: 1 });
  });

  it("wait_for_finetuned_model: reports each status, ends on STATUS_READY", async () => {
    const ft = await call("create_finetuned_model", {
      name: "ft",
      settings: { base_model: { base_type: "BASE_TYPE_CHAT" }, dataset_id: await dataset("chat-finetune-input") },
    });
    const id = (ft.structuredContent as { finetuned_model: { id: string } }).finetuned_model.id;
    const { s, statuses } = await wait("wait_for_finetuned_model", { id, timeout_s: 10 });
    expect(statuses).toEqual(["STATUS_FINETUNING", "STATUS_READY"]);
    expect(s).toMatchObject({ status: "STATUS_READY", done: true });
    expect(s.next).toContain(`${id}-ft`);
  });

  it.each([
    ["wait_for_embed_job", "processing"],
    ["wait_for_batch", "BATCH_STATUS_IN_PROGRESS"],
    ["wait_for_finetuned_model", "STATUS_FINETUNING"],
  ])("%s: ends on the timeout with the last status and how to go on", async (tool, midStatus) => {
    let id: string;
    if (tool === "wait_for_embed_job") {
      const j = await call("create_embed_job", { model: "embed-v4.0", dataset_id: await dataset(), input_type: "search_document" });
      id = (j.structuredContent as { job_id: string }).job_id;
    } else if (tool === "wait_for_batch") {
      const b = await call("create_batch", { name: "n", input_dataset_id: await dataset("batch-chat-v2-input"), model: "command-a-03-2025" });
      id = (b.structuredContent as { batch: { id: string } }).batch.id;
    } else {
      const f = await call("create_finetuned_model", { name: "f", settings: { base_model: { base_type: "BASE_TYPE_CHAT" }, dataset_id: "ds-x" } });
      id = (f.structuredContent as { finetuned_model: { id: string } }).finetuned_model.id;
    }
    // every answer takes 700 ms: the second GET cannot finish inside a 1 s wait
    emu.setLatency(700);
    const t0 = performance.now();
    const { r, s, statuses } = await wait(tool, { id, timeout_s: 1 });
    const took = performance.now() - t0;
    expect(statuses).toEqual([midStatus]);
    expect(s).toMatchObject({ status: midStatus, done: false, timed_out: true, polls: 1 });
    expect(s.next).toMatch(new RegExp(`call ${tool} again`, "i"));
    expect(textOf(r)).toMatch(/^Still \S+ after 1(\.\d)? s/);
    expect(took).toBeGreaterThan(900);
    expect(took).toBeLessThan(1_600);
  });

  it("the server caps timeout_s (--max-wait-s) and says so", async () => {
    const d = await connectStdio(emu.url, ["--tools", "wait_for_embed_job,create_embed_job,create_dataset", "--max-wait-s", "1"], {
      CO_API_KEY: TEST_KEY,
      COHERE_MCP_POLL_INTERVAL_MS: "5000",
    });
    try {
      const ds = await d.client.callTool({ name: "create_dataset", arguments: { name: "d", type: "embed-input", data_text: '{"text":"a"}\n' } });
      const j = await d.client.callTool({
        name: "create_embed_job",
        arguments: { model: "embed-v4.0", dataset_id: (ds.structuredContent as { id: string }).id, input_type: "search_document" },
      });
      const r = await d.client.callTool({ name: "wait_for_embed_job", arguments: { id: (j.structuredContent as { job_id: string }).job_id, timeout_s: 3600 } });
      expect(textOf(r)).toMatch(/timeout_s capped at the server's limit of 1 s/);
      expect((r.structuredContent as Wait).timed_out).toBe(true);
    } finally {
      await d.close();
    }
  });

  it("an unknown id is Cohere's 404, as a tool error", async () => {
    const r = (await c.client.callTool({ name: "wait_for_batch", arguments: { id: "nope" } })) as ToolCallResult;
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/404/);
  });
});
