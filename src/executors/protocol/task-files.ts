import { SwitchboardError } from '../../errors.js';
import { LOG_FILTER_SCRIPT, WRAPPER_SCRIPT } from './wrapper.js';
import { shellQuote } from './quote.js';
import { formatSize } from '../../files/limits.js';

/**
 * The task directory (made by mktemp -d, mode 0700) and what goes in it. Pure: builds names, bytes and modes;
 * the runtime uploads them.
 *
 *   wrapper.sh, logfilter.sh   0700  static programs (protocol/wrapper.ts)
 *   task_id, kind, workspace   0600  parameters the wrapper reads
 *   env                        0600  `export K='v'` lines the wrapper sources (tmux executors)
 *   container.env              0600  `K=v` lines for `--env-file` (container executors)
 *   task.json                  0600  who this task is, for a human looking at the host
 *   session_id                 0600  claude's session uuid
 *   prompt                     0600  per run: claude's prompt (its stdin), or the shell command text
 *   argv, attempt_mode         0600  per attempt: claude's argv (NUL-separated); run | resume
 *   input, argv_fresh          0600  per resume: the preamble before the prompt; the argv to start afresh
 *   attempt                          written by the launcher
 *   events.jsonl, output.log, manifest.json, wrapper_pid, pid, exit_code, done   written by the wrapper
 */
export interface TaskFile {
  name: string;
  data: string | Uint8Array;
  mode: number;
}

export type TaskKind = 'claude' | 'shell';

export const FILE = {
  events: 'events.jsonl',
  output: 'output.log',
  manifest: 'manifest.json',
  pid: 'pid',
  prompt: 'prompt',
  argv: 'argv',
  containerEnv: 'container.env',
  wrapper: 'wrapper.sh',
} as const;

export interface StaticFilesInput {
  taskId: string;
  name: string;
  executor: string;
  kind: TaskKind;
  /** Absolute, already checked on the host; '' lets a container start in its image's working directory. */
  workspace: string;
  env: Readonly<Record<string, string>>;
  /** Container executors pass env through --env-file instead of the sourced file. */
  envStyle: 'shell' | 'docker';
  /** Claude's session uuid (claude tasks). */
  sessionId?: string | null;
}

export function staticTaskFiles(input: StaticFilesInput): TaskFile[] {
  const env = { ...input.env, SWITCHBOARD_TASK: input.taskId };
  const files: TaskFile[] = [
    { name: 'wrapper.sh', data: WRAPPER_SCRIPT, mode: 0o700 },
    { name: 'logfilter.sh', data: LOG_FILTER_SCRIPT, mode: 0o700 },
    { name: 'task_id', data: `${input.taskId}\n`, mode: 0o600 },
    { name: 'kind', data: `${input.kind}\n`, mode: 0o600 },
    { name: 'workspace', data: `${input.workspace}\n`, mode: 0o600 },
    {
      name: 'task.json',
      data: `${JSON.stringify({ task_id: input.taskId, name: input.name, executor: input.executor, kind: input.kind })}\n`,
      mode: 0o600,
    },
  ];
  if (input.sessionId) files.push({ name: 'session_id', data: `${input.sessionId}\n`, mode: 0o600 });
  if (input.envStyle === 'shell') files.push({ name: 'env', data: shellEnvFile(env), mode: 0o600 });
  else files.push({ name: FILE.containerEnv, data: dockerEnvFile(env), mode: 0o600 });
  return files;
}

/**
 * A run's first attempt (a start, or a follow-up): the prompt (claude's stdin) or the shell command, and claude's
 * argv. The prompt file stays for the whole run, so a resume can still show it.
 */
export function runFiles(input: { kind: TaskKind; text: string; argv?: readonly string[] }): TaskFile[] {
  const files: TaskFile[] = [
    { name: FILE.prompt, data: input.text, mode: 0o600 },
    { name: 'attempt_mode', data: 'run\n', mode: 0o600 },
  ];
  if (input.kind === 'claude') {
    if (!input.argv) throw new Error('a claude run needs argv');
    files.push({ name: FILE.argv, data: nulSeparated(input.argv), mode: 0o600 });
  }
  return files;
}

/** Files attached to a run's prompt: in `files/` of the task directory, each 0600. */
export const ATTACHED_DIR = 'files';

/** A file that goes with a claude prompt (already downloaded and named safely by the core). */
export interface TaskAttachment {
  name: string;
  size: number;
  mimeType: string;
  data: Uint8Array;
}

