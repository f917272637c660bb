import { firstLine, formatDuration } from '../../core/format.js';
import { channelOf } from '../../core/origin.js';
import { reply, text, verbatim } from '../../core/reply.js';
import { SwitchboardError, toSwitchboardError } from '../../errors.js';
import { executorNamed } from '../../executors/index.js';
import { parseDuration } from '../../monitor/interval.js';
import type { Scope } from '../../sessions/access.js';
import { checkZone, describeWhen, formatFire, localZone, nextFire, parseWhen, requireMinimum, type Schedule } from '../../schedules/index.js';
import type { CommandDefinition, ContextWith } from '../context.js';
import { parseCommandLine } from '../grammar.js';
import type { ParsedCommand } from '../spec.js';
import { scopeOfArgs } from '../targets.js';

/** Verbs that manage schedules are not themselves scheduled: a schedule that makes schedules has no end. */
const NOT_SCHEDULABLE = new Set(['schedule', 'schedules', 'unschedule', 'dashboard']);
/** Verbs whose name argument makes a new name rather than naming an existing one. */
const MAKES_NAMES = new Set(['new', 'attach', 'start', 'run', 'offload']);

type ScheduleServices = 'access' | 'clock' | 'config' | 'grammar' | 'registry' | 'schedules';

/** The name a line is about: `send kumo …`, or a task's `--name`. */
function nameOf(parsed: ParsedCommand): string | undefined {
  return parsed.args.name ?? (typeof parsed.options.name === 'string' ? parsed.options.name : undefined);
}

function scopeOfLine(ctx: ContextWith<'grammar' | 'registry'>, line: string): { parsed?: ParsedCommand; scope: Scope } {
  try {
    const parsed = parseCommandLine(line, ctx.services.grammar);
    return { parsed, scope: scopeOfArgs(parsed.args, ctx.services.registry) };
  } catch {
    return { scope: {} };
  }
}

/**
 * The line a schedule will run, checked now rather than at 3 a.m.: it parses, its verb may be scheduled, the
 * names and executors it refers to exist, and the person making it has the role the command itself needs.
 */
function checkLine(ctx: ContextWith<ScheduleServices>, line: string): ParsedCommand {
  let parsed: ParsedCommand;
  try {
    parsed = parseCommandLine(line, ctx.services.grammar);
  } catch (caught) {
    const error = toSwitchboardError(caught);
    throw new SwitchboardError(error.code, `the command to schedule is not valid: ${error.message}`, { cause: error, ...(error.hint ? { hint: error.hint } : {}) });
  }
  if (NOT_SCHEDULABLE.has(parsed.verb)) throw new SwitchboardError('usage', `\`${parsed.verb}\` cannot be scheduled`, { hint: 'schedule a command that does work, such as `send`, `start` or `run`' });
  const definition = ctx.services.grammar.find((spec) => spec.verb === parsed.verb)!;
  const scope = scopeOfArgs(parsed.args, ctx.services.registry);
  ctx.services.access.require(ctx.actor, definition.level, `schedule \`${parsed.verb}\``, scope);
  if (parsed.args.name !== undefined && !MAKES_NAMES.has(parsed.verb)) ctx.services.registry.require(parsed.args.name);
  if (parsed.args.executor !== undefined) executorNamed(ctx.services.config.executors, parsed.args.executor);
  return parsed;
}

function summaryOf(schedule: Schedule, now: number): string {
  const when = describeWhen(parseWhen(schedule.whenText), schedule.zone);
  const next = schedule.paused ? `⏸ paused (${schedule.pausedNote ?? schedule.paused})` : `next ${formatFire(schedule.nextAt, schedule.zone)}, in ${formatDuration(Math.max(0, schedule.nextAt - now))}`;
  const last = schedule.lastResult ? `last: ${schedule.lastResult}` : 'not run yet';
  return `**#${schedule.id}** · ${when} · ${next} · \`${firstLine(schedule.line, 80)}\` · ${schedule.owner.name ?? schedule.owner.id} · ${last}`;
}

