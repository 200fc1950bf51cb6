/** Test harness for raw stdio: cohere-mcp as a child process, JSON-RPC lines written and read by hand. */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { ENTRY, TEST_KEY } from "./helpers.js";

export type Rpc = Record<string, any>;

/** Peak and current resident memory of a process, in MB (Linux /proc). */
export function memOf(pid: number): { peak: number; now: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { peak: kb("VmHWM") / 1024, now: kb("VmRSS") / 1024 };
}

export class Raw {
  readonly child: ChildProcess;
  private buf = "";
  private err = "";
  readonly messages: Rpc[] = [];
  private waiters = new Map<number | string | null, (m: Rpc) => void>();
  constructor(baseUrl: string, args: string[] = []) {
    this.child = spawn(process.execPath, [ENTRY, ...args], {
      env: { PATH: process.env.PATH ?? "", CO_API_KEY: TEST_KEY, CO_API_URL: baseUrl },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stderr!.on("data", (d: Buffer) => (this.err += d.toString()));
    this.child.stdout!.on("data", (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf("\n")) >= 0) {
        const m = JSON.parse(this.buf.slice(0, nl)) as Rpc;
        this.buf = this.buf.slice(nl + 1);
        this.messages.push(m);
        const w = this.waiters.get(m.id ?? null);
        if (w) {
          this.waiters.delete(m.id ?? null);
          w(m);
        }
      }
    });
  }
  stderr = () => this.err;
  write(text: string | Buffer): boolean {
    return this.child.stdin!.write(text);
  }
  answer(id: number | string | null, ms = 15_000): Promise<Rpc> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer for id ${String(id)}; stderr: ${this.err.slice(-300)}`)), ms);
      this.waiters.set(id, (m) => {
        clearTimeout(t);
        resolve(m);
      });
    });
  }
  async request(id: number, method: string, params: unknown = {}, ms?: number): Promise<Rpc> {
    const p = this.answer(id, ms);
    this.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    return p;
  }
  async start(): Promise<void> {
    await this.request(1, "initialize", { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } });
    this.write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) + "\n");
  }
  /** Write a big payload in pieces, waiting for the pipe. */
  async pour(total: number, piece: Buffer): Promise<void> {
    for (let sent = 0; sent < total; sent += piece.length) {
      if (!this.write(piece)) await new Promise((r) => this.child.stdin!.once("drain", r));
    }
  }
  stop(): void {
    this.child.stdin!.end();
    if (this.child.exitCode === null) this.child.kill();
  }
}
