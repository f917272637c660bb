import type { Reply } from '../core/reply.js';
import type { Db } from '../sessions/database.js';

/** How much of one final output the page gets (the rest is in the channel, or `last <name>`). */
const FINAL_CHARS = 6_000;

/**
 * What the page reads of a name's past, read-only: its last prompts (stored scrubbed, shown verbatim) and the
 * final outputs the monitor and the task relay posted to its thread (from the outbox, already scrubbed there).
 */
export function createHistory(db: Db) {
  const prompts = db.prepare<[string, number], { actor: string; text: string; sent_at: number }>(
    'SELECT actor, text, sent_at FROM prompts WHERE name = ? ORDER BY id DESC LIMIT ?',
  );
  const posts = db.prepare<[string], { reply: string; created_at: number }>(
    'SELECT reply, created_at FROM outbox WHERE thread_key = ? ORDER BY id DESC LIMIT 200',
  );
  return {
    prompts(name: string, limit: number) {
      return prompts.all(name, limit).map((row) => ({ actor: row.actor, text: row.text, sentAt: row.sent_at }));
    },
    finals(name: string, limit: number) {
      const found: { at: number; ok: boolean; text: string }[] = [];
      for (const row of posts.all(name)) {
        if (found.length >= limit) break;
        let reply: Reply;
        try {
          reply = JSON.parse(row.reply) as Reply;
        } catch {
          continue;
        }
        // The outbox keeps no `data`: a final output is known by its head line (monitor/reports.ts finalReport).
        const head = reply.blocks[0];
        const match = head?.type === 'text' ? /^📋 \*\*([a-z0-9-]+)\*\* (finished|failed)\b/.exec(head.text) : null;
        if (!match || match[1] !== name) continue;
        const data = { ok: match[2] === 'finished' };
        const text = reply.blocks.map((b) => (b.type === 'choices' ? b.prompt : b.type === 'text' ? b.text : `${b.title ? `${b.title}\n` : ''}${b.text}`)).join('\n\n');
        found.push({ at: row.created_at, ok: data.ok, text: text.length > FINAL_CHARS ? `${text.slice(0, FINAL_CHARS)}\n…` : text });
      }
      return found;
    },
  };
}

export type History = ReturnType<typeof createHistory>;
