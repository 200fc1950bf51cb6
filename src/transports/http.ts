/** Streamable HTTP transport (issue 3). */
import type { App } from "../app.js";

export async function serveHttp(app: App): Promise<void> {
  app.logger.error("HTTP transport is not built yet");
  process.exit(2);
}
