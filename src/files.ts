/**
 * File inputs by path (`data_path`, `file_path`): only when the operator named directories with
 * --allow-file-read, and over HTTP only for agents whose profile has `allow_file_read: true`.
 * A path is refused when it has a `..` segment, lies outside every allowed directory, resolves
 * (through symlinks) outside them, is not a regular file, or is over the size limit. The bytes
 * replace the path as the tool's inline base64 input, so the rest of the pipeline is unchanged.
 *
 * A local user who can write inside an allowed directory must not be able to make the server read
 * elsewhere, even by swapping a directory for a symlink while a read is in flight:
 *   - the file is opened with O_NOFOLLOW (the last component) and O_NONBLOCK (a FIFO or device
 *     cannot block one of libuv's four file threads), then fstat'ed: only a regular file is read;
 *   - the OPENED descriptor is checked: on Linux its real path (/proc/self/fd/N, the kernel's own
 *     name for the file the descriptor holds) must lie inside an allowed directory, so a swap
 *     between the check and the open is caught. Without /proc, the path is resolved again and
 *     must name the same device and inode (a narrower window, not a closed one).
 *
 * Refusals never show an allowed directory's absolute path: each is named by its label, given as
 * `--allow-file-read LABEL=DIR` or else the directory's base name.
 */
import { constants } from "node:fs";
import { open, readlink, realpath, stat, type FileHandle } from "node:fs/promises";
import type { Stats } from "node:fs";
import { basename, isAbsolute, relative, resolve, sep } from "node:path";
import type { ToolDef } from "./catalog/types.js";

export type FileAccess =
  | { allowed: true; dirs: readonly string[]; maxBytes: number }
  | { allowed: false; why: string };

export class FileRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FileRefused";
  }
}

export interface AllowedDir {
  /** What agents see: the configured label or the directory's base name. */
  label: string;
  /** The directory as configured (not shown to agents). */
  path: string;
}

const LABELLED = /^([A-Za-z0-9_-]{1,40})=(.+)$/s;

/** `--allow-file-read` items: `DIR` (labelled by its base name) or `LABEL=DIR`. */
export function allowedDirs(items: readonly string[]): AllowedDir[] {
  return items.map((item) => {
    const m = LABELLED.exec(item);
    if (m) return { label: m[1]!, path: m[2]! };
    return { label: basename(resolve(item)) || "/", path: item };
  });
}

function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/** The allowed directories, resolved through symlinks (missing ones are skipped). */
async function realDirs(dirs: readonly AllowedDir[]): Promise<string[]> {
  const out: string[] = [];
  for (const d of dirs) {
    try {
      out.push(await realpath(resolve(d.path)));
    } catch {
      /* a directory that does not exist allows nothing */
    }
  }
  return out;
}

/** Flags for every open: never follow the last component, never block (FIFOs, devices). */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Where the kernel says an open descriptor's file is (Linux), or undefined without /proc. */
async function openedPath(fh: FileHandle): Promise<string | undefined> {
  try {
    return await readlink(`/proc/self/fd/${fh.fd}`);
  } catch {
    return undefined;
  }
}

/** Is the file this descriptor holds inside an allowed directory, as opened? */
async function openedInside(fh: FileHandle, st: Stats, real: string, roots: readonly string[]): Promise<boolean> {
  const kernelPath = await openedPath(fh);
  if (kernelPath !== undefined) return roots.some((r) => inside(kernelPath, r));
  // no /proc: the checked path must still lead to this very file
  try {
    const again = await realpath(real);
    const now = await stat(again);
    return again === real && now.dev === st.dev && now.ino === st.ino && roots.some((r) => inside(again, r));
  } catch {
    return false;
  }
}

