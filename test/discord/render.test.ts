import { ApplicationCommandOptionType, DiscordAPIError, HTTPError, RateLimitError } from 'discord.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toDeliveryError } from '../../adapters/discord/errors.js';
import { commandText } from '../../adapters/discord/message-text.js';
import { DISCORD_LIMITS } from '../../adapters/discord/render/limits.js';
import {
  codeBlock,
  decodeVerbatim,
  encodeVerbatim,
  inertMentions,
  readCodeBlock,
  readInertMentions,
  showsExactly,
  ZWSP,
} from '../../adapters/discord/render/markdown.js';
import { outputPieces } from '../../adapters/discord/render/output.js';
import { planReply } from '../../adapters/discord/render/plan.js';
import { decodeReplyHandle, encodeReplyHandle, type ReplyHandle } from '../../adapters/discord/reply-handle.js';
import { commandChars, commandLine, invokedVerb, MAX_COMMAND_CHARS, slashLayout, type SlashLayout } from '../../adapters/discord/slash-commands.js';
import { parseCommandLine } from '../../src/commands/grammar.js';
import { allCommands } from '../../src/commands/index.js';
import type { GrammarSpec } from '../../src/commands/spec.js';
import { output, reply, text, verbatim, type Block } from '../../src/core/reply.js';
import { discordCodeBlocks } from './harness.js';

/** Strings rich in what breaks Discord code blocks: backticks, zero-width spaces, newlines, mentions. */
const tricky = fc.string({
  unit: fc.constantFrom('`', '`', '`', ZWSP, '\n', '\r', ' ', 'a', '@', '<', '>', '#', '&', '*', '_', '~', '|', '\\', 'é', '😀'),
  maxLength: 60,
});

describe('exact text in a code block', () => {
  it('encodes reversibly, and Discord’s code-block rule finds exactly one block showing the encoding', () => {
    fc.assert(
      fc.property(tricky, (value) => {
        const body = encodeVerbatim(value);
        expect(decodeVerbatim(body)).toBe(value);
        expect(body).not.toContain('```');
        expect(body).not.toMatch(/^\n|\n$/);
        expect(body.length).toBeGreaterThan(0);
        const rendered = codeBlock(value);
        const blocks = discordCodeBlocks(rendered);
        expect(blocks).toHaveLength(1);
        expect(blocks[0]!.raw).toBe(rendered);
        expect(blocks[0]!.shown).toBe(body);
        expect(readCodeBlock(rendered)).toBe(value);
      }),
      { numRuns: 2_000 },
    );
  });

  it('shows ordinary text byte for byte, and says when it cannot', () => {
    const plain = '@everyone <@123> <#456> <@&789> `tick` **b**\n  indented\ttab\n# not a heading';
    expect(showsExactly(plain)).toBe(true);
    expect(discordCodeBlocks(codeBlock(plain))[0]!.shown).toBe(plain);
    // A first line that looks like a language is still content: the fence is followed by a newline.
    expect(discordCodeBlocks(codeBlock('js\nconsole.log(1)'))[0]!.shown).toBe('js\nconsole.log(1)');
    for (const unsafe of ['a ``` b', 'a `` b', '\nleading', 'trailing\n', 'cr\r\nlf', '', `${ZWSP}x`, `\`${ZWSP}`]) {
      expect(showsExactly(unsafe), JSON.stringify(unsafe)).toBe(false);
    }
  });
});

