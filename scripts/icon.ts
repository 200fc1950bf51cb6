/**
 * The bundle's icon (icon.png, 512×512 RGBA (the size Claude Desktop recommends)), drawn here and written with node:zlib, so it is
 * made from source like the other generated files (`npm run manifest` writes it;
 * test/distribution.test.ts holds the checked-in file to this drawing).
 *
 * A rounded dark-green square with a coral disc and a lilac disc overlapping it: three shapes,
 * each pixel sampled 4×4 times for smooth edges.
 */
import { deflateSync } from "node:zlib";

export const ICON_SIZE = 512;

type RGB = readonly [number, number, number];
const GREEN: RGB = [0x39, 0x59, 0x4d];
const CORAL: RGB = [0xff, 0x77, 0x59];
const LILAC: RGB = [0xd1, 0x8e, 0xe2];

function insideRoundedSquare(x: number, y: number, size: number, r: number): boolean {
  const cx = Math.min(Math.max(x, r), size - r);
  const cy = Math.min(Math.max(y, r), size - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

const inDisc = (x: number, y: number, cx: number, cy: number, r: number) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

/** One pixel's colour and coverage at a sample point (no alpha outside the square). */
function sample(x: number, y: number, s: number): [number, number, number, number] {
  if (!insideRoundedSquare(x, y, s, s * 0.22)) return [0, 0, 0, 0];
  if (inDisc(x, y, s * 0.6, s * 0.42, s * 0.2)) return [...LILAC, 255];
  if (inDisc(x, y, s * 0.42, s * 0.58, s * 0.26)) return [...CORAL, 255];
  return [...GREEN, 255];
}

/** RGBA rows, each prefixed with PNG filter byte 0. */
function pixels(size: number): Buffer {
  const row = 1 + size * 4;
  const out = Buffer.alloc(row * size);
  const n = 4;
  for (let y = 0; y < size; y++) {
    out[y * row] = 0;
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const [pr, pg, pb, pa] = sample(x + (sx + 0.5) / n, y + (sy + 0.5) / n, size);
          r += pr * pa;
          g += pg * pa;
          b += pb * pa;
          a += pa;
        }
      }
      const o = y * row + 1 + x * 4;
      out[o] = a ? Math.round(r / a) : 0;
      out[o + 1] = a ? Math.round(g / a) : 0;
      out[o + 2] = a ? Math.round(b / a) : 0;
      out[o + 3] = Math.round(a / (n * n));
    }
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, i) => {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** The icon as PNG bytes (the same bytes on every run). */
export function iconPng(size = ICON_SIZE): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(pixels(size), { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}
