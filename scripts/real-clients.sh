#!/usr/bin/env bash
# Real MCP clients against the built cohere-mcp and the bundled Cohere emulator (issues 5, 14):
#   - @modelcontextprotocol/inspector-cli 0.16.8 --cli: tools/list and tools/call over stdio,
#     over streamable HTTP, and from a Claude Desktop-style mcpServers config (--config --server)
#   - the MCP TypeScript SDK v2 client (@modelcontextprotocol/client), over stdio, HTTP
#     stateless, HTTP --sessions and HTTP with an agent's token, list tools and call one in each
#     negotiation (scripts/clients/sdk-v2.mjs): `auto` now picks 2026-07-28 (modern), pinned to
#     2026-07-28 (modern only), and `legacy` on the same server still gets 2025-11-25
#   - the Vercel AI SDK's @ai-sdk/mcp: load the tools as AI SDK tools and run one, over stdio
#     and HTTP (scripts/clients/ai-sdk.mjs)
#   - mcp-remote (how Claude Desktop reaches a remote server): list and call through it with an
#     agent's bearer token; with a wrong token it must fail and show the server's explanation
#     (scripts/clients/mcp-remote.mjs)
#   - @modelcontextprotocol/conformance 0.2.0-alpha.12 under Node 22 (the npm package node@22,
#     installed in scripts/node22 so the project stays on Node 20), in stateless and --sessions
#     mode, both eras: every 2025-11-25 server scenario (against scripts/node22/conformance-baseline.yml)
#     and the 2026-07-28 requirement set at that revision's wire (against
#     scripts/node22/conformance-baseline-2026-07-28.yml); the baselines list what does not apply,
#     and why. 0.1.13 runs under Node 20 inside npm test (test/conformance.test.ts).
#   - LangChain's @langchain/mcp-adapters: load the tools over stdio and invoke one
# One PASS/FAIL line per check; exits 1 if any check fails.
#
#   npm run test:clients        (builds first)
#   bash scripts/real-clients.sh   (uses dist/ as it is)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$(pwd)"

KEY="clients-key-SECRET-5e6f7a8b9c0d"
TMP="$(mktemp -d)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT

passes=0
fails=0
LAST=$SECONDS # each PASS/FAIL line ends with the seconds since the previous one
pass() { echo "PASS $1 [$((SECONDS - LAST)) s]"; LAST=$SECONDS; passes=$((passes + 1)); }
fail() {
  echo "FAIL $1 [$((SECONDS - LAST)) s]"; LAST=$SECONDS
  if [ -n "${2:-}" ] && [ -f "$2" ]; then head -c 2000 "$2" | sed 's/^/    /'; echo; fi
  fails=$((fails + 1))
}

INSPECTOR=(node "$ROOT/node_modules/@modelcontextprotocol/inspector-cli/build/cli.js" --cli)
CONFORMANCE=(node "$ROOT/node_modules/@modelcontextprotocol/conformance/dist/index.js")
[ -f "${CONFORMANCE[1]}" ] || CONFORMANCE=("$ROOT/node_modules/.bin/conformance")

# wait_for FILE REGEX: print the first match of REGEX in FILE, waiting up to 15 s
wait_for() {
  for _ in $(seq 1 150); do
    if m=$(grep -o -m1 -E "$2" "$1" 2>/dev/null); then echo "$m"; return 0; fi
    sleep 0.1
  done
  return 1
}

# check_list FILE [NAME]: FILE holds a tools/list result that includes `rerank` and no write tool
check_list() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const names = (r.tools ?? []).map((t) => t.name);
    if (!names.includes("rerank")) throw new Error("no rerank in " + names.join(","));
    if (names.includes("delete_dataset")) throw new Error("a destructive tool is listed by default");
    console.log(names.length);
  ' "$1" 2>>"$1.err"
}

# check_call FILE: FILE holds a successful rerank result (not an error, best document first)
check_call() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    if (r.isError) throw new Error("tool error: " + JSON.stringify(r.content));
    const text = (r.content ?? []).map((c) => c.text ?? "").join("");
    const results = r.structuredContent?.results ?? JSON.parse(text).results;
    if (!Array.isArray(results) || results[0].index !== 0) throw new Error("unexpected answer: " + text.slice(0, 200));
  ' "$1" 2>>"$1.err"
}

