import { resolve } from 'node:path';
import { promptEcho } from '../../core/echo.js';
import { reply, text, type Reply } from '../../core/reply.js';
import { channelOf } from '../../core/origin.js';
import { SwitchboardError } from '../../errors.js';
import { formatDuration } from '../../core/format.js';
import { CONTINUE_PROMPT, type OffloadProgress } from '../../offload/index.js';
import type { CommandContext, CommandDefinition } from '../context.js';
import { requireName } from '../targets.js';
import { newTaskName, registerTask } from '../task-names.js';
import { checkPrompt } from './send.js';
import { WORKTREE_DETAILS, WORKTREE_OPTION } from './start.js';
import { checkBranch, type WorktreeRow } from '../../worktrees/index.js';

/** Progress goes to the channel at most this often (the first and the end always). */
const PROGRESS_EVERY_MS = 15_000;

export const offload: CommandDefinition = {
  verb: 'offload',
  summary: 'move local work (the workspace and its Claude session) to an executor, or bring it back',
  positionals: [{ name: 'executor', skipWhen: 'back' }],
  options: [
    { name: 'name', value: 'string', placeholder: 'N', description: 'the task’s name (default: a free four-letter one)' },
    { name: 'workspace', value: 'string', placeholder: 'P', description: 'the local directory to move (default: Switchboard’s own working directory; a relative path is under its user’s home)' },
    { name: 'to', value: 'string', placeholder: 'R', description: 'where it goes on the executor (default: the folder’s name; a relative path is under the executor’s workspace:, else the home directory there)' },
    { name: 'env', value: 'string', placeholder: 'NAMES', description: 'variables of Switchboard’s environment to pass to the task, comma-separated' },
    { name: 'include-env', value: 'flag', description: 'copy .env* files too (by default they stay here)' },
    { name: 'exclude', value: 'string', placeholder: 'PATTERNS', description: 'more rsync excludes, comma-separated (a leading / anchors at the workspace root)' },
    { name: 'session', value: 'string', placeholder: 'ID', description: 'the Claude session to continue (default: the workspace’s newest)' },
    { name: 'model', value: 'string', placeholder: 'M', description: 'opus, sonnet, haiku (aliases from `models:`) or a full model name' },
    { name: 'max-turns', value: 'int', placeholder: 'N', description: 'stop after this many agent turns' },
    { name: 'back', value: 'string', placeholder: 'NAME', description: 'bring the workspace (and session) of this offloaded task home' },
    { name: 'force', value: 'flag', description: 'with --back: copy even while the task still runs' },
    { ...WORKTREE_OPTION, description: `${WORKTREE_OPTION.description}. The worktree is made in the copy on the executor, from its HEAD: uncommitted changes stay in the copy` },
  ],
  text: { name: 'prompt', required: false },
  // Offload moves files (and chosen variables) of the machine Switchboard runs on: an admin's call.
  level: 'admin',
  examples: [
    'offload crib --name auth --workspace ~/app',
    'offload crib --name auth --workspace ~/app finish the refactor, then run the tests',
    'offload --back auth',
  ],
  details:
    'The workspace goes by rsync over the executor’s SSH settings (node_modules/, dist/, .venv/… at its root and .env* files stay here; .git goes whole), ' +
    'its Claude session file goes into the executor’s Claude projects folder, and a task resumes that conversation there (with the prompt, if given). ' +
    'Without a session, a prompt starts a fresh one. `offload --back <name>` brings the changes home; every local file it replaces or deletes is kept in data/offload-backups/. ' +
    'Offload is for admins: it moves files and chosen variables of the machine Switchboard runs on. ' +
    `With --worktree the task works in a new git worktree of the copy (its uncommitted changes are not in it). ${WORKTREE_DETAILS}`,
  async handle(ctx) {
    if (ctx.options.back !== undefined) return back(ctx);
    return forth(ctx);
  },
};

function list(value: unknown): string[] {
  return value === undefined ? [] : String(value).split(',').map((s) => s.trim()).filter(Boolean);
}

