import {
  ActionRowBuilder,
  ButtonBuilder,
  ButtonStyle,
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  MessageFlags,
  Routes,
  SlashCommandBuilder,
  StringSelectMenuBuilder,
  type ChatInputCommandInteraction,
  type Message,
} from 'discord.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InteractionFailedError, startDiscordTwin, testSnowflake, type DiscordTwin } from './index.js';

/**
 * The real discord.js 14 client against the twin, with a small bot written inline. One client logs in for the
 * whole file: @discordjs/ws spaces identifies ~5 s apart (max_concurrency 1), and every reconnect test here must
 * get by with RESUME, which does not identify.
 */

const GUILD = testSnowflake(1);
const GENERAL = testSnowflake(2);
const OPS = testSnowflake(3);
const ALICE = testSnowflake(10);
const BOB = testSnowflake(11);
const OPS_ROLE = testSnowflake(20);
const DEADLINE_MS = 400;

/**
 * What the inline bot saw (its own echoes, the API errors it caught). The twin cannot see the bot's side, so
 * waits on it are driven by the bot's handlers calling `changed()`.
 */
class BotSide {
  ownEchoes = 0;
  readonly errors: DiscordAPIError[] = [];
  private readonly listeners = new Set<() => void>();

  changed(): void {
    for (const listener of [...this.listeners]) listener();
  }

  until<T>(probe: () => T | undefined, description: string, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for the bot: ${description}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }
}

/** Lets a test decide when the bot's handler continues, instead of the bot sleeping a guessed amount. */
class Gates {
  private readonly opened = new Set<string>();
  private readonly waiting = new Map<string, () => void>();

  wait(name: string): Promise<void> {
    if (this.opened.delete(name)) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(name, resolve));
  }

  open(name: string): void {
    const resolve = this.waiting.get(name);
    if (resolve) {
      this.waiting.delete(name);
      resolve();
    } else {
      this.opened.add(name);
    }
  }
}

const sb = new SlashCommandBuilder()
  .setName('sb')
  .setDescription('Switchboard')
  .addSubcommand((s) =>
    s
      .setName('send')
      .setDescription('Relay a prompt')
      .addStringOption((o) => o.setName('name').setDescription('Session name').setRequired(true).setAutocomplete(true))
      .addStringOption((o) => o.setName('prompt').setDescription('What to send').setRequired(true)),
  )
  .addSubcommand((s) =>
    s
      .setName('status')
      .setDescription('Show progress')
      .addStringOption((o) => o.setName('name').setDescription('Session name').setRequired(true)),
  )
  .addSubcommand((s) => s.setName('whoami').setDescription('Show your roles'))
  .addSubcommand((s) =>
    s
      .setName('assign')
      .setDescription('Hand a session over')
      .addUserOption((o) => o.setName('who').setDescription('New owner').setRequired(true))
      .addChannelOption((o) => o.setName('where').setDescription('Where to report')),
  );

