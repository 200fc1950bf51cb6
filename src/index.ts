#!/usr/bin/env node
/**
 * Entry point: flags → app → transport. Modules a mode does not need are not loaded.
 */
import { parseOptions, FLAGS, ENV, type Options } from "./config/options.js";
import { createLogger } from "./runtime/logger.js";
import { commandsHelp, isCommand, runCommand } from "./cli/index.js";

const VERSION = "0.1.0";

function usage(): string {
  const w = Math.max(...FLAGS.map((f) => f.flag.length));
  const lines = [
    "cohere-mcp — the Cohere API as MCP tools, behind a deny-by-default allowlist",
    "",
    "Usage: cohere-mcp [flags]            (stdio, for Claude Desktop and other MCP clients)",
    "       cohere-mcp --http [flags]     (streamable HTTP at /mcp)",
    "       cohere-mcp --list-tools [flags]",
    "       cohere-mcp <command> [args]   (operator commands, below; docs/cli.md)",
    "",
    commandsHelp(),
    "",
    "Flags:",
    ...FLAGS.map((f) => `  ${f.flag.padEnd(w)}  ${f.help}${f.env ? ` [env ${f.env}]` : ""}`),
    "",
    "Environment:",
    ...ENV.map((e) => `  ${e.env.padEnd(w)}  ${e.help}`),
  ];
  return lines.join("\n");
}

async function listTools(options: Options): Promise<void> {
  const { createApp } = await import("./runtime/app.js");
  const app = createApp(options, createLogger("silent"));
  const tools = app.tools.filter((t) => app.visible.has(t.name));
  if (options.json) {
    process.stdout.write(
      JSON.stringify(
        tools.map((t) => ({ name: t.name, access: t.access, group: t.group, deprecated: t.deprecated === true })),
        null,
        2,
      ) + "\n",
    );
  } else {
    const w = Math.max(4, ...tools.map((t) => t.name.length));
    const out = [`${"TOOL".padEnd(w)}  ${"CLASS".padEnd(11)}  GROUP`];
    for (const t of tools) {
      out.push(`${t.name.padEnd(w)}  ${t.access.padEnd(11)}  ${t.group}${t.deprecated ? "  (deprecated)" : ""}`);
    }
    out.push("", `${tools.length} of ${app.tools.length} tools visible.`);
    if (app.ignored.length) out.push(`Ignored (outside the profile): ${app.ignored.join(", ")}`);
    process.stdout.write(out.join("\n") + "\n");
  }
  await app.close();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  // `cohere-mcp check …`, `access`, `diff`, `report`, `hash-token`, `help` (src/cli/). Flags alone
  // (or nothing) start the server as before.
  if (isCommand(argv)) {
    const code = await runCommand(
      argv,
      {
        stdout: (t) => process.stdout.write(t),
        stderr: (t) => process.stderr.write(t),
        stdin: process.stdin,
        env: process.env,
      },
      usage,
    );
    process.exitCode = code;
    return;
  }
  let options: Options;
  try {
    options = parseOptions(argv, process.env);
  } catch (err) {
    process.stderr.write(`cohere-mcp: ${(err as Error).message}\n`);
    process.exit(2);
  }
  if (options.mode === "help") {
    process.stdout.write(usage() + "\n");
    return;
  }
  if (options.mode === "version") {
    process.stdout.write(VERSION + "\n");
    return;
  }
  try {
    if (options.mode === "list-tools") return await listTools(options);
    const { checkStartPaths } = await import("./config/paths.js");
    checkStartPaths(options);
    const logger = createLogger(options.logLevel, options.logFile);
    const { cleartextWarning } = await import("./config/cleartext.js");
    const cleartext = cleartextWarning(options.baseUrl);
    if (cleartext) logger.warn(cleartext);
    const { createApp } = await import("./runtime/app.js");
    const app = createApp(options, logger);
    if (options.auditLog) {
      const { createAuditSink } = await import("./audit/index.js");
      // Late-bound: the HTTP transport adds agent tokens to app.secrets.
      app.audit = createAuditSink(options.auditLog, () => app.secrets(), logger, options.replicaId);
    }
    // --store: counters shared with other replicas (Redis), before anything counts.
    if (options.store) {
      const { openStore, storeSecrets } = await import("./store/open.js");
      app.store = await openStore(options, logger);
      for (const secret of storeSecrets(options)) app.addSecret(secret);
    }
    // Profile rules (argument rules, rate limits, budgets, Cohere key limits) are built with the
    // configuration in createApp (src/runtime/live.ts), and rebuilt on reload. Last, each agent's share of
    // the upstream connections (a slot per call, released when it ends): it may wait.
    const { concurrencyGuard } = await import("./policy/concurrency.js");
    app.guards.push(
      concurrencyGuard({ config: () => app.config, httpDefault: options.limits.maxConcurrentCalls, waitMs: options.limits.concurrencyWaitMs }),
    );
    // Metrics observe the store, audit events and calls: after the store is opened.
    if (options.metricsPort !== undefined) {
      const { serveMetrics } = await import("./metrics/server.js");
      await serveMetrics(app);
    }
    // OpenTelemetry (--otel, OTEL_EXPORTER_OTLP_*ENDPOINT, --audit-otlp): the SDK is imported only
    // when export is on (src/telemetry/); it sees every audit event, after the metrics' fan-out.
    const { startTelemetry } = await import("./telemetry/index.js");
    const telemetry = await startTelemetry(
      { flag: options.otel, auditOtlp: options.auditOtlp || app.config?.audit_otlp === true, config: app.config?.otel },
      process.env,
      {
        logger,
        secrets: () => app.secrets(),
        addSecret: (s) => app.addSecret(s),
        replica: options.replicaId,
        onDrop: (n) => void (app.metrics.otlpDropped = (app.metrics.otlpDropped ?? 0) + n),
      },
    );
    if (telemetry.enabled) {
      const { auditToTelemetry, tracedStore } = await import("./telemetry/hooks.js");
      app.audit = auditToTelemetry(app.audit, telemetry);
      app.store = tracedStore(app.store, telemetry);
      app.onClose(() => telemetry.close());
    }
    // Shared state (announcements, --policy-store, the console's activity) and the agreement of
    // configurations between replicas (src/fleet/).
    if (options.adminPort !== undefined) (await import("./admin/server.js")).checkAdmin(app);
    const { installFleet } = await import("./fleet/install.js");
    const fleet = await installFleet(app);
    // SIGHUP reloads the config file instead of ending the process; other replicas are told.
    const { installReload } = await import("./runtime/reload.js");
    installReload(app, (r) => {
      if (r.ok) void fleet.announce();
    });
    if (options.mode === "http") {
      const { serveHttp } = await import("./transports/http/index.js");
      await serveHttp(app);
      if (options.adminPort !== undefined) {
        const { serveAdmin } = await import("./admin/server.js");
        await serveAdmin(app, () => fleet.announce());
      }
    } else {
      const { serveStdio } = await import("./transports/stdio.js");
      await serveStdio(app);
    }
  } catch (err) {
    const e = err as Error;
    const known = ["ConfigError", "PolicyError"].includes(e.name);
    process.stderr.write(`cohere-mcp: ${known ? e.message : (e.stack ?? e.message)}\n`);
    process.exit(2);
  }
}

void main();
