import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEntities } from '../../adapters/slack/render/mrkdwn.js';
import type { ConsoleBot } from '../helpers/console-bot.js';
import type { Harness as DiscordHarness } from '../discord/harness.js';
import { ADMIN as DISCORD_ADMIN, ALICE as DISCORD_ALICE, WORK as DISCORD_WORK } from '../discord/harness.js';
import type { Harness as SlackHarness } from '../slack/harness.js';
import { ADMIN as SLACK_ADMIN, ALICE as SLACK_ALICE, WORK as SLACK_WORK } from '../slack/harness.js';
import { listButtons, type SlackMessage } from '../twins/slack/index.js';
import type { TwinMessage } from '../twins/discord/index.js';

/**
 * One way in for the matrix's cells, whatever the adapter: a person types a command, and reads what the bot
 * posted since. Text is compared as people read it with the bold markers taken out (`**kumo**` on Discord and
 * the console, `*kumo*` on Slack both read `kumo`), so one pattern serves every adapter; prompts in the cells
 * hold no asterisks for that reason.
 */
export interface Post {
  /** What a person reads, bold markers removed. */
  text: string;
  /** Labels of the buttons under it (the console prints numbered choices instead: their labels). */
  buttons: string[];
  /** The thread (Slack), the channel (Discord) or the terminal it is in. */
  where: string;
}

export type Who = 'member' | 'admin';

export interface Door {
  readonly adapter: 'console' | 'slack' | 'discord';
  /** A person (a member unless `admin`) types `line`; resolves with a mark: later waits see only what came after. */
  command(line: string, who?: Who): Promise<number>;
  /** The first post after `mark` whose text (as it reads now: a card is edited in place) matches `pattern`. */
  post(mark: number, pattern: RegExp, timeoutMs?: number): Promise<Post>;
  /** How many posts after `mark` match `pattern` now (on the console, each printed state of a card counts). */
  count(mark: number, pattern: RegExp): number;
  /** What the person who typed sees after `mark`: a post, or an answer only they see (a Slack ephemeral). */
  answer(mark: number, pattern: RegExp, timeoutMs?: number): Promise<Post>;
  mark(): number;
}

const unbold = (text: string) => text.replace(/\*/g, '');

/** The console bot process (stdin/stdout pipes): the terminal is its one channel, the local user an admin. */
export function consoleDoor(bot: ConsoleBot): Door {
  const shown = (mark: number) => unbold(bot.stdout().slice(mark));
  const find = (mark: number, pattern: RegExp): Post | undefined => {
    const text = shown(mark);
    const match = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(text);
    if (!match) return undefined;
    // The post runs from the start of the matched line through its last line and any indented lines after it
    // (the numbered choices under a question).
    const start = text.lastIndexOf('\n', match.index) + 1;
    let end = text.indexOf('\n', match.index + match[0].length);
    while (end >= 0 && /^ {2}\d+\) /.test(text.slice(end + 1))) end = text.indexOf('\n', end + 1);
    const body = text.slice(start, end < 0 ? text.length : end);
    const buttons = [...body.matchAll(/^ {2}\d+\) (.*?)(?: — .*)?$/gm)].map((m) => m[1]!);
    return { text: body, buttons, where: 'terminal' };
  };
  return {
    adapter: 'console',
    mark: () => bot.stdout().length,
    async command(line) {
      const mark = bot.stdout().length;
      bot.write(line);
      return mark;
    },
    post(mark, pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const stream = bot.child.stdout!;
        const check = () => {
          const found = find(mark, pattern);
          if (found) {
            done();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`console: nothing matched ${String(pattern)} within ${timeoutMs} ms; printed since:\n${shown(mark)}\n--- stderr:\n${bot.stderr().slice(-2000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          stream.off('data', later);
        };
        // After the harness's own listener has appended the chunk.
        const later = () => setImmediate(check);
        stream.on('data', later);
        check();
      });
    },
    count: (mark, pattern) => [...shown(mark).matchAll(new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`))].length,
    // The terminal is the asker's own: a private answer prints there like any other.
    answer(mark, pattern, timeoutMs) {
      return this.post(mark, pattern, timeoutMs);
    },
  };
}