CALL_ARGS=(--method tools/call --tool-name rerank --tool-arg model=rerank-v3.5 --tool-arg "query=capital of france"
  --tool-arg 'documents=["Paris is the capital of France","Bananas are yellow"]')

echo "real clients against cohere-mcp ($(node --version), $(date -u +%Y-%m-%dT%H:%M:%SZ))"

# --- the emulator -----------------------------------------------------------------------------
node dist/emulator/cli.js --port 0 --api-key "$KEY" >"$TMP/emu.out" 2>"$TMP/emu.err" &
PIDS+=($!)
if ! EMU="$(wait_for "$TMP/emu.out" 'http://[0-9.:]+')"; then
  fail "emulator start" "$TMP/emu.err"
  exit 1
fi
echo "emulator: $EMU"

# --- inspector-cli over stdio -----------------------------------------------------------------
ENVARGS=(-e "CO_API_KEY=$KEY" -e "CO_API_URL=$EMU")
if timeout 60 "${INSPECTOR[@]}" "${ENVARGS[@]}" node "$ROOT/dist/src/index.js" --method tools/list >"$TMP/s-list.json" 2>"$TMP/s-list.err" &&
  n=$(check_list "$TMP/s-list.json"); then
  pass "inspector-cli 0.16.8, stdio: tools/list ($n tools)"
else
  fail "inspector-cli 0.16.8, stdio: tools/list" "$TMP/s-list.err"
fi
if timeout 60 "${INSPECTOR[@]}" "${ENVARGS[@]}" node "$ROOT/dist/src/index.js" "${CALL_ARGS[@]}" >"$TMP/s-call.json" 2>"$TMP/s-call.err" &&
  check_call "$TMP/s-call.json"; then
  pass "inspector-cli 0.16.8, stdio: tools/call rerank"
else
  fail "inspector-cli 0.16.8, stdio: tools/call rerank" "$TMP/s-call.json.err"
fi

# --- cohere-mcp --http ------------------------------------------------------------------------
CO_API_KEY="$KEY" CO_API_URL="$EMU" node dist/src/index.js --http --host 127.0.0.1 --port 0 >"$TMP/http.out" 2>"$TMP/http.err" &
HTTP_PID=$!
PIDS+=($HTTP_PID)
if MCP_URL="$(wait_for "$TMP/http.err" 'http://127\.0\.0\.1:[0-9]+/mcp')"; then
  echo "cohere-mcp --http: $MCP_URL"
  if timeout 60 "${INSPECTOR[@]}" "$MCP_URL" --transport http --method tools/list >"$TMP/h-list.json" 2>"$TMP/h-list.err" &&
    n=$(check_list "$TMP/h-list.json"); then
    pass "inspector-cli 0.16.8, streamable HTTP: tools/list ($n tools)"
  else
    fail "inspector-cli 0.16.8, streamable HTTP: tools/list" "$TMP/h-list.err"
  fi
  if timeout 60 "${INSPECTOR[@]}" "$MCP_URL" --transport http "${CALL_ARGS[@]}" >"$TMP/h-call.json" 2>"$TMP/h-call.err" &&
    check_call "$TMP/h-call.json"; then
    pass "inspector-cli 0.16.8, streamable HTTP: tools/call rerank"
  else
    fail "inspector-cli 0.16.8, streamable HTTP: tools/call rerank" "$TMP/h-call.json.err"
  fi
else
  fail "cohere-mcp --http start (HTTP transport not available?)" "$TMP/http.err"
  MCP_URL=""
fi

# --- inspector-cli from a Claude Desktop-style config file ------------------------------------
KEY="$KEY" EMU="$EMU" MCP_URL="$MCP_URL" ENTRY="$ROOT/dist/src/index.js" node -e '
  const e = process.env;
  const servers = {
    other: { command: "node", args: ["-e", "process.exit(3)"] },
    cohere: { command: "node", args: [e.ENTRY], env: { CO_API_KEY: e.KEY, CO_API_URL: e.EMU } },
  };
  if (e.MCP_URL) servers["cohere-http"] = { type: "streamable-http", url: e.MCP_URL };
  process.stdout.write(JSON.stringify({ mcpServers: servers }, null, 2));
