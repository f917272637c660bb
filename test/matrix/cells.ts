import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, onTestFinished } from 'vitest';
import type { Door } from './doors.js';
import { literal, VERBS, type Cell } from './matrix.js';
import { outsideSession, type World } from './world.js';

/**
 * `first`, then `then` on the same line or one of the next `lines` lines: the header of a post and a line of its body.
 * (The console prints posts one after another with nothing between them, so a pattern names the body it needs.)
 */
function near(first: string, then: string, lines = 2): RegExp {
  return new RegExp(`${first}(?:[^\\n]*\\n){0,${lines}}?[^\\n]*${then}`);
}

/**
 * One cell per verb, the same for every adapter: each types its verb through the door and asserts on what a
 * person then reads there. They run in this order and build on each other as a session would: `new` makes
 * `kumo`, `send` gives it a run, `status`/`todo`/`last` read that run, and so on. Waits for agent work are long
 * (a loaded 2-core machine); a cell never sleeps.
 */
export function matrixCells(get: () => { door: Door; world: World }): Record<string, Cell> {
  // (A getter: the door and the world exist once the file's beforeAll has run, after the cells were defined.)
  return {
    async help() {
      const { door } = get();
      const at = await door.command('help');
      await door.post(at, /Switchboard commands/);
      // (A long listing may come in several posts, as Discord's 2 000 characters cut it: each verb is looked for.)
      for (const verb of VERBS) await door.post(at, new RegExp(`(^|\\n)\\s*${verb}\\s{2,}\\S`));
    },

    async servers() {
      const { door, world } = get();
      const at = await door.command('servers');
      const listing = await door.post(at, /lab http:[^\n]*\n[^\n]*gate http:/);
      expect(listing.text).toContain(world.server.url.replace('http://', ''));
      expect(listing.text).toContain(world.gate.url.replace('http://', ''));
    },

    async agents() {
      const { door } = get();
      const at = await door.command('agents lab');
      const listing = await door.post(at, /• build — /);
      expect(listing.text).toContain('The default agent');
    },

    async new() {
      const { door } = get();
      const at = await door.command('new kumo lab --agent build');
      await door.post(at, near('🆕 kumo → OpenCode session `ses_\\w+` on lab', 'agent build'));
    },

    async send({ saw }) {
      const { door, world } = get();
      onTestFinished(() => world.llm.release('mx-send'));
      const prompt = 'TODO HOLDAFTER:mx-send fix parse() — keep "quotes" & <angles>';
      const at = await door.command(`send kumo ${prompt}`);
      const echo = await door.post(at, near('📨 kumo ← ', literal(prompt)));
      saw('echo');
      // While the run is held after its todo list, the card shows the list.
      const card = await door.post(at, /⚙️ kumo · [^\n]*todo 2\/4/);
      // (A chat shows the checklist on the card; a pipe gets the card's state line only.)
      if (door.adapter !== 'console') expect(card.text).toMatch(/🔄 Fix parse\(\) and run the tests/);
      expect(card.where).toBe(echo.where);
      saw('card');
      world.llm.release('mx-send');
      const final = await door.post(at, near('📋 kumo finished · ✅', `Done: ${literal(prompt)}`, 1));
      expect(final.where).toBe(echo.where);
      saw('final ✅');
      await door.post(at, /⚙️ kumo · finished ✅/);
      expect(door.count(at, /📋 kumo /)).toBe(1);
    },

    async status() {
      const { door } = get();
      const at = await door.command('status kumo');
      await door.post(at, near('kumo · OpenCode on lab · 💤 idle', 'todo 2/4', 3));
    },

    async todo() {
      const { door } = get();
      const at = await door.command('todo kumo');
      await door.post(at, /kumo todo 2\/4\n✅ Read the failing test\n✅ Find the bug in parse\(\)\n🔄 Fix parse\(\) and run the tests\n🔲 Update the changelog/);
    },

    async last() {
      const { door } = get();
      const at = await door.command('last kumo');
      await door.post(at, near('kumo latest output', 'Done: TODO HOLDAFTER:mx-send fix parse\\(\\)'));
    },

    async sessions() {
      const { door } = get();
      const at = await door.command('sessions');
      await door.post(at, /kumo[^\n]*lab/);
      await door.post(at, /kumo[^\n]*idle/);
    },

    async attach() {
      const { door, world } = get();
      const id = await outsideSession(world.server.url, 'made at the TUI');
      const at = await door.command(`attach adopted lab ${id}`);
      await door.post(at, new RegExp(`🔗 adopted → OpenCode session \`${literal(id)}\` on lab \\(“made at the TUI”\\)`));
    },

    async approve({ saw }) {
      const { door } = get();
      const at = await door.command('send kumo BASH say hi');
      const echo = await door.post(at, near('📨 kumo ← ', 'BASH say hi'));
      const ask = await door.post(at, /🔐 kumo asks permission: `bash echo hi-from-bash`/);
      expect(ask.buttons).toEqual(['Approve once', 'Always', 'Deny']);
      expect(ask.where).toBe(echo.where);
      saw('permission buttons');
      const at2 = await door.command('approve kumo');
      await door.post(at2, /✅ approved once for kumo: `bash echo hi-from-bash`/);
      await door.post(at2, near('📋 kumo finished · ✅', 'Done: BASH say hi', 1));
    },

    async deny() {
      const { door } = get();
      const at = await door.command('send kumo BASH not this time');
      await door.post(at, /🔐 kumo asks permission: `bash echo hi-from-bash`/);
      const at2 = await door.command('deny kumo not now');
      await door.post(at2, /🚫 denied for kumo: `bash echo hi-from-bash` \(with your message\)/);
      // A denial with a message reaches the model as the tool's error and the run goes on to one ✅ final.
      await door.post(at2, /📋 kumo finished · ✅/);
      expect(door.count(at, /📋 kumo /)).toBe(1);
    },

    async answer({ saw }) {
      const { door } = get();
      const at = await door.command('send kumo QUESTION pick a color');
      const echo = await door.post(at, near('📨 kumo ← ', 'QUESTION pick a color'));
      const ask = await door.post(at, /❓ kumo asks: Which color\? \(Red \/ Blue\)/);
      expect(ask.buttons.slice(0, 2)).toEqual(['Red', 'Blue']);
      expect(ask.where).toBe(echo.where);
      saw('question buttons');
      const at2 = await door.command('answer kumo Blue');
      await door.post(at2, /💬 answered kumo: Blue/);
      await door.post(at2, near('📋 kumo finished · ✅', 'Done: QUESTION pick a color', 1));
    },

    async abort({ saw }) {
      const { door, world } = get();
      onTestFinished(() => world.llm.release('mx-abort'));
      const at = await door.command('send kumo HOLD:mx-abort wait for me');
      await world.llm.waitForRequest('HOLD:mx-abort');
      // Nothing happens for longer than monitor.stallAfter (4 s): the card says so.
      const stalled = await door.post(at, /⚙️ kumo · stalled ⏳/, 30_000);
      expect(stalled.text).toMatch(/no activity for \d+s|stalled ⏳ · \d+s/);
      saw('stall');
      const at2 = await door.command('abort kumo');
      await door.post(at2, /⏹ abort sent to kumo/);
      await door.post(at2, near('📋 kumo failed · ❌', '❌ aborted'));
      saw('final ❌');
      // (The card is the message posted when the run began, edited since: found from the run's start.)
      await door.post(at, /⚙️ kumo · failed ❌/);
    },

    async watch({ saw }) {
      const { door, world } = get();
      let at = await door.command('new gated gate --agent build');
      await door.post(at, /🆕 gated → /);
      at = await door.command('watch gated');
      await door.post(at, /👀 watching gated every 2s/);
      await world.gate.down();
      try {
        const down = await door.post(at, /⚠️ server gate is unreachable \(.*\); watching gated resumes when it is back\./, 30_000);
        expect(down.text).not.toContain('kumo');
        saw('unreachable');
      } finally {
        await world.gate.up();
      }
      await door.post(at, /✅ server gate is back; watching gated again\./, 30_000);
      saw('back');
      expect(door.count(at, /⚠️ server gate is unreachable/)).toBe(1);
    },

    async unwatch() {
      const { door } = get();
      const at = await door.command('unwatch gated');
      await door.post(at, /🙈 no longer watching gated/);
    },

    async forget() {
      const { door } = get();
      const at = await door.command('forget gated', 'admin');
      await door.post(at, /🗑 forgot gated; its OpenCode session ses_\w+ on gate was left untouched/);
      const at2 = await door.command('sessions');
      const listing = await door.post(at2, /kumo/);
      expect(listing.text).not.toContain('gated');
    },

    async executors() {
      const { door } = get();
      const at = await door.command('executors');
      const shown = await door.post(at, /crib[^]*reachable|local[^]*crib/);
      expect(shown.text).toMatch(/✅ local \(local\)[^\n]*reachable/);
      expect(shown.text).toMatch(/✅ crib \(ssh\)[^\n]*reachable/);
    },

    async start({ saw }) {
      const { door, world } = get();
      const at = await door.command(`start local --name bake --workspace "${world.workspace}" bake the bread`);
      const started = await door.post(at, near(`🤖 task bake started on local in ${literal(world.workspace)}`, 'bake the bread'));
      const final = await door.post(at, near('📋 bake finished · ✅', 'Done: bake the bread', 1), 90_000);
      expect(final.where).toBe(started.where);
      saw('task finished');
      await door.post(at, /⚙️ bake · finished ✅/);
      expect(door.count(at, /📋 bake /)).toBe(1);
    },

    async run({ saw }) {
      const { door, world } = get();
      const at = await door.command(`run local --name build --workspace "${world.workspace}" -- printf 'hello %s\\n' "$(basename "$PWD")"; exit 3`);
      const started = await door.post(at, /⚙️ task build started on local/);
      const final = await door.post(at, near('📋 build failed · ❌[^\\n]*exit 3', 'hello work space', 1), 60_000);
      expect(final.where).toBe(started.where);
      saw('task failed');
      expect(door.count(at, /📋 build /)).toBe(1);
    },

    async tasks() {
      const { door } = get();
      const at = await door.command('tasks');
      await door.post(at, /✅ bake +· claude on local · succeeded[^\n]*\n❌ build +· shell on local · failed/);
    },

    async logs() {
      const { door } = get();
      const at = await door.command('logs build --lines 5');
      await door.post(at, near('build · last \\d+ lines', 'hello work space'));
    },

    async kill() {
      const { door, world } = get();
      const at = await door.command(`run local --name nap --workspace "${world.workspace}" -- sleep 120`);
      await door.post(at, /⚙️ task nap started on local/);
      const at2 = await door.command('kill nap');
      await door.post(at2, /⏹ killed task nap on local \(and every process it started\)/, 30_000);
      await door.post(at2, /📋 nap failed|📋 nap [^\n]*killed/);
    },

    async offload({ saw }) {
      const { door, world } = get();
      const at = await door.command(`offload crib --name ship --workspace "${world.project}" say hello from afar`, 'admin');
      await door.post(at, new RegExp(`📦 offloading ${literal(world.project)} to crib as ship…`));
      await door.post(at, /📦 ship: workspace \d+% · [^\n]*sent · \d+ B/);
      saw('offload progress');
      await door.post(at, near('📦 ship offloaded to crib: ', '`offload --back ship` brings the changes home', 4), 60_000);
      // The workspace went over, its .env stayed home. (The offloaded run itself goes on on crib; `start` and
      // `run` already saw task results arrive.)
      expect(existsSync(join(world.root, 'remote', 'project', 'main.py'))).toBe(true);
      expect(existsSync(join(world.root, 'remote', 'project', '.env'))).toBe(false);
    },

    async audit() {
      const { door } = get();
      // An admin reads everyone's rows: the member's sends and kills, the admin's own offload.
      const at = await door.command('audit', 'admin');
      // (A long listing may come in several numbered posts: each line is looked for on its own.)
      await door.post(at, /· send kumo: “BASH say hi” · ✅/);
      await door.post(at, /· kill nap · ✅/);
      await door.post(at, /· offload ship: “say hello from afar” · ✅/);
    },

    async schedule({ saw }) {
      const { door, world } = get();
      // Every 4 seconds (a fire posts three messages; Slack takes one a second per channel), spelled without
      // asterisks: the doors read text with bold markers (and so every `*`) removed.
      const at = await door.command(`schedule "0-59/4 0-59 0-23 1-31 1-12 0-6" run local --name tick --workspace "${world.workspace}" -- echo scheduled-$((40+2))`);
      await door.post(at, /⏰ schedule #1 · cron `0-59\/4 0-59 0-23 1-31 1-12 0-6` \S+ · next [^\n]* · runs as /);
      // Each fire is the member's own `run`, here: the task starts and posts its final; the next fire reuses the name.
      await door.post(at, near('📋 tick finished · ✅', 'scheduled-42', 1), 60_000);
      // The run's card names its schedule (a chat shows the card whole; a pipe gets its state line only).
      if (door.adapter !== 'console') await door.post(at, /⚙️ tick · [^]*⏰ schedule #1 · cron `0-59\/4 0-59 0-23 1-31 1-12 0-6` \S+ · next /);
      const deadline = Date.now() + 60_000;
      while (door.count(at, /📋 tick finished · ✅/) < 2) {
        if (Date.now() > deadline) throw new Error(`one scheduled run of tick finished in 60 s, not two`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      saw('schedule fired');
    },

    async schedules() {
      const { door } = get();
      const at = await door.command('schedules');
      await door.post(at, /#1 · cron `0-59\/4 0-59 0-23 1-31 1-12 0-6` [^\n]*`run local --name tick [^\n]*· last: (ran tick|skipped: tick was busy)/);
    },

    async budget() {
      const { door } = get();
      const at = await door.command('budget kumo --cost 5 --time 30m');
      await door.post(at, /💰 budget of kumo set: 5\.00 USD · 30m for each run, the current one included/);
      const at2 = await door.command('budget kumo');
      await door.post(at2, /💰 budget of kumo: 5\.00 USD · 30m for each run \(set for kumo\)/);
    },

    async dashboard() {
      const { door } = get();
      // The matrix runs without WEB_PORT: the refusal, for the asker, says what to set where.
      const at = await door.command('dashboard');
      await door.answer(at, /❌ the fleet page is off: this bot has no WEB_PORT\nan operator sets WEB_PORT/);
    },

    async unschedule() {
      const { door } = get();
      const at = await door.command('unschedule 1');
      await door.post(at, /🗑 schedule #1 removed; it will not run `run local --name tick /);
      const at2 = await door.command('schedules');
      await door.post(at2, /No schedules\./);
    },
  };
}
