/**
 * The operator's commands: `cohere-mcp <command> …`. One entry per command in COMMANDS (its help
 * lines, and a loader for its module under src/cli/, so a command's code is loaded only when it
 * runs). Adding a command: write src/cli/<name>.ts exporting `run(argv, io)`, add an entry here,
 * and a section to docs/cli.md.
 *
 * Exit codes (every command): 0 done; 1 the input is invalid (a config that does not validate, a
 * file that cannot be read); 2 usage error (unknown flag, missing argument). A command never
 * prints a token, a token hash or a piece of either.
 */
import { EXIT, UsageError } from "./args.js";

export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

export interface CommandModule {
  /** Returns the exit code; throws UsageError for bad usage (exit 2). */
  run(argv: readonly string[], io: CliIO): Promise<number>;
}

export interface Command {
  name: string;
  /** One line for `cohere-mcp help`. */
  summary: string;
  /** The command's own --help text (usage line, then flags). */
  usage: string;
  load(): Promise<CommandModule>;
}

const FORMAT_HELP = "  --format table|json|csv|markdown   output format (default table); --json = --format json";

export const COMMANDS: Command[] = [
  {
    name: "check",
    summary: "validate a config file as start-up and reload would, and more (exit 0 valid, 1 invalid)",
    usage: [
      "Usage: cohere-mcp check --config FILE [--format …]",
      "",
      "Validates every profile (used or not), tool names, groups and globs, agents' credentials and",
      "environment variables, the oauth section, Cohere keys, budgets and price tables.",
      "  --config FILE   the config file (also COHERE_MCP_CONFIG)",
      FORMAT_HELP,
    ].join("\n"),
    load: () => import("./check.js"),
  },
  {
    name: "access",
    summary: "who can call what: every agent × every tool it can call, with its rules and limits",
    usage: [
      "Usage: cohere-mcp access --config FILE [--agent NAME] [--format …]",
      "",
      "  --config FILE   the config file (also COHERE_MCP_CONFIG)",
      "  --agent NAME    one agent only (a static agent's name, or oauth:<profile>)",
      "  --summary       one row per agent (tool counts by class) instead of one per tool",
      "  --exclude-tools LIST   what the server's --exclude-tools removes from every agent (also COHERE_MCP_EXCLUDE_TOOLS)",
      FORMAT_HELP,
    ].join("\n"),
    load: () => import("./access.js"),
  },
  {
    name: "diff",
    summary: "what a reload from OLD to NEW would change, in plain English",
    usage: ["Usage: cohere-mcp diff OLD.json NEW.json [--format …]", "", "Exit 0 whenever both files are valid, whatever changed.", FORMAT_HELP].join("\n"),
    load: () => import("./diff.js"),
  },
  {
    name: "report",
    summary: "calls, denials, billed units, USD and budget left from audit files",
    usage: [
      "Usage: cohere-mcp report AUDIT_FILE… [--since today|month|ISO] [--until …] [--by agent|tool|reason|key|replica] [--config FILE] [--format …]",
      "",
      "  --since, --until   today, month (the current UTC month), or an ISO time (default: all)",
      "  --by               group rows by agent (default), tool, reason, key or replica",
      "  --config FILE      price the calls (prices_usd_per_million) and show each agent's budget left",
      FORMAT_HELP,
    ].join("\n"),
    load: () => import("./report.js"),
  },
  {
    name: "hash-token",
    summary: "SHA-256 of a token read from stdin (or --new: make one), for token_sha256",
    usage: [
      "Usage: printf %s \"$TOKEN\" | cohere-mcp hash-token",
      "       cohere-mcp hash-token --new",
      "",
      "Prints the lowercase hex SHA-256 of the token on stdin. A trailing newline (echo) is stripped,",
      "with a warning on stderr. --new makes a random token: the token goes to stderr, its hash to stdout.",
    ].join("\n"),
    load: () => import("./hash-token.js"),
  },
  {
    name: "reload",
    summary: "tell every replica sharing a store to re-read its configuration (within a second)",
    usage: [
      "Usage: cohere-mcp reload --store redis://[:PASSWORD@]HOST:PORT/DB [--store-prefix PREFIX] [--json]",
      "",
      "Announces a reload through the shared store; every replica polls it every 500 ms and re-reads",
      "its --config file (or, with --policy-store, the store's policy document). See docs/console.md.",
    ].join("\n"),
    load: () => import("./reload.js"),
  },
  {
    name: "policy",
    summary: "policy export: the policy the console edits, as a complete config file",
    usage: [
      "Usage: cohere-mcp policy export --config FILE [--store redis://…] [--store-prefix PREFIX] [--out FILE]",
      "",
      "With --store: the policy document replicas apply (--policy-store); else FILE, validated.",
      "The output keeps token hashes: it is the operator's config file (e.g. for git).",
    ].join("\n"),
    load: () => import("./policy-export.js"),
  },
];

export function findCommand(name: string): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}

/** The commands' part of `cohere-mcp --help` and `cohere-mcp help`. */
export function commandsHelp(): string {
  const w = Math.max(4, ...COMMANDS.map((c) => c.name.length));
  return [
    "Commands (cohere-mcp <command> --help for each):",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    `  ${"help".padEnd(w)}  this list`,
  ].join("\n");
}

/**
 * Is argv a command invocation? True when the first argument is not a flag: a command name,
 * `help`, or a mistyped name (which runCommand answers with the list, exit 2). The server itself
 * takes no positional argument, so this never takes a server invocation.
 */
export function isCommand(argv: readonly string[]): boolean {
  const first = argv[0];
  return first !== undefined && first !== "" && !first.startsWith("-");
}

/** Run `argv` (its first element names the command) and return the exit code. */
export async function runCommand(argv: readonly string[], io: CliIO, mainUsage: () => string): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "help") {
    const target = rest[0] ? findCommand(rest[0]) : undefined;
    io.stdout((target ? target.usage : mainUsage()) + "\n");
    return EXIT.ok;
  }
  const command = findCommand(name!);
  if (!command) {
    const names = COMMANDS.map((c) => c.name);
    io.stderr(`cohere-mcp: unknown command "${name!.slice(0, 40)}"; commands: ${names.join(", ")}, help (flags alone start the server)\n`);
    return EXIT.usage;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(command.usage + "\n");
    return EXIT.ok;
  }
  try {
    const mod = await command.load();
    return await mod.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`cohere-mcp ${err.message}\n`);
      return EXIT.usage;
    }
    const e = err as Error;
    const known = ["ConfigError", "PolicyError", "InputError"].includes(e.name);
    io.stderr(`cohere-mcp ${name}: ${known ? e.message : (e.stack ?? e.message)}\n`);
    return EXIT.invalid;
  }
}
