# cohere-mcp as a container image: `docker build -t cohere-mcp .` (or podman/buildah; with Podman
# add `--format docker` so the HEALTHCHECK is kept). See docs/container.md.
#
# Three stages on the same Debian 12 Node 20 base: `build` compiles TypeScript with the dev
# dependencies; `deps` installs the production dependencies only and prunes what Node never
# loads; the final stage holds those, the compiled dist/ and the two generated JSON files the
# server reads, nothing else (no sources, no source maps, no compiler, no npm cache, no secret:
# the key and tokens are given at run time).
#
# Two runtime variants of the same build: the default (the last stage, `distroless`) on Google's
# distroless Node 20 (Debian 12 libraries, no shell, no package manager), published as
# `<version>`; and `--target slim` on node:20-bookworm-slim, about 70 MB larger, with a shell for
# operators who `docker exec` into it, published as `<version>-slim`. Both run the same dist/ and
# node_modules from the `deps` stage.
ARG NODE_IMAGE=docker.io/library/node:20-bookworm-slim
ARG DISTROLESS_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY emulator ./emulator
COPY scripts/prune-image.ts ./scripts/prune-image.ts
# The project's own build (tsc, plus whatever assets it copies into dist/).
RUN npm run build

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force && rm -rf /root/.npm
# What the image ships, minus what Node never loads (declarations, sources, source maps, docs,
# the packages' tests, the CommonJS builds of dual packages nothing require()s): about 31 MB of
# node_modules become 9. Every application module and dependency is then imported once, so a
# file cut by mistake fails this build (scripts/prune-image.ts).
COPY --from=build /src/dist/src ./dist/src
COPY --from=build /src/dist/emulator ./dist/emulator
COPY --from=build /src/dist/scripts/prune-image.js /tmp/prune-image.js
RUN node /tmp/prune-image.js /app --check
# The /data volume's mount point for the distroless stage, which can RUN nothing (no shell).
RUN mkdir -p /volume/data

# `docker build --target slim` (published as `<version>-slim`): node:20-bookworm-slim, with a
# shell, npm and apt, for operators who `docker exec … sh` into it; user node (1000).
FROM ${NODE_IMAGE} AS slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="cohere-mcp" \
      org.opencontainers.image.description="MCP server exposing the whole Cohere API as typed tools, behind a deny-by-default per-agent allowlist" \
      org.opencontainers.image.source="https://github.com/cohere-mcp/cohere-mcp" \
      org.opencontainers.image.url="https://github.com/cohere-mcp/cohere-mcp#readme" \
      org.opencontainers.image.documentation="https://github.com/cohere-mcp/cohere-mcp/blob/main/docs/container.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      io.modelcontextprotocol.server.name="io.github.cohere-mcp/cohere-mcp"
ENV NODE_ENV=production \
    COHERE_MCP_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/dist ./dist
COPY package.json tools.manifest.json config.schema.json LICENSE ./
COPY deploy/container/healthcheck.mjs ./healthcheck.mjs
# The only place the server writes (with --audit-log /data/audit.jsonl); the root filesystem can
# be read-only (docker run --read-only).
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["node", "/app/healthcheck.mjs"]
# Flags pass straight through: `docker run IMAGE --http --config /config/team.json ...`; with no
# flags it is an MCP stdio server (docker run -i --rm -e CO_API_KEY IMAGE).
ENTRYPOINT ["node", "/app/dist/src/index.js"]
CMD []

# The default target (the last stage: what `docker build .` gives, published as `<version>`):
# distroless, no shell, no npm, no apt or dpkg; node is /nodejs/bin/node and the user is
# distroless's nonroot (65532). The healthcheck is the same node script.
FROM ${DISTROLESS_IMAGE} AS distroless
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="cohere-mcp" \
      org.opencontainers.image.description="MCP server exposing the whole Cohere API as typed tools, behind a deny-by-default per-agent allowlist (distroless runtime)" \
      org.opencontainers.image.source="https://github.com/cohere-mcp/cohere-mcp" \
      org.opencontainers.image.url="https://github.com/cohere-mcp/cohere-mcp#readme" \
      org.opencontainers.image.documentation="https://github.com/cohere-mcp/cohere-mcp/blob/main/docs/container.md" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      io.modelcontextprotocol.server.name="io.github.cohere-mcp/cohere-mcp"
# /nodejs/bin on PATH: `node` names the same binary in both variants (compose's emulator service,
# `docker exec NAME node -e ...`).
ENV NODE_ENV=production \
    COHERE_MCP_HOST=0.0.0.0 \
    PATH=/nodejs/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=deps /app/dist ./dist
COPY package.json tools.manifest.json config.schema.json LICENSE ./
COPY deploy/container/healthcheck.mjs ./healthcheck.mjs
# (COPY --chown, as nothing can be RUN here: /data belongs to nonroot, the rest to root)
COPY --from=deps --chown=65532:65532 /volume/ /
VOLUME ["/data"]
USER 65532:65532
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/nodejs/bin/node", "/app/healthcheck.mjs"]
# Flags pass straight through: `docker run IMAGE --http --config /config/team.json ...`; with no
# flags it is an MCP stdio server (docker run -i --rm -e CO_API_KEY IMAGE).
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/index.js"]
CMD []
