# syntax=docker/dockerfile:1
# Build stage: compile TypeScript with the full dependency set.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

# Runtime stage: production dependencies and the compiled code only, as a non-root user.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY scripts/gen-certs.sh ./scripts/gen-certs.sh
RUN mkdir -p certs && chown node:node certs
USER node
ENV NODE_ENV=production TRIDENT_HOST=0.0.0.0 TRIDENT_PORT=8443 TRIDENT_HTTP_PORT=8080
# 8080: ws:// and http://; 8443/tcp: wss:// and https://; 8443/udp: reserved for HTTP/3 (RFC 9220).
EXPOSE 8080/tcp 8443/tcp 8443/udp
# Development certificates are generated unless certs/ is mounted with real ones.
CMD ["sh", "-c", "sh scripts/gen-certs.sh --if-missing certs && exec node dist/cli/main.js serve"]
