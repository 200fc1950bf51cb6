/**
 * Resumable SSE for --sessions (SEP-1699): the SDK's StreamableHTTPServerTransport sends a
 * priming event (an event id, a `retry:` field and empty data) at the start of every POST
 * stream once it has an event store, and stores each message it sends there, so a client whose
 * stream drops can GET /mcp with `Last-Event-ID` and receive what it missed, waiting `retry` ms
 * before it reconnects. The SDK gates priming on the client's protocol version (2025-11-25 or
 * newer: older clients cannot parse empty data).
 *
 * One store per session (it dies with the session), bounded by what it really holds (issue 20,
 * finding 12: it used to count characters while holding parsed message objects, ~3× that): each
 * event is kept as its UTF-8 JSON bytes (parsed again only to replay), and counted as those bytes
 * plus EVENT_OVERHEAD for its id, entries and buffer header. The oldest events go first. Worst
 * case per session: --sse-replay-bytes plus one message (the newest is kept even when it alone is
 * over the bound; a message is bounded by --max-output-chars and the tool's structured result).
 */
import type { EventStore, JSONRPCMessage, WebStandardStreamableHTTPServerTransportOptions } from "@modelcontextprotocol/server";

interface StoredEvent {
  id: string;
  streamId: string;
  seq: number;
  /** The message as UTF-8 JSON; undefined for a priming event (no message). */
  json: Buffer | undefined;
  bytes: number;
}

/** What one stored event costs besides its JSON: its id (twice), the map entry, the object, the Buffer header. */
export const EVENT_OVERHEAD = 256;

export class SessionEventStore implements EventStore {
  private readonly byId = new Map<string, StoredEvent>();
  private queue: StoredEvent[] = [];
  private head = 0;
  private seq = 0;
  private total = 0;

  constructor(private readonly maxBytes: number) {}

  /** Bytes held now (for tests and debugging). */
  get bytes(): number {
    return this.total;
  }

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const seq = ++this.seq;
    const id = `${seq}_${streamId}`;
    const json = "jsonrpc" in message ? Buffer.from(JSON.stringify(message), "utf8") : undefined;
    const bytes = (json?.length ?? 0) + 2 * id.length + EVENT_OVERHEAD;
    const e: StoredEvent = { id, streamId, seq, json, bytes };
    this.queue.push(e);
    this.byId.set(id, e);
    this.total += bytes;
    // Oldest first; the newest event is kept even when it alone is over the bound.
    while (this.total > this.maxBytes && this.queue.length - this.head > 1) {
      const old = this.queue[this.head++]!;
      this.byId.delete(old.id);
      this.total -= old.bytes;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.byId.get(eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const last = this.byId.get(lastEventId);
    if (!last) throw new Error(`Unknown or expired event id: ${lastEventId.slice(0, 100)}`);
    for (let i = this.head; i < this.queue.length; i++) {
      const e = this.queue[i]!;
      if (e.streamId !== last.streamId || e.seq <= last.seq) continue;
      if (!e.json) continue; // a priming event carries no message
      await send(e.id, JSON.parse(e.json.toString("utf8")) as JSONRPCMessage);
    }
    return last.streamId;
  }
}

/**
 * The options that make a session's POST streams resumable: an event store and the `retry`
 * the priming event announces. `replayBytes` 0 turns both off (no priming events).
 */
export function resumableStreams(replayBytes: number, retryMs: number): Pick<WebStandardStreamableHTTPServerTransportOptions, "eventStore" | "retryInterval"> {
  return replayBytes > 0 ? { eventStore: new SessionEventStore(replayBytes), retryInterval: retryMs } : {};
}
