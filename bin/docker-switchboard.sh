#!/bin/sh
# `switchboard` inside the Docker image, and its entry point: `docker run switchboard` runs the bot,
# `docker run switchboard sessions --json` runs one command, `docker exec <container> switchboard status kumo`
# works too, and `docker run switchboard sh` (or bash, node, an absolute path) runs that program instead.
set -e
case "${1:-}" in
  sh|bash|node|/*) exec "$@" ;;
esac
exec node /app/dist/src/cli.js "$@"
