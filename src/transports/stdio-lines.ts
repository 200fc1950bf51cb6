/**
 * Newline-delimited JSON-RPC over a pair of streams (stdin/stdout), with a bound on one message.
 * The SDK's StdioServerTransport closes the whole transport when a message passes its 10 MiB
 * buffer, so the server used to exit without a word. Here a message over `maxBytes` is not kept:
 * its bytes are skipped up to the next newline while a small scanner notes its top-level `id`,
 * `method` and `params.name`, then `onOversized` reports it, a request gets a JSON-RPC error
 * back, and the next message is read as usual.
 */
import type { Readable, Writable } from "node:stream";
import { parseJSONRPCMessage, serializeMessage, type JSONRPCMessage, type Transport } from "@modelcontextprotocol/server";

export interface OversizedMessage {
  /** Bytes of the message (without its newline). */
  bytes: number;
  limit: number;
  /** The request's id when the scanner found one (a notification has none). */
  id?: string | number;
  method?: string;
  /** `params.name` of a tools/call. */
  tool?: string;
}

/** The JSON-RPC error code answered to an oversized request. */
export const OVERSIZED_CODE = -32600;
/** JSON-RPC: the line is not JSON. */
export const PARSE_ERROR = -32700;
/** JSON-RPC: JSON, but not a request, notification or response. */
export const INVALID_REQUEST = -32600;

/** A line that is not a JSON-RPC message. */
export interface UnreadableLine {
  bytes: number;
  why: string;
  code: number;
}

const NL = 0x0a;
const CR = 0x0d;

