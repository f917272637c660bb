import { afterAll, beforeAll } from 'vitest';
import { startConsoleBot, type ConsoleBot } from '../helpers/console-bot.js';
import { matrixCells } from './cells.js';
import { consoleDoor, writeConsoleConfig, type Door } from './doors.js';
import { POST_KINDS, verbMatrix } from './matrix.js';
import { startWorld, type World } from './world.js';

/**
 * Every verb through the console: the real bot process (`src/cli.ts`, as `npm start` runs it) with its stdin and
 * stdout as pipes, one bot and one OpenCode server for the file. The terminal shows choices as numbered lines
 * where a chat shows buttons; the local user is an admin.
 */
let world: World;
let bot: ConsoleBot;
let door: Door;

beforeAll(async () => {
  world = await startWorld('console');
  writeConsoleConfig(world.root, world.servers, world.yaml);
  bot = await startConsoleBot({ cwd: world.root });
  await world.warm;
  door = consoleDoor(bot);
}, 180_000);

afterAll(async () => {
  await bot?.end().catch(() => undefined);
  await world?.stop();
});

verbMatrix('console', matrixCells(() => ({ door, world })), { kinds: POST_KINDS });
