import type { CommandContext, CommandDefinition, Services } from '../commands/context.js';
import { commandTable } from '../commands/index.js';
import { parseCommandLine } from '../commands/grammar.js';
import { scopeOfArgs } from '../commands/targets.js';
import type { Scope } from '../sessions/access.js';
import { SwitchboardError, toSwitchboardError } from '../errors.js';
import type { Adapter } from './adapter.js';
import type { Actor, Origin } from './origin.js';
import { originKey } from './origin.js';
import { reply, type Reply } from './reply.js';
import { createRateLimiter } from './rate-limit.js';
import type { Outbox } from '../notify/outbox.js';
import { DUPLICATE, type InboundClaim, type InboundLedger } from './inbound-dedupe.js';
import type { InboundFile } from '../files/index.js';

export interface Inbound {
  text: string;
  actor: Actor;
  origin: Origin;
  /**
   * The platform's names for this delivery (`slack:event:Ev…`, `discord:message:…`): a unit delivered again
   * under any of them runs once. None for the console and the CLI: a typed line is a new command.
   */
  identities?: readonly string[];
  /**
   * The schedule running this line as its owner: not rate-limited (nobody typed it), marked in the audit row,
   * and a refusal or failure is left to the schedule to report in its channel (its owner may be away).
   */
  scheduleId?: number;
  /**
   * Files attached to the command (Slack files on a mention, Discord attachments): name, declared size and type,
   * and where to fetch them. The verb checks and downloads them (src/files); verbs that take none refuse them.
   */
  files?: readonly InboundFile[];
}

export interface Pressed {
  choiceId: string;
  index: number;
  actor: Actor;
  origin: Origin;
  identities?: readonly string[];
}

export interface SwitchboardParts {
  services: Services;
  commands: readonly CommandDefinition[];
  outbox: Outbox;
  ledger: InboundLedger;
}

type AuditEntry = Parameters<Services['audit']['record']>[0];

/** What one command came to: the reply, where it goes, and the audit row to write with it. */
interface Outcome {
  reply: Reply;
  route?: CommandContext['route'];
  entry?: AuditEntry;
}

