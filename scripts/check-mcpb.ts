/**
 * The bundle as a host would run it (issue 14). Given a packed cohere-mcp.mcpb:
 *   1. `mcpb unpack` it into a fresh directory and `mcpb validate` the unpacked manifest.json;
 *   2. for a few sets of user values, resolve mcp_config the way the host does (`${__dirname}`,
 *      `${user_config.x}` → the user's value or the field's default), start the server from the
 *      unpacked directory with only that environment (plus PATH), against the Cohere emulator,
 *      and list tools (and call one) through the MCP SDK client over stdio.
 * One PASS/FAIL line per check, then "mcpb: N passed, N failed"; exits 1 on any failure.
 *
 *   npm run test:mcpb    (packs first)
 *   node dist/scripts/check-mcpb.js cohere-mcp.mcpb
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { startEmulator } from "../emulator/server.js";
import { ICON, resolveMcpConfig, type UserConfigField } from "./bundle-manifest.js";
import { DESKTOP_NEVER_LOADS } from "./prune-bundle.js";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const MCPB_CLI = join(ROOT, "node_modules/@anthropic-ai/mcpb/dist/cli/cli.js");
const KEY = "mcpb-check-key-SECRET-1a2b3c4d";

let passes = 0;
let fails = 0;
function pass(what: string): void {
  console.log(`PASS ${what}`);
  passes++;
}
function fail(what: string, why: unknown): void {
  console.log(`FAIL ${what}\n    ${String((why as Error)?.message ?? why).slice(0, 2000).replace(/\n/g, "\n    ")}`);
  fails++;
}

interface Manifest {
  tools: Array<{ name: string }>;
  server: { mcp_config: { command: string; args?: string[]; env?: Record<string, string> } };
  user_config: Record<string, UserConfigField>;
}

async function listThroughBundle(
  dir: string,
  manifest: Manifest,
  values: Record<string, string | boolean>,
): Promise<{ names: string[]; client: Client; close: () => Promise<void>; env: Record<string, string>; args: string[] }> {
  const cfg = resolveMcpConfig(manifest, dir, values);
  // The host starts `node` itself; here that is this Node.
  const command = cfg.command === "node" ? process.execPath : cfg.command;
  const transport = new StdioClientTransport({
    command,
    args: cfg.args,
    env: { PATH: process.env.PATH ?? "", ...cfg.env },
    cwd: tmpdir(),
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: "mcpb-host-check", version: "1.0.0" });
  try {
    await client.connect(transport);
    const { tools } = await client.listTools();
    return { names: tools.map((t) => t.name), client, close: () => client.close(), env: cfg.env, args: cfg.args };
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new Error(`${(err as Error).message}\n[server stderr]\n${stderr}`);
  }
}

async function main(): Promise<void> {
  const bundle = resolve(process.argv[2] ?? join(ROOT, "cohere-mcp.mcpb"));
  console.log(`MCP Bundle as a host runs it: ${bundle}`);
  if (!existsSync(bundle)) {
    fail("bundle exists", `${bundle} not found; run npm run pack:mcpb`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "cohere-mcpb-"));
  const emu = await startEmulator({ apiKey: KEY });
  try {
    try {
      await run(process.execPath, [MCPB_CLI, "unpack", bundle, dir]);
      for (const f of ["manifest.json", "dist/src/index.js", "tools.manifest.json", "node_modules/@modelcontextprotocol/server/package.json", "node_modules/@modelcontextprotocol/core/package.json", "node_modules/undici/package.json"]) {
        if (!existsSync(join(dir, f))) throw new Error(`${f} is not in the bundle`);
      }
      for (const f of ["src", "test", "emulator", "dist/test", "dist/emulator", "node_modules/vitest", "node_modules/typescript", "node_modules/@modelcontextprotocol/sdk", "node_modules/express"]) {
        if (existsSync(join(dir, f))) throw new Error(`${f} should not be in the bundle`);
      }
      pass("mcpb unpack: dist/src, tools.manifest.json and production node_modules (SDK v2 server) inside; no sources, tests or dev dependencies (nor the v1 SDK the tests drive)");
    } catch (err) {
      fail("mcpb unpack", err);
      return;
    }
    try {
      const left = DESKTOP_NEVER_LOADS.filter((p) => existsSync(join(dir, "node_modules", p, "package.json")));
      if (left.length) throw new Error(`still in the bundle: ${left.join(", ")}`);
      if (!existsSync(join(dir, ICON))) throw new Error(`${ICON} is not in the bundle`);
      pass(`left out what a desktop server never loads (${DESKTOP_NEVER_LOADS.join(", ")}); ${ICON} inside`);
    } catch (err) {
      fail("bundle contents", err);
    }
    try {
      const { stdout } = await run(process.execPath, [MCPB_CLI, "validate", join(dir, "manifest.json")]);
      pass(`mcpb validate (unpacked manifest.json): ${stdout.trim().split("\n").pop()}`);
    } catch (err) {
      fail("mcpb validate (unpacked manifest.json)", (err as { stdout?: string; stderr?: string }).stderr ?? err);
    }
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as Manifest;
    const declared = manifest.tools.map((t) => t.name);

    // 1. Only the required field (and a base URL pointing at the emulator); every other field at its default.
    try {
      const s = await listThroughBundle(dir, manifest, { cohere_api_key: KEY, base_url: emu.url });
      try {
        const left = [...s.args, ...Object.values(s.env)].filter((v) => v.includes("${"));
        if (left.length) throw new Error(`unresolved placeholders reach the server: ${left.join(", ")}`);
        if (JSON.stringify(s.names) !== JSON.stringify(declared)) {
          throw new Error(`tools/list ${s.names.join(",")} differs from manifest tools ${declared.join(",")}`);
        }
        pass(`defaults: the server starts from the unpacked bundle and lists the manifest's ${s.names.length} tools`);
        emu.reset();
        const r = (await s.client.callTool({
          name: "rerank",
          arguments: { model: "rerank-v3.5", query: "capital of france", documents: ["Paris is the capital of France", "Bananas are yellow"] },
        })) as { isError?: boolean; structuredContent?: { results?: Array<{ index: number }> } };
        if (r.isError || r.structuredContent?.results?.[0]?.index !== 0 || emu.requests.length !== 1) {
          throw new Error(`unexpected rerank answer: ${JSON.stringify(r).slice(0, 300)}`);
        }
        pass("defaults: rerank through the bundle reaches Cohere (the emulator) with the user's key");
      } finally {
        await s.close();
      }
    } catch (err) {
      fail("defaults: start from the bundle, list and call", err);
    }

    // 2. The user widens the set: the form's values reach the server's allowlist.
    try {
      const s = await listThroughBundle(dir, manifest, { cohere_api_key: KEY, base_url: emu.url, tools: "default,datasets", allow_write: true });
      await s.close();
      if (!s.names.includes("create_dataset") || s.names.includes("delete_dataset")) {
        throw new Error(`tools: ${s.names.join(",")}`);
      }
      pass(`tools "default,datasets" + allow_write: create_dataset listed, delete_dataset not (${s.names.length} tools)`);
    } catch (err) {
      fail('tools "default,datasets" + allow_write', err);
    }
    try {
      const s = await listThroughBundle(dir, manifest, {
        cohere_api_key: KEY,
        base_url: emu.url,
        tools: "datasets",
        allow_write: true,
        allow_destructive: true,
      });
      await s.close();
      if (!s.names.includes("delete_dataset") || s.names.includes("chat")) throw new Error(`tools: ${s.names.join(",")}`);
      pass(`tools "datasets" + allow_write + allow_destructive: delete_dataset listed, chat not (${s.names.length} tools)`);
    } catch (err) {
      fail('tools "datasets" + allow_destructive', err);
    }

    // 3. The confirmation mode beside the checkbox: this check's client cannot ask the user
    //    (no elicitation), so "ask" (the default) refuses a delete, "never" runs it.
    const destructive = { cohere_api_key: KEY, base_url: emu.url, tools: "datasets", allow_write: true, allow_destructive: true };
    for (const mode of ["ask", "never"] as const) {
      try {
        const s = await listThroughBundle(dir, manifest, { ...destructive, confirm_destructive: mode });
        try {
          emu.reset();
          const made = (await s.client.callTool({
            name: "create_dataset",
            arguments: { name: "bundle-check", type: "embed-input", data_text: '{"text":"a"}\n' },
          })) as { structuredContent?: { id?: string } };
          const id = made.structuredContent?.id;
          if (!id) throw new Error(`create_dataset gave no id: ${JSON.stringify(made).slice(0, 300)}`);
          const r = (await s.client.callTool({ name: "delete_dataset", arguments: { id } })) as { isError?: boolean; content?: Array<{ text?: string }> };
          const deleted = emu.requests.some((q) => q.method === "DELETE");
          const text = r.content?.[0]?.text ?? "";
          if (mode === "ask" && (!r.isError || deleted || !/cannot ask/.test(text))) throw new Error(`ask: expected a refusal, got ${text.slice(0, 300)}`);
          if (mode === "never" && (r.isError || !deleted)) throw new Error(`never: expected the delete to run, got ${text.slice(0, 300)}`);
        } finally {
          await s.close();
        }
        pass(
          mode === "ask"
            ? 'confirm_destructive "ask" in a client that cannot ask: delete_dataset refused, saying so, nothing deleted'
            : 'confirm_destructive "never": delete_dataset runs without asking',
        );
      } catch (err) {
        fail(`confirm_destructive "${mode}"`, err);
      }
    }
  } finally {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main()
  .catch((err: unknown) => fail("check-mcpb", err))
  .finally(() => {
    console.log(`mcpb: ${passes} passed, ${fails} failed`);
    process.exitCode = fails === 0 ? 0 : 1;
  });
