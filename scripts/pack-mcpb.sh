#!/usr/bin/env bash
# Build cohere-mcp.mcpb (an MCP Bundle for Claude Desktop and other MCPB hosts) from dist/:
#   stage the files the bundle needs in .tmp/mcpb-stage, install production dependencies there
#   from package-lock.json, `mcpb validate` the manifest, then `mcpb pack` (which applies
#   .mcpbignore). Prints the SHA-256 that server.json's mcpb package needs at release.
#
#   npm run pack:mcpb                          (builds first)
#   bash scripts/pack-mcpb.sh [OUT]            (uses dist/ as it is; OUT defaults to ./cohere-mcp.mcpb)
#   npm run pack:mcpb -- --release             (also writes the bundle's SHA-256 into server.json:
#                                               do this for the file you attach to the release)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"
RELEASE=0
if [ "${1:-}" = "--release" ]; then RELEASE=1; shift; fi
OUT="${1:-$ROOT/cohere-mcp.mcpb}"
STAGE="$ROOT/.tmp/mcpb-stage"
MCPB=(node "$ROOT/node_modules/@anthropic-ai/mcpb/dist/cli/cli.js")

[ -f dist/src/index.js ] || { echo "pack-mcpb: dist/src/index.js is missing; run npm run build" >&2; exit 1; }

rm -rf "$STAGE"
mkdir -p "$STAGE/dist"
cp manifest.json .mcpbignore package.json package-lock.json README.md tools.manifest.json config.schema.json icon.png "$STAGE/"
cp -R dist/src "$STAGE/dist/src"
# Production dependencies only, exactly as locked; no lifecycle scripts (prepack would rebuild).
(cd "$STAGE" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
# What a desktop (stdio) server never loads: the SDK's HTTP server and client sides, jose, Redis.
node dist/scripts/prune-bundle.js "$STAGE"

"${MCPB[@]}" validate "$STAGE/manifest.json"
"${MCPB[@]}" pack "$STAGE" "$OUT" >"$ROOT/.tmp/mcpb-pack.log" 2>&1 || { cat "$ROOT/.tmp/mcpb-pack.log" >&2; exit 1; }
grep -E "^(package size|unpacked size|total files|ignored)" "$ROOT/.tmp/mcpb-pack.log" || true
SHA="$(sha256sum "$OUT" | cut -d' ' -f1)"
echo "sha256: $SHA"
if [ "$RELEASE" = 1 ]; then
  SHA="$SHA" node -e '
    const fs = require("fs");
    const s = JSON.parse(fs.readFileSync("server.json", "utf8"));
    for (const p of s.packages) if (p.registryType === "mcpb") p.fileSha256 = process.env.SHA;
    fs.writeFileSync("server.json", JSON.stringify(s, null, 2) + "\n");
  '
  echo "server.json: fileSha256 of the mcpb package set to $SHA"
fi
echo "wrote $OUT"
