/**
 * One error type for the whole core. Every failure a user can cause or meet has a stable `code`, a message
 * written for the person at the keyboard, and optionally a `hint` (the right form of the command, or what to
 * do next). The original error stays in `cause` and is never shown in chat.
 */
export type ErrorCode =
  // grammar and names
  | 'usage'
  | 'unknown_command'
  | 'unknown_name'
  | 'invalid_name'
  | 'name_taken'
  | 'invalid_url'
  | 'empty_prompt'
  | 'prompt_too_long'
  | 'no_such_choice'
  | 'already_chosen'
  // files attached to a prompt: over a limit or a refused type; a download that failed
  | 'file_refused'
  | 'file_download_failed'
  // OpenCode servers
  | 'unreachable'
  | 'timeout'
  | 'auth_failed'
  | 'not_opencode'
  | 'opencode_error'
  | 'session_gone'
  | 'nothing_pending'
  // access and limits
  | 'forbidden'
  | 'rate_limited'
  | 'limit_reached'
  // configuration
  | 'config_invalid'
  /** The database or the config file cannot be opened or written where the settings say. */
  | 'storage_unusable'
  // executors and tasks
  | 'unknown_executor'
  | 'executor_unreachable'
  | 'host_key_mismatch'
  | 'missing_tool'
  | 'workspace_missing'
  | 'task_not_running'
  | 'task_failed'
  | 'sync_failed'
  | 'ssh_auth_failed'
  | 'host_key_unknown'
  | 'task_busy'
  /** A git worktree that cannot be made (not a repository, a branch checked out elsewhere, staged changes) or removed (uncommitted changes). */
  | 'worktree_refused'
  // offload and servers Switchboard starts on executors
  | 'disk_full'
  | 'no_session'
  | 'target_exists'
  | 'server_start_failed'
  // anything else
  | 'internal';

export interface SwitchboardErrorOptions {
  cause?: unknown;
  hint?: string;
}

export class SwitchboardError extends Error {
  override name = 'SwitchboardError';
  readonly code: ErrorCode;
  declare readonly hint?: string;

  constructor(code: ErrorCode, message: string, options: SwitchboardErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.hint !== undefined) {
      // Not enumerable, like `cause`: a structured log of the error shows code and message only.
      Object.defineProperty(this, 'hint', { value: options.hint, enumerable: false });
    }
  }
}

export function isSwitchboardError(error: unknown): error is SwitchboardError {
  return error instanceof SwitchboardError;
}

/** At every boundary: whatever was thrown becomes a SwitchboardError, keeping the original as `cause`. */
export function toSwitchboardError(error: unknown): SwitchboardError {
  if (error instanceof SwitchboardError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new SwitchboardError('internal', `internal error: ${message}`, { cause: error });
}
