/**
 * Structured logs, one JSON object a line, to stderr or a file — never stdout, which belongs
 * to the protocol in stdio mode. Every line passes through the redactor, so a secret handed to
 * the logger by mistake still never reaches the output.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import type { LogLevel } from "../config/options.js";

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** Register a secret that must never appear in a log line. */
  addSecret(secret: string | undefined): void;
  level: LogLevel;
}

export function createLogger(level: LogLevel, file?: string): Logger {
  const secrets: string[] = [];
  let out: WriteStream | NodeJS.WriteStream = process.stderr;
  if (file) out = createWriteStream(file, { flags: "a" });
  const write = (lvl: Exclude<LogLevel, "silent">, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[logger.level]) return;
    let line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields });
    for (const s of secrets) line = line.split(s).join("[REDACTED]");
    out.write(line + "\n");
  };
  const logger: Logger = {
    level,
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    addSecret(secret) {
      if (secret && secret.length >= 4 && !secrets.includes(secret)) secrets.push(secret);
    },
  };
  return logger;
}

export const silentLogger: Logger = createLogger("silent");
