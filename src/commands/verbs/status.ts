import { reply } from '../../core/reply.js';
import { readSnapshot } from '../../opencode/snapshot.js';
import { activeTodo, latestAssistantText, summarize, todoFraction } from '../../opencode/turns.js';
import type { CommandDefinition, ContextWith } from '../context.js';
import type { NameRecord } from '../../sessions/registry.js';
import { describeTaskState, taskOf, taskStateIcon } from '../task-names.js';
import { onSession, opencodeName, requireName, scopeOf } from '../targets.js';

export const status: CommandDefinition<'access' | 'clock' | 'fleet' | 'followUps' | 'monitor' | 'registry' | 'servers' | 'tasks'> = {
  verb: 'status',
  summary: 'busy or idle, todo progress, the active item and a summary of the latest message',
  positionals: [{ name: 'name' }],
  options: [],
  level: 'read',
  examples: ['status kumo'],
  async handle(ctx) {
    const record = requireName(ctx);
    ctx.services.access.require(ctx.actor, 'read', `read ${record.name}`, scopeOf(record));
    if (record.target.kind === 'task') return taskStatus(ctx, record);
    const target = opencodeName(ctx, record, 'status');
    const snapshot = await onSession(target, () => readSnapshot(target.client, target.target.sessionId, target.target.directory));
    const active = activeTodo(snapshot.todos);
    const latest = latestAssistantText(snapshot.messages);
    const state =
      snapshot.state === 'retry'
        ? `retrying${snapshot.retry?.attempt ? ` (attempt ${snapshot.retry.attempt})` : ''}${snapshot.retry?.message ? `: ${snapshot.retry.message}` : ''}`
        : snapshot.state;
    const lines = [
      `**${record.name}** · OpenCode on ${target.server.label} · ${snapshot.state === 'idle' ? '💤' : '⚙️'} ${state}` +
        (ctx.services.monitor.watching(record.name) ? ' · 👀 watched' : ''),
    ];
    if (snapshot.todos.length) lines.push(`todo ${todoFraction(snapshot.todos)}${active ? ` · 🔄 ${active.content}` : ''}`);
    if (record.currentTask) lines.push(`task: ${record.currentTask}`);
    for (const permission of snapshot.permissions) {
      lines.push(`⏸ waiting for permission: ${permission.permission} ${permission.patterns.join(' ')} (\`approve ${record.name}\` / \`deny ${record.name}\`)`);
    }
    for (const question of snapshot.questions) {
      lines.push(`❓ waiting for an answer: ${question.questions.map((q) => q.question).join(' / ')}`);
    }
    if (latest) lines.push(`latest: ${summarize(latest)}`);
    const queued = ctx.services.followUps.queuedNote(record.name);
    if (queued) lines.push(queued);
    return reply(lines.join('\n'), {
      data: {
        name: record.name,
        state: snapshot.state,
        todo: { done: snapshot.todos.filter((t) => t.status === 'completed').length, total: snapshot.todos.length },
        active: active?.content,
        task: record.currentTask,
        latest: latest ? summarize(latest) : undefined,
        permissions: snapshot.permissions.map((p) => p.id),
      },
    });
  },
};

function taskStatus(ctx: ContextWith<'access' | 'clock' | 'fleet' | 'followUps' | 'monitor' | 'registry' | 'servers' | 'tasks'>, record: NameRecord) {
  const task = taskOf(ctx, record, 'status');
  const view = ctx.services.tasks.view(record.name);
  const todos = view?.todos ?? [];
  const active = activeTodo(todos);
  const lines = [`**${record.name}** · ${task.kind} task on ${task.executor} · ${taskStateIcon(task.status)} ${describeTaskState(task, ctx.services.clock.now())}`];
  if (todos.length) lines.push(`todo ${todoFraction(todos)}${active ? ` · 🔄 ${active.content}` : ''}`);
  if (record.currentTask) lines.push(`task: ${record.currentTask}`);
  if (task.reason && task.status !== 'succeeded') lines.push(`note: ${task.reason}`);
  const latest = task.result ?? view?.lastText ?? undefined;
  if (latest) lines.push(`latest: ${summarize(latest)}`);
  if (task.totalCostUsd) lines.push(`cost so far: $${task.totalCostUsd.toFixed(4)}`);
  const queued = ctx.services.followUps.queuedNote(record.name);
  if (queued) lines.push(queued);
  return reply(lines.join('\n'), { data: { name: record.name, task, todos } });
}