' >"$TMP/claude_desktop_config.json"
if timeout 60 "${INSPECTOR[@]}" --config "$TMP/claude_desktop_config.json" --server cohere --method tools/list >"$TMP/c-list.json" 2>"$TMP/c-list.err" &&
  n=$(check_list "$TMP/c-list.json"); then
  pass "inspector-cli 0.16.8, mcpServers config (--config --server cohere): tools/list ($n tools)"
else
  fail "inspector-cli 0.16.8, mcpServers config (--config --server cohere): tools/list" "$TMP/c-list.err"
fi
if timeout 60 "${INSPECTOR[@]}" --config "$TMP/claude_desktop_config.json" --server cohere "${CALL_ARGS[@]}" >"$TMP/c-call.json" 2>"$TMP/c-call.err" &&
  check_call "$TMP/c-call.json"; then
  pass "inspector-cli 0.16.8, mcpServers config (--config --server cohere): tools/call rerank"
else
  fail "inspector-cli 0.16.8, mcpServers config (--config --server cohere): tools/call rerank" "$TMP/c-call.json.err"
fi
if [ -n "$MCP_URL" ]; then
  if timeout 60 "${INSPECTOR[@]}" --config "$TMP/claude_desktop_config.json" --server cohere-http "${CALL_ARGS[@]}" >"$TMP/ch-call.json" 2>"$TMP/ch-call.err" &&
    check_call "$TMP/ch-call.json"; then
    pass "inspector-cli 0.16.8, mcpServers config (streamable-http entry): tools/call rerank"
  else
    fail "inspector-cli 0.16.8, mcpServers config (streamable-http entry): tools/call rerank" "$TMP/ch-call.json.err"
  fi
fi

# --- conformance suite ------------------------------------------------------------------------
if [ -f test/conformance.test.ts ]; then
  echo "SKIP conformance 0.1.13: run inside npm test by test/conformance.test.ts (stateless and --sessions)"
elif [ -n "$MCP_URL" ]; then
  for scenario in server-initialize ping tools-list dns-rebinding-protection; do
    if NO_COLOR=1 timeout 120 "${CONFORMANCE[@]}" server --url "$MCP_URL" --scenario "$scenario" >"$TMP/conf-$scenario.out" 2>&1; then
      pass "conformance 0.1.13: $scenario"
    else
      fail "conformance 0.1.13: $scenario" "$TMP/conf-$scenario.out"
    fi
  done
else
  fail "conformance 0.1.13: no HTTP server to test"
fi

# --- more servers: --sessions, and one with an agent and a bearer token -----------------------
AGENT_TOKEN="clients-agent-token-7d1e5f3a9b2c"
start_http() { # NAME ARGS...: start cohere-mcp --http in the background (its PID is kept for cleanup)
  local name="$1"; shift
  AGENT_TOKEN="$AGENT_TOKEN" CO_API_KEY="$KEY" CO_API_URL="$EMU" node dist/src/index.js --http --host 127.0.0.1 --port 0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
}
printf '%s' '{"profiles":{"search":{"tools":["rerank","embed","list_models"]}},"agents":[{"name":"desktop","profile":"search","token_env":"AGENT_TOKEN"}]}' >"$TMP/team.json"
start_http sessions --sessions
start_http agents --config "$TMP/team.json"
SESS_URL="$(wait_for "$TMP/sessions.err" 'http://127\.0\.0\.1:[0-9]+/mcp')" || { fail "cohere-mcp --http --sessions start" "$TMP/sessions.err"; SESS_URL=""; }
AGENT_URL="$(wait_for "$TMP/agents.err" 'http://127\.0\.0\.1:[0-9]+/mcp')" || { fail "cohere-mcp --http --config (agents) start" "$TMP/agents.err"; AGENT_URL=""; }
[ -n "$SESS_URL" ] && echo "cohere-mcp --http --sessions: $SESS_URL"
[ -n "$AGENT_URL" ] && echo "cohere-mcp --http --config (one agent, bearer token): $AGENT_URL"

