import { SwitchboardError } from '../../errors.js';
import { promptEcho } from '../../core/echo.js';
import { reply, text } from '../../core/reply.js';
import { channelOf } from '../../core/origin.js';
import type { CommandContext, CommandDefinition } from '../context.js';
import { postPrompt, recordPrompt, startRun, type OutgoingPrompt } from '../deliver.js';
import type { NameRecord } from '../../sessions/registry.js';
import { onSession, opencodeName, requireName, scopeOf } from '../targets.js';
import { requireAgent } from '../servers.js';
import { checkFiles, downloadFiles, type AttachedFile } from '../../files/index.js';

/** The files that went, for the reply's data (tests, the CLI): names, sizes and types, no bytes. */
export function filesData(files: readonly AttachedFile[]): { files?: { name: string; size: number; mimeType: string }[] } {
  return files.length ? { files: files.map(({ name, size, mimeType }) => ({ name, size, mimeType })) } : {};
}

/** Checks a prompt before anything is sent: not empty, not over the configured length. */
export function checkPrompt(prompt: string | undefined, maxChars: number): string {
  if (prompt === undefined || prompt.trim() === '') {
    throw new SwitchboardError('empty_prompt', 'the prompt is empty', { hint: 'usage: send <name> <prompt…>' });
  }
  if (prompt.length > maxChars) {
    throw new SwitchboardError(
      'prompt_too_long',
      `the prompt is ${prompt.length.toLocaleString('en-US')} characters; the limit is ${maxChars.toLocaleString('en-US')}`,
      { hint: 'shorten it, or put the details in a file in the project and point the agent at it' },
    );
  }
  return prompt;
}

export const send: CommandDefinition = {
  verb: 'send',
  summary: 'relay a prompt to a name, echo it verbatim, and watch it; queued while the name is busy',
  positionals: [{ name: 'name' }],
  options: [
    { name: 'agent', value: 'string', placeholder: 'A', description: 'use this agent from now on for this name' },
    { name: 'now', value: 'flag', description: 'interrupt the current run and send this prompt at once, instead of queueing it' },
  ],
  text: { name: 'prompt', required: false },
  files: true,
  level: 'work',
  examples: ['send kumo fix the flaky auth test', 'send kumo --agent plan -- --verbose is broken, plan a fix', 'send --now kumo stop, the tests are in test/unit'],
  details:
    'Everything after the name (or after `--`) is sent byte for byte. The prompt is echoed back exactly. ' +
    'While the name is busy the prompt is queued and runs after the current run, each with its own final output; ' +
    '`--now` stops the current run first (a Claude task resumes its conversation with the new prompt). ' +
    'Files attached to the command (Slack: on the @-mention; Discord: on the `!sb` message or the `file` option) go with the prompt: ' +
    'to an OpenCode session as file parts, to a Claude task into its task directory, named in the prompt. ' +
    'Files cannot wait in the queue: while the name is busy a send with files is refused; send it again once the run has ended.',
  async handle(ctx) {
    const record = requireName(ctx);
    const prompt = checkPrompt(ctx.text, ctx.services.config.limits.promptMaxChars);
    ctx.services.access.require(ctx.actor, 'work', `send prompts to ${record.name}`, scopeOf(record));
    const agentOption = ctx.options.agent as string | undefined;
    const files = ctx.files ?? [];
    // Declared sizes and types are checked before anything else happens; the bytes are fetched just before sending.
    if (files.length) checkFiles(files, ctx.services.config.files);
    if (record.target.kind === 'task') checkTaskFollowUp(ctx, record);
    else if (agentOption !== undefined) {
      const target = opencodeName(ctx, record, 'send');
      requireAgent(await target.client.agents(), agentOption, target.server.label);
    }
    const { followUps } = ctx.services;
    const outgoing = { actor: ctx.actor.id, text: prompt, ...(agentOption ? { agent: agentOption } : {}), origin: channelOf(ctx.origin) };
    // The actor's right to send was checked just now, when the prompt was queued; the queue sends it later on
    // that check (like a prompt typed a moment earlier), without asking again.
    // A turn we did not start (the OpenCode TUI, another tool) would swallow this prompt just the same.
    const foreign = !followUps.mustWait(record) && (await followUps.foreignRun(record));
    // Asked again after that await: a send that started meanwhile makes this one wait.
    const queueing = foreign || followUps.mustWait(record);
    if (queueing && files.length) throw filesCannotQueue(record.name);
    const echo = queueing
      ? await queueFollowUp(ctx, record, outgoing, prompt, foreign)
      : await followUps.exclusive(record.name, async () => {
          const attached = files.length ? await downloadFiles(files, ctx.services.config.files, ctx.services.fetchFile) : [];
          return record.target.kind === 'task' ? sendToTask(ctx, record, prompt, attached) : sendToSession(ctx, record, outgoing, prompt, attached);
        });
    // Only an accepted prompt opens the name's thread; a refusal stays where it was typed.
    ctx.route = { threadKey: record.name, opensThread: true };
    return echo;
  },
};

/**
 * A queued prompt is stored in SQLite to survive restarts; files (up to maxFiles × maxBytes) are not kept
 * there, so a send with files goes at once or not at all.
 */
function filesCannotQueue(name: string): SwitchboardError {
  return new SwitchboardError('file_refused', `${name} is busy and files cannot wait in the queue; nothing was sent`, {
    hint: `send it again with the files once ${name} has finished (status ${name}), or without them to queue it`,
  });
}