/** Read one file the rules allow; throws FileRefused with a message for the agent. */
export async function readAllowedFile(
  raw: string,
  items: readonly string[],
  maxBytes: number,
  /** Cohere's own limit for this input, when smaller than the server's. */
  limit?: { bytes: number; what: string },
): Promise<{ bytes: Uint8Array; name: string }> {
  const shown = JSON.stringify(raw.slice(0, 200));
  if (!raw || raw.includes("\0")) throw new FileRefused(`The path ${shown} is not a valid file path.`);
  if (raw.split(/[\\/]+/).includes("..")) {
    throw new FileRefused(`The path ${shown} contains '..'; give a path inside an allowed directory without '..'.`);
  }
  const dirs = allowedDirs(items);
  const roots = await realDirs(dirs);
  const where = `allowed directories: ${dirs.map((d) => JSON.stringify(d.label)).join(", ")} (give a path relative to one of them)`;
  if (!roots.length) throw new FileRefused(`None of the allowed directories exists (${where}).`);
  const configured = dirs.map((d) => resolve(d.path));
  const candidates = isAbsolute(raw) ? [resolve(raw)] : roots.map((r) => resolve(r, raw));
  let real: string | undefined;
  for (const c of candidates) {
    if (!roots.some((r) => inside(c, r)) && !configured.some((r) => inside(c, r))) continue;
    try {
      real = await realpath(c);
      break;
    } catch {
      /* try the next directory */
    }
  }
  if (real === undefined) {
    const outside = isAbsolute(raw) && !roots.some((r) => inside(resolve(raw), r)) && !configured.some((r) => inside(resolve(raw), r));
    throw new FileRefused(
      outside ? `The path ${shown} is outside the ${where}.` : `No file ${shown} in the ${where}.`,
    );
  }
  if (!roots.some((r) => inside(real!, r))) {
    throw new FileRefused(`The path ${shown} resolves (through a symlink) outside the ${where}.`);
  }
  const fh = await open(real, OPEN_FLAGS).catch((err: NodeJS.ErrnoException) => {
    throw new FileRefused(`Cannot open ${shown}: ${err.code ?? "error"}.`);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FileRefused(`The path ${shown} is not a regular file.`);
    // A hard link is the same file under a second name: one made inside an allowed directory to
    // a file outside it would pass every path check. A file with more than one link is refused.
    if (st.nlink > 1) {
      throw new FileRefused(
        `The file ${shown} has ${st.nlink} hard links, so it may be a file from outside the ${where} under a second name; nothing was read. ` +
          "Copy the file into the directory instead of linking it.",
      );
    }
    if (!(await openedInside(fh, st, real, roots))) {
      throw new FileRefused(
        `The path ${shown} changed while it was being opened (a directory on the way was swapped for a link out of the ${where}); nothing was read.`,
      );
    }
    if (limit && limit.bytes < maxBytes && st.size > limit.bytes) {
      throw new FileRefused(`The file ${shown} is ${st.size} bytes, over Cohere's limit of ${limit.bytes} bytes for ${limit.what}.`);
    }
    if (st.size > maxBytes) {
      throw new FileRefused(`The file ${shown} is ${st.size} bytes, over the server's limit of ${maxBytes} bytes (--max-file-bytes).`);
    }
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const { bytesRead } = await fh.read(buf, off, st.size - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return { bytes: new Uint8Array(buf.buffer, buf.byteOffset, off), name: basename(real) };
  } finally {
    await fh.close();
  }
}

/** Which path inputs this call uses. */
export function pathInputs(tool: ToolDef, input: Record<string, unknown>): string[] {
  return (tool.files ?? []).filter((f) => typeof input[f.key] === "string").map((f) => f.key);
}

/**
 * Replace each path input by the file's bytes (base64, in the tool's inline key) and its base
 * name (when no file name was given). Throws FileRefused when the path may not be read.
 */
export async function resolveFileInputs(
  tool: ToolDef,
  input: Record<string, unknown>,
  access: FileAccess,
): Promise<Record<string, unknown>> {
  const used = pathInputs(tool, input);
  if (!used.length) return input;
  if (!access.allowed) throw new FileRefused(access.why);
  const out: Record<string, unknown> = { ...input };
  for (const f of tool.files ?? []) {
    const raw = input[f.key];
    if (typeof raw !== "string") continue;
    const { bytes, name } = await readAllowedFile(raw, access.dirs, access.maxBytes, f.limit);
    delete out[f.key];
    out[f.into] = f.encode ? f.encode(bytes, name) : Buffer.from(bytes).toString("base64");
    if (f.filename && out[f.filename] === undefined) out[f.filename] = name;
  }
  return out;
}
