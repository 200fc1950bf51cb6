/**
 * deploy/ (issue 25), read without running anything.
 *
 * deploy/kubernetes/: the manifests are not applied here (no cluster), so this checks
 * what matters in them: the probes point at /healthz and /readyz on the container's port; the pod
 * runs non-root with a read-only root filesystem, no capabilities and no privilege escalation,
 * and writes only to /data; resources are set; no secret is written inline (the key, the token
 * hashes and the password come from the Secret, whose values are placeholders); the Secret holds
 * no token, only hashes (agents use token_sha256_env, never token_env); the team config in the
 * ConfigMap is one the server accepts; the Service and the PodDisruptionBudget select the pods;
 * the image is the one server.json lists.
 *
 * deploy/compose/compose.yaml (run for real by npm run test:container): every replica read-only
 * with no capabilities, secrets only from the env file, the example team config valid, nginx
 * given the repository's deploy/nginx/cohere-mcp.conf.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { configFileSchema } from "../src/config/file.js";
import { ENV, FLAGS } from "../src/config/options.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIR = join(ROOT, "deploy", "kubernetes");

// Parsed YAML of several kinds, read field by field; the assertions are the type check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
const files = readdirSync(DIR).filter((f) => f.endsWith(".yaml"));
const docs: Array<{ file: string; doc: Obj }> = files.flatMap((file) =>
  parseAllDocuments(readFileSync(join(DIR, file), "utf8")).map((d) => {
    expect(d.errors, file).toEqual([]);
    return { file, doc: d.toJS() as Obj };
  }),
);
const one = (kind: string): Obj => {
  const found = docs.filter((d) => d.doc?.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!.doc;
};

const deployment = one("Deployment");
const pod = deployment.spec.template.spec as Obj;
const container = pod.containers[0] as Obj;
const secret = one("Secret");
const configMap = one("ConfigMap");
const SECRET_NAME = /KEY|TOKEN|PASSWORD|SECRET/i;

describe("deploy/kubernetes", () => {
  it("kustomization.yaml lists every manifest", () => {
    const k = one("Kustomization");
    expect([...k.resources].sort()).toEqual(files.filter((f) => f !== "kustomization.yaml").sort());
  });

  it("probes: startup and liveness on /healthz, readiness on /readyz, at the container's port", () => {
    const port = container.ports.find((p: Obj) => p.name === "http");
    expect(port.containerPort).toBe(8080);
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.startupProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    const env = Object.fromEntries((container.env as Obj[]).filter((e) => "value" in e).map((e) => [e.name, e.value]));
    expect(env.COHERE_MCP_PORT).toBe(String(port.containerPort));
    expect(container.args).toContain("--http");
    // Drains before the kubelet kills: the grace period outlasts --shutdown-grace-ms (20 s).
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(20);
  });

  it("non-root, read-only root filesystem, no capabilities, no privilege escalation; writes only to /data", () => {
    // The image named is the default (distroless) one, and the pod runs as that image's user
    // (the Dockerfile's last stage: USER 65532:65532), which owns its /data.
    expect(container.image).toMatch(/^ghcr\.io\/cohere-mcp\/cohere-mcp:\d+\.\d+\.\d+$/);
    const users = [...readFileSync(join(ROOT, "Dockerfile"), "utf8").matchAll(/^USER (\S+)$/gm)].map((m) => m[1]);
    expect(users.at(-1)).toBe("65532:65532");
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 });
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(container.securityContext.privileged).not.toBe(true);
    const writable = (container.volumeMounts as Obj[]).filter((m) => !m.readOnly).map((m) => m.mountPath);
    expect(writable).toEqual(["/data"]);
    expect(container.args.join(" ")).toMatch(/--audit-log \/data\//);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it("sets resources", () => {
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toEqual(expect.any(String));
  });

  it("no secret inline: keys, tokens and passwords come from the Secret, whose values are placeholders", () => {
    for (const e of container.env as Obj[]) {
      if (SECRET_NAME.test(e.name)) expect(e.value, e.name).toBeUndefined();
    }
    expect(container.envFrom).toContainEqual({ secretRef: { name: secret.metadata.name } });
    const values = { ...secret.stringData, ...secret.data } as Record<string, string>;
    expect(Object.keys(values)).toContain("CO_API_KEY");
    for (const [k, v] of Object.entries(values)) expect(v, k).toMatch(/^<[^>]+>$/);
    // Nothing that looks like a key, a token or a hash anywhere else in the manifests.
    for (const { file, doc } of docs) {
      if (doc.kind === "Secret") continue;
      const text = JSON.stringify(doc);
      expect(text, file).not.toMatch(/[A-Za-z0-9]{32,}/);
      expect(text, file).not.toMatch(/"token_sha256"\s*:\s*"[a-f0-9]{64}"/);
    }
  });

  it("the Secret holds token hashes, never a token: agents and admins name hash variables, and the Secret has nothing else", () => {
    const team = configFileSchema.parse(JSON.parse(configMap.data["team.json"]));
    const people = [...(team.agents ?? []), ...(team.admins ?? [])];
    expect(team.agents?.length).toBeGreaterThan(0);
    // token_env (or a tokens entry's env) would put the token itself in the Secret.
    for (const a of people) {
      expect(a.token_env, a.name).toBeUndefined();
      for (const t of a.tokens ?? []) expect(t.env, `${a.name} ${t.label}`).toBeUndefined();
    }
    const hashVars = people.flatMap((a) => [a.token_sha256_env, ...(a.tokens ?? []).map((t) => t.sha256_env)]).filter((v): v is string => !!v);
    const keys = Object.keys({ ...secret.stringData, ...secret.data } as Record<string, string>);
    for (const v of hashVars) expect(keys, v).toContain(v);
    // Besides the hashes: the Cohere key and the Redis password, nothing else (no agent token).
    expect(keys.filter((k) => !hashVars.includes(k)).sort()).toEqual(["COHERE_MCP_STORE_PASSWORD", "CO_API_KEY"]);
  });

  it("the ConfigMap's team config is one the server accepts, and every variable set is one the server reads", () => {
    expect(configFileSchema.safeParse(JSON.parse(configMap.data["team.json"])).success).toBe(true);
    const known = new Set<string>([...ENV.map((e) => e.env), ...FLAGS.map((f) => f.env.replace(/=.*$/, "")).filter(Boolean)]);
    for (const e of container.env as Obj[]) expect(known.has(e.name), e.name).toBe(true);
    for (const k of Object.keys(configMap.data).filter((k) => k !== "team.json")) expect(known.has(k), k).toBe(true);
    for (const k of Object.keys(secret.stringData)) {
      const isHash = (configFileSchema.parse(JSON.parse(configMap.data["team.json"])).agents ?? []).some((a) => a.token_sha256_env === k);
      expect(known.has(k) || isHash, k).toBe(true);
    }
    // Redis is referenced, not bundled.
    expect(docs.filter((d) => JSON.stringify(d.doc).includes('"image":"') && /redis/.test(JSON.stringify(d.doc.spec ?? {})) && d.doc.kind !== "ConfigMap")).toEqual([]);
    expect(configMap.data.COHERE_MCP_STORE).toMatch(/^rediss?:\/\//);
  });

  it("the Service and the PodDisruptionBudget select the Deployment's pods; the image is server.json's", () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    const service = one("Service");
    expect(labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports[0].targetPort).toBe("http");
    const pdb = one("PodDisruptionBudget");
    expect(labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.maxUnavailable ?? deployment.spec.replicas - pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
    const server = JSON.parse(readFileSync(join(ROOT, "server.json"), "utf8")) as { packages: Array<{ registryType: string; identifier: string }> };
    expect(container.image).toBe(server.packages.find((p) => p.registryType === "oci")!.identifier);
  });
});

describe("deploy/compose", () => {
  const COMPOSE = join(ROOT, "deploy", "compose");
  const compose = parseAllDocuments(readFileSync(join(COMPOSE, "compose.yaml"), "utf8"), { merge: true })[0]!.toJS({ maxAliasCount: -1 }) as Obj;
  const replicas = ["r1", "r2", "r3"].map((r) => [r, compose.services[r] as Obj] as const);

  it("three replicas of the image, each read-only, without capabilities, with its own tag and /data volume, sharing Redis", () => {
    for (const [tag, r] of replicas) {
      expect(r.image, tag).toMatch(/^\$\{COHERE_MCP_IMAGE:-ghcr\.io\/cohere-mcp\/cohere-mcp:/);
      expect(r.read_only, tag).toBe(true);
      expect(r.cap_drop, tag).toEqual(["ALL"]);
      expect(r.environment.COHERE_MCP_REPLICA_ID).toBe(tag);
      expect(r.environment.COHERE_MCP_STORE).toBe("redis://redis:6379/0");
      expect(r.volumes).toContain(`${tag}-data:/data`);
      expect(r.command).toContain("--http");
    }
    const redis = (compose.services.redis.command as string[]).join(" ");
    expect(redis).toContain("--appendonly yes");
    expect(redis).toContain("--maxmemory-policy noeviction");
    expect(compose.services.emulator.profiles).toEqual(["dry-run"]);
  });

  it("no secret inline: the key and tokens come from the env file; the template has placeholders only", () => {
    for (const [tag, r] of replicas) {
      expect(r.env_file, tag).toMatch(/cohere-mcp\.env/);
      for (const k of Object.keys(r.environment)) if (SECRET_NAME.test(k)) throw new Error(`${tag}: ${k} is set inline`);
    }
    const example = readFileSync(join(COMPOSE, "cohere-mcp.env.example"), "utf8");
    expect(example).toMatch(/^CO_API_KEY=your-cohere-key$/m);
    const team = configFileSchema.parse(JSON.parse(readFileSync(join(COMPOSE, "team.json"), "utf8")));
    for (const a of team.agents ?? []) if (a.token_env) expect(example, a.name).toMatch(new RegExp(`^${a.token_env}=`, "m"));
    expect(readFileSync(join(ROOT, ".gitignore"), "utf8")).toMatch(/^deploy\/compose\/cohere-mcp\.env$/m);
  });

  it("Redis requires the env file's COHERE_MCP_STORE_PASSWORD (the replicas' store password), given on stdin, never inline", () => {
    const redis = compose.services.redis as Obj;
    expect(redis.env_file).toBe(replicas[0]![1].env_file);
    expect(redis.user).toBe("redis");
    expect(redis.environment).toBeUndefined();
    const script = (redis.command as string[]).join("\n");
    // compose turns $$ into $: the shell reads the variable from the env file at run time
    expect(script).toMatch(/requirepass \$\$p\b/);
    expect(script).toContain("$$COHERE_MCP_STORE_PASSWORD");
    expect(script).toMatch(/exec env -i \/usr\/local\/bin\/redis-server - /);
    expect(script).not.toMatch(/--requirepass/);
    const example = readFileSync(join(COMPOSE, "cohere-mcp.env.example"), "utf8");
    expect(example).toMatch(/^COHERE_MCP_STORE_PASSWORD=replace-with-/m);
    // the replicas read the password from the same file, and their store URL carries none
    for (const [tag, r] of replicas) expect(r.environment.COHERE_MCP_STORE, tag).toBe("redis://redis:6379/0");
  });

  it("nginx runs the repository's deploy/nginx/cohere-mcp.conf as its template, with every placeholder given", () => {
    const nginx = compose.services.nginx as Obj;
    const mount = (nginx.volumes as string[]).find((v) => v.includes("/etc/nginx/templates/"))!;
    const conf = readFileSync(join(COMPOSE, mount.split(":")[0]!), "utf8");
    const placeholders = new Set([...conf.replace(/^\s*#.*$/gm, "").matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]));
    expect([...placeholders].sort()).toEqual(Object.keys(nginx.environment).sort());
    expect(nginx.environment).toMatchObject({ MCP_R1: "r1:8080", MCP_R2: "r2:8080", MCP_R3: "r3:8080" });
  });
});
