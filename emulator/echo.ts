/**
 * The echo-auth fault: a hostile proxy that echoes the request's Authorization header into the
 * answer (every string of a JSON body, split across two pieces of a stream, and the request-id
 * headers), so tests can prove the server never lets the key reach an agent.
 */
import type { StreamEvent } from "./routes/types.js";

/** Keys whose values stay as they are under echo-auth: ids, statuses and enum-like fields the client switches on. */
const ECHO_KEEP = /^(?:id|.*_id|status|type|role|finish_reason|event_type|object|is_finished|embedding_types|input_type|response_type|dataset_type|state|name_type|format|content_type)$/;

/** A copy of `value` with `echo` appended to every string except those under ECHO_KEEP keys. */
export function echoInto(value: unknown, echo: string, key = ""): unknown {
  if (typeof value === "string") return ECHO_KEEP.test(key) ? value : `${value} ${echo}`;
  if (Array.isArray(value)) return value.map((v) => echoInto(v, echo, key));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, echoInto(v, echo, k)]));
  }
  return value;
}

/**
 * The first event carrying text is followed by two copies of itself whose texts are the echo's
 * two halves (so the echo is split across two pieces); every other event gets it whole.
 */
export function echoIntoStream(events: StreamEvent[], echo: string, splitAt = Math.floor(echo.length / 2)): StreamEvent[] {
  const cut = Math.min(splitAt, echo.length);
  const out: StreamEvent[] = [];
  let split = false;
  for (const ev of events) {
    const path = textPath(ev.data);
    if (path && !split) {
      split = true;
      const withText = (text: string): StreamEvent => {
        const data = structuredClone(ev.data) as Record<string, unknown>;
        let node = data;
        for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
        node[path[path.length - 1]!] = text;
        return { name: ev.name, data };
      };
      out.push(ev, withText(` ${echo.slice(0, cut)}`), withText(`${echo.slice(cut)} `));
      continue;
    }
    out.push({ name: ev.name, data: echoInto(ev.data, echo) });
  }
  return out;
}

/** Where an event's streamed text is: v2 delta.message.content.text, v1/generate `text`. */
export function textPath(data: unknown): string[] | undefined {
  const d = data as { type?: unknown; event_type?: unknown; delta?: { message?: { content?: { text?: unknown } } }; text?: unknown };
  if (d?.type === "content-delta" && typeof d.delta?.message?.content?.text === "string") return ["delta", "message", "content", "text"];
  if (d?.event_type === "text-generation" && typeof d.text === "string") return ["text"];
  return undefined;
}

