/**
 * Paths the flags name, checked before the server starts (issue 22, item 10): a --log-file that
 * cannot be opened, an --allow-file-read directory that is not there. Each problem is one line
 * naming the flag, and the start stops (exit 2) instead of failing later with a stack trace or
 * serving with a setting that can never work. (--audit-log is opened by the audit sink itself.)
 */
import { closeSync, openSync, statSync } from "node:fs";
import { ConfigError } from "./file.js";
import type { Options } from "./options.js";
import { allowedDirs } from "../call/files.js";

const why = (err: unknown) => (err as NodeJS.ErrnoException)?.code ?? (err as Error)?.message ?? String(err);

export function checkStartPaths(o: Pick<Options, "logFile" | "allowFileRead">): void {
  if (o.logFile) {
    try {
      closeSync(openSync(o.logFile, "a"));
    } catch (err) {
      throw new ConfigError(
        `--log-file ${o.logFile}: cannot be opened for appending (${why(err)}); give a file in a directory that exists and this user may write`,
      );
    }
  }
  for (const { path: dir } of allowedDirs(o.allowFileRead)) {
    let isDir: boolean;
    try {
      isDir = statSync(dir).isDirectory();
    } catch (err) {
      throw new ConfigError(`--allow-file-read ${dir}: no such directory (${why(err)}); give a directory that exists`);
    }
    if (!isDir) throw new ConfigError(`--allow-file-read ${dir}: not a directory; give the directory the files are read from`);
  }
}