/** A safe basename: no path separator, NUL or control character, no leading dot or dash. */
const SAFE_BASENAME = /^[^./\\\-\u0000-\u001f\u007f][^/\\\u0000-\u001f\u007f]*$/;

/** The attachments as task files under `files/` (mode 0600). A name that is not a safe basename is refused. */
export function attachmentFiles(files: readonly TaskAttachment[]): TaskFile[] {
  return files.map((file) => {
    if (!SAFE_BASENAME.test(file.name) || file.name.length > 255) {
      throw new SwitchboardError('file_refused', `${JSON.stringify(file.name.slice(0, 60))} is not a safe file name`);
    }
    return { name: `${ATTACHED_DIR}/${file.name}`, data: file.data, mode: 0o600 };
  });
}

/**
 * The prompt claude reads: the prompt exactly as sent, then a line naming the attached files and where they
 * are (`Attached files (in /tmp/sb.x/files): a.png (12 KB, image/png)`). Without files, the prompt alone.
 */
export function promptWithAttachments(text: string, dir: string, files: readonly TaskAttachment[]): string {
  if (files.length === 0) return text;
  const list = files.map((f) => `${f.name} (${formatSize(f.size)}, ${f.mimeType})`).join(', ');
  return `${text}\n\nAttached files (in ${dir}/${ATTACHED_DIR}): ${list}`;
}

/** Makes the directories (ours: `<task dir>/files`) that files with a `/` in their name go into. Paths as $@. */
export const MAKE_DIRS_SCRIPT = 'mkdir -p -m 700 -- "$@"';

/** The parent directories under `dir` that these files need, each once. */
export function subdirectoriesOf(dir: string, files: readonly TaskFile[]): string[] {
  return [...new Set(files.filter((f) => f.name.includes('/')).map((f) => `${dir}/${f.name.slice(0, f.name.lastIndexOf('/'))}`))];
}

/**
 * A resume after a crash or hang: `--resume` argv with a preamble before the run's prompt, and the argv to
 * start afresh (`--session-id`) that the wrapper uses when claude never saved the session.
 */
export function resumeFiles(input: { preamble: string; argv: readonly string[]; freshArgv: readonly string[] }): TaskFile[] {
  return [
    { name: 'input', data: input.preamble, mode: 0o600 },
    { name: FILE.argv, data: nulSeparated(input.argv), mode: 0o600 },
    { name: 'argv_fresh', data: nulSeparated(input.freshArgv), mode: 0o600 },
    { name: 'attempt_mode', data: 'resume\n', mode: 0o600 },
  ];
}

export interface ClaudeArgs {
  claudePath: string;
  sessionId: string;
  /** false: the first attempt (`--session-id`); true: a resume or follow-up (`--resume`). Never `-c`. */
  resume: boolean;
  model?: string | undefined;
  maxTurns?: number | undefined;
  /** The run's cost limit (its name's budget): claude stops itself there (`--max-budget-usd`, with --print). */
  maxBudgetUsd?: number | undefined;
}

/** The prompt is not here: it goes on stdin. */
export function claudeArgv(args: ClaudeArgs): string[] {
  const argv = [
    args.claudePath,
    '-p',
    ...(args.resume ? ['--resume', args.sessionId] : ['--session-id', args.sessionId]),
    '--output-format',
    'stream-json',
    '--verbose',
    '--dangerously-skip-permissions',
  ];
  if (args.model) argv.push('--model', args.model);
  if (args.maxTurns !== undefined) argv.push('--max-turns', String(args.maxTurns));
  if (args.maxBudgetUsd !== undefined) argv.push('--max-budget-usd', String(args.maxBudgetUsd));
  return argv;
}

export function shellEnvFile(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([key, value]) => `export ${key}=${shellQuote(value)}\n`)
    .join('');
}

/** docker/podman's --env-file format takes each line literally, so a newline in a value cannot be expressed. */
export function dockerEnvFile(env: Readonly<Record<string, string>>): string {
  return Object.entries(env)
    .map(([key, value]) => {
      if (/[\r\n\0]/.test(value)) {
        throw new SwitchboardError('config_invalid', `env ${key}: a container env value cannot contain a newline`);
      }
      return `${key}=${value}\n`;
    })
    .join('');
}

function nulSeparated(argv: readonly string[]): string {
  for (const word of argv) {
    if (word.includes('\0')) throw new SwitchboardError('usage', 'an argument contains a NUL byte');
  }
  return argv.map((word) => `${word}\0`).join('');
}
