/**
 * A real directory swap race for the file-read tests: a helper process exchanges two directory
 * entries atomically (renameat2 RENAME_EXCHANGE) in a tight loop, e.g. a real directory inside
 * the allowed directory and a symlink to a directory outside it. Node has no renameat2, so the
 * helper is a small C program compiled here with the machine's gcc, or else python3 calling
 * renameat2 through ctypes. Linux only; `startSwapper` returns undefined (with the reason) when
 * neither can run.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const C_SOURCE = `
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
int main(int argc, char **argv) {
  if (argc < 4) return 2;
  time_t end = time(NULL) + atoi(argv[3]);
  while (time(NULL) < end) {
    if (syscall(SYS_renameat2, AT_FDCWD, argv[1], AT_FDCWD, argv[2], RENAME_EXCHANGE) != 0) { perror("renameat2"); return 1; }
  }
  return 0;
}
`;

const PY_SOURCE = `
import ctypes, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, end = sys.argv[1].encode(), sys.argv[2].encode(), time.time() + int(sys.argv[3])
while time.time() < end:
    if libc.renameat2(-100, a, -100, b, 2) != 0:
        sys.exit("renameat2 failed: errno %d" % ctypes.get_errno())
`;

export interface Swapper {
  how: string;
  stop(): Promise<void>;
}

let built: { cmd: string; args: string[]; how: string } | undefined | null = null;

function helper(): { cmd: string; args: string[]; how: string } | undefined {
  if (built !== null) return built;
  built = undefined;
  if (process.platform !== "linux") return built;
  const dir = mkdtempSync(join(tmpdir(), "cmcp-swap-"));
  const src = join(dir, "swap.c");
  writeFileSync(src, C_SOURCE);
  const gcc = spawnSync("gcc", ["-O2", "-o", join(dir, "swap"), src], { encoding: "utf8" });
  if (gcc.status === 0) return (built = { cmd: join(dir, "swap"), args: [], how: "C helper (gcc), renameat2 RENAME_EXCHANGE" });
  const py = join(dir, "swap.py");
  writeFileSync(py, PY_SOURCE);
  const probe = spawnSync("python3", ["-c", "import ctypes; ctypes.CDLL(None).renameat2"], { encoding: "utf8" });
  if (probe.status === 0) return (built = { cmd: "python3", args: [py], how: "python3 ctypes renameat2 RENAME_EXCHANGE" });
  return built;
}

/** Start exchanging `a` and `b` until stopped (or `maxSeconds` pass). */
export function startSwapper(a: string, b: string, maxSeconds = 120): Swapper | string {
  const h = helper();
  if (!h) return "no gcc or python3 with renameat2 on this machine (Linux only)";
  const child: ChildProcess = spawn(h.cmd, [...h.args, a, b, String(maxSeconds)], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    how: h.how,
    async stop() {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
      await exited;
      if (err.trim()) throw new Error(`swap helper failed: ${err.trim()}`);
    },
  };
}
