# syntax=docker/dockerfile:1
#
# Tollgate's container image: `tollgate serve` on distroless Node.js 22, as the
# non-root user 65532, with production dependencies only.
#
#   docker build -t ghcr.io/tollgate-dev/tollgate:0.1.0 .
#
# Docker is not available on the development machines, so this file is not
# built by the test suite: review changes by reading, and build it in CI or on a
# workstation.
#
# Base images are pinned by digest, so a moved tag cannot change what is built.
# The tag stays beside the digest for readers; the digest wins. These digests
# could not be resolved against the image registries from the development
# machine (no access); each was taken from public Dockerfiles where it appears
# in more than one independent project. Before a release, check and refresh
# them:  docker buildx imagetools inspect node:22-bookworm-slim
#        docker buildx imagetools inspect gcr.io/distroless/nodejs22-debian12:nonroot
#
# Runtime layout (all owned by root, read-only to the process):
#   /app/package.json        "type": "module", needed to load dist/ as ESM
#   /app/node_modules        production dependencies
#   /app/dist/src/...        compiled Tollgate
#   /app/dist/policies/<id>/policy.yaml   policy declarations, read at start
# In Kubernetes nothing is written at run time: the policy set comes from a
# mounted ConfigMap (/etc/tollgate), certificates from a mounted Secret or from
# memory (--manage-certs), so the pod runs with readOnlyRootFilesystem: true.
# The default command below is for `docker run`: built-in policy set (add
# -v ...:/etc/tollgate and --config), and a development certificate generated
# under /tmp because no --cert/--key is given.

ARG NODE_BUILD_IMAGE=node:22-bookworm-slim@sha256:43ac6c60b8f89723f746e8a92ce91abd5017e627ce1ddfe4238355d3a30b772c
ARG NODE_RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot@sha256:13593b7570658e8477de39e2f4a1dd25db2f836d68a0ba771251572d23bb4f8e

# --- build: compile TypeScript with the full dependency tree ------------------
FROM ${NODE_BUILD_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts ./scripts
COPY src ./src
COPY policies ./policies
# The build also copies each policy.yaml next to the compiled registry
# (dist/policies/<id>/), where the loader reads it at start.
RUN npm run build \
 && test -f dist/src/cli/main.js \
 && test -f dist/policies/privileged/policy.yaml

# --- deps: production dependencies only, no install scripts ------------------
FROM ${NODE_BUILD_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# --- runtime: distroless, no shell, no package manager ------------------------
FROM ${NODE_RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="tollgate" \
      org.opencontainers.image.description="Kubernetes admission webhook enforcing the AKS checklist" \
      org.opencontainers.image.source="https://github.com/tollgate-dev/tollgate" \
      org.opencontainers.image.licenses="Apache-2.0"
WORKDIR /app
ENV NODE_ENV=production
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# distroless's nonroot user, by number so runAsNonRoot can verify it.
USER 65532:65532
EXPOSE 8443 9090
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/src/cli/main.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8443", "--state-dir", "/tmp/tollgate"]
