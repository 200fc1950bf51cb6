/** The secrets the container suites use, all marked so that a scan finds even a cut-short copy. */
export const MARK = "SECRET";
export const CONTAINER_KEY = `container-key-${MARK}-5f1e0c9a7b3d`;
export const AGENT_TOKEN = `container-agent-${MARK}-a8d2c6e4f0b1`;
export const OTHER_TOKEN = `container-other-${MARK}-93b7e1d5c2a4`;
/** Redis's password in the compose fleet (COHERE_MCP_STORE_PASSWORD in the env file). */
export const STORE_PASSWORD = `container-store-${MARK}-7c3e9a1f5b2d`;
/** Planted in the build context where .dockerignore must keep it out of the image. */
export const CANARY = `container-canary-${MARK}-0d4b8f2e6a1c`;
