/**
 * Destructive confirmations for modern-era (MCP 2026-07-28) clients: there is no server→client
 * request in that era, so the first tools/call of a destructive tool answers `input_required`
 * (an elicitation the client shows the user) with a `requestState`, and the client calls again
 * with the user's answer and that state echoed.
 *
 * The state binds the answer to exactly the call that asked: the tool, a digest of its
 * arguments, the agent (and its OAuth subject), a time and a single-use nonce. It is signed with
 * HMAC-SHA256 under the server's state key and never trusted unsigned. The retry is refused
 * (fail closed, nothing sent) when the signature does not hold, the state is older than
 * MRTR_MAX_AGE_MS, the tool or the arguments differ, another agent sends it, or its nonce was
 * used already (claimed in the shared state, so a replay fails on every replica).
 *
 * The key: COHERE_MCP_STATE_KEY when set; else, with --store, one random key kept in the shared
 * store (the first replica writes it, every replica reads the same); else random per process.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { canonicalJson } from "../fleet/hash.js";
import type { App } from "../runtime/app.js";
import type { AgentScope } from "../policy/types.js";
import type { ElicitAnswer } from "./confirm.js";

/** How long a confirmation's state is accepted after it was handed out ("a few minutes"). */
export const MRTR_MAX_AGE_MS = 3 * 60_000;
/** The key of the one input request a confirmation makes. */
export const CONFIRM_INPUT = "confirm";
const STORE_KEY = "mrtr:state-key";

/** What a confirmation's state says (signed): which call asked, for whom, when. */
export interface ConfirmState {
  v: 1;
  tool: string;
  /** SHA-256 of the call's arguments as canonical JSON. */
  digest: string;
  agent: string;
  /** OAuth agents: the token's subject, so another person's client cannot answer for them. */
  sub?: string;
  nonce: string;
  /** When the state was made (ms since the epoch). */
  iat: number;
}

/** Raised in the first round: the call needs the user's answer, asked with `message`. */
export class InputNeeded extends Error {
  constructor(readonly question: string) {
    super("input needed");
  }
}

/**
 * Raised when a retry's confirmation does not hold: `why` says what was wrong (for the agent and
 * the audit). `invalidState`: the state the client sent back is at fault (not signed by us, too
 * old, for another call, used already), which 2026-07-28 answers with an error (-32602); false
 * when the server could not check it.
 */
export class ConfirmationRefused extends Error {
  constructor(
    readonly why: string,
    readonly invalidState = true,
  ) {
    super(why);
  }
}

export const argsDigest = (args: unknown): string => createHash("sha256").update(canonicalJson(args ?? {})).digest("base64url");

const b64 = (b: Buffer | string) => Buffer.from(b).toString("base64url");

export class StateSigner {
  constructor(private readonly key: Buffer) {}

  sign(state: ConfirmState): string {
    const body = b64(JSON.stringify(state));
    return `${body}.${b64(createHmac("sha256", this.key).update(body).digest())}`;
  }

  /** The state when its signature holds; undefined otherwise (never parsed unsigned). */
  verify(token: unknown): ConfirmState | undefined {
    if (typeof token !== "string" || token.length > 4096) return undefined;
    const dot = token.indexOf(".");
    if (dot <= 0) return undefined;
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), "base64url");
    const want = createHmac("sha256", this.key).update(body).digest();
    if (given.length !== want.length || !timingSafeEqual(given, want)) return undefined;
    try {
      const s = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as ConfirmState;
      return s && s.v === 1 && typeof s.tool === "string" && typeof s.digest === "string" && typeof s.nonce === "string" ? s : undefined;
    } catch {
      return undefined;
    }
  }
}

const signers = new WeakMap<App, Promise<StateSigner>>();

/** The server's signer (made once per App): see the module comment for where its key comes from. */
export function stateSigner(app: App): Promise<StateSigner> {
  let s = signers.get(app);
  if (!s) {
    s = (async () => {
      if (app.options.stateKey) return new StateSigner(Buffer.from(app.options.stateKey, "utf8"));
      if (app.shared.kind !== "memory") {
        const fresh = randomBytes(32).toString("base64url");
        await app.shared.casDoc(STORE_KEY, 0, fresh); // the first replica's key wins
        const doc = await app.shared.getDoc(STORE_KEY);
        if (doc) return new StateSigner(Buffer.from(doc.value, "utf8"));
      }
      return new StateSigner(randomBytes(32));
    })();
    s.catch(() => signers.delete(app));
    signers.set(app, s);
  }
  return s;
}

/** A new confirmation state for this call. */
export async function mintState(app: App, scope: AgentScope, tool: string, args: unknown): Promise<string> {
  const signer = await stateSigner(app);
  return signer.sign({
    v: 1,
    tool,
    digest: argsDigest(args),
    agent: scope.agent,
    sub: scope.claims?.sub,
    nonce: randomBytes(16).toString("base64url"),
    iat: Date.now(),
  });
}

/**
 * The user's answer carried by a retry, once its state is checked against this very call and
 * its nonce taken (single use); undefined when the state holds but no usable answer came with it
 * (the caller asks again, with a fresh state). Throws ConfirmationRefused when the state does not hold.
 */
export async function answerOf(
  app: App,
  scope: AgentScope,
  tool: string,
  args: unknown,
  token: unknown,
  responses: Record<string, unknown> | undefined,
  now = Date.now(),
): Promise<ElicitAnswer | undefined> {
  const signer = await stateSigner(app);
  const s = signer.verify(token);
  if (!s) throw new ConfirmationRefused("its confirmation state is missing or was not signed by this server");
  if (!(now - s.iat >= 0 && now - s.iat <= MRTR_MAX_AGE_MS)) {
    throw new ConfirmationRefused(`its confirmation is older than ${MRTR_MAX_AGE_MS / 60_000} minutes`);
  }
  if (s.tool !== tool) throw new ConfirmationRefused("its confirmation was given for another tool");
  if (s.agent !== scope.agent || s.sub !== scope.claims?.sub) throw new ConfirmationRefused("its confirmation was given to another agent");
  if (s.digest !== argsDigest(args)) throw new ConfirmationRefused("its confirmation was given for other arguments");
  if (!(await app.shared.claim(`mrtr:nonce:${s.nonce}`, MRTR_MAX_AGE_MS * 2))) {
    throw new ConfirmationRefused("its confirmation was used already (each answer confirms one call)");
  }
  const r = responses?.[CONFIRM_INPUT] as { action?: unknown } | undefined;
  const action = r && typeof r === "object" ? r.action : undefined;
  return action === "accept" || action === "decline" || action === "cancel" ? action : undefined;
}
