/** Test harness: the emulator in-process, cohere-mcp as a real child process over stdio. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CohereClient, type ClientOptions } from "../src/cohere/client.js";

export const ENTRY = fileURLToPath(new URL("../dist/src/index.js", import.meta.url));
export const TEST_KEY = "test-key-SECRET-0123456789";

/** Our Cohere client against an emulator at `baseUrl`: short timeouts and retry waits for tests. */
export const testClient = (baseUrl: string, o: Partial<ClientOptions> = {}): CohereClient =>
  new CohereClient({
    baseUrl,
    apiKey: TEST_KEY,
    clientName: "cohere-mcp",
    timeoutMs: 2_000,
    maxRetries: 2,
    retryBaseMs: 10,
    maxRetryDelayMs: 5_000,
    ...o,
  });

export type ToolCallResult = {
  content?: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

export function textOf(r: unknown): string {
  return ((r as ToolCallResult).content ?? []).map((c) => c.text ?? "").join("");
}

export interface Connected {
  client: Client;
  stderr(): string;
  close(): Promise<void>;
}

/** Start cohere-mcp over stdio against `baseUrl`, connected with the SDK client. */
export async function connectStdio(
  baseUrl: string,
  args: string[] = [],
  env: Record<string, string | undefined> = { CO_API_KEY: TEST_KEY },
  clientOptions: ConstructorParameters<typeof Client>[1] = {},
): Promise<Connected> {
  const fullEnv: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    CO_API_URL: baseUrl,
    COHERE_MCP_RETRY_BASE_MS: "20",
  };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) fullEnv[k] = v;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [ENTRY, ...args],
    env: fullEnv,
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: "cohere-mcp-test", version: "1.0.0" }, clientOptions);
  await client.connect(transport);
  return {
    client,
    stderr: () => err,
    close: () => client.close(),
  };
}

/** Run the CLI to completion; returns exit code, stdout, stderr. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [ENTRY, ...args], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