describe('inert mentions', () => {
  it('leaves no mention Discord would recognise, and reads back', () => {
    const raw = 'hi @everyone @here <@123456789012345678> <@!123456789012345678> <@&123456789012345678> <#123456789012345678> </sb send:1>';
    const inert = inertMentions(raw);
    expect(inert).not.toMatch(/<@!?\d+>|<@&\d+>|<#\d+>|@everyone|@here|<\/\w/);
    expect(readInertMentions(inert)).toBe(raw);
  });
});

describe('agent output in pieces', () => {
  it('splits on lines within the limit, closes and reopens a code block cut in two, and loses nothing', () => {
    const code = Array.from({ length: 120 }, (_, i) => `  line ${i} of the code`).join('\n');
    const markdown = `# Result\nSome **bold** text.\n\`\`\`ts\n${code}\n\`\`\`\nAfter the code.`;
    const pieces = outputPieces(markdown, 500);
    expect(pieces.length).toBeGreaterThan(4);
    for (const piece of pieces) {
      expect(piece.length).toBeLessThanOrEqual(500);
      // Every piece has balanced fences, so each renders on its own.
      expect((piece.match(/```/g) ?? []).length % 2).toBe(0);
    }
    expect(pieces[1]!.startsWith('```ts\n')).toBe(true);
    const unwrapped = pieces.map((p, i) => {
      let body = i > 0 && p.startsWith('```ts\n') && pieces[i - 1]!.endsWith('```') && !pieces[i - 1]!.endsWith('\n```\nAfter the code.') ? p.slice(6) : p;
      if (i < pieces.length - 1 && body.endsWith('\n```') && pieces[i + 1]!.startsWith('```ts\n')) body = body.slice(0, -4);
      return body;
    });
    expect(unwrapped.join('\n').replace(/\n+/g, '\n')).toBe(markdown.replace(/\n+/g, '\n'));
  });

  it('keeps every character of long text, emoji included', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '\n', '😀', 'é', 'x'), minLength: 0, maxLength: 3_000 }), (value) => {
        const pieces = outputPieces(value, 200);
        for (const piece of pieces) expect(piece.length).toBeLessThanOrEqual(200);
        expect(pieces.join('')).toBe(value);
        for (const piece of pieces) expect(piece).not.toMatch(/[\uD800-\uDBFF]$/);
      }),
      { numRuns: 200 },
    );
  });
});

function contents(blocks: Block[], options: Parameters<typeof planReply>[1] = {}) {
  return planReply(reply(blocks), options);
}

describe('a reply as Discord messages', () => {
  it('keeps every message within 2 000 characters and numbers them when there are several', () => {
    const long = Array.from({ length: 300 }, (_, i) => `line ${i} ${'x'.repeat(20)}`).join('\n');
    const messages = contents([text('**kumo** latest output:'), output(long)], { attributeTo: '42' });
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.length).toBeLessThanOrEqual(DISCORD_LIMITS.outputPieces + 1);
    messages.forEach((m, i) => {
      expect(m.content.length).toBeLessThanOrEqual(DISCORD_LIMITS.contentChars);
      expect(m.content.startsWith(`(${i + 1}/${messages.length})\n`)).toBe(true);
    });
    expect(messages[0]!.content).toMatch(/\n-# requested by <@42>$/);
    expect(messages.slice(1).some((m) => m.content.includes('requested by'))).toBe(false);
  });

  it('attaches output longer than five messages as a file, byte for byte', () => {
    const long = `${'🙂 <@123> word '.repeat(1_000)}\nend`;
    const [message, ...more] = contents([text('📋 **kumo** finished'), output(long)], { subject: 'kumo' });
    expect(more).toEqual([]);
    expect(message!.content).toContain('📎 The output (15,004 characters) is attached as `kumo-output.md`');
    expect(message!.files).toHaveLength(1);
    expect(message!.files[0]!.name).toBe('kumo-output.md');
    expect(message!.files[0]!.data.toString('utf8')).toBe(long);
  });

  it('attaches exact text over one message, and exact text the block cannot show as-is', () => {
    const big = 'p'.repeat(2_500);
    const [first] = contents([text('📨 **kumo** ← alice'), verbatim(big)], { subject: 'kumo' });
    expect(first!.content).toBe('📨 **kumo** ← alice\n📎 The full text (2,500 characters) is attached as `kumo-text.txt`: it is longer than one Discord message.');
    expect(first!.files[0]!.data.toString('utf8')).toBe(big);

    const fenced = 'run ```rm -rf /``` now';
    const [second] = contents([verbatim(fenced)], { subject: 'kumo' });
    expect(readCodeBlock(second!.content.split('\n-# 📎')[0]!)).toBe(fenced);
    expect(second!.files[0]!.data.toString('utf8')).toBe(fenced);

    const [plain] = contents([verbatim('just words')]);
    expect(plain!.content).toBe('```\njust words\n```');
    expect(plain!.files).toEqual([]);
  });

  it('turns choices into buttons within Discord’s limits, listing what has no button', () => {
    const options = Array.from({ length: 30 }, (_, i) => ({ label: `${'agent'.repeat(i === 0 ? 30 : 1)}${i}`, ...(i === 1 ? { description: 'plans' } : {}) }));
    const [message] = contents([{ type: 'choices', choiceId: 'abc123', prompt: 'Which agent?', options: [{ ...options[0]!, style: 'primary' }, { ...options[1]!, style: 'danger' }, ...options.slice(2)] }]);
    expect(message!.components).toHaveLength(5);
    const buttons = message!.components.flatMap((row) => row.components);
    expect(buttons).toHaveLength(25);
    expect(buttons.map((b) => ('custom_id' in b ? b.custom_id : ''))).toEqual(Array.from({ length: 25 }, (_, i) => `sb:abc123:${i}`));
    expect(buttons.every((b) => 'label' in b && (b.label ?? '').length <= 80)).toBe(true);
    expect(buttons.slice(0, 3).map((b) => b.style)).toEqual([1, 4, 2]);
    expect(message!.content).toContain('`30` **agent29**');
    expect(message!.content).toContain('`2` **agent1** — plans');
  });

  it('never sends an empty message', () => {
    expect(planReply(reply([]))).toEqual([{ content: '-# (empty reply)', components: [], files: [] }]);
  });
});

