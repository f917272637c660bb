import { afterAll, beforeAll } from 'vitest';
import { startHarness, type Harness } from '../discord/harness.js';
import { matrixCells } from './cells.js';
import { discordDoor, type Door } from './doors.js';
import { POST_KINDS, verbMatrix } from './matrix.js';
import { startWorld, type World } from './world.js';

/**
 * Every verb through Discord: `!sb` messages through the Discord twin and the real discord.js client, one bot and
 * one OpenCode server for the file. Tasks, executors and offload from Discord, their results in the channel.
 */
let world: World;
let h: Harness;
let door: Door;

beforeAll(async () => {
  world = await startWorld('discord');
  h = await startHarness({
    servers: world.servers,
    // Local tasks and offload's rsync run on this machine: they need a HOME and a PATH (tmux, rsync, ssh).
    env: { HOME: world.root },
    yaml: world.yaml,
  });
  await world.warm;
  door = discordDoor(h);
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await world?.stop();
});

verbMatrix('discord', matrixCells(() => ({ door, world })), { kinds: POST_KINDS });