export const schedule: CommandDefinition<ScheduleServices> = {
  verb: 'schedule',
  summary: 'run a command line on a schedule, as you, in this channel',
  positionals: [{ name: 'when' }],
  options: [
    { name: 'tz', value: 'string', placeholder: 'ZONE', description: 'the IANA time zone a cron expression is read in (default: the bot’s)' },
    { name: 'queue', value: 'flag', description: 'when the previous run of the name is still busy, queue this one instead of skipping it' },
    { name: 'catch-up', value: 'string', placeholder: 'once|none', description: 'fires missed while Switchboard was down: one catch-up run at start (once, the default) or none' },
  ],
  text: { name: 'command', required: true },
  level: 'read',
  examples: ['schedule "0 9 * * 1-5" send kumo triage the new issues', 'schedule 6h run crib --name nightly --workspace ~/app -- make audit', 'schedule --tz Europe/Paris "30 7 * * *" start crib --name morning summarise yesterday’s commits'],
  details:
    '<when> is an interval (30s, 10m, 2h, 1d) or a cron expression in quotes (5 fields, or 6 with seconds). ' +
    'Each fire runs the command exactly as if you typed it here: the same checks (your role is checked again at every fire; ' +
    'if you lose it the schedule pauses and says so), the same card and final output. A fire while the previous run of the ' +
    'same name is busy is skipped (or queued with --queue). `schedules` lists them, `unschedule <id>` removes one.',
  async handle(ctx) {
    const { clock, config, schedules } = ctx.services;
    const when = parseWhen(ctx.args.when ?? '');
    const zone = ctx.options.tz !== undefined ? checkZone(String(ctx.options.tz)) : localZone();
    const catchUp = ctx.options['catch-up'] ?? 'once';
    if (catchUp !== 'once' && catchUp !== 'none') throw new SwitchboardError('usage', `\`--catch-up ${String(catchUp).slice(0, 20)}\` must be once or none`);
    const minimum = config.schedules.minInterval;
    requireMinimum(when, zone, parseDuration(minimum), minimum);
    const line = ctx.text ?? '';
    const parsed = checkLine(ctx, line);
    const name = nameOf(parsed);
    if (name !== undefined) ctx.audit.target = name;
    const now = clock.now();
    const made = schedules.add({
      whenText: when.text,
      zone,
      line,
      verb: parsed.verb,
      ...(name !== undefined ? { name } : {}),
      owner: ctx.actor,
      origin: channelOf(ctx.origin),
      queue: ctx.options.queue === true,
      catchUp,
      nextAt: nextFire(when, zone, now, now),
    });
    ctx.audit.detail = `schedule #${made.id}`;
    const overlap = made.queue ? 'a fire while the previous run is busy waits for it' : 'a fire while the previous run is busy is skipped';
    return reply(
      [
        text(`⏰ schedule **#${made.id}** · ${describeWhen(when, zone)} · next ${formatFire(made.nextAt, zone)} · runs as ${ctx.actor.name ?? ctx.actor.id} in this channel:`),
        verbatim(line),
        text(`${overlap}; \`unschedule ${made.id}\` removes it.`),
      ],
      { tone: 'success', data: { schedule: made.id, nextAt: made.nextAt, zone } },
    );
  },
};

export const schedules: CommandDefinition<ScheduleServices> = {
  verb: 'schedules',
  summary: 'the schedules you may see: when, next fire, command, owner, last result',
  positionals: [{ name: 'name', optional: true }],
  options: [],
  level: 'read',
  examples: ['schedules', 'schedules kumo'],
  async handle(ctx) {
    const { access, clock, schedules: store } = ctx.services;
    const wanted = ctx.args.name;
    const now = clock.now();
    const visible = store.list().filter((s) => {
      if (wanted !== undefined && s.name !== wanted && s.lastName !== wanted) return false;
      if (s.owner.id === ctx.actor.id) return true;
      return access.roleOf(ctx.actor, scopeOfLine(ctx, s.line).scope) !== 'none';
    });
    if (visible.length === 0) {
      return reply(wanted !== undefined ? `No schedules for **${wanted}**.` : 'No schedules. Make one with `schedule <when> <command…>`, e.g. `schedule "0 9 * * 1-5" send kumo triage the new issues`.', { data: [] });
    }
    return reply([text(`⏰ ${visible.length} schedule${visible.length === 1 ? '' : 's'}`), text(visible.map((s) => summaryOf(s, now)).join('\n'))], {
      data: visible.map((s) => ({ id: s.id, when: s.whenText, zone: s.zone, nextAt: s.nextAt, line: s.line, owner: s.owner.id, paused: s.paused ?? null, lastResult: s.lastResult ?? null })),
    });
  },
};

export const unschedule: CommandDefinition<ScheduleServices> = {
  verb: 'unschedule',
  summary: 'remove a schedule (yours, or any as an admin)',
  positionals: [{ name: 'id' }],
  options: [],
  level: 'work',
  examples: ['unschedule 3'],
  async handle(ctx) {
    const raw = ctx.args.id ?? '';
    const match = /^#?(\d{1,9})$/.exec(raw);
    if (!match) throw new SwitchboardError('usage', `\`${raw.slice(0, 20)}\` is not a schedule id`, { hint: '`schedules` lists them with their ids, e.g. `unschedule 3`' });
    const id = Number(match[1]);
    const found = ctx.services.schedules.get(id);
    if (!found) throw new SwitchboardError('usage', `there is no schedule #${id}`, { hint: '`schedules` lists them' });
    const { scope } = scopeOfLine(ctx, found.line);
    ctx.services.access.requireOwnerOrAdmin(ctx.actor, found.owner.id, `remove schedule #${id}`, scope);
    if (found.name !== undefined) ctx.audit.target = found.name;
    ctx.services.schedules.remove(id);
    return reply(`🗑 schedule **#${id}** removed; it will not run \`${firstLine(found.line, 80)}\` again (a run under way goes on).`, { data: { schedule: id } });
  },
};
