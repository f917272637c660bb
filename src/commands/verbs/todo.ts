import { reply } from '../../core/reply.js';
import { formatTodoList, todoFraction } from '../../opencode/turns.js';
import type { CommandDefinition } from '../context.js';
import { onSession, opencodeName, requireName, scopeOf } from '../targets.js';
import { taskOf } from '../task-names.js';

export const todo: CommandDefinition<'access' | 'fleet' | 'registry' | 'servers' | 'tasks'> = {
  verb: 'todo',
  summary: 'the full todo list of a name',
  positionals: [{ name: 'name' }],
  options: [],
  level: 'read',
  examples: ['todo kumo'],
  async handle(ctx) {
    const record = requireName(ctx);
    ctx.services.access.require(ctx.actor, 'read', `read ${record.name}`, scopeOf(record));
    let todos;
    if (record.target.kind === 'task') {
      taskOf(ctx, record, 'todo');
      todos = ctx.services.tasks.view(record.name)?.todos ?? [];
    } else {
      const target = opencodeName(ctx, record, 'todo');
      todos = await onSession(target, () => target.client.todo(target.target.sessionId));
    }
    if (todos.length === 0) return reply(`**${record.name}** has no todo list yet.`, { data: { name: record.name, todos } });
    return reply(`**${record.name}** todo ${todoFraction(todos)}\n${formatTodoList(todos)}`, { data: { name: record.name, todos } });
  },
};