describe('/sb from the grammar', () => {
  const layout = slashLayout(allCommands);

  /** Every subcommand with the group it sits in, checked against Discord's rules on the way. */
  function subcommandsOf(body: SlashLayout['body']): Array<{ group?: string; name: string; options: Array<{ name: string; required?: boolean; description: string; type: number }> }> {
    const NAME = /^[-_\p{Ll}\p{N}]{1,32}$/u;
    const top = body.options ?? [];
    expect(top.length).toBeLessThanOrEqual(25);
    expect(new Set(top.map((o) => o.name)).size).toBe(top.length);
    return top.flatMap((option) => {
      expect(option.name).toMatch(NAME);
      expect(option.description.length).toBeGreaterThan(0);
      expect(option.description.length).toBeLessThanOrEqual(100);
      if (option.type === ApplicationCommandOptionType.SubcommandGroup) {
        const inside = option.options ?? [];
        expect(inside.length).toBeGreaterThan(0);
        expect(inside.length).toBeLessThanOrEqual(25);
        return inside.map((sub) => {
          // One level of groups: a group holds subcommands only.
          expect(sub.type).toBe(ApplicationCommandOptionType.Subcommand);
          return { group: option.name, ...checkedSubcommand(sub) };
        });
      }
      expect(option.type).toBe(ApplicationCommandOptionType.Subcommand);
      return [checkedSubcommand(option)];
    });

    function checkedSubcommand(sub: { name: string; description: string; options?: unknown[] }) {
      expect(sub.name).toMatch(NAME);
      expect(sub.description.length).toBeLessThanOrEqual(100);
      const options = (sub.options ?? []) as Array<{ name: string; required?: boolean; description: string; type: number }>;
      expect(options.length).toBeLessThanOrEqual(25);
      const firstOptional = options.findIndex((o) => !o.required);
      if (firstOptional >= 0) expect(options.slice(firstOptional).every((o) => !o.required)).toBe(true);
      for (const option of options) {
        expect(option.name).toMatch(NAME);
        expect(option.type).not.toBe(ApplicationCommandOptionType.Subcommand);
        expect(option.type).not.toBe(ApplicationCommandOptionType.SubcommandGroup);
      }
      return { name: sub.name, options };
    }
  }

  const verbsOf = (n: number, summary = 'x'.repeat(20)): GrammarSpec[] =>
    Array.from({ length: n }, (_, i) => ({ verb: `verb${i}`, summary, positionals: [{ name: 'name' }], options: [] }));

  it('fits Discord’s rules: valid names, required options first, within the size cap', () => {
    expect(commandChars(layout.body)).toBeLessThanOrEqual(MAX_COMMAND_CHARS);
    subcommandsOf(layout.body);
  });

  it('reaches every verb of the grammar: the first 24 at the top, the rest in the group `more`, none left to messages', () => {
    expect(allCommands.length).toBeGreaterThan(25);
    const subs = subcommandsOf(layout.body);
    expect(subs.map((s) => s.name)).toEqual(allCommands.map((c) => c.verb));
    expect(layout.skipped).toEqual([]);
    expect(layout.body.options).toHaveLength(25);
    expect(subs.filter((s) => s.group === undefined).map((s) => s.name)).toEqual(allCommands.slice(0, 24).map((c) => c.verb));
    expect(subs.filter((s) => s.group !== undefined).map((s) => `${s.group} ${s.name}`)).toEqual(allCommands.slice(24).map((c) => `more ${c.verb}`));
    expect(layout.body.options!.at(-1)).toMatchObject({ type: ApplicationCommandOptionType.SubcommandGroup, name: 'more', description: expect.stringMatching(/^More commands: .*schedule/) });
    // The layout knows each verb's place, for reading invocations back.
    for (const sub of subs) expect(layout.verbs.get(sub.name)?.group).toBe(sub.group);
    for (const verb of ['dashboard', 'schedule', 'schedules', 'unschedule', 'budget']) expect(layout.verbs.get(verb)?.group, verb).toBe('more');
    // 30 verbs are too many for Discord's 25 choices: `help <command>` suggests them as typed instead.
    const help = subs.find((s) => s.name === 'help')!.options[0]!;
    expect(help).toMatchObject({ name: 'command', autocomplete: true });
    expect(help).not.toHaveProperty('choices');
    expect(layout.verbs.get('help')!.fields[0]).toMatchObject({ autocompleteVerbs: true });
    expect(layout.verbs.get('schedules')!.fields[0]).toMatchObject({ option: 'name', autocompleteNames: true });
  });

  it('reads an invocation back to its verb, in a group or not', () => {
    expect(invokedVerb(layout, null, 'send')?.verb).toBe('send');
    expect(invokedVerb(layout, 'more', 'schedule')?.verb).toBe('schedule');
    // A command registered by an older layout (the verb was top level then) still reaches it.
    expect(invokedVerb(layout, null, 'schedule')?.verb).toBe('schedule');
    expect(invokedVerb(layout, null, null)?.verb).toBe('help');
    expect(invokedVerb(layout, 'more', 'nope')).toBeUndefined();
    const schedule = commandLine(layout.verbs.get('schedule')!, (name) => ({ when: 'every 6h', command: 'send kumo check the build' })[name]);
    expect(parseCommandLine(schedule, allCommands)).toMatchObject({ verb: 'schedule', args: { when: 'every 6h' }, text: 'send kumo check the build' });
  });

  it('keeps every verb reachable as the grammar grows: as few groups as needed, 25 options at most at each level', () => {
    for (const n of [25, 26, 30, 49, 50, 60, 100]) {
      const grown = slashLayout(verbsOf(n));
      const subs = subcommandsOf(grown.body);
      expect(subs.map((s) => s.name), `${n} verbs`).toEqual(verbsOf(n).map((v) => v.verb));
      expect(grown.skipped, `${n} verbs`).toEqual([]);
      expect(commandChars(grown.body), `${n} verbs`).toBeLessThanOrEqual(MAX_COMMAND_CHARS);
      const groups = [...new Set(subs.flatMap((s) => (s.group ? [s.group] : [])))];
      const expectedGroups = n <= 25 ? 0 : Math.ceil((n - 25) / 24);
      expect(groups, `${n} verbs`).toEqual(['more', 'more2', 'more3', 'more4'].slice(0, expectedGroups));
      expect(grown.body.options, `${n} verbs`).toHaveLength(Math.min(n, 25));
    }
    // 30 verbs: 24 at the top, 6 in `more`.
    const thirty = subcommandsOf(slashLayout(verbsOf(30)).body);
    expect(thirty.filter((s) => s.group === 'more').map((s) => s.name)).toEqual(['verb24', 'verb25', 'verb26', 'verb27', 'verb28', 'verb29']);
    // 60: 23 at the top, `more` full, `more2` the rest.
    const sixty = subcommandsOf(slashLayout(verbsOf(60)).body);
    expect(sixty.filter((s) => s.group === undefined)).toHaveLength(23);
    expect(sixty.filter((s) => s.group === 'more')).toHaveLength(25);
    expect(sixty.filter((s) => s.group === 'more2')).toHaveLength(12);
  });

  it('names its group around a verb called `more`, and leaves to messages only what truly cannot fit (saying which)', () => {
    const withMore = [{ verb: 'more', summary: 'a verb named more', positionals: [], options: [] }, ...verbsOf(29)];
    const grown = slashLayout(withMore);
    expect(grown.skipped).toEqual([]);
    expect(grown.verbs.get('more')?.group).toBeUndefined();
    expect(grown.verbs.get('verb23')?.group).toBe('more2');
    expect(subcommandsOf(grown.body).filter((s) => s.group === undefined)).toHaveLength(24);

    // A verb Discord cannot name is left to messages.
    expect(slashLayout([...verbsOf(3), { verb: 'Bad Verb', summary: 'x', positionals: [], options: [] }]).skipped).toEqual(['Bad Verb']);
    // More verbs than Discord's size cap can hold, even bare: the last ones give way, the command still registers.
    const huge = slashLayout(verbsOf(400, 'x'.repeat(120)));
    expect(commandChars(huge.body)).toBeLessThanOrEqual(MAX_COMMAND_CHARS);
    expect(huge.skipped.length).toBeGreaterThan(0);
    expect(huge.skipped.at(-1)).toBe('verb399');
    expect(subcommandsOf(huge.body).length + huge.skipped.length).toBe(400);
  });

  it('builds the command line the grammar reads back, free text byte for byte', () => {
    const prompt = '  "quoted" \'single\' -- --agent x\n\ttab `code` \\ end ';
    const send = layout.verbs.get('send')!;
    const line = commandLine(send, (name) => ({ name: 'kumo', agent: 'plan b', prompt })[name]);
    expect(parseCommandLine(line, allCommands)).toEqual({ verb: 'send', args: { name: 'kumo' }, options: { agent: 'plan b' }, text: prompt });

    const created = commandLine(layout.verbs.get('new')!, (name) => ({ server: 'http://127.0.0.1:4096', dir: '/home/me/my app', title: 'say "hi"' })[name]);
    expect(parseCommandLine(created, allCommands)).toEqual({
      verb: 'new',
      args: { server: 'http://127.0.0.1:4096' },
      options: { dir: '/home/me/my app', title: 'say "hi"' },
    });
    const audit = commandLine(layout.verbs.get('audit')!, (name) => ({ limit: 5 })[name]);
    expect(parseCommandLine(audit, allCommands)).toEqual({ verb: 'audit', args: {}, options: { limit: 5 } });
  });
});

