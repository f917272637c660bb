import { ApplicationCommandOptionType, type APIApplicationCommandOption } from 'discord-api-types/v10';
import { describe, expect, it } from 'vitest';
import { decodeVerbatim, readInertMentions } from '../../adapters/discord/render/markdown.js';
import { useOpencodeWorld } from '../helpers/opencode-world.js';
import type { TwinMessage } from '../twins/discord/index.js';
import { ADMIN, ALICE, BLOCKED, BOB, BOTTY, EVE, OTHER, ROLEY, WORK, discordCodeBlocks, pingProblems, startHarness, type Harness } from './harness.js';

/**
 * Every verb as a `!sb` message and as `/sb`, through the real discord.js client against the Discord twin, the
 * real core on SQLite, and a real `opencode` server driven by the scripted fake LLM. Threads are off here (the
 * default); threads.test.ts covers the thread per name.
 */
let h: Harness;

const world = useOpencodeWorld(async ({ server }, keep) => {
  h = keep(await startHarness({ servers: { lab: server.url }, env: { WEB_PORT: '0' } }));
  await h.warmUp('lab');
});

/** The buttons on a message, in order. */
function buttonsOf(message: TwinMessage): Array<{ label: string; custom_id: string; style: number }> {
  return (message.components as unknown as Array<{ components?: Array<{ label: string; custom_id: string; style: number }> }>).flatMap((row) => row.components ?? []);
}

/** The final report of a watched name, posted by the monitor when the agent goes idle. */
/** `/sb send` as Alice; its echo shows the prompt itself in one code block, nothing attached. Returns the rest of the echo too. */
async function sendShownExactly(name: string, prompt: string): Promise<{ echo: TwinMessage; rest: string }> {
  const echo = await h.answer(await h.slash(ALICE, 'send', { name, prompt }), /📨/);
  const blocks = discordCodeBlocks(echo.content);
  expect(blocks).toHaveLength(1);
  expect(blocks[0]!.shown).toBe(prompt);
  expect(echo.attachments).toEqual([]);
  return { echo, rest: echo.content.replace(blocks[0]!.raw, '') };
}

function finalReport(name: string, after: TwinMessage | string): Promise<TwinMessage> {
  return h.botMessage(after, { text: new RegExp(`📋 \\*\\*${name}\\*\\* (finished|failed)`), timeoutMs: 45_000 });
}

describe('the /sb command', () => {
  it('is registered in the guild with one subcommand per verb (past 24, in the group `more`), options mirroring the grammar', async () => {
    const [command, ...others] = h.discord.registeredCommands(h.env.DISCORD_GUILD_ID);
    expect(others).toEqual([]);
    expect(command!.name).toBe('sb');
    const verbs = h.app.switchboard.services.grammar.map((g) => g.verb);
    expect(verbs.length).toBeGreaterThan(25);
    // Discord's 25 options: 24 verbs, then one group holding the rest; every verb reachable, exactly once.
    const top = command!.options!;
    expect(top).toHaveLength(25);
    expect(top.slice(0, 24).map((s) => [s.type, s.name])).toEqual(verbs.slice(0, 24).map((v) => [ApplicationCommandOptionType.Subcommand, v]));
    const more = top[24]!;
    expect(more).toMatchObject({ type: ApplicationCommandOptionType.SubcommandGroup, name: 'more' });
    const grouped = 'options' in more ? (more.options ?? []) : [];
    expect(grouped.map((s) => [s.type, s.name])).toEqual(verbs.slice(24).map((v) => [ApplicationCommandOptionType.Subcommand, v]));
    expect(grouped.map((s) => s.name)).toEqual(expect.arrayContaining(['dashboard', 'schedule', 'schedules', 'unschedule', 'budget']));
    const subcommands = [...top.slice(0, 24), ...grouped];
    expect(subcommands.map((s) => s.name)).toEqual(verbs);
    expect(h.logger.lines.filter((l) => l.includes('work as messages only'))).toEqual([]);
    const sub = (name: string) => subcommands.find((s) => s.name === name) as APIApplicationCommandOption & { options: Array<Record<string, unknown>> };
    expect(sub('send').options).toEqual([
      expect.objectContaining({ name: 'name', type: ApplicationCommandOptionType.String, required: true, autocomplete: true }),
      expect.objectContaining({ name: 'agent', type: ApplicationCommandOptionType.String, required: false }),
      expect.objectContaining({ name: 'now', type: ApplicationCommandOptionType.Boolean, required: false }),
      expect.objectContaining({ name: 'prompt', type: ApplicationCommandOptionType.String, required: false, max_length: 6000 }),
      expect.objectContaining({ name: 'file', type: ApplicationCommandOptionType.Attachment, required: false }),
    ]);
    // Discord wants required options first: `new [name] <server>` registers server before name.
    expect(sub('new').options.map((o) => `${String(o.name)}${o.required ? '!' : ''}`)).toEqual(['server!', 'name', 'agent', 'model', 'dir', 'title', 'worktree']);
    expect(sub('new').options.find((o) => o.name === 'name')).not.toHaveProperty('autocomplete');
    expect(sub('audit').options.find((o) => o.name === 'limit')).toMatchObject({ type: ApplicationCommandOptionType.Integer });
    // More verbs than Discord's 25 choices: `help <command>` suggests them as typed.
    expect(sub('help').options[0]).toMatchObject({ name: 'command', autocomplete: true });
    expect(sub('schedule').options.map((o) => `${String(o.name)}${o.required ? '!' : ''}`)).toEqual(['when!', 'command!', 'tz', 'queue', 'catch-up']);
    expect(sub('dashboard').options).toEqual([expect.objectContaining({ name: 'name', required: false, autocomplete: true })]);
    for (const verb of ['status', 'todo', 'last', 'watch', 'unwatch', 'abort', 'approve', 'deny', 'forget', 'budget']) {
      expect(sub(verb).options.find((o) => o.name === 'name'), verb).toMatchObject({ autocomplete: true, required: true });
    }
    // The client asked for exactly the intents message commands need.
    expect((await h.discord.waitForIdentify()).intentNames.sort()).toEqual(['GuildMessages', 'Guilds', 'MessageContent']);
  });
});

