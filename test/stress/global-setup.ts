/**
 * After every stress suite: scan every file the suites left in PROOF_LOG_DIR (server stderr,
 * --log-file logs, --audit-log lines) for the Cohere key and agent tokens. All of them carry
 * SECRET_MARKER, so a secret cut short is caught too. OAuth access tokens carry no marker: any
 * JWT-shaped string (a base64url JSON header and payload) counts as a leak. Any hit fails the run.
 */
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SECRET_MARKER } from "../../bench/lib.js";

/** `{"...` and `{"...` base64url-encoded, dot-joined: the start of a JWT. */
const JWT_SHAPED = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}/;

export function setup(): void {
  mkdirSync(process.env.PROOF_LOG_DIR!, { recursive: true });
}

export function teardown(): void {
  const dir = process.env.PROOF_LOG_DIR!;
  const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  let lines = 0;
  const hits: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(dir, f), "utf8");
    const ls = text.split("\n");
    lines += ls.length;
    ls.forEach((l, i) => {
      if (l.includes(SECRET_MARKER) || JWT_SHAPED.test(l)) hits.push(`${f}:${i + 1}: ${l.slice(0, 200)}`);
    });
  }
  console.log(`secrets: scanned ${lines} lines in ${files.length} log and audit files under ${dir}: ${hits.length} secret(s) found`);
  if (hits.length) throw new Error(`secrets leaked into logs:\n${hits.slice(0, 20).join("\n")}`);
  if (files.length === 0) throw new Error(`no log or audit files under ${dir}: the scan saw nothing`);
}