/** A follow-up for a busy name waits its turn; with `--now` it goes first and the current run is stopped. */
async function queueFollowUp(ctx: CommandContext, record: NameRecord, outgoing: OutgoingPrompt, prompt: string, foreign = false) {
  const { followUps } = ctx.services;
  const now = ctx.options.now === true;
  const interrupting = now && (foreign || followUps.runInProgress(record));
  const who = ctx.actor.name ?? ctx.actor.id;
  // Recorded before the run is stopped: a task's final output is posted while it is being killed.
  const current = interrupting && !foreign ? (ctx.services.monitor.watching(record.name)?.promptId ?? record.lastPromptId) : undefined;
  if (interrupting) {
    // Interrupting stops someone's run, as `abort` does: the same check (their own run, or an admin).
    const runBy = current !== undefined ? ctx.services.registry.prompt(current)?.actor : undefined;
    if (runBy !== ctx.actor.id) ctx.services.access.requireOwnerOrAdmin(ctx.actor, runBy ?? record.owner, `interrupt ${record.name}`, scopeOf(record));
  }
  if (current !== undefined) followUps.recordInterrupt(current, ctx.actor.id, ctx.actor.name);
  // Watched before the echo is answered: that turn may end any moment, and its end is what sends this prompt.
  if (foreign) followUps.waitForForeign(record.name);
  const { entry, position } = followUps.enqueue({ name: record.name, ...outgoing, ...(ctx.actor.name ? { actorName: ctx.actor.name } : {}), interrupt: now });
  // The run goes on when it cannot be stopped, so the prompt would not run "now": take it back.
  const takeBack = () => {
    followUps.cancel(entry.id);
    if (current !== undefined) followUps.clearInterrupt(current);
  };
  if (interrupting && record.target.kind === 'task') {
    // A kill waits out a grace period and posts the run's final output itself: it runs after this echo is
    // answered, so the channel reads echo, the stopped run's final, then the new run.
    void stopRun(ctx, record).catch((error: unknown) => {
      if (!followUps.runInProgress(record)) return;
      takeBack();
      const message = error instanceof Error ? error.message : String(error);
      ctx.services.notify(channelOf(ctx.origin), reply(`❌ could not interrupt **${record.name}** (${message}); the prompt was not sent`, { tone: 'error' }), record.name);
    });
  } else if (interrupting) {
    try {
      await stopRun(ctx, record);
    } catch (error) {
      takeBack();
      throw error;
    }
  }
  const note = interrupting ? 'interrupting the current run; runs as soon as it has stopped' : `queued, runs after the current run (position ${position})`;
  return reply([text(`📨 **${record.name}** ← ${who} · ${note}`), ...promptEcho(prompt)], {
    data: { name: record.name, queued: true, queueId: entry.id, position, interrupting },
  });
}

/** Stops the current run for `send --now`: an OpenCode abort, or a task kill (the queue then resumes it). */
async function stopRun(ctx: CommandContext, record: NameRecord): Promise<void> {
  if (record.target.kind === 'task') {
    await ctx.services.fleet.kill(record.name);
    return;
  }
  const target = opencodeName(ctx, record, 'send');
  await onSession(target, () => target.client.abort(target.target.sessionId));
}

async function sendToSession(ctx: CommandContext, record: NameRecord, outgoing: OutgoingPrompt, prompt: string, files: readonly AttachedFile[]) {
  const sentAt = ctx.services.clock.now();
  await postPrompt(ctx.services, record, outgoing, files);
  const promptId = recordPrompt(ctx.services, record, outgoing);
  startRun(ctx.services, record, outgoing, promptId, sentAt);
  ctx.audit.promptId = promptId;
  const agent = outgoing.agent ?? record.agent;
  const sessionId = record.target.kind === 'opencode' ? record.target.sessionId : undefined;
  return reply(
    [text(`📨 **${record.name}** ← ${ctx.actor.name ?? ctx.actor.id}${agent ? ` (agent ${agent})` : ''}`), ...promptEcho(prompt, files)],
    { data: { name: record.name, promptId, sessionId, agent, ...filesData(files) } },
  );
}

/** What `send` cannot do to a task, refused before anything is queued or sent. */
function checkTaskFollowUp(ctx: CommandContext, record: NameRecord): void {
  if (ctx.options.agent !== undefined) throw new SwitchboardError('usage', '--agent is for OpenCode sessions; a task keeps its model');
  const task = ctx.services.fleet.get(record.name);
  if (task?.kind === 'shell') throw new SwitchboardError('usage', `${record.name} is a shell task; send works on claude tasks`, { hint: 'run a new command instead.' });
}

/** A follow-up to a Claude Code task: a new run that resumes the same conversation. */
async function sendToTask(ctx: CommandContext, record: NameRecord, prompt: string, files: readonly AttachedFile[]) {
  const task = await ctx.services.fleet.send(record.name, prompt, files);
  const outgoing = { actor: ctx.actor.id, text: prompt, origin: ctx.origin };
  const promptId = recordPrompt(ctx.services, record, outgoing);
  startRun(ctx.services, record, outgoing, promptId, ctx.services.clock.now());
  ctx.audit.promptId = promptId;
  return reply([text(`📨 **${record.name}** ← ${ctx.actor.name ?? ctx.actor.id} (resuming the conversation on ${task.executor})`), ...promptEcho(prompt, files)], {
    data: { name: record.name, promptId, taskId: task.id, status: task.status, ...filesData(files) },
  });
}
