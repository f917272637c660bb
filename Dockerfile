# Switchboard bot image. Build: docker build -t switchboard .   Run: docker run --env-file .env -v sb-data:/app/data switchboard
FROM node:22-bookworm-slim

# tmux, ssh and rsync are what executors and offload use; python3/make/g++ build better-sqlite3 if no prebuilt fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tmux openssh-client rsync ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY adapters ./adapters
COPY bin ./bin

RUN useradd --create-home --uid 10001 switchboard && mkdir -p /app/data && chown -R switchboard:switchboard /app/data
USER switchboard
ENV NODE_ENV=production SWITCHBOARD_DB=/app/data/switchboard.db
VOLUME ["/app/data"]
EXPOSE 3000
# No TTY in a container: the console reads commands from stdin when one is attached (docker run -i).
CMD ["node", "--import", "tsx", "src/cli.ts"]