function sizeOf(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Posts sync progress to the channel now and then: files and bytes. */
function progressPoster(ctx: CommandContext, title: string): (p: OffloadProgress) => void {
  let last = -Infinity;
  return (p) => {
    const now = ctx.services.clock.now();
    if (now - last < PROGRESS_EVERY_MS) return;
    last = now;
    const files = p.filesTotal ? `${p.filesTotal - p.filesLeft}/${p.filesTotal} files checked, ${p.filesTransferred} sent` : `${p.filesTransferred} files sent`;
    ctx.services.notify(ctx.origin, reply(`📦 ${title}: ${p.phase === 'session' ? 'Claude session' : 'workspace'} ${p.percent}% · ${files} · ${sizeOf(p.bytes)} (${p.rate})`));
  };
}

async function forth(ctx: CommandContext): Promise<Reply> {
  const { offloader, access, config } = ctx.services;
  const executor = ctx.args.executor;
  if (executor === undefined) throw new SwitchboardError('usage', '`offload` needs <executor> (or --back NAME)');
  access.require(ctx.actor, 'work', `offload work to ${executor}`, { executor });
  const workspace = ctx.options.workspace as string | undefined;
  const env = list(ctx.options.env);
  const prompt = ctx.text !== undefined && ctx.text.trim() !== '' ? checkPrompt(ctx.text, config.limits.promptMaxChars) : undefined;
  if (ctx.options.force) throw new SwitchboardError('usage', '--force goes with --back');
  const wantsWorktree = ctx.options.worktree;
  if (typeof wantsWorktree === 'string') checkBranch(wantsWorktree);
  const name = newTaskName(ctx);
  ctx.audit.target = name;
  const origin = channelOf(ctx.origin);
  ctx.services.notify(ctx.origin, reply(`📦 offloading${workspace ? ` ${workspace}` : ''} to ${executor} as **${name}**…`));

  let worktree: WorktreeRow | undefined;
  const workIn = async (remotePath: string) => {
    worktree = await ctx.services.worktrees.create({ name, executor, kind: 'task', workspace: remotePath, ...(typeof wantsWorktree === 'string' ? { branch: wantsWorktree } : {}) });
    return worktree.workdir;
  };
  const result = await offloader.offload({
    ...(wantsWorktree !== undefined ? { workIn } : {}),
    executor,
    name,
    ...(workspace !== undefined ? { workspace } : {}),
    ...(ctx.options.to !== undefined ? { to: String(ctx.options.to) } : {}),
    ...(prompt !== undefined ? { prompt } : {}),
    ...(ctx.options.session !== undefined ? { sessionId: String(ctx.options.session) } : {}),
    ...(ctx.options['include-env'] ? { includeEnv: true } : {}),
    ...(env.length ? { env } : {}),
    ...(ctx.options.exclude !== undefined ? { excludes: list(ctx.options.exclude) } : {}),
    ...(ctx.options.model !== undefined ? { model: String(ctx.options.model) } : {}),
    ...(ctx.options['max-turns'] !== undefined ? { maxTurns: Number(ctx.options['max-turns']) } : {}),
    actor: ctx.actor.id,
    channel: JSON.stringify(origin),
    onProgress: progressPoster(ctx, name),
  }).catch(async (error: unknown) => {
    // The task did not start: the worktree goes again (the copy stays, as offload leaves it).
    if (worktree) await ctx.services.worktrees.discard(name).catch(() => undefined);
    throw error;
  });
  const { task } = result;
  const body = prompt ?? CONTINUE_PROMPT;
  const promptId = registerTask(ctx, { name, task, directory: result.remotePath, body, origin });
  ctx.audit.detail = `${result.localPath} → ${result.where}:${result.remotePath}`;

  const sync = result.workspace;
  const lines = [
    `📦 **${name}** offloaded to ${result.executor}: ${result.localPath} → ${result.remotePath} ← ${ctx.actor.name ?? ctx.actor.id}`,
    `${sync.files} files (${sizeOf(sync.totalSize)}); ${sync.transferred} sent, ${sizeOf(sync.transferredSize)}${sync.deleted ? `, ${sync.deleted} removed there` : ''} in ${formatDuration(sync.durationMs)}` +
      (result.envSent.length ? ` · env: ${result.envSent.join(', ')}` : ''),
    result.session
      ? `🤖 continuing Claude session \`${result.session.id}\`${task.status === 'queued' ? ` (queued, position ${task.queuePosition ?? '?'})` : ''}`
      : `🤖 no Claude session for that workspace here: a fresh conversation started${task.status === 'queued' ? ' (queued)' : ''}`,
    ...(worktree ? [`🌿 working in ${worktree.workdir} on branch \`${worktree.branch}\`${worktree.createdBranch ? ' (new)' : ''}`] : []),
    `\`offload --back ${name}\` brings the changes home.`,
  ];
  return reply([text(lines.join('\n')), ...(prompt !== undefined ? promptEcho(prompt) : [])], {
    data: { name, taskId: task.id, executor: task.executor, status: task.status, remotePath: result.remotePath, sessionId: result.session?.id ?? null, sync, promptId },
  });
}

async function back(ctx: CommandContext): Promise<Reply> {
  const { offloader, access } = ctx.services;
  if (ctx.text !== undefined && ctx.text.trim() !== '') throw new SwitchboardError('usage', '`offload --back NAME` takes no prompt');
  ctx.args.name = String(ctx.options.back);
  const record = requireName(ctx);
  const offloaded = offloader.get(record.name);
  if (!offloaded) throw new SwitchboardError('usage', `${record.name} was not offloaded from here, so there is nothing to bring back`);
  const scope = { name: record.name, executor: offloaded.executor };
  access.require(ctx.actor, 'work', `bring ${record.name} back`, scope);
  access.requireOwnerOrAdmin(ctx.actor, record.owner, `bring ${record.name} back`, scope);
  ctx.services.notify(ctx.origin, reply(`🏠 bringing **${record.name}** back from ${offloaded.executor}…`));
  const result = await offloader.back(record.name, { ...(ctx.options.force ? { force: true } : {}), onProgress: progressPoster(ctx, record.name) });
  const sync = result.workspace;
  const lines = [
    `🏠 **${record.name}** is back: ${result.remotePath} on ${result.executor} → ${resolve(result.localPath)}`,
    `${sync.transferred} files updated (${sizeOf(sync.transferredSize)})${sync.deleted ? `, ${sync.deleted} deleted` : ''} in ${formatDuration(sync.durationMs)}` +
      (result.sessionCopied ? ' · Claude session copied back' : ''),
    result.backupDir ? `Local files it replaced or deleted are kept in ${result.backupDir}` : 'No local file was replaced.',
  ];
  return reply(lines.join('\n'), { tone: 'success', data: result });
}