# client_check LABEL LOGNAME CMD...: PASS with the command's last stdout line, or FAIL with its output
client_check() {
  local label="$1" log="$2"; shift 2
  if timeout 120 "$@" >"$TMP/$log.out" 2>"$TMP/$log.err"; then
    pass "$label: $(tail -1 "$TMP/$log.out")"
  else
    cat "$TMP/$log.out" >>"$TMP/$log.err"
    fail "$label" "$TMP/$log.err"
  fi
}

# --- the SDK v2 client: auto (→ 2026-07-28), pinned to 2026-07-28, and legacy (→ 2025-11-25) ----
pkgv() { node -p 'require(process.argv[1]).version' "$ROOT/node_modules/$1/package.json" 2>/dev/null; }
for neg in auto pin legacy; do
  V2="@modelcontextprotocol/client $(pkgv @modelcontextprotocol/client) ($neg)"
  client_check "$V2, stdio" "v2-$neg-stdio" env CO_API_KEY="$KEY" CO_API_URL="$EMU" node scripts/clients/sdk-v2.mjs "$neg" stdio "$ROOT/dist/src/index.js"
  [ -n "$MCP_URL" ] && client_check "$V2, HTTP stateless" "v2-$neg-http" node scripts/clients/sdk-v2.mjs "$neg" http "$MCP_URL"
  [ -n "$SESS_URL" ] && client_check "$V2, HTTP --sessions" "v2-$neg-sess" node scripts/clients/sdk-v2.mjs "$neg" http "$SESS_URL"
  [ -n "$AGENT_URL" ] && client_check "$V2, HTTP + agent token" "v2-$neg-agent" node scripts/clients/sdk-v2.mjs "$neg" http "$AGENT_URL" "$AGENT_TOKEN"
done

# --- the Vercel AI SDK ------------------------------------------------------------------------
AI="@ai-sdk/mcp $(pkgv @ai-sdk/mcp)"
client_check "$AI, stdio" ai-stdio env CO_API_KEY="$KEY" CO_API_URL="$EMU" node scripts/clients/ai-sdk.mjs stdio "$ROOT/dist/src/index.js"
[ -n "$MCP_URL" ] && client_check "$AI, HTTP stateless" ai-http node scripts/clients/ai-sdk.mjs http "$MCP_URL"
[ -n "$SESS_URL" ] && client_check "$AI, HTTP --sessions" ai-sess node scripts/clients/ai-sdk.mjs http "$SESS_URL"

# --- mcp-remote, with an agent's token --------------------------------------------------------
if [ -n "$AGENT_URL" ]; then
  MR="mcp-remote $(pkgv mcp-remote)"
  client_check "$MR, HTTP + bearer token" mr-ok node scripts/clients/mcp-remote.mjs ok "$AGENT_URL" "$AGENT_TOKEN"
  for strategy in http-only http-first; do
    if timeout 120 node scripts/clients/mcp-remote.mjs wrong "$AGENT_URL" "wrong-token-0000000000000000" --transport "$strategy" >"$TMP/mr-wrong-$strategy.out" 2>"$TMP/mr-wrong-$strategy.err"; then
      pass "$MR, HTTP + wrong token (--transport $strategy): refused, and mcp-remote shows why:"
      sed 's/^/    /' "$TMP/mr-wrong-$strategy.out"
    else
      cat "$TMP/mr-wrong-$strategy.out" >>"$TMP/mr-wrong-$strategy.err"
      fail "$MR, HTTP + wrong token (--transport $strategy)" "$TMP/mr-wrong-$strategy.err"
    fi
  done
fi

