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

export type Choices = ReturnType<typeof createChoices>;

/**
 * Choices offered to a user (agents for `new`, answers to a permission request). Buttons carry
 * `<choiceId>:<index>`; on the console the user types the number or the label. Either way the option's
 * command runs as the person who picked it, so every access rule applies unchanged.
 */
export function createChoices(db: Db, clock: Clock) {
  const insert = db.prepare('INSERT INTO choices (id, actor, origin_key, commands, labels, purpose, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const byId = db.prepare<[string], { actor: string; commands: string; purpose: string }>('SELECT actor, commands, purpose FROM choices WHERE id = ?');
  const latest = db.prepare<[string, string, number], { id: string; commands: string; labels: string }>(
    'SELECT id, commands, labels FROM choices WHERE origin_key = ? AND actor = ? AND created_at >= ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
  );
  const remove = db.prepare('DELETE FROM choices WHERE id = ?');

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
    /** A pressed button: its command, whom it was offered to and why; undefined for an unknown or expired choice. */
    pressed(choiceId: string, index: number): { command: string; offeredTo: string; purpose: string } | undefined {
      const row = byId.get(choiceId);
      const command = row ? (JSON.parse(row.commands) as string[])[index] : undefined;
      return row && command !== undefined ? { command, offeredTo: row.actor, purpose: row.purpose } : undefined;
    },
    forget(choiceId: string): void {
      remove.run(choiceId);
    },
  };
}
