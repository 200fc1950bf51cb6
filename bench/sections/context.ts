/**
 * Section 5: context cost, the characters of JSON a client receives (tools/list, one embed).
 */
import { BENCH_KEY, connectOurStdio, connectStdioCmd, connectStdioModern, ENTRY, peerStdioArgs, scrubbedEnv, sizeOf, textOf, type CallResult } from "../lib.js";
import { f2, int, out, ratio, target } from "../report.js";

export async function contextCost(emuUrl: string): Promise<void> {
  out("## 5. Context cost (characters of JSON as a client receives it; tokens ≈ chars/4)");
  out("");
  const def = await connectOurStdio(emuUrl);
  const defTools = (await def.client.listTools()).tools;
  const embedOne = { model: "embed-v4.0", input_type: "search_document", texts: ["The quick brown fox jumps over the lazy dog."] };
  const oursEmbed = (await def.client.callTool({ name: "embed", arguments: embedOne })) as CallResult;
  await def.close();
  // the same default list as a modern-era (2026-07-28) client receives it: the tools must be the same
  const modern = await connectStdioModern(process.execPath, [ENTRY], scrubbedEnv({ CO_API_KEY: BENCH_KEY, CO_API_URL: emuUrl }));
  const modernTools = (await modern.client.listTools()).tools;
  await modern.close();
  const all = await connectOurStdio(emuUrl, ["--tools", "*", "--allow-write", "--allow-destructive"]);
  const allTools = (await all.client.listTools()).tools;
  await all.close();
  const peer = await connectStdioCmd(process.execPath, peerStdioArgs(emuUrl), scrubbedEnv());
  const peerTools = (await peer.client.listTools()).tools;
  const peerEmbed = (await peer.client.callTool({ name: "embedv-2", arguments: embedOne })) as CallResult;
  await peer.close();

  const d = sizeOf(defTools);
  const a = sizeOf(allTools);
  const p = sizeOf(peerTools);
  out("| tools/list | tools | chars | ≈ tokens |");
  out("|---|---:|---:|---:|");
  const m = sizeOf(modernTools);
  out(`| cohere-mcp, default set | ${defTools.length} | ${int(d.chars)} | ${int(d.tokens)} |`);
  out(`| cohere-mcp, default set, 2026-07-28 client | ${modernTools.length} | ${int(m.chars)} | ${int(m.tokens)} |`);
  out(`| cohere-mcp, all tools | ${allTools.length} | ${int(a.chars)} | ${int(a.tokens)} |`);
  out(`| peer (openapi-mcp-server), all | ${peerTools.length} | ${int(p.chars)} | ${int(p.tokens)} |`);
  out("");
  out(`peer ÷ cohere-mcp (all tools): ${f2(ratio(p.chars, a.chars))}×`);
  out("");
  out("Per tool, largest first (cohere-mcp, all tools):");
  out("");
  out("| tool | chars | ≈ tokens | in default set |");
  out("|---|---:|---:|:---:|");
  const defNames = new Set(defTools.map((t) => t.name));
  for (const t of [...allTools].sort((x, y) => sizeOf(y).chars - sizeOf(x).chars)) {
    const s = sizeOf(t);
    out(`| ${t.name} | ${int(s.chars)} | ${int(s.tokens)} | ${defNames.has(t.name) ? "yes" : ""} |`);
  }
  out("");
  const oe = sizeOf(oursEmbed);
  const pe = sizeOf(peerEmbed);
  const oeText = textOf(oursEmbed).length;
  const peText = textOf(peerEmbed).length;
  out("One embed of one text (embed-v4.0, search_document, default options), whole result as JSON:");
  out("");
  out("| server | result chars | ≈ tokens | of which text content chars | error |");
  out("|---|---:|---:|---:|---|");
  out(`| cohere-mcp | ${int(oe.chars)} | ${int(oe.tokens)} | ${int(oeText)} | ${oursEmbed.isError ? "yes" : "no"} |`);
  out(`| peer | ${int(pe.chars)} | ${int(pe.tokens)} | ${int(peText)} | ${peerEmbed.isError ? "yes" : "no"} |`);
  out("");
  target("5. default tools/list", "≤ 4,000 tokens", `${int(d.tokens)} tokens (${int(d.chars)} chars)`, d.tokens <= 4000);
  target("5. default tools/list, 2026-07-28 client", "the same tools as a 2025-11-25 client gets", `${int(m.tokens)} tokens (${int(m.chars)} chars) vs ${int(d.tokens)}`, JSON.stringify(modernTools) === JSON.stringify(defTools));
  target("5. all tools/list", "≤ 20,000 tokens", `${int(a.tokens)} tokens (peer ${int(p.tokens)})`, a.tokens <= 20_000);
  target("5. one embed result", "≤ 500 tokens", `${int(oe.tokens)} tokens (peer ${int(pe.tokens)})`, oe.tokens <= 500 && !oursEmbed.isError);
}
