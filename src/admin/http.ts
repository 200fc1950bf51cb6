/** Small HTTP helpers of the admin port: security headers, JSON answers, bodies. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod/v3";
import { formatZodIssues } from "../config/file.js";
import { readBody } from "../transports/http/io.js";

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** On every answer of the admin port, pages and API alike. */
export function securityHeaders(res: ServerResponse): void {
  res.setHeader("Content-Security-Policy", CSP);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Cross-Origin-Opener-Policy", "same-origin");
  res.setHeader("Cross-Origin-Resource-Policy", "same-origin");
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export async function readJson<T>(req: IncomingMessage, schema: z.ZodType<T>, limit = 256 * 1024): Promise<T> {
  const read = await readBody(req, limit, 0);
  if (!read.ok) throw new HttpError(read.status, read.message);
  let body: unknown;
  try {
    body = read.text ? JSON.parse(read.text) : {};
  } catch {
    throw new HttpError(400, "the body is not valid JSON");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new HttpError(400, `invalid request: ${formatZodIssues(parsed.error)}`);
  return parsed.data;
}

export function query<T>(url: URL, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
  if (!parsed.success) throw new HttpError(400, `invalid query: ${formatZodIssues(parsed.error)}`);
  return parsed.data;
}
