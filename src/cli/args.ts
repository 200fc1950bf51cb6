/**
 * Argument parsing shared by the commands: node:util parseArgs, strict, plus --format / --json.
 * Bad usage throws UsageError (exit 2); invalid input (a config that does not validate, a file
 * that cannot be read) is the command's own exit 1.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { FORMATS, type Format } from "./format.js";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Exit codes of every command (docs/cli.md). */
export const EXIT = { ok: 0, invalid: 1, usage: 2 } as const;

/** Where a command writes and what environment it reads. */
export interface CommandIO {
  stdout(s: string): void;
  stderr(s: string): void;
  env: NodeJS.ProcessEnv;
}

/**
 * A command run outside the command table (tests, scripts): usage errors are printed as the
 * table prints them and give exit 2; anything else is the command's own exit code.
 */
export async function standalone(
  run: (argv: readonly string[], io: CommandIO) => Promise<number>,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  try {
    return await run(argv, { stdout: out, stderr: err, env });
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`cohere-mcp ${e.message}\n`);
    return EXIT.usage;
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

export interface Parsed {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  positionals: string[];
  format: Format;
}

export const FORMAT_OPTIONS = {
  format: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

export function parseCommandArgs(command: string, argv: readonly string[], options: Options, positionals = false): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...FORMAT_OPTIONS, ...options }, strict: true, allowPositionals: positionals });
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message}. Run cohere-mcp ${command} --help.`);
  }
  const v = parsed.values as Parsed["values"];
  const raw = v.json === true ? "json" : ((v.format as string | undefined) ?? "table");
  if (v.json === true && v.format !== undefined && v.format !== "json") {
    throw new UsageError(`${command}: --json and --format ${String(v.format)} disagree; give one`);
  }
  if (!(FORMATS as readonly string[]).includes(raw)) {
    throw new UsageError(`${command}: --format must be one of ${FORMATS.join(", ")}, got "${raw.slice(0, 40)}"`);
  }
  return { values: v, positionals: parsed.positionals, format: raw as Format };
}

/** A string option that must be present. */
export function required(command: string, p: Parsed, name: string): string {
  const v = p.values[name];
  if (typeof v !== "string" || v === "") throw new UsageError(`${command}: --${name} is required. Run cohere-mcp ${command} --help.`);
  return v;
}
