/**
 * Imported (for its effect) by the helpers of tests that talk to a cohere-mcp --http they stop:
 * http-support.ts (and so oauth-support.ts, admin-support.ts), bypass/support.ts, secrets.test.ts.
 *
 * fetch() in a test process keeps idle connections open for 3 s or more after its last request
 * (undici's default keep-alive), and a cohere-mcp --http stopped by the test waits for them: its
 * graceful shutdown leaves idle keep-alive connections for the peer to close
 * (src/transports/http/lifecycle.ts, the nginx case), up to ~5.5 s. Tests stop dozens of
 * servers, each after its last fetch. A pool that lets idle connections go after 200 ms keeps
 * every request the same (a real client on real sockets; nothing is mocked) and ends that wait.
 * (Not a vitest setup file: loading undici costs ~0.3 s in every test file, most of which never
 * start a server.)
 */
import { Agent, setGlobalDispatcher } from "undici";

setGlobalDispatcher(new Agent({ keepAliveTimeout: 200, keepAliveMaxTimeout: 200 }));
