# Switchboard bot image (README "Run with Docker"; compose.yaml beside this file runs it as is).
#   docker build -t switchboard .
#   docker run -it -v sb-data:/app/data switchboard                  the console; state and switchboard.yaml in the volume
#   docker run -d --env-file .env -v sb-data:/app/data switchboard   Slack or Discord (Socket Mode needs no port)
#   docker run --rm -v sb-data:/app/data switchboard config --init   writes /app/data/switchboard.yaml
#   docker run --rm -v sb-data:/app/data switchboard sessions --json
# A bind mount instead of a named volume must be writable by uid 10001: `chown -R 10001 ./data` on the host.

# The compiler's stage. The runtime packages come without install scripts (tsc only reads their types); the
# compiler and the two type packages the build needs go to a folder of their own, so npm never resolves the
# dev tree (test tools, agent CLIs). Their versions are the lockfile's: test/unit/dockerfile.test.ts checks.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && mkdir /tools && cd /tools && echo '{"private":true}' > package.json \
 && npm install --ignore-scripts --no-audit --no-fund typescript@5.9.3 @types/better-sqlite3@7.6.13 @types/ssh2@1.15.6 \
 && cp -r /tools/node_modules/@types/better-sqlite3 /tools/node_modules/@types/ssh2 /app/node_modules/@types/
COPY tsconfig.json ./
COPY src ./src
COPY adapters ./adapters
RUN PATH=/tools/node_modules/.bin:$PATH npm run build

# The runtime packages. better-sqlite3's is the one install script the bot needs (its native module);
# ssh2's optional native crypto is skipped (it works without).
FROM node:22-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm rebuild better-sqlite3

FROM node:22-bookworm-slim
# tmux, ssh and rsync are what executors and offload use on this side.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tmux openssh-client rsync ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=deps /app/node_modules /app/node_modules
COPY --from=build /app/dist /app/dist
# The fleet page's HTML, CSS and script are served from beside its compiled code (no build step, no CDN).
COPY --from=build /app/src/web/static /app/dist/src/web/static
COPY package.json /app/package.json
COPY bin/docker-switchboard.sh /usr/local/bin/switchboard
RUN useradd --create-home --uid 10001 switchboard && mkdir -p /app/data && chown -R switchboard:switchboard /app/data
USER switchboard
# The working directory is the data volume: switchboard.yaml (and a .env, if you put one there) are read
# from it, and `config --init` writes there. SWITCHBOARD_CONFIG overrides the file's place.
WORKDIR /app/data
# The bot's live heap is small (about 35 MB with 5 000 watched sessions), but each HTTP request allocates
# ~100 KB of short-lived objects and V8 lets the heap grow far past what is live; a 256 MB old-space cap keeps
# RSS near 140 MB with no measured cost in speed (bench: monitor-tick). Raise it for tens of thousands of names.
ENV NODE_ENV=production SWITCHBOARD_DB=/app/data/switchboard.db NODE_OPTIONS=--max-old-space-size=256
VOLUME ["/app/data"]
# Only Slack's HTTP receiver (SLACK_PORT) and the fleet page (WEB_PORT, off unless set; WEB_HOST=0.0.0.0 to reach
# it from outside the container, behind a TLS proxy) listen; Socket Mode and Discord dial out.
EXPOSE 3000
# Fails when the database is unusable, the bot stopped beating, or a chat adapter is disconnected.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["switchboard", "health"]
ENTRYPOINT ["switchboard"]
