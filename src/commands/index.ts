import type { CommandDefinition } from './context.js';
import { abort } from './verbs/abort.js';
import { answer } from './verbs/answer.js';
import { approve } from './verbs/approve.js';
import { deny } from './verbs/deny.js';
import { unwatch, watch } from './verbs/watch.js';
import { executors } from './verbs/executors.js';
import { kill } from './verbs/kill.js';
import { logs } from './verbs/logs.js';
import { run, start } from './verbs/start.js';
import { tasks } from './verbs/tasks.js';
import { offload } from './verbs/offload.js';
import { servers } from './verbs/servers.js';
import { agents } from './verbs/agents.js';
import { attach } from './verbs/attach.js';
import { audit } from './verbs/audit.js';
import { forget } from './verbs/forget.js';
import { help } from './verbs/help.js';
import { last } from './verbs/last.js';
import { newSession } from './verbs/new.js';
import { send } from './verbs/send.js';
import { sessions } from './verbs/sessions.js';
import { status } from './verbs/status.js';
import { todo } from './verbs/todo.js';
import { dashboard } from './verbs/dashboard.js';
import { schedule, schedules, unschedule } from './verbs/schedule.js';
import { budget } from './verbs/budget.js';

/** Builds the verb table; a verb defined twice is a programming error caught at start-up. */
export function commandTable(definitions: readonly CommandDefinition[]): Map<string, CommandDefinition> {
  const table = new Map<string, CommandDefinition>();
  for (const definition of definitions) {
    if (table.has(definition.verb)) throw new Error(`command ${definition.verb} is defined twice`);
    table.set(definition.verb, definition);
  }
  return table;
}

/** Every verb, in the order `help` lists them. */
export const allCommands: readonly CommandDefinition[] = [
  help,
  sessions,
  newSession,
  attach,
  send,
  status,
  todo,
  last,
  watch,
  unwatch,
  abort,
  approve,
  deny,
  answer,
  agents,
  servers,
  forget,
  executors,
  start,
  run,
  tasks,
  logs,
  kill,
  offload,
  dashboard,
  schedule,
  schedules,
  unschedule,
  budget,
  audit,
];