describe('every command, by message and by slash command', () => {
  it('gives the fleet page link only privately: ephemeral to /sb, never into the channel for a !sb message', async () => {
    const slash = await h.slash(ALICE, 'more dashboard');
    const link = await slash.waitForFollowUp();
    expect(link.ephemeral).toBe(true);
    expect(link.content).toMatch(/http:\/\/127\.0\.0\.1:\d+\/\?t=[\w.-]+/);
    const asked = await h.say(ALICE, '!sb dashboard');
    const answer = await asked.waitForBotReply();
    expect(answer.content).not.toMatch(/\?t=/);
    expect(answer.content).toContain('Discord can show it only to a slash command');
  });

  it('answers help as a reply to the message, without pinging anyone, and by slash command in place', async () => {
    const asked = await h.say(ALICE, '!sb help');
    const answer = await asked.waitForBotReply();
    expect(answer.replyTo?.messageId).toBe(asked.id);
    expect(answer.content).toContain('**Switchboard commands**');
    for (const verb of ['sessions', 'new', 'attach', 'send', 'status', 'todo', 'last', 'watch', 'unwatch', 'abort', 'approve', 'deny', 'agents', 'forget']) {
      expect(answer.content).toMatch(new RegExp(`^  ${verb} `, 'm'));
    }
    expect(answer.allowedMentions).toEqual({ parse: [], replied_user: false });
    expect(answer.mentions).toEqual({ users: [], roles: [], everyone: false });

    const slash = await h.slash(BOB, 'help', { command: 'send' });
    expect((await slash.waitForAck()).type).toBe(5);
    const reply = await h.answer(slash);
    expect(reply.content).toContain('usage: send <name> [--agent A] [--now] [prompt…]');
    expect(reply.interactionId).toBe(slash.id);
  });

  it('creates sessions with --agent, lists agents and sessions', async () => {
    const created = await (await h.say(ALICE, '!sb new kumo lab --agent build')).waitForBotReply();
    expect(created.content).toMatch(/🆕 \*\*kumo\*\* → OpenCode session `ses_\w+` on lab/);

    const bySlash = await h.answer(await h.slash(BOB, 'new', { name: 'slashy', server: 'lab', agent: 'build', title: 'from slash' }));
    expect(bySlash.content).toMatch(/🆕 \*\*slashy\*\* → OpenCode session `ses_\w+` on lab/);

    const agents = await h.answer(await h.slash(ALICE, 'agents', { server: 'lab' }));
    expect(agents.content).toContain('Agents on lab:');
    expect(agents.content).toContain('build');
    expect((await (await h.say(BOB, '!sb agents lab')).waitForBotReply()).content).toContain('Agents on lab:');

    const listed = await h.answer(await h.slash(ALICE, 'sessions'));
    expect(listed.content).toMatch(/kumo .*opencode on lab/);
    expect(listed.content).toMatch(/slashy .*opencode on lab/);
    expect((await (await h.say(ALICE, '!sb sessions')).waitForBotReply()).content).toMatch(/kumo .*opencode on lab/);

    expect((await (await h.say(ALICE, '!sb watch kumo 5m')).waitForBotReply()).content).toContain('👀 watching **kumo** every 5m');
    expect((await h.answer(await h.slash(ALICE, 'unwatch', { name: 'kumo' }))).content).toContain('🙈 no longer watching **kumo**');
  });

  it('offers agents as buttons when --agent is missing; a press creates the session and retires the buttons', async () => {
    const offer = await (await h.say(ALICE, '!sb new lab')).waitForBotReply();
    expect(offer.content).toMatch(/Which agent should \*\*[a-z]{4}\*\* use on lab\?/);
    const buttons = buttonsOf(offer);
    expect(buttons.map((b) => b.label)).toEqual(['build', 'plan']);
    expect(buttons.every((b) => /^sb:[0-9a-f]+:\d$/.test(b.custom_id) && b.custom_id.length <= 100)).toBe(true);
    const name = /should \*\*([a-z]{4})\*\*/.exec(offer.content)![1]!;

    // The choice is Alice's: Bob's press is refused privately, creates nothing, and leaves the buttons.
    const bobs = await h.discord.channel(WORK).user(BOB).clickButton(offer, buttons[0]!.custom_id);
    const refusal = await bobs.waitForFollowUp();
    expect(refusal.ephemeral).toBe(true);
    expect(refusal.content).toContain(`❌ discord:${BOB} may not pick the agent of ${name}: it belongs to discord:${ALICE}`);
    expect(h.app.switchboard.services.registry.isTaken(name)).toBe(false);
    expect(buttonsOf(h.discord.message(offer.id)!)).toHaveLength(2);

    const press = await h.discord.channel(WORK).user(ALICE).clickButton(offer, buttons[1]!.custom_id);
    expect((await press.waitForAck()).type).toBe(6);
    const created = await h.botMessage(offer, { text: new RegExp(`🆕 \\*\\*${name}\\*\\*`) });
    expect(created.content).toContain('agent plan');
    expect(created.content).toContain(`-# requested by <@${ALICE}>`);
    const retired = await h.discord.waitFor(() => {
      const now = h.discord.message(offer.id);
      return now?.edited ? now : undefined;
    }, { description: 'the offer to lose its buttons' });
    expect(retired.components).toEqual([]);
    expect(retired.content).toContain(`✓ **plan** · chosen by <@${ALICE}>`);

    // The same through the slash command: the choice is on the slash command's own answer.
    const slashOffer = await h.answer(await h.slash(BOB, 'new', { server: 'lab' }), /Which agent/);
    const slashButtons = buttonsOf(slashOffer);
    await h.discord.channel(WORK).user(BOB).clickButton(slashOffer, slashButtons[0]!.custom_id);
    const slashName = /should \*\*([a-z]{4})\*\*/.exec(slashOffer.content)![1]!;
    expect((await h.botMessage(slashOffer, { text: new RegExp(`🆕 \\*\\*${slashName}\\*\\*`) })).content).toContain('agent build');
  });

  it('autocompletes names from the registry', async () => {
    const typed = await h.discord.channel(WORK).user(ALICE).autocomplete('sb', { subcommand: 'status', focused: 'name', value: 'ku' });
    // Names picked for earlier tests are random four-letter ones, so another `ku…` may exist: only prefixes match.
    const choices = await typed.waitForChoices();
    expect(choices).toContainEqual({ name: 'kumo', value: 'kumo' });
    for (const choice of choices) expect(choice.name.startsWith('ku')).toBe(true);
    const empty = await h.discord.channel(WORK).user(ALICE).autocomplete('sb', { subcommand: 'forget', focused: 'name', value: '' });
    const all = (await empty.waitForChoices()).map((c) => c.name);
    expect(all).toEqual(expect.arrayContaining(['kumo', 'slashy']));
    expect(all).toEqual([...all].sort());
  });

  it('echoes a hostile prompt inertly: one unbreakable code block, the exact bytes attached, nobody pinged', async () => {
    const prompt =
      'hey @everyone and @here, ping <@123456789012345678> <#456456456456456456> <@&789789789789789789> **bold** ```js\n' +
      'rm -rf /\n```\nand ```` four ```` and ``double`` and `tick` <https://evil.example> [click](https://evil.example) done';
    const asked = await h.say(ALICE, `!sb send kumo ${prompt}`);
    const echo = await asked.waitForBotReply({ text: /📨/ });
    expect(echo.content).toMatch(/^📨 \*\*kumo\*\* ← Alice \(agent build\)\n```\n/);
    const blocks = discordCodeBlocks(echo.content);
    expect(blocks).toHaveLength(1);
    expect(decodeVerbatim(blocks[0]!.shown)).toBe(prompt);
    // Nothing of the prompt is outside the block: the rest is our header and the note.
    expect(echo.content.replace(blocks[0]!.raw, '')).toMatch(/^📨 \*\*kumo\*\* ← Alice \(agent build\)\n\n-# 📎 the exact text is attached as `kumo-text.txt`/);
    expect(echo.attachments.map((a) => a.filename)).toEqual(['kumo-text.txt']);
    expect(echo.attachments[0]!.bytes.equals(Buffer.from(prompt, 'utf8'))).toBe(true);
    expect(echo.allowedMentions).toEqual({ parse: [], replied_user: false });
    expect(echo.mentions).toEqual({ users: [], roles: [], everyone: false });
    expect((await world.llm.waitForRequest('hey @everyone')).lastUserText).toBe(prompt);

    // The agent's answer repeats the mentions: formatting renders, mentions do not.
    const final = await finalReport('kumo', echo);
    expect(final.content).toContain('Done: hey @\u200beveryone and @\u200bhere, ping <\u200b@123456789012345678> <\u200b#456456456456456456> <\u200b@&789789789789789789> **bold**');
    expect(final.flags & 4).toBe(4); // SUPPRESS_EMBEDS: no link preview comes alive
  });

  it('shows a prompt without backtick runs exactly, so copying the block gives the same bytes', async () => {
    const prompt = '@everyone <@123456789012345678> <#456456456456456456> <@&789789789789789789> `tick` *it* _x_\n  indented\ttab  \n> quote\n# heading';
    const { echo } = await sendShownExactly('slashy', prompt);
    expect(echo.mentions).toEqual({ users: [], roles: [], everyone: false });
    expect((await world.llm.waitForRequest('@everyone <@1234')).lastUserText).toBe(prompt);
    await finalReport('slashy', echo);
  });

  it('echoes a prompt with bidirectional controls byte for byte, and says they are there in a line of its own', async () => {
    await (await h.say(ALICE, '!sb new bidi lab --agent build')).waitForBotReply({ text: /🆕 \*\*bidi\*\*/ });
    // Displayed, this reads "approve the txt.exe" turned around: the overrides reorder it.
    const prompt = 'approve \u202eexe.txt\u202c and \u2066isolated\u2069 then \u202edone';
    const { echo, rest } = await sendShownExactly('bidi', prompt);
    expect(rest).toContain(
      '⚠️ this prompt contains 2 right-to-left override characters (U+202E), 1 pop directional formatting character (U+202C), ' +
        '1 left-to-right isolate character (U+2066) and 1 pop directional isolate character (U+2069)',
    );
    // The marker is ours: the controls themselves are only inside the code block.
    expect(rest).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect((await world.llm.waitForRequest('approve \u202e')).lastUserText).toBe(prompt);
    await finalReport('bidi', echo);
  });

  it('answers status, todo and last once the agent is done, by message and by slash command', async () => {
    const asked = await h.say(BOB, '!sb send kumo TODO second round');
    const echo = await asked.waitForBotReply({ text: /📨/ });
    await finalReport('kumo', echo);

    const status = await (await h.say(BOB, '!sb status kumo')).waitForBotReply();
    expect(status.content).toContain('💤 idle');
    expect(status.content).toContain('todo 2/4');
    expect((await h.answer(await h.slash(ALICE, 'status', { name: 'kumo' }))).content).toContain('🔄 Fix parse() and run the tests');

    const todo = await h.answer(await h.slash(ALICE, 'todo', { name: 'kumo' }));
    expect(todo.content).toContain('✅ Read the failing test\n✅ Find the bug in parse()\n🔄 Fix parse() and run the tests\n🔲 Update the changelog');
    expect((await (await h.say(ALICE, '!sb todo kumo')).waitForBotReply()).content).toContain('todo 2/4');

    expect((await (await h.say(ALICE, '!sb last kumo')).waitForBotReply()).content).toContain('Done: TODO second round');
    expect((await h.answer(await h.slash(BOB, 'last', { name: 'kumo' }))).content).toContain('Done: TODO second round');
  });

  it('attaches a prompt over 2 000 characters byte for byte, and splits a long output on line boundaries', async () => {
    await h.answer(await h.slash(ALICE, 'new', { name: 'long', server: 'lab', agent: 'build' }));
    const words = Array.from({ length: 1_000 }, (_, i) => `w${i}<@&1>`).join(' ');
    const prompt = `BIG ${words}`.slice(0, 5_000);
    expect(prompt).toHaveLength(5_000);
    const echo = await h.answer(await h.slash(ALICE, 'send', { name: 'long', prompt }), /📨/);
    expect(echo.content).toContain('📎 The full text (5,000 characters) is attached as `long-text.txt`');
    expect(echo.attachments).toHaveLength(1);
    expect(echo.attachments[0]!.bytes.toString('utf8')).toBe(prompt);
    expect((await world.llm.waitForRequest('BIG w0<@&1>')).lastUserText).toBe(prompt);
    await finalReport('long', echo);

    const slash = await h.slash(BOB, 'last', { name: 'long' });
    const first = await h.answer(slash, /^\(1\/3\)/);
    const rest = await h.discord.waitForMessages(2, { channel: WORK, author: 'bot', afterId: first.id, text: /^\([23]\/3\)/ });
    const pieces = [first, ...rest];
    expect(pieces.map((m) => m.content.split('\n')[0])).toEqual(['(1/3)', '(2/3)', '(3/3)']);
    for (const piece of pieces) expect(piece.content.length).toBeLessThanOrEqual(2_000);
    const body = pieces.map((m, i) => m.content.split('\n').slice(i === 0 ? 2 : 1).join('\n')).join('');
    expect(pieces[0]!.content.split('\n')[1]).toBe('**long** latest output:');
    expect(body).not.toContain('<@&1>');
    expect(readInertMentions(body)).toBe(`Done: ${prompt}`);
  });

  it('watches and unwatches, by message and by slash command', async () => {
    expect((await (await h.say(ALICE, '!sb watch kumo 30s')).waitForBotReply()).content).toContain('👀 watching **kumo** every 30s');
    expect((await h.answer(await h.slash(ALICE, 'unwatch', { name: 'kumo' }))).content).toContain('🙈 no longer watching **kumo**');
    expect((await h.answer(await h.slash(BOB, 'watch', { name: 'kumo', interval: '1h' }))).content).toContain('👀 watching **kumo** every 1h');
    expect((await (await h.say(BOB, '!sb unwatch kumo')).waitForBotReply()).content).toContain('🙈 no longer watching **kumo**');
  });

  it('attaches an existing session, aborts its work and forgets it', async () => {
    // Made outside Switchboard, as someone at the server would.
    const made = await fetch(`${world.server.url}/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'by hand' }) });
    const existing = ((await made.json()) as { id: string }).id;
    const attached = await h.answer(await h.slash(ALICE, 'attach', { name: 'adopted', server: 'lab', 'session-id': existing }));
    expect(attached.content).toContain(`🔗 **adopted** → OpenCode session \`${existing}\``);

    const echo = await (await h.say(ALICE, '!sb send adopted HOLD:d-abort wait here')).waitForBotReply({ text: /📨/ });
    await world.llm.waitForRequest('HOLD:d-abort');
    expect((await h.answer(await h.slash(ALICE, 'abort', { name: 'adopted' }))).content).toContain('⏹ abort sent to **adopted**');
    expect((await finalReport('adopted', echo)).content).toContain('❌');
    world.llm.release('d-abort');
    expect((await (await h.say(BOB, '!sb abort kumo')).waitForBotReply()).content).toContain('⏹ abort sent to **kumo**');

    expect((await (await h.say(ADMIN, '!sb forget adopted')).waitForBotReply()).content).toContain(`🗑 forgot **adopted**; its OpenCode session ${existing}`);
    expect((await h.answer(await h.slash(ADMIN, 'forget', { name: 'long' }))).content).toContain('🗑 forgot **long**');
  });

  it('queues a send to a busy name, and `/sb send` with `now` interrupts the run and goes first', async () => {
    // Bob's, as kumo's work was before: the next test answers kumo's permissions as its last sender.
    const echo = await (await h.say(BOB, '!sb send kumo HOLD:d-now slow work')).waitForBotReply({ text: /📨/ });
    await world.llm.waitForRequest('HOLD:d-now');
    const queued = await (await h.say(BOB, '!sb send kumo after the urgent one')).waitForBotReply({ text: /📨/ });
    expect(queued.content).toContain('queued, runs after the current run (position 1)');
    const urgent = await h.answer(await h.slash(BOB, 'send', { name: 'kumo', now: true, prompt: 'urgent from discord' }), /📨/);
    expect(urgent.content).toContain('interrupting the current run; runs as soon as it has stopped');
    expect((await finalReport('kumo', echo)).content).toContain('❌');
    world.llm.release('d-now');
    const first = await h.botMessage(urgent, { text: /📋 \*\*kumo\*\* finished[\s\S]*urgent from discord/, timeoutMs: 45_000 });
    expect((await h.botMessage(first, { text: /📋 \*\*kumo\*\* finished[\s\S]*after the urgent one/, timeoutMs: 45_000 })).content).toContain('Done: after the urgent one');
  });

  it('says clearly when there is no permission request to approve or deny', async () => {
    const approve = await h.slash(BOB, 'approve', { name: 'kumo', scope: 'once' });
    const refused = await approve.waitForFollowUp();
    expect(refused.ephemeral).toBe(true);
    expect(refused.content).toContain('❌ **kumo** is not waiting for a permission');
    expect((await (await h.say(BOB, '!sb approve kumo always')).waitForBotReply()).content).toContain('is not waiting for a permission');
    const denied = await (await h.say(BOB, '!sb deny kumo use staging')).waitForBotReply();
    expect(denied.content).toContain('not waiting for a permission or an answer');
    expect((await (await h.slash(BOB, 'deny', { name: 'kumo', message: 'no' })).waitForFollowUp()).content).toContain('not waiting');
    expect((await (await h.say(BOB, '!sb answer kumo Blue')).waitForBotReply()).content).toContain('**kumo** is not asking anything');
  });

  it('shows the audit log, by message and by slash command', async () => {
    const bySlash = await h.answer(await h.slash(ADMIN, 'more audit', { name: 'kumo', limit: 3 }));
    expect(bySlash.content.split('\n').filter((l) => / · discord:\d+ · discord:/.test(l))).toHaveLength(3);
    expect((await (await h.say(BOB, '!sb audit kumo --since 1h')).waitForBotReply()).content).toContain(`discord:${BOB}`);
  });

  it('runs the verbs in the group `more` as the same command lines: /sb more schedules, budget, schedule, unschedule', async () => {
    const none = await h.slash(ALICE, 'more schedules');
    expect((await h.answer(none)).content).toContain('No schedules. Make one with');

    expect((await h.answer(await h.slash(ALICE, 'more budget', { name: 'kumo' }))).content).toMatch(/💸 \*\*kumo\*\* has no budget|💰 budget of \*\*kumo\*\*/);
    expect((await h.answer(await h.slash(ALICE, 'more budget', { name: 'kumo', time: '30m' }))).content).toContain('💰 budget of **kumo** set: ');
    expect((await (await h.say(ALICE, '!sb budget kumo')).waitForBotReply()).content).toContain('💰 budget of **kumo**');

    const made = await h.answer(await h.slash(ALICE, 'more schedule', { when: '6h', command: 'status kumo' }), /⏰ schedule/);
    const id = /⏰ schedule \*\*#(\d+)\*\*/.exec(made.content)![1]!;
    expect(made.content).toContain('status kumo');
    expect((await h.answer(await h.slash(BOB, 'more schedules', { name: 'kumo' }))).content).toContain(`**#${id}**`);
    expect((await h.answer(await h.slash(ALICE, 'more unschedule', { id }))).content).toContain(`#${id}`);
    expect((await h.answer(await h.slash(ALICE, 'more schedules', { name: 'kumo' }))).content).toContain('No schedules for **kumo**');
    expect((await h.answer(await h.slash(BOB, 'help', { command: 'schedule' }))).content).toContain('usage: schedule');
  });

  it('autocompletes names inside the group, and verbs for help', async () => {
    const typed = await h.discord.channel(WORK).user(ALICE).autocomplete('sb', { group: 'more', subcommand: 'budget', focused: 'name', value: 'ku' });
    expect(await typed.waitForChoices()).toContainEqual({ name: 'kumo', value: 'kumo' });
    const dashboard = await h.discord.channel(WORK).user(ALICE).autocomplete('sb', { group: 'more', subcommand: 'dashboard', focused: 'name', value: 'slas' });
    expect(await dashboard.waitForChoices()).toEqual([{ name: 'slashy', value: 'slashy' }]);
    const verbs = await h.discord.channel(WORK).user(ALICE).autocomplete('sb', { subcommand: 'help', focused: 'command', value: 'sched' });
    expect(await verbs.waitForChoices()).toEqual([
      { name: 'schedule', value: 'schedule' },
      { name: 'schedules', value: 'schedules' },
      { name: 'unschedule', value: 'unschedule' },
    ]);
  });
});

