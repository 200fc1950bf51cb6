/**
 * A real authorization server for the OAuth suites: panva's oidc-provider on a free loopback
 * port, with the client-credentials grant, resource indicators (RFC 8707) and JWT (or opaque)
 * access tokens for the resources a test allows. Each client has its own granted scopes,
 * `groups` claim, token lifetime and token format.
 *
 * `rotate()` replaces the signing key while the server keeps its port and issuer: a new provider
 * signs with a new key and still publishes the old one (as an issuer does during a rotation).
 * The test keeps the private keys, so it can also forge tokens (another key, alg none, HS256
 * with the public key) that the resource server must refuse.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from "jose";
import Provider, { errors as oidcErrors } from "oidc-provider";

export interface IdpClient {
  client_id: string;
  client_secret: string;
  /** Scopes this client may get for a resource (space-separated; "" for none). */
  scope: string;
  groups?: string[];
  /** Access token lifetime in seconds (default 300). */
  ttl?: number;
  format?: "jwt" | "opaque";
}

export interface Idp {
  /** http://127.0.0.1:PORT (the issuer, no trailing slash) */
  issuer: string;
  /** Resource indicators the provider issues tokens for; add more at any time. */
  resources: Set<string>;
  /** The current signing key (private JWK with kid and alg) and every key published. */
  signingKey(): JWK;
  /** PEM of the current signing key's public half. */
  publicPem(): Promise<string>;
  /** A JWT signed with the issuer's current key, with whatever claims and header the test wants. */
  sign(claims: JWTPayload, header?: Record<string, unknown>, crit?: Record<string, boolean>): Promise<string>;
  /** A token straight from the token endpoint (as any client would get it). */
  token(clientId: string, resource: string, scope?: string): Promise<{ access_token: string; scope?: string; expires_in: number }>;
  /** Token requests the provider answered, by client id. */
  tokenRequests: Map<string, number>;
  rotate(): Promise<void>;
  /** Requests the issuer got, by path (e.g. "/jwks"). */
  hits: Map<string, number>;
  /** Paths answered 503 while listed ("*": every path: the issuer is down). */
  failing: Set<string>;
  stop(): Promise<void>;
}

async function rsaKey(kid: string): Promise<JWK> {
  const { privateKey } = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
  return { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };
}

export async function startIdp(clients: IdpClient[], extra: { introspector?: { client_id: string; client_secret: string } } = {}): Promise<Idp> {
  const resources = new Set<string>();
  const tokenRequests = new Map<string, number>();
  const byId = new Map(clients.map((c) => [c.client_id, c]));
  let keys: JWK[] = [await rsaKey("k1")];
  let generation = 1;
  let handler: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_q, s) => s.writeHead(503).end();

  const hits = new Map<string, number>();
  const failing = new Set<string>();
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (failing.has("*") || failing.has(path)) return void res.writeHead(503, { "content-type": "text/plain" }).end("down");
    if (req.method === "POST" && req.url?.startsWith("/token")) {
      const auth = req.headers.authorization ?? "";
      const id = decodeURIComponent(Buffer.from(auth.replace(/^Basic /, ""), "base64").toString().split(":")[0] ?? "");
      tokenRequests.set(id, (tokenRequests.get(id) ?? 0) + 1);
    }
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const build = (jwks: JWK[]): Provider => {
    const provider = new Provider(issuer, {
      clients: [
        ...clients.map((c) => ({
          client_id: c.client_id,
          client_secret: c.client_secret,
          grant_types: ["client_credentials"],
          redirect_uris: [],
          response_types: [],
          token_endpoint_auth_method: "client_secret_basic",
        })),
        ...(extra.introspector
          ? [{ ...extra.introspector, grant_types: [], redirect_uris: [], response_types: [], token_endpoint_auth_method: "client_secret_basic" }]
          : []),
      ],
      jwks: { keys: jwks as never },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        introspection: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => undefined as unknown as string,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx, resourceIndicator, client) => {
            if (!resources.has(resourceIndicator)) throw new oidcErrors.InvalidTarget();
            const c = byId.get(client.clientId);
            return {
              scope: c?.scope ?? "",
              audience: resourceIndicator,
              accessTokenTTL: c?.ttl ?? 300,
              accessTokenFormat: c?.format ?? "jwt",
              jwt: { sign: { alg: "RS256" } },
            };
          },
        },
      },
      extraTokenClaims: (_ctx, token) => {
        const c = byId.get((token as { clientId?: string }).clientId ?? "");
        return c?.groups ? { groups: c.groups } : undefined;
      },
    });
    return provider;
  };
  handler = build(keys).callback();

  return {
    issuer,
    resources,
    tokenRequests,
    hits,
    failing,
    signingKey: () => keys[0]!,
    async sign(claims, header = {}, crit) {
      const k = keys[0]!;
      const key = await importJWK(k, "RS256");
      return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: k.kid, typ: "at+jwt", ...header }).sign(key, crit ? { crit } : undefined);
    },
    async publicPem() {
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = keys[0]!;
      return exportSPKI((await importJWK(pub, "RS256", { extractable: true })) as CryptoKey);
    },
    async token(clientId, resource, scope) {
      const c = byId.get(clientId)!;
      const body = new URLSearchParams({ grant_type: "client_credentials", resource });
      if (scope !== undefined) body.set("scope", scope);
      const res = await fetch(`${issuer}/token`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(c.client_id)}:${encodeURIComponent(c.client_secret)}`).toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body,
      });
      const json = (await res.json()) as { access_token: string; scope?: string; expires_in: number; error?: string; error_description?: string };
      if (!res.ok) throw new Error(`token request for ${clientId} failed: ${res.status} ${json.error}: ${json.error_description}`);
      return json;
    },
    async rotate() {
      generation++;
      keys = [await rsaKey(`k${generation}`), ...keys];
      handler = build(keys).callback();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
