/** What `switchboard config --init` writes: every section, commented, safe to start from. */
export const SAMPLE_CONFIG = `# switchboard.yaml — Switchboard's configuration. Secrets never go here: name environment variables instead.

# OpenCode servers that \`new\` and \`agents\` accept by name (any URL works too, for admins).
servers:
  - name: lab
    url: http://127.0.0.1:4096
    # username: opencode          # default user of \`opencode serve\`
    # passwordEnv: LAB_PASSWORD   # the variable holding OPENCODE_SERVER_PASSWORD of that server
    # budget: { tokens: 400000, cost: 1.50, time: 30m }   # limits of each run of a session here (\`budget <name>\` overrides)

# How the monitor reports on watched names.
monitor:
  interval: 5m        # progress report period while busy: 30s, 5m, 1h or a cron expression
  stallAfter: 10m     # "still busy" notice after this long without any activity
  unreachableAfter: 3 # ticks without an answer before a server counts as unreachable

# Live run cards: each run keeps one message up to date, edited in place.
cards:
  minEditInterval: 2s # at most one edit per card this often (platform rate limits are kept on top of it)

# Schedules (\`schedule <when> <command…>\`): none may fire more often than this.
schedules:
  minInterval: 1m

# Who may do what. Actors: slack:U123, discord:456, discord-role:789, console:alice (or console:*).
access:
  admins: []          # everything, including \`forget\`, unconfigured server URLs, others' work
  members: []         # send, start, run, watch, abort and answer their own work
  viewers: []         # sessions, status, todo, last, logs
  consoleIsAdmin: true
  allowMetadataAddresses: false   # true: OpenCode servers and managed servers' SSH hosts may be on link-local/metadata addresses
  # names: { kumo: { members: [slack:U777] } }
  # executors: { crib: { members: [discord-role:42] } }

limits:
  promptMaxChars: 100000
  commandsPerMinute: 30

# Files attached to a prompt (a Slack @-mention, a Discord !sb message or the /sb file option).
files:
  maxBytes: 10MB      # each file; 512KB, 2MB… (checked before and while downloading)
  maxFiles: 5
  types: [image/png, image/jpeg, image/gif, image/webp, text/*, application/json, application/pdf]

# Machines that run Claude Code and shell tasks (see the README).
defaults:
  maxTurns: 100
  claudePath: claude
  model: sonnet
  maxRetries: 3
  # webhookUrl: https://example.test/hook   # completion records are POSTed here, signed with WEBHOOK_SECRET
models:
  opus: claude-opus-4-6
  sonnet: claude-sonnet-4-6
  haiku: claude-haiku-4-5
executors:
  - name: local
    type: local
    # envFrom: [ANTHROPIC_API_KEY]   # variables of Switchboard's environment its tasks get (nothing else is passed)
    # env: { CARGO_TERM_COLOR: never }   # or values written here
    # budget: { cost: 5, time: 2h }   # limits of each task run here (Claude also gets --max-budget-usd)
  # - name: crib
  #   type: ssh
  #   host: 192.168.0.152
  #   port: 22
  #   user: jimmy
  #   identityFile: ~/.ssh/id_ed25519    # or agent: true
  #   hostKey: SHA256:…                  # pinned; or insecureAcceptNewHostKey: true
  #   labels: [rust, heavy-compute]
  #   maxConcurrent: 2
  # - name: box
  #   type: container
  #   runtime: podman                  # or docker
  #   image: ghcr.io/acme/agent:1      # needs bash; claude at claudePath for Claude tasks
  #   claudePath: /usr/local/bin/claude
  #   workspace: /src
  #   volumes: [/srv/app:/src]         # host:container[:options]; a missing host path is refused before launch
  #   user: "1000:1000"                # default: the image's USER; the task directory is given to that user
  #   network: host                    # default: the engine's
  #   entrypoint: /usr/local/bin/setup # runs first and must exec its arguments; default: the image's is replaced
`;