describe('mistakes and refusals', () => {
  it('answers a bad message command in the channel and a bad slash command privately', async () => {
    const typo = await (await h.say(ALICE, '!sb sned kumo hi')).waitForBotReply();
    expect(typo.content).toContain('❌ unknown command `sned` (did you mean `send`?)');

    const slash = await h.slash(ALICE, 'status', { name: 'kuma' });
    const refusal = await slash.waitForFollowUp();
    expect(refusal.ephemeral).toBe(true);
    expect(refusal.content).toMatch(/^❌ .*kuma/);
    expect(refusal.content).toContain('kumo');
    // The public "thinking…" went away; only the person who typed it sees the mistake.
    expect(slash.reply()?.deleted).toBe(true);
  });

  it('tells people and channels that are not allowed how to get allowed, and lets a role in', async () => {
    const eve = await (await h.say(EVE, '!sb send kumo hi')).waitForBotReply();
    expect(eve.content).toContain(`❌ discord:${EVE} may not use \`send\`: it needs the member role`);
    expect(eve.content).toContain('DISCORD_ALLOWED_USERS or DISCORD_ALLOWED_ROLES');
    const eveSlash = await (await h.slash(EVE, 'sessions')).waitForFollowUp();
    expect(eveSlash.ephemeral).toBe(true);
    expect(eveSlash.content).toContain(`discord:${EVE} may not use \`sessions\``);

    // Allowed through DISCORD_ALLOWED_ROLES only.
    expect((await h.answer(await h.slash(ROLEY, 'sessions'))).content).toMatch(/kumo .*opencode on lab/);

    const blocked = await (await h.say(ADMIN, '!sb help', BLOCKED)).waitForBotReply();
    expect(blocked.content).toContain(`❌ this channel (${BLOCKED}) may not command Switchboard`);
    expect(blocked.content).toContain(`an admin can add ${BLOCKED} to DISCORD_ALLOWED_CHANNELS`);
    const blockedSlash = await (await h.slash(ALICE, 'help', {}, BLOCKED)).waitForFollowUp();
    expect(blockedSlash.ephemeral).toBe(true);
    expect(blockedSlash.content).toContain('DISCORD_ALLOWED_CHANNELS');

    // OTHER is allowed too.
    expect((await (await h.say(BOB, '!sb help send', OTHER)).waitForBotReply()).content).toContain('usage: send');
  });

  it('ignores other bots, its own messages and messages without the prefix', async () => {
    const ignored = await h.say(BOTTY, '!sb help');
    await h.say(ALICE, 'just chatting about !sb');
    await h.say(ALICE, '!sbhelp');
    const marker = await h.say(ALICE, '!sb help status');
    const reply = await marker.waitForBotReply();
    expect(reply.content).toContain('usage: status');
    expect(h.discord.messages({ channel: WORK, author: 'bot', afterId: ignored.id }).filter((m) => m.seq < reply.seq)).toEqual([]);
  });
});