export class LineTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private chunks: Buffer[] = [];
  private size = 0;
  /** Set while skipping an oversized message. */
  private skipping?: { scanner: HeadScanner; bytes: number; cr: boolean };
  private started = false;
  private closed = false;
  /** stdin paused until stdout drains. */
  private held = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly maxBytes: number,
    /** Told about every oversized message (to log and audit it); its answer is sent here. */
    private readonly onOversized: (m: OversizedMessage) => void,
    /** The error message an oversized request gets back. */
    private readonly explain: (m: OversizedMessage) => string,
    /** Told about every line that is not a JSON-RPC message (to log it); it is answered -32700 or -32600. */
    private readonly onUnreadable?: (u: UnreadableLine) => void,
  ) {}

  private readonly onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    let start = 0;
    while (start <= buf.length) {
      const nl = buf.indexOf(NL, start);
      const end = nl === -1 ? buf.length : nl;
      if (end > start) this.take(buf.subarray(start, end));
      if (nl === -1) break;
      this.endOfLine();
      start = nl + 1;
    }
  };

  private readonly onError = (error: Error): void => {
    this.onerror?.(error);
  };

  /** Bytes of the current line: kept, or (past the limit) only scanned. */
  private take(piece: Buffer): void {
    if (this.skipping) {
      this.skipping.scanner.feed(piece);
      this.skipping.bytes += piece.length;
      this.skipping.cr = piece[piece.length - 1] === CR;
      return;
    }
    // a line's closing \r (CRLF framing) is not part of the message: it does not count against the limit
    const cr = piece.length > 0 && piece[piece.length - 1] === CR ? 1 : 0;
    if (this.size + piece.length - cr <= this.maxBytes && this.size <= this.maxBytes) {
      this.chunks.push(piece);
      this.size += piece.length;
      return;
    }
    const scanner = new HeadScanner();
    for (const c of this.chunks) scanner.feed(c);
    scanner.feed(piece);
    this.skipping = { scanner, bytes: this.size + piece.length, cr: cr === 1 };
    this.chunks = [];
    this.size = 0;
  }

  private endOfLine(): void {
    if (this.skipping) {
      const { scanner, bytes, cr } = this.skipping;
      this.skipping = undefined;
      this.oversized({ bytes: bytes - (cr ? 1 : 0), limit: this.maxBytes, ...scanner.result() });
      return;
    }
    const line = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    // a closing \r (CRLF framing) is one byte in UTF-8: left out of the text rather than cut off it
    const text = line.toString("utf8", 0, line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length);
    if (!text.trim()) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // a byte-order mark, a stray log line, half a message: said, not silently dropped
      const why = text.charCodeAt(0) === 0xfeff ? "it starts with a byte-order mark (U+FEFF)" : "it could not be parsed as JSON";
      this.unreadable({ bytes: line.length, why, code: PARSE_ERROR }, null);
      return;
    }
    let message: JSONRPCMessage;
    try {
      // what the SDK's deserializeMessage does after its own JSON.parse: the text is parsed once
      message = parseJSONRPCMessage(parsed);
    } catch {
      const id = parsed && typeof parsed === "object" ? (parsed as { id?: unknown }).id : undefined;
      const ok = typeof id === "string" || typeof id === "number";
      this.unreadable({ bytes: line.length, why: "it is JSON but not a JSON-RPC 2.0 message", code: INVALID_REQUEST }, ok ? id : null);
      return;
    }
    this.onmessage?.(message);
  }

  /** A line that is not a message: logged, and answered (JSON-RPC gives such answers id null). */
  private unreadable(u: UnreadableLine, id: string | number | null): void {
    try {
      this.onUnreadable?.(u);
    } catch (err) {
      this.onerror?.(err as Error);
    }
    const message =
      u.code === PARSE_ERROR
        ? `Parse error: a line of ${u.bytes} bytes was not read because ${u.why}. Send one JSON-RPC message per line, UTF-8 without a byte-order mark.`
        : `Invalid Request: a line of ${u.bytes} bytes was not read because ${u.why}.`;
    void this.send({ jsonrpc: "2.0", id, error: { code: u.code, message } } as unknown as JSONRPCMessage);
  }

  private oversized(m: OversizedMessage): void {
    try {
      this.onOversized(m);
    } catch (err) {
      this.onerror?.(err as Error);
    }
    // a notification (a method but no id) gets no answer; a request, or anything unreadable, does
    if (m.method !== undefined && m.id === undefined) return;
    void this.send({ jsonrpc: "2.0", id: m.id ?? null, error: { code: OVERSIZED_CODE, message: this.explain(m) } } as unknown as JSONRPCMessage);
  }

  async start(): Promise<void> {
    if (this.started) throw new Error("LineTransport already started");
    this.started = true;
    this.input.on("data", this.onData);
    this.input.on("error", this.onError);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.input.off("data", this.onData);
    this.input.off("error", this.onError);
    if (this.input.listenerCount("data") === 0) this.input.pause();
    this.chunks = [];
    this.size = 0;
    this.skipping = undefined;
    this.onclose?.();
  }

  /**
   * Backpressure: while the client is not reading stdout (the pipe is full), stdin is paused, so
   * no new request adds answers that would pile up in memory; reading resumes on drain.
   */
  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.output.write(serializeMessage(message))) return resolve();
      if (!this.held) {
        this.held = true;
        this.input.pause();
        this.output.once("drain", () => {
          this.held = false;
          if (this.started && !this.closed) this.input.resume();
        });
      }
      this.output.once("drain", resolve);
    });
  }
}

type Frame = { obj: boolean; key?: string; expectKey: boolean };
const WANTED = new Set(["id", "method", "params.name"]);
/** Frames kept: the message object and `params` (the wanted values are no deeper); beyond, only a count. */
const MAX_FRAMES = 2;
/** Longest string or scalar kept by the scanner (bytes). */
const KEEP = 800;

/**
 * A streaming scan of one JSON text for a few top-level values (`id`, `method`, `params.name`),
 * keeping only those: memory stays small whatever the message's size. Anything malformed simply
 * leaves the values unfound.
 */
export class HeadScanner {
  private readonly stack: Frame[] = [];
  /** Containers open below the kept frames: counted, not kept (40 MB of `[` costs one number). */
  private deep = 0;
  private inString = false;
  private escaped = false;
  private str: number[] | undefined;
  private strIsKey = false;
  private strPath = "";
  private scalar: number[] | undefined;
  private scalarPath = "";
  private readonly found = new Map<string, unknown>();

