# keyledger API image. better-sqlite3 and pkcs11js compile at install, hence the toolchain in the
# build stage only. The same image runs on SQLite, PostgreSQL or EventStoreDB (KEYLEDGER_STORE).
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production KEYLEDGER_HOST=0.0.0.0 KEYLEDGER_PORT=8080 KEYLEDGER_DATA_DIR=/data
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The dashboard page and its script are served as they are.
COPY --from=build /app/apps/api/dashboard ./apps/api/dashboard
COPY package.json ./
# The data dir holds root.key (and, on SQLite, the log): owner-only, as the custodian demands.
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
VOLUME /data
EXPOSE 8080
USER node
HEALTHCHECK --interval=10s --timeout=3s --retries=6 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "bin/keyledger.js", "serve"]
