import { spawn } from 'node:child_process';
import { SwitchboardError } from '../errors.js';

/** One `--info=progress2` update: totals for the whole transfer, not per file. */
export interface RsyncProgress {
  /** Bytes of file data handled so far (sent or matched). */
  bytes: number;
  /** rsync's own estimate of the whole transfer, 0–100. */
  percent: number;
  /** As rsync prints it, e.g. `12.34MB/s`. */
  rate: string;
  /** Files transferred so far (`xfr#`). */
  filesTransferred: number;
  /** Files in the list, and how many of them are still to be checked (`to-chk=left/total`). */
  filesTotal: number;
  filesLeft: number;
}

/** The `--stats` summary. */
export interface RsyncStats {
  files: number;
  created: number;
  deleted: number;
  /** Regular files whose data moved. */
  transferred: number;
  totalSize: number;
  transferredSize: number;
  bytesSent: number;
  bytesReceived: number;
  durationMs: number;
}

/** Where the transfer goes, for messages: which side is the executor, and how to name it. */
export interface RsyncSides {
  /** `ssh executor 'box' (root@10.0.0.5:22)`. */
  remote: string;
  /** push: this machine → executor; pull: executor → this machine. */
  direction: 'push' | 'pull';
  /** What is being moved, for messages (`the workspace /home/me/app`). */
  what: string;
}

export interface RunRsyncOptions {
  rsyncPath: string;
  args: readonly string[];
  /** The child's whole environment (never the bot's: PATH, HOME, LANG, SSH_AUTH_SOCK when needed). */
  env: Readonly<Record<string, string>>;
  sides: RsyncSides;
  onProgress?: (progress: RsyncProgress) => void;
  signal?: AbortSignal;
  now?: () => number;
}

const PROGRESS = /^\s*([\d,.]+)\s+(\d+)%\s+(\S+)\s+\S+(?:\s+\((?:xfr#(\d+),\s*)?(?:to|ir)-chk=(\d+)\/(\d+)\))?/;

export function parseProgressLine(line: string): RsyncProgress | null {
  const match = PROGRESS.exec(line);
  if (!match) return null;
  return {
    bytes: digits(match[1]!),
    percent: Number(match[2]),
    rate: match[3]!,
    filesTransferred: match[4] ? Number(match[4]) : 0,
    filesLeft: match[5] ? Number(match[5]) : 0,
    filesTotal: match[6] ? Number(match[6]) : 0,
  };
}

/** Reads rsync's `--stats` block (numbers may carry thousands separators). */
export function parseStats(text: string): Omit<RsyncStats, 'durationMs'> {
  const field = (label: string): number => {
    const match = new RegExp(`^${label}:\\s*([\\d,.]+)`, 'm').exec(text);
    return match ? digits(match[1]!) : 0;
  };
  return {
    files: field('Number of files'),
    created: field('Number of created files'),
    deleted: field('Number of deleted files'),
    transferred: field('Number of regular files transferred'),
    totalSize: field('Total file size'),
    transferredSize: field('Total transferred file size'),
    bytesSent: field('Total bytes sent'),
    bytesReceived: field('Total bytes received'),
  };
}

function digits(text: string): number {
  return Number(text.replace(/[^\d]/g, '')) || 0;
}

/**
 * Runs rsync without a shell (argv as given), streams its progress, and turns a failure into an error that says
 * which side and what to do. Resolves with the stats on success (exit 0, or 24: files vanished while copying,
 * which is normal for a workspace in use).
 */
export function runRsync(options: RunRsyncOptions): Promise<RsyncStats> {
  const now = options.now ?? Date.now;
  const started = now();
  return new Promise((resolve, reject) => {
    const child = spawn(options.rsyncPath, [...options.args], {
      env: { ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.signal ? { signal: options.signal } : {}),
    });
    let stdout = '';
    let partial = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      stdout = (stdout + text).slice(-64_000);
      partial += text;
      const pieces = partial.split(/[\r\n]/);
      partial = pieces.pop() ?? '';
      for (const piece of pieces) {
        const progress = parseProgressLine(piece);
        if (progress) options.onProgress?.(progress);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-16_000);
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(
          new SwitchboardError('missing_tool', `rsync not found on this machine (looked for '${options.rsyncPath}')`, {
            cause: error,
            hint: 'Install rsync on the machine Switchboard runs on (apt install rsync, brew install rsync).',
          }),
        );
      } else if (error.name === 'AbortError') {
        reject(new SwitchboardError('sync_failed', `copying ${options.sides.what} was cancelled`, { cause: error }));
      } else {
        reject(new SwitchboardError('sync_failed', `cannot run rsync on this machine: ${error.message}`, { cause: error }));
      }
    });
    child.on('close', (code, signal) => {
      if (code === 0 || code === 24) {
        resolve({ ...parseStats(stdout), durationMs: now() - started });
        return;
      }
      // Some rsync builds print the remote side's errors on stdout, among the progress lines.
      const said = stderr.trim() || stdout.split(/[\r\n]/).filter((line) => line.trim() && !parseProgressLine(line)).slice(-6).join('\n');
      reject(rsyncFailure(code, signal, said, options.sides));
    });
  });
}

