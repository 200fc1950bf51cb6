/** Deterministic helpers for the emulator: hashing, ids, words, a reversible tokenizer, embeddings, multipart. */
import { createHash } from "node:crypto";

// ---------------------------------------------------------------------------------------------
// Hashing and ids

export function sha256(input: string | Uint8Array): Buffer {
  return createHash("sha256").update(input).digest();
}

export function hash32(input: string): number {
  return sha256(input).readUInt32BE(0);
}

/** A UUID-shaped id derived from a seed string (version nibble 4, variant 10xx). */
export function uuidFrom(seed: string): string {
  const b = Buffer.from(sha256(seed).subarray(0, 16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** mulberry32 PRNG: deterministic floats in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// Logical clock: timestamps are deterministic (a fixed epoch plus one second per tick).

const EPOCH = Date.UTC(2025, 0, 1, 0, 0, 0);
export function isoAt(tick: number): string {
  return new Date(EPOCH + tick * 1000).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Words and overlap

export function words(text: string): string[] {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 0);
}

/** Fraction of the query's distinct words that also occur in the text (0..1). */
export function overlapScore(query: string, text: string): number {
  const q = new Set(words(query));
  if (q.size === 0) return 0;
  const t = new Set(words(text));
  let hit = 0;
  for (const w of q) if (t.has(w)) hit++;
  return hit / q.size;
}

export function snippet(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > max ? flat.slice(0, max) : flat;
}

/** Splits text into pieces of about `n` words; joining the pieces gives back the text exactly. */
export function chunkWords(text: string, n = 5): string[] {
  const parts = text.match(/\s*\S+/g);
  if (!parts) return text ? [text] : [];
  const rest = text.slice(parts.join("").length); // trailing whitespace
  const out: string[] = [];
  for (let i = 0; i < parts.length; i += n) out.push(parts.slice(i, i + n).join(""));
  if (rest) out[out.length - 1] += rest;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reversible, stateless tokenizer.
//
// Pieces: a run of ASCII letters (optionally preceded by one space) is cut into chunks of at most
// five letters; every other character is its own piece. Ids:
//   * single character: its Unicode code point (0 .. 0x10FFFF)
//   * letter chunk: WORD_BASE + (leading space ? 53^5 : 0) + bijective base-53 value of the letters
// so detokenize(tokenize(x)) === x for every string, in any process.

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const RADIX = LETTERS.length + 1; // 53; digit 0 is unused (bijective numeration)
const CHUNK = 5;
const SPACE_FLAG = RADIX ** CHUNK;
const WORD_BASE = 2_000_000;
const WORD_MAX = WORD_BASE + 2 * SPACE_FLAG;

function encodeChunk(letters: string, space: boolean): number {
  let v = 0;
  for (let i = letters.length - 1; i >= 0; i--) v = v * RADIX + (LETTERS.indexOf(letters[i]!) + 1);
  return WORD_BASE + (space ? SPACE_FLAG : 0) + v;
}

function decodeChunk(id: number): string | undefined {
  if (!Number.isInteger(id) || id < WORD_BASE || id >= WORD_MAX) return undefined;
  let v = id - WORD_BASE;
  const space = v >= SPACE_FLAG;
  if (space) v -= SPACE_FLAG;
  let s = "";
  while (v > 0) {
    const d = v % RADIX;
    if (d === 0) return undefined;
    s += LETTERS[d - 1];
    v = (v - d) / RADIX;
  }
  if (!s) return undefined;
  return (space ? " " : "") + s;
}

export function tokenize(text: string): { tokens: number[]; token_strings: string[] } {
  const tokens: number[] = [];
  const token_strings: string[] = [];
  const re = /( ?)([A-Za-z]+)|([\s\S])/gu;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[2] !== undefined) {
      let space = m[1] === " ";
      const letters = m[2];
      for (let i = 0; i < letters.length; i += CHUNK) {
        const chunk = letters.slice(i, i + CHUNK);
        tokens.push(encodeChunk(chunk, space));
        token_strings.push((space ? " " : "") + chunk);
        space = false;
      }
    } else {
      const ch = m[3]!;
      tokens.push(ch.codePointAt(0)!);
      token_strings.push(ch);
    }
  }
  return { tokens, token_strings };
}

export function detokenize(tokens: readonly number[]): string {
  let out = "";
  for (const id of tokens) {
    if (id >= 0 && id <= 0x10ffff && Number.isInteger(id)) out += String.fromCodePoint(id);
    else out += decodeChunk(id) ?? "";
  }
  return out;
}

export function countTokens(text: string): number {
  return tokenize(text).tokens.length;
}

// ---------------------------------------------------------------------------------------------
// Embeddings: a normalised bag of per-word pseudo-random vectors plus a small whole-text component,
// so identical inputs give identical vectors and texts that share words are closer.

const wordVecCache = new Map<string, Float64Array>();
const WORD_CACHE_MAX = 2_000;

function randomVec(seed: string, dim: number, cache: boolean): Float64Array {
  const key = `${dim}:${seed}`;
  const hit = cache ? wordVecCache.get(key) : undefined;
  if (hit) return hit;
  const rnd = prng(hash32(key));
  const v = new Float64Array(dim);
  for (let i = 0; i < dim; i++) {
    // Approximately normal (sum of uniforms), centred on zero.
    v[i] = rnd() + rnd() + rnd() - 1.5;
  }
  if (cache) {
    if (wordVecCache.size >= WORD_CACHE_MAX) wordVecCache.clear();
    wordVecCache.set(key, v);
  }
  return v;
}

/**
 * Unit-length embedding of a text (plus optional extra seeds, e.g. image hashes): the sum of
 * per-word vectors and a smaller whole-input vector, rounded to 7 decimals.
 */
export function embedFloat(input: string, dim: number, extraSeeds: readonly string[] = []): number[] {
  const acc = new Float64Array(dim);
  const ws = words(input);
  const add = (v: Float64Array, weight: number) => {
    for (let i = 0; i < dim; i++) acc[i]! += weight * v[i]!;
  };
  for (const w of ws) add(randomVec(`w:${w}`, dim, true), 1);
  for (const s of extraSeeds) add(randomVec(`x:${s}`, dim, false), 2);
  add(randomVec(`t:${input}\u0000${extraSeeds.join("\u0000")}`, dim, false), ws.length || extraSeeds.length ? 0.35 : 1);
  let norm = 0;
  for (let i = 0; i < dim; i++) norm += acc[i]! * acc[i]!;
  norm = Math.sqrt(norm) || 1;
  const out = new Array<number>(dim);
  for (let i = 0; i < dim; i++) out[i] = Math.round((acc[i]! / norm) * 1e7) / 1e7;
  return out;
}

export type EmbeddingType = "float" | "int8" | "uint8" | "binary" | "ubinary" | "base64";

/** Converts a float vector into each requested representation, the way Cohere's API does. */
export function embeddingAs(type: EmbeddingType, v: number[]): number[] | string {
  switch (type) {
    case "float":
      return v;
    case "int8":
    case "uint8": {
      let max = 0;
      for (const x of v) max = Math.max(max, Math.abs(x));
      const scale = max > 0 ? 127 / max : 0;
      return v.map((x) => {
        const q = Math.max(-128, Math.min(127, Math.round(x * scale)));
        return type === "int8" ? q : q + 128;
      });
    }
    case "binary":
    case "ubinary": {
      const out: number[] = [];
      for (let i = 0; i < v.length; i += 8) {
        let byte = 0;
        for (let j = 0; j < 8; j++) byte = (byte << 1) | ((v[i + j] ?? 0) > 0 ? 1 : 0);
        out.push(type === "ubinary" ? byte : byte - 128);
      }
      return out;
    }
    case "base64":
      return Buffer.from(new Float32Array(v).buffer).toString("base64");
  }
}

// ---------------------------------------------------------------------------------------------
// Data URIs (embed images)

export function imageInfo(dataUri: string): { width: number; height: number; format: string; bit_depth: number } {
  const m = /^data:image\/([a-z0-9.+-]+);base64,(.*)$/is.exec(dataUri);
  const format = m ? m[1]!.toLowerCase() : "unknown";
  let width = 512;
  let height = 512;
  if (m && format === "png") {
    const bytes = Buffer.from(m[2]!.slice(0, 64), "base64");
    if (bytes.length >= 24 && bytes.readUInt32BE(12) === 0x49484452) {
      width = bytes.readUInt32BE(16);
      height = bytes.readUInt32BE(20);
    }
  }
  return { width, height, format, bit_depth: 24 };
}

// ---------------------------------------------------------------------------------------------
// multipart/form-data parsing

export interface ParsedMultipart {
  fields: Record<string, string>;
  files: Record<string, { filename?: string; contentType?: string; size: number; text: string; data: Buffer }>;
  /** Names in order of appearance, with whether each was a file. */
  order: Array<{ name: string; file: boolean }>;
}

export function multipartBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return undefined;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

function dispositionParam(header: string, name: string): string | undefined {
  const re = new RegExp(`(?:^|;)\\s*${name}\\*?=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;]*))`, "i");
  const m = re.exec(header);
  if (!m) return undefined;
  const raw = m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!.trim();
  if (/^utf-8''/i.test(raw)) {
    try {
      return decodeURIComponent(raw.slice(7));
    } catch {
      return raw;
    }
  }
  return raw;
}

/** Parses a multipart body. Throws an Error with a readable message when it is malformed. */
export function parseMultipart(body: Buffer, boundary: string): ParsedMultipart {
  const out: ParsedMultipart = { fields: {}, files: {}, order: [] };
  const delim = Buffer.from(`--${boundary}`);
  let pos = body.indexOf(delim);
  if (pos < 0) throw new Error("multipart body does not contain the boundary");
  for (;;) {
    pos += delim.length;
    // "--" after a delimiter marks the end.
    if (body[pos] === 0x2d && body[pos + 1] === 0x2d) break;
    if (body[pos] === 0x0d && body[pos + 1] === 0x0a) pos += 2;
    else if (body[pos] === 0x0a) pos += 1;
    else throw new Error("malformed multipart delimiter");
    let headerEnd = body.indexOf("\r\n\r\n", pos);
    let sepLen = 4;
    if (headerEnd < 0) {
      headerEnd = body.indexOf("\n\n", pos);
      sepLen = 2;
    }
    if (headerEnd < 0) throw new Error("multipart part without headers");
    const headerText = body.subarray(pos, headerEnd).toString("utf8");
    const dataStart = headerEnd + sepLen;
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delim]), dataStart);
    let dataEnd = next;
    let nextPos = next + 2;
    if (next < 0) {
      const alt = body.indexOf(Buffer.concat([Buffer.from("\n"), delim]), dataStart);
      if (alt < 0) throw new Error("multipart body is missing its closing boundary");
      dataEnd = alt;
      nextPos = alt + 1;
    }
    const headers: Record<string, string> = {};
    for (const line of headerText.split(/\r?\n/)) {
      const i = line.indexOf(":");
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const disposition = headers["content-disposition"];
    if (!disposition || !/^form-data/i.test(disposition)) throw new Error("multipart part without Content-Disposition: form-data");
    const name = dispositionParam(disposition, "name");
    if (name === undefined) throw new Error("multipart part without a name");
    const filename = dispositionParam(disposition, "filename");
    const data = Buffer.from(body.subarray(dataStart, dataEnd));
    if (filename !== undefined) {
      out.files[name] = {
        filename,
        contentType: headers["content-type"],
        size: data.length,
        text: data.toString("utf8"),
        data,
      };
      out.order.push({ name, file: true });
    } else {
      out.fields[name] = data.toString("utf8");
      out.order.push({ name, file: false });
    }
    pos = nextPos;
    if (body.indexOf(delim, pos) !== pos) throw new Error("malformed multipart body");
  }
  return out;
}

/** True when the buffer is valid UTF-8 made of mostly printable text. */
export function looksLikeText(data: Buffer): boolean {
  if (data.length === 0) return false;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(data);
  } catch {
    return false;
  }
  // eslint-disable-next-line no-control-regex
  const control = text.match(/[\u0000-\u0008\u000e-\u001f\u007f]/g)?.length ?? 0;
  return control <= text.length * 0.01;
}
