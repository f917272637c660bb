import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** The real CLI from node_modules (pinned), by absolute path: tmux panes do not get our PATH. */
export const CLAUDE_PATH = new URL('../../node_modules/.bin/claude', import.meta.url).pathname;

/**
 * The environment that points the real `claude` CLI at a fake Messages API, offline and hermetic: its config and
 * sessions in `configDir`, no telemetry or updates, few API retries. Passed as an executor's `env`, so it reaches
 * the task through the wrapper's 0600 env file, exactly as production settings would.
 *
 * `todoTools` turns on TodoWrite (this CLI offers it only with CLAUDE_CODE_ENABLE_TODO_TOOLS and without Tasks).
 */
export function claudeEnv(options: { baseUrl: string; configDir: string; todoTools?: boolean }): Record<string, string> {
  mkdirSync(join(options.configDir, 'home'), { recursive: true });
  return {
    ANTHROPIC_BASE_URL: options.baseUrl,
    ANTHROPIC_API_KEY: 'test',
    IS_SANDBOX: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CONFIG_DIR: options.configDir,
    HOME: join(options.configDir, 'home'),
    CLAUDE_CODE_MAX_RETRIES: '1',
    ...(options.todoTools ? { CLAUDE_CODE_ENABLE_TODO_TOOLS: 'true', CLAUDE_CODE_ENABLE_TASKS: 'false' } : {}),
  };
}

/**
 * `switchboard.yaml` lines for a local executor that runs the real CLI against the fake API in `baseUrl`, its
 * tasks under `root/tasks`, in its own tmux server `socket`, the CLI's config under `root/claude`.
 */
export function localClaudeExecutorYaml(options: { baseUrl: string; root: string; socket: string }): string[] {
  const env = claudeEnv({ baseUrl: options.baseUrl, configDir: join(options.root, 'claude') });
  return [
    'defaults:',
    `  claudePath: ${CLAUDE_PATH}`,
    'executors:',
    '  - name: local',
    '    type: local',
    `    tmuxSocket: ${options.socket}`,
    `    tasksDir: ${join(options.root, 'tasks')}`,
    '    env:',
    ...Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
  ];
}