describe('discord.js 14 against the Discord twin', () => {
  let discord: DiscordTwin;
  let client: Client;
  const gates = new Gates();
  const bot = new BotSide();
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  const recordError = (error: unknown) => {
    if (error instanceof DiscordAPIError) bot.errors.push(error);
    else rejections.push(error);
    bot.changed();
  };

  async function onMessage(msg: Message): Promise<void> {
    // Discord echoes the bot's own posts; a bot that answers them talks to itself forever.
    if (msg.author.bot) {
      if (msg.author.id === client.user?.id) bot.ownEchoes++;
      bot.changed();
      return;
    }
    if (!msg.inGuild() || !msg.channel.isSendable()) return;
    const [command, ...rest] = msg.content.split(' ');
    const text = rest.join(' ');
    switch (command) {
      case '!ping':
        await msg.reply('pong');
        return;
      case '!announce':
        await msg.channel.send(`announced: ${text}`);
        return;
      case '!burst':
        await Promise.all(['one', 'two', 'three'].map((n) => msg.channel.send(`burst ${n}`)));
        return;
      case '!long':
        await msg.channel.send('x'.repeat(2001)).catch(recordError);
        return;
      case '!file':
        await msg.channel.send({ content: 'log attached', files: [{ attachment: Buffer.from('line 1\nline 2\n'), name: 'run.log' }] });
        return;
      case '!echo':
        await msg.channel.send({ content: `> ${text}`, allowedMentions: { parse: [] } });
        return;
      case '!approve':
        await msg.channel.send({
          content: 'Deploy kumo?',
          components: [
            new ActionRowBuilder<ButtonBuilder>().addComponents(
              new ButtonBuilder().setCustomId('approve').setLabel('Approve').setStyle(ButtonStyle.Success),
              new ButtonBuilder().setCustomId('deny').setLabel('Deny').setStyle(ButtonStyle.Danger),
            ),
          ],
        });
        return;
      case '!pick':
        await msg.channel.send({
          content: 'Which session?',
          components: [
            new ActionRowBuilder<StringSelectMenuBuilder>().addComponents(
              new StringSelectMenuBuilder()
                .setCustomId('session')
                .setPlaceholder('Pick a session')
                .addOptions({ label: 'kumo', value: 'kumo' }, { label: 'hetc', value: 'hetc' }),
            ),
          ],
        });
        return;
      case '!thread': {
        const thread = await msg.startThread({ name: text || 'work' });
        await thread.send('step 1 of 2');
        return;
      }
    }
  }

  async function onSlash(interaction: ChatInputCommandInteraction): Promise<void> {
    const name = interaction.options.getSubcommand();
    if (name === 'send') {
      await interaction.deferReply();
      await gates.wait('send');
      await interaction.editReply(`sent to ${interaction.options.getString('name', true)}: ${interaction.options.getString('prompt', true)}`);
    } else if (name === 'status') {
      await gates.wait('status');
      await interaction.reply(`${interaction.options.getString('name', true)} is idle`).catch(recordError);
    } else if (name === 'whoami') {
      const roles = interaction.inCachedGuild() ? interaction.member.roles.cache.filter((r) => r.id !== GUILD).map((r) => r.name) : [];
      await interaction.reply({ content: `roles: ${roles.join(', ') || 'none'}`, flags: MessageFlags.Ephemeral });
    } else if (name === 'assign') {
      const who = interaction.options.getUser('who', true);
      const where = interaction.options.getChannel('where');
      await interaction.reply(`${who.username} takes over, reporting in ${where?.name ?? 'here'}`);
    }
  }

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    discord = await startDiscordTwin({
      applicationId: testSnowflake(99),
      interactionDeadlineMs: DEADLINE_MS,
      guilds: [
        {
          id: GUILD,
          name: 'Switchboard HQ',
          channels: [
            { id: GENERAL, name: 'general' },
            { id: OPS, name: 'ops' },
          ],
          roles: [{ id: OPS_ROLE, name: 'ops' }],
          members: [
            { id: ALICE, username: 'alice', roles: [OPS_ROLE] },
            { id: BOB, username: 'bob' },
          ],
        },
      ],
    });
    client = new Client({
      intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages, GatewayIntentBits.MessageContent],
      rest: { api: discord.restApi },
    });
    client.on(Events.MessageCreate, (msg) => void onMessage(msg).catch(recordError));
    client.on(Events.InteractionCreate, (interaction) => {
      const run = async () => {
        if (interaction.isAutocomplete()) {
          const typed = interaction.options.getFocused();
          await interaction.respond(['kumo', 'hetc', 'kiwi'].filter((n) => n.startsWith(typed)).map((n) => ({ name: n, value: n })));
        } else if (interaction.isChatInputCommand()) {
          await onSlash(interaction);
        } else if (interaction.isStringSelectMenu()) {
          await interaction.update({ content: `picked ${interaction.values.join(', ')}`, components: [] });
        } else if (interaction.isButton()) {
          if (interaction.customId === 'approve') await interaction.update({ content: `Approved by <@${interaction.user.id}>`, components: [] });
          else await interaction.reply({ content: 'Denied', flags: MessageFlags.Ephemeral });
        }
      };
      void run().catch(recordError);
    });
    const ready = new Promise<void>((resolve) => client.once(Events.ClientReady, () => resolve()));
    await client.login(discord.botToken);
    await ready;
    await client.application!.commands.set([sb.toJSON()], GUILD);
  });

  afterEach(() => {
    // Payload gaps surface as unhandled rejections inside discord.js, not as failed assertions.
    expect(rejections).toEqual([]);
    expect(discord.problems()).toEqual([]);
  });

  afterAll(async () => {
    await client?.destroy();
    await discord?.close();
    process.off('unhandledRejection', onRejection);
  });

  it('logs in over the twin gateway with the intents the bot asked for', async () => {
    const [identify] = discord.identifies();
    expect(identify).toMatchObject({ accepted: true, token: discord.botToken });
    expect(identify!.intentNames).toEqual(['Guilds', 'GuildMessages', 'MessageContent']);
    expect(client.guilds.cache.get(GUILD)?.name).toBe('Switchboard HQ');
    expect(client.channels.cache.get(GENERAL)?.isTextBased()).toBe(true);
    expect(client.application?.id).toBe(discord.applicationId);
    expect(discord.restCalls({ route: 'GET /gateway/bot' })).toHaveLength(1);
    const [command] = discord.registeredCommands(GUILD);
    expect(command).toMatchObject({ name: 'sb', application_id: discord.applicationId, guild_id: GUILD });
    expect(command!.options?.map((o) => o.name)).toEqual(['send', 'status', 'whoami', 'assign']);
  });

  it('answers a ! message with msg.reply and channel.send, and ignores its own echo', async () => {
    const general = discord.channel(GENERAL);
    const echoesBefore = bot.ownEchoes;
    const ping = await general.user(ALICE).sendMessage('!ping');
    const pong = await ping.waitForBotReply();
    expect(pong).toMatchObject({ content: 'pong', replyTo: { messageId: ping.id, channelId: GENERAL }, author: { bot: true } });
    const announce = await general.user(BOB).sendMessage('!announce lunch');
    await announce.waitForBotReply({ text: 'announced: lunch' });
    // The bot got MESSAGE_CREATE for both of its posts and answered neither.
    await bot.until(() => (bot.ownEchoes >= echoesBefore + 2 ? true : undefined), 'the echoes of both bot posts');
    expect(discord.messages({ channel: GENERAL, author: 'bot' })).toHaveLength(2);
    expect(general.transcript()).toMatchInlineSnapshot(`
      "alice: !ping
      bot (reply to alice): pong
      bob: !announce lunch
      bot: announced: lunch"
    `);
  });

  it('accepts a deferred slash command whose editReply comes after the deadline', async () => {
    const ops = discord.channel(OPS);
    const send = await ops.user(ALICE).slash('sb', { subcommand: 'send', options: { name: 'kumo', prompt: 'fix the tests' } });
    expect((await send.waitForAck()).type).toBe(5);
    await send.waitForDeadline();
    gates.open('send');
    const reply = await send.waitForReply();
    expect(reply).toMatchObject({ content: 'sent to kumo: fix the tests', loading: false, edited: false, channelId: OPS });
    const edit = discord.restCalls({ route: 'PATCH /webhooks/:app/:token/messages/:message' }).at(-1);
    expect(edit).toMatchObject({ path: `/webhooks/${discord.applicationId}/${send.token}/messages/@original`, auth: 'none', status: 200 });
    expect(ops.transcript()).toMatchInlineSnapshot(`
      "alice: /sb send name:kumo prompt:fix the tests
      bot: sent to kumo: fix the tests"
    `);
  });

  it('answers a late non-deferred reply with 10062 Unknown interaction', async () => {
    const status = await discord.channel(OPS).user(BOB).slash('sb', { subcommand: 'status', options: { name: 'kumo' } });
    await status.waitForDeadline();
    gates.open('status');
    await expect(status.waitForReply()).rejects.toThrow(InteractionFailedError);
    await bot.until(() => bot.errors.find((e) => e.code === 10062), 'a 10062 error');
    expect(status.state().callbacks).toMatchObject([{ type: 4, status: 404, errorCode: 10062 }]);
    expect(discord.channel(OPS).transcript()).toContain('bob: /sb status name:kumo\nbot (only bob): The application did not respond');
  });

  it('rejects a second acknowledgement with 40060', async () => {
    const whoami = await discord.channel(GENERAL).user(ALICE).slash('sb', { subcommand: 'whoami' });
    const reply = await whoami.waitForReply();
    expect(reply).toMatchObject({ content: 'roles: ops', ephemeral: true });
    const again = client.rest.post(Routes.interactionCallback(whoami.id, whoami.token), { body: { type: 4, data: { content: 'twice' } }, auth: false });
    await expect(again).rejects.toMatchObject({ code: 40060, status: 400 });
  });

  it('records the choices the bot offers for autocomplete', async () => {
    const typing = await discord.channel(GENERAL).user(ALICE).autocomplete('sb', { subcommand: 'send', focused: 'name', value: 'k' });
    expect(await typing.waitForChoices()).toEqual([
      { name: 'kumo', value: 'kumo' },
      { name: 'kiwi', value: 'kiwi' },
    ]);
    expect(typing.state().callbacks).toMatchObject([{ type: 8, status: 204 }]);
  });

  it('delivers button clicks and applies the update and ephemeral answers', async () => {
    const general = discord.channel(GENERAL);
    const ask = await general.user(ALICE).sendMessage('!approve');
    const prompt = await ask.waitForBotReply({ text: 'Deploy kumo?' });
    const deny = await general.user(ALICE).clickButton(prompt, 'deny');
    expect(await deny.waitForReply()).toMatchObject({ content: 'Denied', ephemeral: true });
    const approve = await general.user(BOB).clickButton(prompt, 'approve');
    const updated = await approve.waitForReply();
    expect(updated).toMatchObject({ id: prompt.id, content: `Approved by <@${BOB}>`, components: [], edited: true });
    expect(general.transcript().split('\n').slice(-5).join('\n')).toMatchInlineSnapshot(`
      "alice: !approve
      bot: Approved by @bob (edited)
      alice: clicked [Deny]
      bot (only alice): Denied
      bob: clicked [Approve]"
    `);
  });

  it('resolves user and channel options, and delivers select menu picks', async () => {
    const ops = discord.channel(OPS);
    const assign = await ops.user(ALICE).slash('sb', { subcommand: 'assign', options: { who: BOB, where: GENERAL } });
    expect((await assign.waitForReply()).content).toBe('bob takes over, reporting in general');
    const ask = await ops.user(ALICE).sendMessage('!pick');
    const menu = await ask.waitForBotReply({ text: 'Which session?' });
    const pick = await ops.user(ALICE).selectMenu(menu, 'session', ['hetc']);
    expect(await pick.waitForReply()).toMatchObject({ id: menu.id, content: 'picked hetc', components: [] });
    expect(ops.transcript().split('\n').slice(-3).join('\n')).toMatchInlineSnapshot(`
      "alice: !pick
      bot: picked hetc (edited)
      alice: selected [hetc] in session"
    `);
  });

  it('rejects content over 2000 characters with 50035, as Discord does', async () => {
    const before = bot.errors.length;
    await discord.channel(GENERAL).user(ALICE).sendMessage('!long');
    const error = await bot.until(() => bot.errors.slice(before).find((e) => e.code === 50035), 'a 50035 error');
    expect(error.status).toBe(400);
    expect(error.rawError).toMatchObject({ errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } });
    expect(discord.messages({ text: 'xxxx' })).toEqual([]);
  });

  it('records a file attachment with its name and bytes', async () => {
    const ask = await discord.channel(GENERAL).user(ALICE).sendMessage('!file');
    const posted = await ask.waitForBotReply({ text: 'log attached' });
    expect(posted.attachments.map((a) => a.filename)).toEqual(['run.log']);
    const [file] = discord.files({ channel: GENERAL, uploadedBy: 'bot' });
    expect(file).toMatchObject({ filename: 'run.log', messageId: posted.id, size: 14 });
    expect(file!.bytes.toString()).toBe('line 1\nline 2\n');
    // The attachment URL in the message points back at the twin, so a bot can download files too.
    expect(await (await fetch(posted.attachments[0]!.url)).text()).toBe('line 1\nline 2\n');
  });

  it('retries a 429 once and delivers each message once, in order', async () => {
    const injected = discord.failNext('POST /channels/:id/messages', { retryAfterSec: 0.3 });
    const ask = await discord.channel(OPS).user(ALICE).sendMessage('!burst');
    const delivered = await discord.waitForMessages(3, { channel: OPS, text: /^burst /, afterId: ask.id });
    expect(delivered.map((m) => m.content)).toEqual(['burst one', 'burst two', 'burst three']);
    expect(injected.hits).toBe(1);
    const attempts = discord.restCalls({ route: 'POST /channels/:id/messages', predicate: (c) => String((c.body as { content?: string })?.content).startsWith('burst') });
    expect(attempts.map((c) => [(c.body as { content: string }).content, c.status])).toEqual([
      ['burst one', 429],
      ['burst one', 200],
      ['burst two', 200],
      ['burst three', 200],
    ]);
    const retried = attempts[1]!.at - attempts[0]!.at;
    expect(retried).toBeGreaterThanOrEqual(250);
  });

  it('recovers from op 7 Reconnect with RESUME and still delivers a message sent meanwhile', async () => {
    const fault = discord.forceReconnect();
    // Send while the bot has no socket at all, so only the RESUME replay can deliver it.
    await discord.waitFor(() => (discord.connectionCount() === 0 ? true : undefined), { description: 'the client to close its socket' });
    const ping = await discord.channel(GENERAL).user(BOB).sendMessage('!ping');
    const resumed = await fault.waitForResume();
    expect(resumed).toMatchObject({ accepted: true, replayed: 1 });
    expect(await ping.waitForBotReply()).toMatchObject({ content: 'pong', replyTo: { messageId: ping.id } });
    expect(discord.identifies()).toHaveLength(1);
  });

  it('recovers from a dropped connection with RESUME and replays what it missed', async () => {
    const fault = discord.dropConnection();
    const ping = await discord.channel(GENERAL).user(ALICE).sendMessage('!ping');
    const resumed = await fault.waitForResume();
    expect(resumed.replayed).toBeGreaterThanOrEqual(1);
    await ping.waitForBotReply({ text: 'pong' });
    expect(discord.identifies()).toHaveLength(1);
  });

  it('detects a zombie connection when heartbeats go unacknowledged, and resumes', async () => {
    const fault = discord.stopAcking();
    await fault.waitForResume();
    const ping = await discord.channel(GENERAL).user(ALICE).sendMessage('!ping');
    await ping.waitForBotReply({ text: 'pong' });
    expect(discord.identifies()).toHaveLength(1);
    expect(discord.connectionCount()).toBe(1);
  });

  it('records allowedMentions { parse: [] } so nobody is pinged by an echoed prompt', async () => {
    const ask = await discord.channel(GENERAL).user(ALICE).sendMessage(`!echo @everyone ping <@${BOB}> now`);
    const echoed = await ask.waitForBotReply({ text: '> @everyone' });
    expect(echoed.allowedMentions).toEqual({ parse: [] });
    expect(echoed.mentions).toEqual({ users: [], roles: [], everyone: false });
    const call = discord.restCalls({ route: 'POST /channels/:id/messages' }).at(-1);
    expect(call?.body).toMatchObject({ allowed_mentions: { parse: [] } });
  });

  it('creates a thread from a message and shows it in the transcript', async () => {
    const ops = discord.channel(OPS);
    const ask = await ops.user(ALICE).sendMessage('!thread kumo');
    const thread = await ops.waitForThread({ starterMessageId: ask.id });
    expect(thread).toMatchObject({ id: ask.id, name: 'kumo', parentId: OPS });
    await discord.waitForMessage({ channel: thread.id, text: 'step 1 of 2' });
    expect(client.channels.cache.get(thread.id)?.isThread()).toBe(true);
    expect(ops.transcript().split('\n').slice(-3).join('\n')).toMatchInlineSnapshot(`
      "alice: !thread kumo
        [thread: kumo]
        ↳ bot: step 1 of 2"
    `);
  });
});