/** The Slack twin through the real Bolt app: `/sb` in #work, replies and thread posts as the channel shows them. */
export function slackDoor(h: SlackHarness): Door {
  const text = (m: SlackMessage) => unbold(decodeEntities(m.visibleText));
  const toPost = (m: SlackMessage): Post => ({ text: text(m), buttons: listButtons(m.blocks).map((b) => b.label), where: m.threadTs ?? m.ts });
  const since = (mark: number) => h.slack.messages({ channel: SLACK_WORK, user: 'bot' }).filter((m) => m.seq > mark);
  return {
    adapter: 'slack',
    mark: () => h.mark(),
    async command(line, who = 'member') {
      const mark = h.mark();
      await h.sb(who === 'admin' ? SLACK_ADMIN : SLACK_ALICE, line);
      return mark;
    },
    async post(mark, pattern, timeoutMs = 60_000) {
      try {
        const found = await h.slack.waitUntil(() => since(mark).find((m) => pattern.test(text(m))), { timeoutMs, description: String(pattern) });
        return toPost(found);
      } catch (error) {
        const privately = h.slack.ephemerals().filter((e) => e.seq > mark).map((e) => `  - to ${e.user}: ${e.visibleText}`);
        const shown = since(mark).map((m) => `  - ${text(m).slice(0, 300)}`);
        throw new Error(`${String(error)}\nPosted since:\n${shown.join('\n') || '  (none)'}\nEphemerals since:\n${privately.join('\n') || '  (none)'}`);
      }
    },
    count: (mark, pattern) => since(mark).filter((m) => pattern.test(text(m))).length,
    async answer(mark, pattern, timeoutMs = 60_000) {
      const inChannel = () => since(mark).find((m) => pattern.test(text(m)));
      const privately = () => h.slack.ephemerals().find((e) => e.seq > mark && e.user === SLACK_ALICE && pattern.test(unbold(decodeEntities(e.visibleText))));
      await h.slack.waitUntil(() => inChannel() ?? privately(), { timeoutMs, description: String(pattern) });
      const posted = inChannel();
      if (posted) return toPost(posted);
      return { text: unbold(decodeEntities(privately()!.visibleText)), buttons: [], where: 'ephemeral' };
    },
  };
}

/** The Discord twin through the real discord.js client: `!sb` messages in #work, the bot's posts there. */
export function discordDoor(h: DiscordHarness): Door {
  const text = (m: TwinMessage) => unbold(m.content);
  const buttons = (m: TwinMessage) =>
    (m.components as unknown as Array<{ components?: Array<{ label?: string }> }>).flatMap((row) => row.components ?? []).map((b) => b.label ?? '');
  const toPost = (m: TwinMessage): Post => ({ text: text(m), buttons: buttons(m), where: m.channelId });
  const bot = () => h.discord.botUserId;
  const since = (mark: number) => h.discord.messages({ author: bot(), includeEphemeral: false }).filter((m) => m.seq > mark && !m.loading);
  const mark = () => Math.max(0, ...h.discord.messages({ includeDeleted: true, includeEphemeral: true }).map((m) => m.seq));
  return {
    adapter: 'discord',
    mark,
    async command(line, who = 'member') {
      const at = mark();
      await h.say(who === 'admin' ? DISCORD_ADMIN : DISCORD_ALICE, `!sb ${line}`, DISCORD_WORK);
      return at;
    },
    async post(at, pattern, timeoutMs = 60_000) {
      try {
        const found = await h.discord.waitForMessage({
          author: bot(),
          includeEphemeral: false,
          timeoutMs,
          predicate: (m) => m.seq > at && !m.loading && pattern.test(text(m)),
        });
        return toPost(found);
      } catch (error) {
        const shown = since(at).map((m) => `  - ${text(m).slice(0, 300)}`);
        throw new Error(`${String(error)}\nPosted since:\n${shown.join('\n') || '  (none)'}`);
      }
    },
    count: (at, pattern) => since(at).filter((m) => pattern.test(text(m))).length,
    // A refusal of a `!sb` message comes to the channel: there is no private way back to a message.
    answer(at, pattern, timeoutMs) {
      return this.post(at, pattern, timeoutMs);
    },
  };
}

/** switchboard.yaml for the console bot: the world's servers, then its other lines. */
export function writeConsoleConfig(dir: string, servers: Record<string, string>, yaml: readonly string[]): void {
  writeFileSync(
    join(dir, 'switchboard.yaml'),
    ['servers:', ...Object.entries(servers).flatMap(([name, url]) => [`  - name: ${name}`, `    url: ${url}`]), ...yaml, ''].join('\n'),
  );
}