/** Control, bidi and invisible format characters: quoted back from a hostile line they would hide or reorder text. */
const UNSEEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** An error's text with those characters shown as `\uXXXX`, so a message cannot be made to lie about what was typed. */
function visible(text: string): string {
  return text.replace(UNSEEN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function errorReply(error: SwitchboardError): Reply {
  const message = visible(error.message);
  const hint = error.hint === undefined ? undefined : visible(error.hint);
  const lines = [`❌ ${message}`];
  if (hint) lines.push(hint);
  return reply(lines.join('\n'), { tone: 'error', data: { error: { code: error.code, message, hint } } });
}

export type Switchboard = ReturnType<typeof createSwitchboard>;

/**
 * The core: one entry point for every adapter. A line becomes a command, the actor's rights are checked,
 * the handler runs, an audit row is written, and the reply goes out through the outbox to where the command
 * came from. Nothing here knows which platform the line came from.
 */
export function createSwitchboard(parts: SwitchboardParts) {
  const { services, outbox, ledger } = parts;
  const table = commandTable(parts.commands);
  const limiter = createRateLimiter(services.config.limits.commandsPerMinute, () => services.clock.now());

  /**
   * The door every line passes: the channel's allow-list, the grammar, the verb's role in the line's scope.
   * `seen` learns the verb and scope before the role check may refuse, so a refusal is audited with them.
   */
  function admit(line: string, actor: Actor, origin: Origin, seen?: (verb: string, scope: Scope) => void) {
    services.access.requireChannel(origin);
    const parsed = parseCommandLine(line, services.grammar);
    const definition = table.get(parsed.verb)!;
    const scope = scopeOfArgs(parsed.args, services.registry);
    seen?.(parsed.verb, scope);
    services.access.require(actor, definition.level, `use \`${parsed.verb}\``, scope);
    return { parsed, definition, scope };
  }

  /** `authorise` adds a check of the caller's after the role check, refused and audited like it. */
  async function run(
    line: string,
    actor: Actor,
    origin: Origin,
    authorise?: (scope: Scope) => void,
    scheduleId?: number,
    files?: readonly InboundFile[],
  ): Promise<Outcome> {
    const audit: CommandContext['audit'] = {};
    const scheduled = scheduleId !== undefined ? { scheduleId } : {};
    let verb = '?';
    try {
      // The console is the operator at the machine itself (and scripts pipe many lines): no rate limit.
      const wait = actor.id.startsWith('console:') || scheduleId !== undefined ? 0 : limiter.hit(actor.id);
      if (wait > 0) {
        throw new SwitchboardError(
          'rate_limited',
          `slow down: at most ${services.config.limits.commandsPerMinute} commands a minute; try again in ${Math.ceil(wait / 1000)} s`,
        );
      }
      const { parsed, definition, scope } = admit(line, actor, origin, (seenVerb, seenScope) => {
        verb = seenVerb;
        // A refused command about a name is still found by `audit <name>`.
        if (seenScope.name !== undefined) audit.target = seenScope.name;
      });
      authorise?.(scope);
      if (files?.length && !definition.files) {
        throw new SwitchboardError('usage', `\`${parsed.verb}\` takes no files; the attached ${files.length === 1 ? 'file was' : 'files were'} not used`, {
          hint: 'files go with a prompt: send <name> <prompt…> or start <executor> <prompt…>',
        });
      }
      const ctx: CommandContext = {
        actor,
        origin,
        line,
        args: parsed.args,
        options: parsed.options,
        ...(parsed.text !== undefined ? { text: parsed.text } : {}),
        ...(files?.length ? { files } : {}),
        services,
        audit,
      };
      const result = await definition.handle(ctx);
      const entry: AuditEntry = {
        actor: actor.id,
        origin: originKey(origin),
        verb,
        ...(audit.target ? { target: audit.target } : {}),
        // A prompt is stored once, in `prompts`; the audit row points at it instead of repeating it.
        command: audit.promptId !== undefined ? `${verb} ${audit.target ?? ''}`.trim() : line,
        ...(audit.promptId !== undefined ? { promptId: audit.promptId } : {}),
        outcome: 'ok',
        ...(audit.detail ? { detail: audit.detail } : {}),
        ...scheduled,
      };
      return ctx.route ? { reply: result, route: ctx.route, entry } : { reply: result, entry };
    } catch (caught) {
      const error = toSwitchboardError(caught);
      if (error.code === 'internal') services.logger.error('command failed', { verb, error: String(caught), stack: (caught as Error)?.stack });
      const entry: AuditEntry = {
        actor: actor.id,
        origin: originKey(origin),
        verb,
        ...(audit.target ? { target: audit.target } : {}),
        command: line,
        outcome: `error:${error.code}`,
        detail: error.message,
        ...scheduled,
      };
      return { reply: errorReply(error), entry };
    }
  }

  /**
   * Writes what a command came to (its audit row, its reply into the outbox, `also`: a choice made) together
   * with the identities of the delivery that brought it, in one transaction; see inbound-dedupe.ts for why.
   */
  function settle(claim: InboundClaim, outcome: Outcome, actor: Actor, origin: Origin, postIt: boolean, also?: () => void): void {
    ledger.commit(claim, () => {
      if (outcome.entry) services.audit.record(outcome.entry);
      also?.();
      if (postIt) post(origin, actor, outcome);
    });
  }

  /** A delivery the platform repeated: acknowledged (the adapter did) and otherwise left alone. */
  function repeated(actor: Actor, identities: readonly string[] | undefined): Reply {
    services.logger.info('a repeated delivery was ignored', { actor: actor.id, identities });
    return DUPLICATE;
  }

  /** Someone else's pick of this choice is running or went through: said privately, as for a refused press. */
  function alreadyChosen(by: string): Outcome {
    return { reply: errorReply(new SwitchboardError('already_chosen', `that choice was already chosen by ${by}`)) };
  }

  function post(origin: Origin, actor: Actor, result: Outcome): void {
    outbox.enqueue({
      origin,
      reply: result.reply,
      actor: actor.id,
      // A refusal or a mistake is the business of the person who typed it, not of the whole channel.
      ...(result.reply.tone === 'error' || result.reply.privately ? { privateTo: actor.id } : {}),
      ...(result.route ? { threadKey: result.route.threadKey, ...(result.route.opensThread ? { opensThread: true } : {}) } : {}),
    });
  }

  return {
    services,
    outbox,
    /**
     * Runs one command line and posts its reply to the origin. A line that answers a pending choice
     * ("2", "plan") runs that choice's command instead. Returns the reply (for one-shot CLI use and tests).
     */
    async execute(inbound: Inbound, options: { post?: boolean } = {}): Promise<Reply> {
      const claim = ledger.claim(inbound.identities);
      if (!claim) return repeated(inbound.actor, inbound.identities);
      const { actor, origin } = inbound;
      const by = actor.name ?? actor.id;
      // A scheduled line is a command, never someone's answer to a choice on offer.
      const typedChoice = inbound.scheduleId === undefined ? services.choices.matchTyped(actor, origin, inbound.text) : undefined;
      const holder = typedChoice ? services.choices.hold(typedChoice.choiceId, by) : undefined;
      try {
        const result = holder !== undefined ? alreadyChosen(holder) : await run(typedChoice?.command ?? inbound.text, actor, origin, undefined, inbound.scheduleId, inbound.files);
        // A refused or failed pick leaves the choice on offer, as a button does: an error changes no state.
        const made = typedChoice && holder === undefined && result.reply.tone !== 'error';
        const postIt = options.post !== false && !(inbound.scheduleId !== undefined && result.reply.tone === 'error');
        settle(claim, result, actor, origin, postIt, made ? () => services.choices.chosen(typedChoice.choiceId, by) : undefined);
        return result.reply;
      } finally {
        if (typedChoice && holder === undefined) services.choices.release(typedChoice.choiceId);
        ledger.release(claim);
      }
    },
    /**
     * A button press: runs the option's command as the person who pressed it. A choice was offered to one
     * person; anyone else but an admin is refused before the command runs, and the choice stays on offer.
     */
    async press(pressed: Pressed, options: { post?: boolean } = {}): Promise<Reply> {
      const claim = ledger.claim(pressed.identities);
      if (!claim) return repeated(pressed.actor, pressed.identities);
      const { actor, origin, choiceId } = pressed;
      const by = actor.name ?? actor.id;
      const offered = services.choices.pressed(choiceId, pressed.index);
      // Held from here (synchronously after the look) until the outcome is written: a double press runs once.
      const holder = offered && offered.chosenBy === undefined ? services.choices.hold(choiceId, by) : offered?.chosenBy;
      try {
        const result: Outcome = !offered
          ? { reply: errorReply(new SwitchboardError('no_such_choice', 'that choice has expired or was already made')) }
          : holder !== undefined
            ? alreadyChosen(holder)
            : await run(offered.command, actor, origin, (scope) => services.access.requireOwnerOrAdmin(actor, offered.offeredTo, offered.purpose, scope));
        const made = offered && holder === undefined && result.reply.tone !== 'error';
        settle(claim, result, actor, origin, options.post !== false, made ? () => services.choices.chosen(choiceId, by) : undefined);
        return result.reply;
      } finally {
        if (offered && holder === undefined) services.choices.release(choiceId);
        ledger.release(claim);
      }
    },
    /**
     * Whether this actor may run this line there now, by the same checks as at the door (channel, grammar, the
     * verb's role in the line's scope), without running it: the refusal, or nothing. A paused schedule asks.
     */
    refusal(line: string, actor: Actor, origin: Origin): SwitchboardError | undefined {
      try {
        admit(line, actor, origin);
        return undefined;
      } catch (caught) {
        return toSwitchboardError(caught);
      }
    },
    register(adapter: Adapter): void {
      outbox.register(adapter);
    },
    /** Resolves once every message queued for this adapter has been delivered. */
    idle(adapter: string): Promise<void> {
      return outbox.drained(adapter);
    },
  };
}
