import { randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';
import type { Actor, Origin } from './origin.js';
import { originKey } from './origin.js';
import type { Block, ChoiceOption } from './reply.js';
import type { Db } from '../sessions/database.js';

export interface OfferedOption extends ChoiceOption {
  /** The command line run, as the person who picks, when this option is picked. */
  command: string;
}

const TYPED_CHOICE_TTL_MS = 15 * 60_000;
const MADE_CHOICE_TTL_MS = 24 * 60 * 60_000;

export type Choices = ReturnType<typeof createChoices>;

/**
 * Choices offered to a user (agents for `new`, answers to a permission request). Buttons carry
 * `<choiceId>:<index>`; on the console the user types the number or the label. Either way the option's
 * command runs as the person who picked it, so every access rule applies unchanged.
 */
export function createChoices(db: Db, clock: Clock) {
  const insert = db.prepare('INSERT INTO choices (id, actor, origin_key, commands, labels, purpose, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const byId = db.prepare<[string], { actor: string; commands: string; purpose: string; chosen_by: string | null }>(
    'SELECT actor, commands, purpose, chosen_by FROM choices WHERE id = ?',
  );
  const latest = db.prepare<[string, string, number], { id: string; commands: string; labels: string }>(
    'SELECT id, commands, labels FROM choices WHERE origin_key = ? AND actor = ? AND created_at >= ? AND chosen_by IS NULL ORDER BY created_at DESC, rowid DESC LIMIT 1',
  );
  const markChosen = db.prepare('UPDATE choices SET chosen_by = ? WHERE id = ? AND chosen_by IS NULL');
  const pruneChosen = db.prepare('DELETE FROM choices WHERE chosen_by IS NOT NULL AND created_at < ?');
  /** Choices whose command is running now, and for whom: a second press meanwhile must not run it again. */
  const choosing = new Map<string, string>();

  return {
    /**
     * Offers `options` to one person. `purpose` says what picking does, in the words of a refusal
     * ("answer the permission requests of kumo"): only that person or an admin may pick.
     */
    offer(actor: Actor, origin: Origin, prompt: string, options: OfferedOption[], purpose: string): Block {
      const id = randomBytes(6).toString('hex');
      insert.run(
        id,
        actor.id,
        originKey(origin),
        JSON.stringify(options.map((o) => o.command)),
        JSON.stringify(options.map((o) => o.label.toLowerCase())),
        purpose,
        clock.now(),
      );
      return {
        type: 'choices',
        choiceId: id,
        prompt,
        options: options.map(({ command: _command, ...shown }) => shown),
      };
    },
    /**
     * A typed answer ("2" or "plan") to the latest choice offered to this actor here, if it is one. The choice
     * stays on offer: the core forgets it once its command went through, as for a pressed button.
     */
    matchTyped(actor: Actor, origin: Origin, typed: string): { choiceId: string; command: string } | undefined {
      const row = latest.get(originKey(origin), actor.id, clock.now() - TYPED_CHOICE_TTL_MS);
      if (!row) return undefined;
      const commands = JSON.parse(row.commands) as string[];
      const labels = JSON.parse(row.labels) as string[];
      const answer = typed.trim().toLowerCase();
      const index = /^\d{1,3}$/.test(answer) ? Number(answer) - 1 : labels.indexOf(answer);
      const command = commands[index];
      return command === undefined ? undefined : { choiceId: row.id, command };
    },
    /**
     * A pressed button: its command, whom it was offered to and why, and who made the choice already (being
     * made now counts); undefined for an unknown or expired choice.
     */
    pressed(choiceId: string, index: number): { command: string; offeredTo: string; purpose: string; chosenBy?: string } | undefined {
      const row = byId.get(choiceId);
      const command = row ? (JSON.parse(row.commands) as string[])[index] : undefined;
      if (!row || command === undefined) return undefined;
      const chosenBy = row.chosen_by ?? choosing.get(choiceId);
      return { command, offeredTo: row.actor, purpose: row.purpose, ...(chosenBy !== undefined ? { chosenBy } : {}) };
    },
    /**
     * Holds the choice for `by` while its command runs; returns who holds it instead, if someone does. Why in
     * memory: the durable mark is written with the command's audit row, after it ran, and two presses a moment
     * apart both arrive before that.
     */
    hold(choiceId: string, by: string): string | undefined {
      const holder = choosing.get(choiceId);
      if (holder === undefined) choosing.set(choiceId, by);
      return holder;
    },
    /** Lets go of a hold: after the mark below, or after a refused or failed pick (the choice stays on offer). */
    release(choiceId: string): void {
      choosing.delete(choiceId);
    },
    /** The choice is made: kept, with who made it, for a later press to be told; made choices are pruned after a day. */
    chosen(choiceId: string, by: string): void {
      markChosen.run(by, choiceId);
      pruneChosen.run(clock.now() - MADE_CHOICE_TTL_MS);
    },
  };
}
