/**
 * Where the edited policy lives.
 *
 *  - FilePolicy (one process, memory store): the --config file. A save validates the whole
 *    document with the config schema first, keeps the last 5 versions beside it (FILE.1 newest …
 *    FILE.5), writes a temp file in the same directory, fsyncs it, renames it over the file and
 *    fsyncs the directory: a crash at any point leaves either the old file or the new one, whole.
 *    The version is the content hash of the file as it is on disk now, so an edit made by hand
 *    in between is a conflict too.
 *  - StorePolicy (--policy-store, replicas on Redis): a versioned document in the shared state,
 *    seeded from the --config file at the first start, written by compare-and-set on the version.
 *
 * Either way the console is view-only (readonly_reason) with --admin-readonly, or when the file
 * or its directory cannot be written.
 */
import { accessSync, closeSync, constants, copyFileSync, existsSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { ConfigError, type ConfigFile } from "../../config/file.js";
import type { SharedState } from "../../store/shared.js";
import { configHash } from "../../fleet/hash.js";
import { parseConfig } from "./edit.js";

export interface PolicyDoc {
  raw: Record<string, unknown>;
  config: ConfigFile;
  version: string;
}

export type WriteResult = { ok: true; version: string } | { ok: false; current: PolicyDoc };

export interface PolicySource {
  readonly kind: "file" | "store";
  /** For the view-only banner and docs: "the file /etc/cohere-mcp/team.json". */
  readonly where: string;
  readonly readonlyReason?: string;
  read(): Promise<PolicyDoc>;
  write(raw: Record<string, unknown>, expect: string): Promise<WriteResult>;
}

export const KEEP_VERSIONS = 5;
export const POLICY_KEY = "policy:document";

function parseRaw(text: string, where: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where} is not valid JSON: ${(err as Error).message}`);
  }
  if (!json || typeof json !== "object" || Array.isArray(json)) throw new ConfigError(`${where} is not a JSON object`);
  return json as Record<string, unknown>;
}

export class FilePolicy implements PolicySource {
  readonly kind = "file";
  readonly where: string;
  readonly readonlyReason?: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly path: string,
    readonly: boolean,
  ) {
    this.where = `the file ${path}`;
    this.sweepTemps();
    if (readonly) this.readonlyReason = `the console was started with --admin-readonly; the policy lives in ${this.where}`;
    else {
      try {
        accessSync(path, constants.W_OK);
        accessSync(dirname(path), constants.W_OK);
      } catch {
        this.readonlyReason = `${this.where} (or its directory) cannot be written by this process: change it there and reload`;
      }
    }
  }

  /** Temp files a crashed save left beside the file (their process is gone): removed. */
  private sweepTemps(): void {
    const base = basename(this.path);
    const re = new RegExp(`^\\.${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
    try {
      for (const name of readdirSync(dirname(this.path))) {
        const m = re.exec(name);
        if (!m) continue;
        const pid = Number(m[1]);
        let alive = pid === process.pid;
        if (!alive) {
          try {
            process.kill(pid, 0);
            alive = true;
          } catch {
            alive = false;
          }
        }
        if (!alive) rmSync(join(dirname(this.path), name), { force: true });
      }
    } catch {
      /* a directory that cannot be listed: nothing to sweep */
    }
  }

  async read(): Promise<PolicyDoc> {
    const text = readFileSync(this.path, "utf8");
    const raw = parseRaw(text, this.where);
    return { raw, config: parseConfig(raw), version: configHash(raw) };
  }

  write(raw: Record<string, unknown>, expect: string): Promise<WriteResult> {
    // One save at a time in this process: read, compare, write are one step.
    const run = this.queue.then(() => this.writeNow(raw, expect));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeNow(raw: Record<string, unknown>, expect: string): Promise<WriteResult> {
    if (this.readonlyReason) throw new ConfigError(this.readonlyReason);
    parseConfig(raw);
    const current = await this.read();
    if (current.version !== expect) return { ok: false, current };
    const text = JSON.stringify(raw, null, 2) + "\n";
    const dir = dirname(this.path);
    const tempName = () => join(dir, `.${basename(this.path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    // Keep the last versions: FILE.5 dropped, FILE.4 → FILE.5, …, FILE → FILE.1 (a copy). The copy
    // is made under a temp name first and renamed over FILE.1 last, the old FILE.1 having been
    // linked as FILE.2: FILE.1 is never partial (a crash mid-copy left a truncated one) nor missing
    // (a killed save's temp file is swept by the next FilePolicy, as the new file's is).
    const kept = tempName();
    copyFileSync(this.path, kept);
    for (let i = KEEP_VERSIONS - 1; i >= 2; i--) {
      const from = `${this.path}.${i}`;
      if (existsSync(from)) renameSync(from, `${this.path}.${i + 1}`);
    }
    const first = `${this.path}.1`;
    if (existsSync(first)) {
      try {
        linkSync(first, `${this.path}.2`);
      } catch {
        renameSync(first, `${this.path}.2`); // a filesystem without hard links: a moment without FILE.1
      }
    }
    renameSync(kept, first);
    const tmp = tempName();
    const fd = openSync(tmp, "wx", 0o600);
    try {
      const buf = Buffer.from(text);
      for (let done = 0; done < buf.length; ) done += writeSync(fd, buf, done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    try {
      const dfd = openSync(dir, "r");
      try {
        fsyncSync(dfd);
      } finally {
        closeSync(dfd);
      }
    } catch {
      /* some filesystems cannot fsync a directory */
    }
    return { ok: true, version: configHash(raw) };
  }
}

export class StorePolicy implements PolicySource {
  readonly kind = "store";
  readonly where: string;
  readonly readonlyReason?: string;

  constructor(
    private readonly shared: SharedState,
    where: string,
    readonly: boolean,
  ) {
    this.where = `the policy document in the shared store (${where})`;
    if (readonly) this.readonlyReason = `the console was started with --admin-readonly; the policy lives in ${this.where}`;
  }

  /** First start: the store has no document yet → the --config file becomes version 1. */
  async seed(raw: Record<string, unknown>): Promise<boolean> {
    const r = await this.shared.casDoc(POLICY_KEY, 0, JSON.stringify(raw));
    return r.ok;
  }

  async read(): Promise<PolicyDoc> {
    const doc = await this.shared.getDoc(POLICY_KEY);
    if (!doc) throw new ConfigError(`${this.where} does not exist (it is seeded from --config at the first start)`);
    const raw = parseRaw(doc.value, this.where);
    return { raw, config: parseConfig(raw), version: String(doc.version) };
  }

  async write(raw: Record<string, unknown>, expect: string): Promise<WriteResult> {
    if (this.readonlyReason) throw new ConfigError(this.readonlyReason);
    parseConfig(raw);
    const r = await this.shared.casDoc(POLICY_KEY, Number(expect) || 0, JSON.stringify(raw));
    if (r.ok) return { ok: true, version: String(r.version) };
    return { ok: false, current: await this.read() };
  }
}

export function fileRaw(path: string): Record<string, unknown> {
  return parseRaw(readFileSync(path, "utf8"), `the file ${path}`);
}
