/**
 * The layer scan of the container suites: save an image (docker-archive), read every layer and the
 * image config for the needles (secrets, canaries), list the files the layers hold, and measure
 * each layer unpacked and gzip-compressed (what a registry stores and a pull downloads).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { mb, podman, workDir } from "./podman.js";

/** Save an image and read every layer and its config: the files they hold and which needles occur. */
export interface Layer {
  /** the layer's diff ID (sha256 of its uncompressed tar) */
  id: string;
  bytes: number;
  /** gzip -6 of the layer, as a registry would store it */
  gzipBytes: number;
}

export async function scanImage(
  ref: string,
  label: string,
  needles: string[],
): Promise<{ hits: string[]; names: string[]; layers: number; bytes: number; sizes: Layer[] }> {
  const dir = join(workDir(), "saved", label);
  const tar = join(dir, "..", `${label}.tar`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(tar, { force: true });
  mkdirSync(dir, { recursive: true });
  await podman(["save", "--format", "docker-archive", "-o", tar, ref], { timeoutMs: 300_000 });
  execFileSync("tar", ["-xf", tar, "-C", dir]);
  const hits: string[] = [];
  const names: string[] = [];
  let layers = 0;
  let bytes = 0;
  const sizes: Layer[] = [];
  // (a docker-archive also links each layer as <id>/layer.tar: links are skipped, each layer read once)
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((f) => {
      const st = lstatSync(join(d, f));
      return st.isSymbolicLink() ? [] : st.isDirectory() ? walk(join(d, f)) : [join(d, f)];
    });
  for (const f of walk(dir)) {
    const buf = readFileSync(f);
    bytes += buf.length;
    for (const n of needles) if (buf.includes(n)) hits.push(`${label}: ${f.slice(dir.length + 1)}: ${n}`);
    if (f.endsWith(".tar")) {
      layers++;
      const id = `sha256:${createHash("sha256").update(buf).digest("hex")}`;
      if (!sizes.some((l) => l.id === id)) sizes.push({ id, bytes: buf.length, gzipBytes: gzipSync(buf).length });
      names.push(...execFileSync("tar", ["-tf", f], { maxBuffer: 256 << 20 }).toString().split("\n").filter(Boolean));
    }
  }
  console.log(`layer scan of ${label}: ${layers} layers and the image config, ${mb(bytes)}, ${names.length} files: ${hits.length} secret(s) found`);
  return { hits, names, layers, bytes, sizes };
}

/** Sum of the layers' sizes, unpacked or gzip-compressed. */
export const sumLayers = (ls: Layer[], k: "bytes" | "gzipBytes") => ls.reduce((n, l) => n + l[k], 0);
