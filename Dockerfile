# One image for every role: APP_ROLE=api|worker|all picks what the process runs (see docs/deployment.md).
# Node.js 24 LTS. Where no image registry answers, `npm run test:deploy` builds an equivalent base
# locally (Debian bookworm, the same Node.js build, a `node` user with uid 1000) and passes it here.
ARG BASE_IMAGE=node:24.22-bookworm-slim

# ---- build: all dependencies, compile TypeScript to dist/
FROM ${BASE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npx nest build

# ---- runtime dependencies only
FROM ${BASE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# ---- runtime: no compiler, no dev dependencies, not root
FROM ${BASE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
USER node
EXPOSE 3000
# Liveness for API containers (GET /health/live). Worker containers open no port: compose
# overrides this with `node dist/cli/doctor.js` (Redis, PostgreSQL, migrations reachable).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "require('http').get('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live',r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"]
# SIGTERM lets active jobs and requests finish (SHUTDOWN_TIMEOUT) before the process exits 0.
# Exec form: node is PID 1 and gets the signal itself (the app installs its own handlers; it
# starts no child processes, so there is nothing for an init to reap).
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
