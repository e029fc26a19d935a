# syntax=docker/dockerfile:1
# Ballast: one image, two programs (docs/install.md, "Build the image").
#   docker build -t ghcr.io/ballast-lb/ballast:dev .
#   controller: node controller/main.js    speaker: node speaker/main.js
# The .ts sources are compiled to .js at build time, so the image runs plain
# JavaScript and never pays Node's type stripping (~35 MB RSS in the speaker).

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
# python3, make and g++ build the native AF_PACKET addon (binding.gyp), the only native dependency.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# node-gyp builds against this Node's own headers instead of downloading them.
ENV npm_config_nodedir=/usr/local
# Dependencies first, so source edits do not rebuild them. npm ci also builds
# the root package's binding.gyp (build/Release/ballast_packet.node).
COPY package.json package-lock.json binding.gyp ./
COPY speaker/l2/native speaker/l2/native
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build-js.ts scripts/
COPY controller controller
COPY speaker speaker
COPY shared shared
# Type-checks and emits only what the programs import, plus the addon.
RUN node scripts/build-js.ts --out /out
# The `ballast` command line as one file (scripts/build-cli.ts), for `kubectl exec … -- ballast status`.
COPY cli cli
COPY scripts/build-cli.ts scripts/
RUN node scripts/build-cli.ts --out /cli/ballast
RUN npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
LABEL org.opencontainers.image.title="ballast" \
      org.opencontainers.image.description="Bare-metal LoadBalancer for Kubernetes (layer 2: ARP/NDP)" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /out ./
COPY --from=build /cli/ballast /usr/local/bin/ballast
# Numeric so runAsNonRoot can check it. The speaker's DaemonSet runs it as
# uid 0 with only CAP_NET_RAW (AF_PACKET; see deploy/speaker/daemonset.yaml).
USER 65532:65532
CMD ["node", "controller/main.js"]