describe('message commands', () => {
  it('takes the prefix (any case) or a leading mention, and leaves the rest exactly as typed', () => {
    expect(commandText('!sb send kumo  two  spaces\n', '!sb', '99')).toBe('send kumo  two  spaces\n');
    expect(commandText('!SB help', '!sb', '99')).toBe('help');
    expect(commandText('!sb', '!sb', '99')).toBe('help');
    expect(commandText('<@99> status kumo', '!sb', '99')).toBe('status kumo');
    expect(commandText('<@!99>\nstatus kumo', '!sb', '99')).toBe('status kumo');
    expect(commandText('!sbx help', '!sb', '99')).toBeUndefined();
    expect(commandText('hello !sb help', '!sb', '99')).toBeUndefined();
    expect(commandText('<@98> help', '!sb', '99')).toBeUndefined();
  });
});

describe('reply handles and delivery errors', () => {
  it('round-trips reply handles and ignores foreign ones', () => {
    const handles: ReplyHandle[] = [
      { kind: 'interaction', applicationId: '1190000000000000001', token: 'aW50ZXJhY3Rpb24.abc-_DEF', channelId: '1191168914227200002', deferred: 'reply' },
      { kind: 'interaction', applicationId: '1190000000000000001', token: 'tok', channelId: '1191168914227200002', deferred: 'update' },
      { kind: 'message', channelId: '1191168914227200002', messageId: '1191168914227200099' },
    ];
    for (const handle of handles) expect(decodeReplyHandle(encodeReplyHandle(handle))).toEqual(handle);
    expect(decodeReplyHandle('https://hooks.slack.com/x')).toBeUndefined();
    expect(decodeReplyHandle(undefined)).toBeUndefined();
  });

  it('maps Discord failures to what the outbox should do', () => {
    const limited = new RateLimitError({
      timeToReset: 30_000, limit: 5, method: 'POST', hash: 'h', url: 'u', route: '/channels/:id/messages', majorParameter: '1',
      global: false, retryAfter: 30_000, sublimitTimeout: 0, scope: 'user',
    });
    expect(toDeliveryError(limited, 'm')).toMatchObject({ retryAfterMs: 30_000, permanent: false });
    const unknownChannel = new DiscordAPIError({ message: 'Unknown Channel', code: 10003 }, 10003, 404, 'POST', 'https://x/webhooks/1/SECRET', {});
    const failure = toDeliveryError(unknownChannel, 'm');
    expect(failure.permanent).toBe(true);
    expect(failure.message).not.toContain('SECRET');
    expect(toDeliveryError(new HTTPError(502, 'Bad Gateway', 'POST', 'u', {}), 'm').permanent).toBe(false);
    expect(toDeliveryError(new Error('socket hang up'), 'm').permanent).toBe(false);
  });
});
