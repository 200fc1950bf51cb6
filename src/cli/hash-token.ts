/**
 * `cohere-mcp hash-token`: the lowercase hex SHA-256 of a token read from stdin, for an agent's
 * token_sha256 (or a `tokens` entry's sha256). A trailing newline (what `echo` adds) is stripped,
 * with a warning. `--new` makes a random token: the token on stderr (shown once, for the agent),
 * its hash on stdout (for the config file).
 */
import { randomBytes } from "node:crypto";
import { MIN_TOKEN_LENGTH, sha256Hex, TOKEN_CHARS } from "../identity/static.js";
import { EXIT, parseCommandArgs } from "./args.js";
import type { CliIO } from "./index.js";

export interface HashedToken {
  sha256: string;
  /** A trailing "\n" or "\r\n" was removed before hashing. */
  strippedNewline: boolean;
  /** Why the server would never accept this token, if it would not. */
  problem?: string;
  /** Accepted, but weak. */
  warning?: string;
}

/** Hash a token as the server compares it (library entry point for the console). */
export function hashToken(raw: string): HashedToken {
  const stripped = raw.replace(/\r?\n$/, "");
  const strippedNewline = stripped !== raw;
  const out: HashedToken = { sha256: sha256Hex(stripped), strippedNewline };
  if (stripped === "") out.problem = "the token is empty";
  else if (!TOKEN_CHARS.test(stripped)) out.problem = "a bearer token may hold only A-Z a-z 0-9 - . _ ~ + / (and = at the end); the server would never accept this one";
  else if (stripped.length < MIN_TOKEN_LENGTH) out.warning = `the token is shorter than ${MIN_TOKEN_LENGTH} characters: easy to guess (make one with cohere-mcp hash-token --new)`;
  return out;
}

/** A new random token (256 bits, hex) and its hash. */
export function newToken(): { token: string; sha256: string } {
  const token = randomBytes(32).toString("hex");
  return { token, sha256: sha256Hex(token) };
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs("hash-token", argv, { new: { type: "boolean" } });
  if (p.values.new === true) {
    const t = newToken();
    io.stderr(`token (give it to the agent; it is not shown again): ${t.token}\n`);
    io.stdout(p.format === "json" ? JSON.stringify({ sha256: t.sha256 }) + "\n" : t.sha256 + "\n");
    return EXIT.ok;
  }
  if ((io.stdin as NodeJS.ReadStream).isTTY) io.stderr("Type or paste the token, then press Enter and Ctrl-D (the trailing newline is removed):\n");
  const h = hashToken(await readAll(io.stdin));
  if (h.problem) {
    io.stderr(`cohere-mcp hash-token: ${h.problem}\n`);
    return EXIT.invalid;
  }
  if (h.strippedNewline) io.stderr("cohere-mcp hash-token: warning: removed a trailing newline from the token (use printf %s, not echo)\n");
  if (h.warning) io.stderr(`cohere-mcp hash-token: warning: ${h.warning}\n`);
  io.stdout(p.format === "json" ? JSON.stringify({ sha256: h.sha256, strippedNewline: h.strippedNewline }) + "\n" : h.sha256 + "\n");
  return EXIT.ok;
}
