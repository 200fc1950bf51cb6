/**
 * `cohere-mcp check --config FILE`: the validation start-up and reload run (src/config/validate.ts),
 * with agents' credentials checked whatever the mode, plus warnings. Exit 0 valid, 1 invalid.
 */
import { ConfigError, loadConfigFile } from "../config/file.js";
import { configProblems, type ConfigReport } from "../config/validate.js";
import { EXIT, parseCommandArgs, UsageError } from "./args.js";
import { render, type Row } from "./format.js";
import type { CliIO } from "./index.js";

export interface CheckResult extends ConfigReport {
  file: string;
  valid: boolean;
}

/** Check one config file as the server would (library entry point for the console). */
export function checkConfigFile(file: string, env: NodeJS.ProcessEnv): CheckResult {
  let report: ConfigReport;
  try {
    const config = loadConfigFile(file);
    report = configProblems(config, { env, agents: true, apiKey: env.CO_API_KEY || env.COHERE_API_KEY || undefined });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // A file that does not parse or fails the schema: one line per issue.
    const msg = err.message.replace(/^Config file .*? is invalid: /, "");
    report = { errors: msg.split(/; (?=[\w.$()]+: )/), warnings: [] };
  }
  return { file, valid: report.errors.length === 0, ...report };
}

export function configArg(command: string, values: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  const file = (values.config as string | undefined) ?? env.COHERE_MCP_CONFIG;
  if (!file) throw new UsageError(`${command}: --config FILE is required. Run cohere-mcp ${command} --help.`);
  return file;
}

export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const p = parseCommandArgs("check", argv, { config: { type: "string" } });
  const r = checkConfigFile(configArg("check", p.values, io.env), io.env);
  if (p.format === "table") {
    const out = [
      r.valid ? `${r.file}: valid` : `${r.file}: ${r.errors.length} problem${r.errors.length === 1 ? "" : "s"}; start-up and reload would refuse it`,
      ...r.errors.map((e) => `  error: ${e}`),
      ...r.warnings.map((w) => `  warning: ${w}`),
    ];
    io.stdout(out.join("\n") + "\n");
  } else {
    const rows: Row[] = [...r.errors.map((m) => ({ level: "error", message: m })), ...r.warnings.map((m) => ({ level: "warning", message: m }))];
    io.stdout(render(p.format, r, rows, [{ key: "level", title: "level" }, { key: "message", title: "message" }]));
  }
  return r.valid ? EXIT.ok : EXIT.invalid;
}