describe('delivery', () => {
  it('rides out a 429 on message posting: each reply once, in order', async () => {
    const failure = h.discord.failNext('POST /channels/:id/messages', { status: 429, retryAfterSec: 0.3 });
    const first = await h.say(ALICE, '!sb help todo');
    await h.say(ALICE, '!sb help last');
    const replies = await h.discord.waitForMessages(2, { channel: WORK, author: 'bot', afterId: first.id, text: /usage: (todo|last)/ });
    expect(replies.map((m) => /usage: (\w+)/.exec(m.content)![1])).toEqual(['todo', 'last']);
    await h.discord.waitForRestCall({ route: 'POST /channels/:id/messages', predicate: (c) => c.injected && c.status === 429 });
    expect(failure).toBeDefined();
    const after = h.discord.messages({ channel: WORK, author: 'bot', afterId: first.id, text: /usage: (todo|last)/ });
    expect(after).toHaveLength(2);
  });

  it('hands a long rate limit back to the outbox, which waits it out and delivers once', async () => {
    h.discord.failNext('POST /channels/:id/messages', { status: 429, retryAfterSec: 5.5 });
    const asked = await h.say(ALICE, '!sb help forget');
    const reply = await asked.waitForBotReply({ timeoutMs: 30_000 });
    expect(reply.content).toContain('usage: forget');
    expect(reply.createdAt - asked.createdAt).toBeGreaterThanOrEqual(5_000);
    expect(h.logger.lines.some((l) => l.startsWith('warn outbox: delivery failed, will retry') && l.includes('rate limited by Discord'))).toBe(true);
    const second = await h.say(ALICE, '!sb help watch');
    await second.waitForBotReply();
    expect(h.discord.messages({ channel: WORK, author: 'bot', afterId: asked.id, text: /usage: forget/ })).toHaveLength(1);
  });

  it('still answers when it may not reply to the message (no Read Message History)', async () => {
    h.discord.failNext('POST /channels/:id/messages', { status: 403, code: 160002, message: 'Cannot reply without permission to read message history' });
    const asked = await h.say(BOB, '!sb help todo');
    const answer = await asked.waitForBotReply();
    expect(answer.content).toContain('usage: todo');
    expect(answer.replyTo).toBeNull();
  });

  it('resumes a reply split over messages where it stopped, when a post fails half-way', async () => {
    await h.answer(await h.slash(ALICE, 'new', { name: 'resume', server: 'lab', agent: 'build' }));
    const prompt = `LONG ${Array.from({ length: 800 }, (_, i) => `word${i}`).join(' ')}`.slice(0, 4_500);
    await finalReport('resume', await h.answer(await h.slash(ALICE, 'send', { name: 'resume', prompt }), /📨/));
    // The first part replaces "thinking…"; the second is a channel post that fails past discord.js's own retries.
    const failure = h.discord.failNext('POST /channels/:id/messages', { status: 500, count: 4 });
    const slash = await h.slash(ALICE, 'last', { name: 'resume' });
    const first = await h.answer(slash, /^\(1\/3\)/);
    const rest = await h.discord.waitForMessages(2, { channel: WORK, author: 'bot', afterId: first.id, text: /^\([23]\/3\)/ });
    expect(failure.hits).toBe(4);
    expect(rest.map((m) => m.content.split('\n')[0])).toEqual(['(2/3)', '(3/3)']);
    expect(h.discord.message(first.id)!.editCount).toBe(0);
    expect(h.discord.messages({ channel: WORK, author: 'bot', afterId: first.id, text: /^\(\d\/3\)/ })).toHaveLength(2);
    expect(h.logger.lines.some((l) => l.startsWith('warn outbox: delivery failed, will retry'))).toBe(true);
  });

  it('answers in the channel when the interaction token is no longer accepted', async () => {
    h.discord.failNext('PATCH /webhooks/:app/:token/messages/:message', { status: 401, code: 50027, message: 'Invalid Webhook Token' });
    const before = h.discord.messages().at(-1)!;
    await h.slash(BOB, 'help', { command: 'status' });
    const answer = await h.botMessage(before, { text: /usage: status/ });
    expect(answer.interactionId).toBeNull();
    expect(answer.content).toContain(`-# requested by <@${BOB}>`);
  });

  it('never let a bot message ping anyone', () => {
    expect(pingProblems(h.discord)).toEqual([]);
    expect(h.discord.problems()).toEqual([]);
    expect(h.logger.lines.filter((l) => l.startsWith('error'))).toEqual([]);
  });
});