  feed(buf: Buffer): void {
    for (let i = 0; i < buf.length; i++) {
      const b = buf[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === 0x5c) this.escaped = true;
        else if (b === 0x22) {
          this.endString();
          continue;
        }
        if (this.str && this.str.length < KEEP) this.str.push(b);
        continue;
      }
      if (this.scalar) {
        if (b !== 0x2c && b !== 0x7d && b !== 0x5d && b > 0x20) {
          if (this.scalar.length < KEEP) this.scalar.push(b);
          continue;
        }
        this.endScalar();
      }
      const top = this.deep ? undefined : this.stack[this.stack.length - 1];
      switch (b) {
        case 0x22: // "
          this.inString = true;
          if (this.deep) {
            this.str = undefined; // below the kept frames: nothing wanted
            this.strIsKey = false;
          } else if (top?.obj && top.expectKey) {
            this.strIsKey = true;
            this.str = [];
          } else {
            this.strIsKey = false;
            this.strPath = this.valuePath() ?? "";
            this.str = WANTED.has(this.strPath) ? [] : undefined;
          }
          break;
        case 0x7b: // {
          if (this.deep || this.stack.length >= MAX_FRAMES) this.deep++;
          else this.stack.push({ obj: true, expectKey: true });
          break;
        case 0x5b: // [
          if (this.deep || this.stack.length >= MAX_FRAMES) this.deep++;
          else this.stack.push({ obj: false, expectKey: false });
          break;
        case 0x7d: // }
        case 0x5d: // ]
          if (this.deep) this.deep--;
          else this.stack.pop();
          break;
        case 0x3a: // :
          if (top?.obj) top.expectKey = false;
          break;
        case 0x2c: // ,
          if (top?.obj) {
            top.expectKey = true;
            top.key = undefined;
          }
          break;
        default:
          if (b > 0x20) {
            const path = this.valuePath();
            if (path !== undefined && WANTED.has(path)) {
              this.scalar = [b];
              this.scalarPath = path;
            }
          }
      }
    }
  }

  /** The dotted key path of a value starting here, when every level is an object member. */
  private valuePath(): string | undefined {
    if (this.deep) return undefined;
    const keys: string[] = [];
    for (const f of this.stack) {
      if (!f.obj || f.key === undefined || f.expectKey) return undefined;
      keys.push(f.key);
    }
    return keys.length ? keys.join(".") : undefined;
  }

  private endString(): void {
    this.inString = false;
    const bytes = this.str;
    this.str = undefined;
    if (!bytes) return;
    let value: string | undefined;
    try {
      value = JSON.parse(`"${Buffer.from(bytes).toString("utf8")}"`) as string;
    } catch {
      value = undefined; // cut inside an escape, or malformed
    }
    const top = this.stack[this.stack.length - 1];
    if (this.strIsKey) {
      if (top) top.key = value ?? "";
    } else if (value !== undefined && !this.found.has(this.strPath)) this.found.set(this.strPath, value);
  }

  private endScalar(): void {
    const bytes = this.scalar!;
    this.scalar = undefined;
    try {
      const value: unknown = JSON.parse(Buffer.from(bytes).toString("utf8"));
      if (!this.found.has(this.scalarPath)) this.found.set(this.scalarPath, value);
    } catch {
      /* not a scalar */
    }
  }

  result(): { id?: string | number; method?: string; tool?: string } {
    if (this.scalar) this.endScalar();
    const id = this.found.get("id");
    const method = this.found.get("method");
    const tool = this.found.get("params.name");
    return {
      id: typeof id === "string" || typeof id === "number" ? id : undefined,
      method: typeof method === "string" ? method.slice(0, 200) : undefined,
      tool: typeof tool === "string" ? tool.slice(0, 200) : undefined,
    };
  }
}
