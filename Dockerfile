# Switchboard bot image. Build: docker build -t switchboard .   Run: docker run --env-file .env -v sb-data:/app/data switchboard
# Add -i to type commands at the console; without stdin the bot runs its configured Slack/Discord adapters.

FROM node:22-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only (better-sqlite3 builds here if no prebuilt binary fits), then the compiler for the build.
RUN npm ci --omit=dev --no-audit --no-fund && npm install --no-save --no-audit --no-fund typescript@5.9.3 @types/node@20.19.0
COPY tsconfig.json ./
COPY src ./src
COPY adapters ./adapters
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
# tmux, ssh and rsync are what executors and offload use on this side.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tmux openssh-client rsync ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN useradd --create-home --uid 10001 switchboard && mkdir -p /app/data && chown -R switchboard:switchboard /app/data
USER switchboard
# The bot's live heap is small (about 35 MB with 5 000 watched sessions), but each HTTP request allocates
# ~100 KB of short-lived objects and V8 lets the heap grow far past what is live; a 256 MB old-space cap keeps
# RSS near 140 MB with no measured cost in speed (bench: monitor-tick). Raise it for tens of thousands of names.
ENV NODE_ENV=production SWITCHBOARD_DB=/app/data/switchboard.db NODE_OPTIONS=--max-old-space-size=256
VOLUME ["/app/data"]
EXPOSE 3000
CMD ["node", "dist/src/cli.js"]