# --- conformance 0.2.0-alpha.12 under Node 22: both eras --------------------------------------
# Its own two servers (stateless and --sessions, both eras on): the suites call dozens of fixture
# tools cohere-mcp does not have, and the refusal throttle (60 a minute by default) would start
# answering those with a 429 text partway through; --max-refusals-per-minute 0 keeps each answer
# the plain unknown-tool one whatever ran before.
N22="$ROOT/scripts/node22"
CONF_JS="$N22/node_modules/@modelcontextprotocol/conformance/dist/index.js"
want_conf=$(node -p 'require(process.argv[1]).dependencies["@modelcontextprotocol/conformance"]' "$N22/package.json")
have_conf=$(node -p 'require(process.argv[1]).version' "$N22/node_modules/@modelcontextprotocol/conformance/package.json" 2>/dev/null)
if [ ! -x "$N22/node_modules/.bin/node" ] || [ "$have_conf" != "$want_conf" ]; then
  (cd "$N22" && npm ci --no-audit --no-fund --loglevel=error >"$TMP/node22-install.log" 2>&1) || fail "npm ci in scripts/node22 (node@22, conformance)" "$TMP/node22-install.log"
fi
NODE22="$N22/node_modules/.bin/node"
CONF22=("$NODE22" "$CONF_JS")
if [ -x "$NODE22" ] && [ -f "$CONF_JS" ]; then
  CV="conformance $(node -p 'require(process.argv[1]).version' "$N22/node_modules/@modelcontextprotocol/conformance/package.json") on Node $("$NODE22" --version)"
  start_http conf-stateless --max-refusals-per-minute 0
  start_http conf-sessions --sessions --max-refusals-per-minute 0
  CONF_ST="$(wait_for "$TMP/conf-stateless.err" 'http://127\.0\.0\.1:[0-9]+/mcp')" || { fail "cohere-mcp --http (conformance, stateless) start" "$TMP/conf-stateless.err"; CONF_ST=""; }
  CONF_SE="$(wait_for "$TMP/conf-sessions.err" 'http://127\.0\.0\.1:[0-9]+/mcp')" || { fail "cohere-mcp --http --sessions (conformance) start" "$TMP/conf-sessions.err"; CONF_SE=""; }
  # Stateless, there is no session: the multiple-streams scenario (which needs one) does not apply either.
  { cat "$N22/conformance-baseline.yml"; printf '  # stateless only: no session, so no concurrent session streams to test\n  - server-sse-multiple-streams\n'; } >"$TMP/baseline-stateless.yml"
  # conf_run LABEL LOG URL BASELINE ARGS...: PASS with the scenarios that pass, or FAIL with the summary.
  # The run exits non-zero on any failure not in the baseline, and on a baseline entry that passes.
  conf_run() {
    local label="$1" log="$2" url="$3" baseline="$4"; shift 4
    if NO_COLOR=1 FORCE_COLOR=0 timeout 600 "${CONF22[@]}" server --url "$url" "$@" \
      --expected-failures "$baseline" -o "$TMP/$log" >"$TMP/$log.out" 2>&1; then
      local summary passing total partly
      summary=$(sed 's/\x1b\[[0-9;]*m//g' "$TMP/$log.out" | sed -n '/=== SUMMARY ===/,/^Total:/p')
      # A scenario passes when it ran checks and all passed; the rest are the baseline's (not applicable).
      passing=$(printf '%s\n' "$summary" | grep -E '^✓ .*: [1-9][0-9]* passed, 0 failed')
      total=$(printf '%s\n' "$summary" | grep -cE '^[✓✗] ')
      # and the scenarios that pass but for single checks the baseline names (scenario:check)
      partly=$(grep -oE '^ +- [a-z0-9-]+:' "$baseline" | sed -E 's/^ +- //; s/:$//' | sort -u | while read -r sc; do
        printf '%s\n' "$summary" | grep -E "^✗ $sc: " | sed 's/$/ (the failing checks: single checks in the baseline)/'; done)
      pass "$label: $(printf '%s\n' "$passing" | grep -c .) of $total scenarios pass, $(printf '%s\n' "$partly" | grep -c .) pass but for baselined checks, the others are not applicable (baseline)"
      printf '%s\n%s\n' "$passing" "$partly" | grep . | sed 's/^/    /'
    else
      sed 's/\x1b\[[0-9;]*m//g' "$TMP/$log.out" | sed -n '/=== SUMMARY ===/,$p' >"$TMP/$log.summary"
      [ -s "$TMP/$log.summary" ] || cp "$TMP/$log.out" "$TMP/$log.summary"
      fail "$label" "$TMP/$log.summary"
    fi
  }
  for mode in stateless sessions; do
    url="$CONF_ST"; baseline="$TMP/baseline-stateless.yml"
    if [ "$mode" = sessions ]; then url="$CONF_SE"; baseline="$N22/conformance-baseline.yml"; fi
    [ -n "$url" ] || continue
    # legacy era: every 2025-11-25 server scenario (initialize, sessions)
    conf_run "$CV, 2025-11-25 (--suite all), $mode" "conf25-$mode" "$url" "$baseline" --suite all --spec-version 2025-11-25
    # modern era: exactly what the 2026-07-28 revision requires, at its wire (server/discover, the
    # per-request envelope), plus the extension and pending scenarios the set runs unscored
    conf_run "$CV, 2026-07-28 (--requirements), $mode" "conf26-$mode" "$url" "$N22/conformance-baseline-2026-07-28.yml" --requirements 2026-07-28
    # The set runs its pending and extension scenarios unscored: their failures never change the
    # exit code. The one of them that applies (the Mcp-Method / Mcp-Name header rules) runs on its
    # own too, so that it fails the run if it fails.
    for scenario in http-header-validation; do
      if NO_COLOR=1 FORCE_COLOR=0 timeout 120 "${CONF22[@]}" server --url "$url" --scenario "$scenario" --spec-version 2026-07-28 \
        -o "$TMP/conf26-$scenario-$mode" >"$TMP/conf26-$scenario-$mode.out" 2>&1 &&
        summary=$(grep -E '^Passed: ([0-9]+)/\1, 0 failed' "$TMP/conf26-$scenario-$mode.out"); then
        pass "$CV, 2026-07-28, $mode: $scenario (unscored in the set, required here): $summary"
      else
        fail "$CV, 2026-07-28, $mode: $scenario" "$TMP/conf26-$scenario-$mode.out"
      fi
    done
  done
