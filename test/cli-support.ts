/** The built CLI as a child process: `cohere-mcp <args>` with stdin, env, exit code and output. */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { ENTRY } from "./helpers.js";

export const FIXTURES = fileURLToPath(new URL("./fixtures/cli/", import.meta.url));
export const fixture = (name: string) => FIXTURES + name;

/** Tokens of the fixture team.json (its agents' env variables and curator's hash). */
export const TEAM_ENV = {
  SEARCH_TOKEN: "search-token-0123456789abcdef",
  WRITER_TOKEN: "writer-token-0123456789abcdef",
  COHERE_PROD_KEY: "prod-key-SECRET-0123456789",
  CO_API_KEY: "test-key-SECRET-0123456789",
};
export const CURATOR_TOKEN = "curator-token-0123456789abcdef";

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], opts: { env?: Record<string, string>; stdin?: string; nodeArgs?: string[] } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), ENTRY, ...args], {
      env: { PATH: process.env.PATH ?? "", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.stdin ?? "");
  });
}
