// mcp-remote (how Claude Desktop reaches a remote server): start its stdio proxy the way a
// claude_desktop_config.json entry does, with the agent's token as a header, and talk to it with
// the MCP SDK client over stdio.
//   node scripts/clients/mcp-remote.mjs ok URL TOKEN [--transport MODE]     list tools and call rerank
//   node scripts/clients/mcp-remote.mjs wrong URL TOKEN [--transport MODE]  must fail; prints what
//                                                                           mcp-remote said
// MCP_REMOTE_CONFIG_DIR is pointed at a fresh temp dir, so nothing is read from or written to ~/.mcp-auth.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

const [expect, url, token, ...extra] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const proxy = join(dirname(require.resolve("mcp-remote/package.json")), "dist/proxy.js");
const authDir = mkdtempSync(join(tmpdir(), "mcp-remote-auth-"));
const transport = new StdioClientTransport({
  command: process.execPath,
  args: [proxy, url, "--header", `Authorization: Bearer ${token}`, ...extra],
  env: { PATH: process.env.PATH ?? "", HOME: authDir, MCP_REMOTE_CONFIG_DIR: authDir },
  stderr: "pipe",
});
let stderr = "";
let onFatal = () => undefined;
const fatal = new Promise((resolve) => (onFatal = resolve));
transport.stderr?.on("data", (d) => {
  stderr += d.toString();
  if (/Fatal error/.test(stderr)) onFatal(); // mcp-remote gave up (it may not exit at once)
});
const client = new Client({ name: "claude-desktop-like", version: "1.0.0" });
try {
  if (expect === "ok") {
    await client.connect(transport);
    const { tools } = await client.listTools();
    if (!tools.some((t) => t.name === "rerank")) throw new Error(`no rerank among ${tools.map((t) => t.name).join(",")}`);
    const r = await client.callTool({
      name: "rerank",
      arguments: { model: "rerank-v3.5", query: "capital of france", documents: ["Paris is the capital of France", "Bananas are yellow"] },
    });
    if (r.isError || r.structuredContent?.results?.[0]?.index !== 0) throw new Error(`unexpected rerank answer: ${JSON.stringify(r).slice(0, 300)}`);
    console.log(`${tools.length} tools listed through mcp-remote; rerank answered`);
  } else {
    let connected = false;
    try {
      await Promise.race([
        client.connect(transport).then(() => client.listTools()).then(() => (connected = true)),
        fatal,
        new Promise((_, reject) => setTimeout(() => reject(new Error("no answer in 45 s")), 45_000).unref()),
      ]);
    } catch {
      /* expected */
    }
    await new Promise((r) => setTimeout(r, 300)); // let the last stderr lines arrive
    if (connected) throw new Error("a wrong token was accepted");
    const lines = stderr.split("\n").filter((l) => /Fatal error|Connection error|Received error|rejected/.test(l));
    // The fatal line is what a Claude Desktop user finds in the server's log.
    console.log(lines.map((l) => l.replace(/^\[\d+\] /, "")).join("\n"));
    if (!/static bearer token/.test(stderr)) throw new Error(`mcp-remote did not show the server's explanation:\n${stderr.slice(0, 3000)}`);
  }
} catch (err) {
  console.error(`${err.message}\n[mcp-remote stderr]\n${stderr.slice(-3000)}`);
  process.exitCode = 1;
} finally {
  await client.close().catch(() => undefined);
  rmSync(authDir, { recursive: true, force: true });
}
