/**
 * What the image tests (image.container.ts, distroless.container.ts) share: the agent's config
 * written where the container can mount it, the call they make, and what `podman image inspect`
 * says of an image.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { podman, workDir } from "./podman.js";

export const RERANK = { model: "rerank-v3.5", query: "capital of france", documents: ["bananas", "paris is the capital"] };

/** One agent, search-agent (profile search: rerank and embed), its token from AGENT_TOKEN; the file's path. */
export function writeTeamConfig(dirName: string): string {
  const dir = join(workDir(), dirName);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "team.json");
  writeFileSync(
    path,
    JSON.stringify({
      profiles: { search: { tools: ["rerank", "embed"] } },
      agents: [{ name: "search-agent", profile: "search", token_env: "AGENT_TOKEN" }],
    }),
  );
  return path;
}

export interface ImageConfig {
  User?: string;
  Entrypoint?: string[];
  Cmd?: string[] | null;
  StopSignal?: string;
  Healthcheck?: { Test?: string[] };
  Volumes?: Record<string, unknown>;
  Labels?: Record<string, string>;
  Env?: string[];
}

/** An image's config, and its healthcheck (Podman shows a docker-format image's beside Config). */
export async function inspectImage(ref: string): Promise<{ config: ImageConfig; healthcheck?: string[] }> {
  const [info] = JSON.parse(await podman(["image", "inspect", ref])) as Array<{ Config: ImageConfig; Healthcheck?: { Test?: string[] } }>;
  return { config: info!.Config, healthcheck: (info!.Healthcheck ?? info!.Config.Healthcheck)?.Test };
}
