/**
 * Loaded before every file of the default suite (vitest.config.ts setupFiles). fetch() in a test
 * process keeps idle connections open for 3 s or more after its last request (undici's default
 * keep-alive), and a cohere-mcp --http stopped by the test waits for them: its graceful shutdown
 * leaves idle keep-alive connections for the peer to close (src/transports/http/lifecycle.ts,
 * the nginx case), up to ~5.5 s. Tests stop dozens of servers, each after its last fetch. A test
 * process's pool that lets idle connections go after 200 ms keeps every request the same (a
 * real client on real sockets; nothing is mocked) and ends that wait.
 */
import { Agent, setGlobalDispatcher } from "undici";

setGlobalDispatcher(new Agent({ keepAliveTimeout: 200, keepAliveMaxTimeout: 200 }));
