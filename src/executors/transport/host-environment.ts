/**
 * What a process Switchboard starts on this machine inherits from the bot's own environment: the basics a
 * login shell has (where programs are, whose home, which locale), never the bot's tokens and secrets. What a
 * task needs beyond that is named in the executor's `env` (or `--env NAME`) and travels in a 0600 file.
 */
const INHERITED = new Set([
  ...['PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TERM', 'TZ', 'TMPDIR', 'XDG_RUNTIME_DIR'],
  // Where the container engine is, for container executors (rootless and remote engines set these).
  ...['DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'CONTAINER_HOST', 'CONTAINER_CONNECTION'],
  // And how podman is configured (runtime, ulimits, network, storage), when not in the default files.
  ...['CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINERS_REGISTRIES_CONF'],
]);

export function hostEnvironment(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && (INHERITED.has(key) || key.startsWith('LC_'))) kept[key] = value;
  }
  return kept;
}
