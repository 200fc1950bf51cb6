/**
 * `cohere-mcp diff OLD.json NEW.json`: what a reload from OLD to NEW would change (src/policy/diff.ts,
 * the diff the reload's audit line carries). Exit 0 whenever both files are valid.
 */
import { loadConfigFile } from "../config/file.js";
import { assertConfigUsable } from "../config/validate.js";
import { configDiff } from "../policy/diff.js";
import { EXIT, parseCommandArgs, UsageError } from "./args.js";
import { render, type Column } from "./format.js";
import type { CliIO } from "./index.js";

const COLUMNS: Column[] = [
  { key: "kind", title: "kind" },
  { key: "subject", title: "subject" },
  { key: "text", title: "change" },
];

export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs("diff", argv, {}, true);
  if (p.positionals.length !== 2) throw new UsageError("diff: give two files, OLD.json NEW.json. Run cohere-mcp diff --help.");
  const [oldPath, newPath] = p.positionals as [string, string];
  // Both must be usable as a reload would require (tool names, budgets, keys); env-dependent
  // credentials are not checked here: `check` does that where the server runs.
  const prev = loadConfigFile(oldPath);
  const next = loadConfigFile(newPath);
  for (const c of [prev, next]) assertConfigUsable(c, { env: undefined, agents: false });
  const diff = configDiff(prev, next);
  if (p.format === "table") {
    io.stdout(diff.changes.length ? diff.changes.map((c) => c.text).join("\n") + "\n" : "no changes\n");
  } else {
    io.stdout(render(p.format, diff, diff.changes, COLUMNS));
  }
  return EXIT.ok;
}
