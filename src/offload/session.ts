import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SwitchboardError } from '../errors.js';
import { encodeProjectPath } from './paths.js';

/** A Claude Code conversation of one workspace, on this machine. */
export interface LocalSession {
  id: string;
  /** `<config>/projects/<key>/<id>.jsonl` */
  file: string;
  /** `<config>/projects/<key>/<id>/` (subagent transcripts, tool results), when the CLI made one. */
  dir: string | null;
  /** The projects folder it was found in. */
  projectDir: string;
  modifiedAt: number;
  size: number;
}

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Where Claude Code keeps its state on this machine: CLAUDE_CONFIG_DIR, else ~/.claude. */
export function claudeConfigDirOf(env: Readonly<Record<string, string | undefined>>, homeDir: string): string {
  return env['CLAUDE_CONFIG_DIR'] || join(homeDir, '.claude');
}

/** The keys a workspace may be stored under: its path as given, and its physical path (the CLI's cwd). */
export function projectKeys(workspace: string): string[] {
  const keys = [encodeProjectPath(workspace)];
  try {
    const physical = realpathSync(workspace);
    if (physical !== workspace) keys.push(encodeProjectPath(physical));
  } catch {
    // missing: the caller reports it
  }
  return keys;
}

/**
 * The workspace's session: the one named, or else the most recently written one. Null when the workspace has none.
 */
export function findLocalSession(configDir: string, workspace: string, sessionId?: string): LocalSession | null {
  if (sessionId !== undefined && !SESSION_ID.test(sessionId)) {
    throw new SwitchboardError('usage', `'${sessionId.slice(0, 60)}' is not a Claude session id (a UUID)`);
  }
  let best: LocalSession | null = null;
  for (const key of projectKeys(workspace)) {
    const projectDir = join(configDir, 'projects', key);
    let names: string[];
    try {
      names = readdirSync(projectDir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith('.jsonl')) continue;
      const id = name.slice(0, -'.jsonl'.length);
      if (!SESSION_ID.test(id)) continue;
      if (sessionId !== undefined && id.toLowerCase() !== sessionId.toLowerCase()) continue;
      const file = join(projectDir, name);
      let stats;
      try {
        stats = statSync(file);
      } catch {
        continue;
      }
      if (!stats.isFile() || stats.size === 0) continue;
      if (best && best.modifiedAt >= stats.mtimeMs) continue;
      let dir: string | null = join(projectDir, id);
      try {
        if (!statSync(dir).isDirectory()) dir = null;
      } catch {
        dir = null;
      }
      best = { id, file, dir, projectDir, modifiedAt: stats.mtimeMs, size: stats.size };
    }
  }
  return best;
}