else
  fail "Node 22 and the conformance suite are not installed in scripts/node22" "$TMP/node22-install.log"
fi

# --- LangChain MCP adapters -------------------------------------------------------------------
if KEY="$KEY" EMU="$EMU" ENTRY="$ROOT/dist/src/index.js" timeout 120 node --input-type=module >"$TMP/lc.out" 2>"$TMP/lc.err" <<'JS'; then
import { MultiServerMCPClient } from "@langchain/mcp-adapters";
const client = new MultiServerMCPClient({
  mcpServers: {
    cohere: {
      transport: "stdio",
      command: process.execPath,
      args: [process.env.ENTRY],
      env: { PATH: process.env.PATH ?? "", CO_API_KEY: process.env.KEY, CO_API_URL: process.env.EMU },
    },
  },
});
try {
  const tools = await client.getTools();
  const rerank = tools.find((t) => t.name === "rerank");
  if (!rerank) throw new Error(`rerank not among ${tools.map((t) => t.name).join(", ")}`);
  const out = await rerank.invoke({ model: "rerank-v3.5", query: "capital of france", documents: ["Paris is the capital of France", "Bananas are yellow"] });
  const text = typeof out === "string" ? out : JSON.stringify(out);
  if (!/results|relevance/.test(text) || /isError|Invalid arguments/.test(text)) throw new Error(`unexpected answer: ${text.slice(0, 300)}`);
  console.log(`${tools.length} tools loaded; rerank answered`);
} finally {
  await client.close();
}
JS
  pass "@langchain/mcp-adapters $(node -p 'require("@langchain/mcp-adapters/package.json").version' 2>/dev/null): $(tail -1 "$TMP/lc.out")"
else
  cat "$TMP/lc.out" >>"$TMP/lc.err"
  fail "@langchain/mcp-adapters: load tools over stdio and invoke rerank" "$TMP/lc.err"
fi

echo "clients: $passes passed, $fails failed"
[ "$fails" -eq 0 ]
