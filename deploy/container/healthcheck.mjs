// The image's HEALTHCHECK: GET /healthz on the port the server was started with, using node itself
// (the image has no curl). The port and bind address are read from the server's own command line
// (/proc/<pid>/cmdline: --port N, --host H, either as "--flag value" or "--flag=value"), else from
// COHERE_MCP_PORT / COHERE_MCP_HOST, else the defaults (8080). A server in stdio mode (no --http)
// has no port: it is healthy while it runs, so this exits 0.
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";

const ENTRY = "/app/dist/src/index.js";

function serverArgs() {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let argv;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    } catch {
      continue;
    }
    const at = argv.indexOf(ENTRY);
    if (at >= 0 && Number(pid) !== process.pid) return argv.slice(at + 1);
  }
  return undefined;
}

function flag(args, name) {
  let value;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name && i + 1 < args.length) value = args[++i];
    else if (args[i].startsWith(`${name}=`)) value = args[i].slice(name.length + 1);
  }
  return value;
}

const args = serverArgs();
if (!args) {
  console.error("healthcheck: no cohere-mcp process found");
  process.exit(1);
}
if (!args.includes("--http")) process.exit(0);
const port = Number(flag(args, "--port") ?? process.env.COHERE_MCP_PORT ?? 8080);
let host = flag(args, "--host") ?? process.env.COHERE_MCP_HOST ?? "127.0.0.1";
if (host === "0.0.0.0" || host === "") host = "127.0.0.1";
if (host === "::" || host === "[::]") host = "::1";
host = host.replace(/^\[|\]$/g, "");

const req = http.get({ host, port, path: "/healthz", timeout: 3000 }, (res) => {
  res.resume();
  if (res.statusCode === 200) process.exit(0);
  console.error(`healthcheck: /healthz answered ${res.statusCode}`);
  process.exit(1);
});
req.on("timeout", () => req.destroy(new Error("no answer within 3 s")));
req.on("error", (err) => {
  console.error(`healthcheck: http://${host}:${port}/healthz: ${err.message}`);
  process.exit(1);
});