/** Turns rsync's exit status and stderr into a SwitchboardError with a stable code and a next step. */
export function rsyncFailure(code: number | null, signal: NodeJS.Signals | null, stderr: string, sides: RsyncSides): SwitchboardError {
  const text = stderr.trim();
  const tail = lastLines(text, 4);
  const receiver = sides.direction === 'push' ? sides.remote : 'this machine';
  if (/No space left on device|Disk quota exceeded/i.test(text)) {
    return new SwitchboardError('disk_full', `${receiver} ran out of disk space while receiving ${sides.what}: ${tail}`, {
      hint:
        sides.direction === 'push'
          ? 'Free some space on that host, or offload to another directory (--to) or executor.'
          : 'Free some space on this machine, then run offload --back again.',
    });
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(text)) {
    return new SwitchboardError('host_key_mismatch', `${sides.remote}: ssh refused the host key while copying ${sides.what}: ${tail}`);
  }
  if (/Permission denied \((publickey|password|keyboard)/i.test(text)) {
    return new SwitchboardError('ssh_auth_failed', `${sides.remote}: ssh authentication failed while copying ${sides.what}: ${tail}`, {
      hint: 'The key in identityFile (or the agent) must be accepted by that host; check it with ssh.',
    });
  }
  if (code === 127 || /rsync: (command )?not found|remote command not found/i.test(text)) {
    return new SwitchboardError('missing_tool', `rsync not found on ${sides.remote}: ${tail}`, {
      hint: 'Install rsync on that host (apt install rsync); Switchboard needs it on both sides.',
    });
  }
  if (code === 255 || /Connection (refused|timed out|closed|reset)|Could not resolve|No route to host|connection unexpectedly closed/i.test(text)) {
    return new SwitchboardError('executor_unreachable', `${sides.remote}: the connection failed while copying ${sides.what}: ${tail || `exit ${code}`}`, {
      hint: 'Check that the host is up (executors), then run the command again: rsync continues where it stopped.',
    });
  }
  if (code === 30) {
    return new SwitchboardError('timeout', `${sides.remote}: no progress for too long while copying ${sides.what}`, {
      hint: 'The connection stalled; run the command again: rsync continues where it stopped.',
    });
  }
  const how = signal ? `killed by ${signal}` : `exit ${code}`;
  return new SwitchboardError('sync_failed', `copying ${sides.what} ${sides.direction === 'push' ? 'to' : 'from'} ${sides.remote} failed (${how}): ${tail || 'no message'}`, {
    hint: 'Fix what rsync reports, then run the command again: what was copied is kept.',
  });
}

function lastLines(text: string, n: number): string {
  return text.split('\n').map((line) => line.trim()).filter(Boolean).slice(-n).join(' / ').slice(0, 600);
}
