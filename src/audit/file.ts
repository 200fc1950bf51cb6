/**
 * The audit file itself (issue 22, item 8): opened at start or the start fails, written one line
 * at a time with writeSync, reopened on SIGHUP / SIGUSR1 (logrotate without copytruncate), and
 * never silently absent.
 *
 * A write that fails (a full disk, the file's device gone) puts the file in a failing state: the
 * line and the ones after it wait in memory (bounded), /readyz and the metrics say so, and with
 * --audit-failure deny (the default) calls are refused until writing works again. Each probe
 * (each call while failing, each /readyz and each metrics scrape) reopens the path and writes
 * what waits; when that succeeds the file is healthy again, with a line saying what happened.
 *
 * A reopen opens the new file before it closes the old one, between two lines (writes are
 * synchronous, signals are handled between them): every line is in exactly one of the files.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { ConfigError } from "../config/file.js";

/** Lines kept while the file cannot be written; past these, lines are counted and dropped. */
const MAX_PENDING_LINES = 10_000;
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

export interface AuditHealth {
  ok: boolean;
  /** Why the last write (or reopen) failed, e.g. "ENOSPC: no space left on device, write". */
  error?: string;
  /** When writing first failed (ISO time). */
  since?: string;
  /** Lines waiting to be written. */
  pending: number;
  /** Lines dropped since the failure began (past the bound of lines kept in memory). */
  dropped: number;
}

const HEALTHY: AuditHealth = Object.freeze({ ok: true, pending: 0, dropped: 0 });

const describe = (err: unknown): string => {
  const e = err as NodeJS.ErrnoException;
  return e?.message ?? String(err);
};

/** Every byte of `line` appended to `fd` (a short write goes on from where it stopped). */
function writeAll(fd: number, line: string): void {
  const n = writeSync(fd, line);
  if (n < Buffer.byteLength(line)) {
    const buf = Buffer.from(line);
    for (let done = n; done < buf.length; ) done += writeSync(fd, buf, done);
  }
}

export interface AuditFileEvents {
  /** Writing failed (once per failure, not per line). */
  failed(error: string): void;
  /** Writing works again: `lines` waited and are now written, `dropped` could not be kept. */
  recovered(info: { since: string; error: string; lines: number; dropped: number }): void;
  /** A reopen (SIGHUP, SIGUSR1) could not open the path: the old file is kept. */
  reopenFailed(error: string): void;
}

export class AuditFile {
  private fd: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  private failure: { error: string; since: string } | undefined;
  private closed = false;

  /** Opens `path` for appending, or throws a ConfigError that names the flag and the reason. */
  constructor(
    readonly path: string,
    private readonly events: AuditFileEvents,
    private readonly now: () => string = () => new Date().toISOString(),
  ) {
    try {
      this.fd = openSync(path, "a");
    } catch (err) {
      throw new ConfigError(
        `--audit-log ${path}: the audit file cannot be opened for appending (${describe(err)}). ` +
          "Give a file in a directory that exists and this user may write, or leave --audit-log out.",
      );
    }
  }

  write(line: string): void {
    if (this.closed) return;
    if (this.failure) {
      this.keep(line);
      this.probe();
      return;
    }
    try {
      writeAll(this.fd, line);
    } catch (err) {
      this.failure = { error: describe(err), since: this.now() };
      this.keep(line);
      this.events.failed(this.failure.error);
    }
  }

  /** Healthy, or (after trying to write what waits) why not. */
  health(): AuditHealth {
    if (!this.failure) return HEALTHY;
    this.probe();
    if (!this.failure) return HEALTHY;
    return { ok: false, error: this.failure.error, since: this.failure.since, pending: this.pending.length, dropped: this.dropped };
  }

  /** Open the path again (logrotate moved the file away): later lines go to the new file. */
  reopen(): boolean {
    if (this.closed) return false;
    let fd: number;
    try {
      fd = openSync(this.path, "a");
    } catch (err) {
      this.events.reopenFailed(describe(err));
      return false;
    }
    const old = this.fd;
    this.fd = fd;
    try {
      closeSync(old);
    } catch {
      /* already gone */
    }
    if (this.failure) this.flush();
    return true;
  }

  close(): void {
    if (this.closed) return;
    if (this.failure) this.probe();
    this.closed = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already gone */
    }
  }

  private keep(line: string): void {
    if (this.pending.length >= MAX_PENDING_LINES || this.pendingBytes + line.length > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.pending.push(line);
    this.pendingBytes += line.length;
  }

  /** While failing: reopen the path (a replaced file or device) and write what waits. */
  private probe(): void {
    if (!this.reopenQuietly()) return;
    this.flush();
  }

  private reopenQuietly(): boolean {
    try {
      const fd = openSync(this.path, "a");
      const old = this.fd;
      this.fd = fd;
      try {
        closeSync(old);
      } catch {
        /* already gone */
      }
      return true;
    } catch (err) {
      if (this.failure) this.failure.error = describe(err);
      return false;
    }
  }

  /** Write the waiting lines in order; the first that fails stays first. */
  private flush(): void {
    const failure = this.failure;
    if (!failure) return;
    let written = 0;
    try {
      for (; written < this.pending.length; written++) writeAll(this.fd, this.pending[written]!);
    } catch (err) {
      failure.error = describe(err);
      for (let i = 0; i < written; i++) this.pendingBytes -= this.pending[i]!.length;
      this.pending.splice(0, written);
      return;
    }
    const lines = this.pending.length;
    const dropped = this.dropped;
    this.pending = [];
    this.pendingBytes = 0;
    this.dropped = 0;
    this.failure = undefined;
    this.events.recovered({ since: failure.since, error: failure.error, lines, dropped });
  }
}
