import { afterAll, beforeAll } from 'vitest';
import { startHarness, type Harness } from '../slack/harness.js';
import { matrixCells } from './cells.js';
import { slackDoor, type Door } from './doors.js';
import { POST_KINDS, verbMatrix } from './matrix.js';
import { startWorld, type World } from './world.js';

/**
 * Every verb through Slack: `/sb` through the Slack twin and the real Bolt app (HTTP receiver), one bot and one
 * OpenCode server for the file. Tasks, executors and offload from Slack, their results in the thread they opened.
 */
let world: World;
let h: Harness;
let door: Door;

beforeAll(async () => {
  world = await startWorld('slack');
  h = await startHarness({
    mode: 'http',
    servers: world.servers,
    // Local tasks and offload's rsync run on this machine: they need a HOME and a PATH (tmux, rsync, ssh).
    env: { HOME: world.root },
    yaml: world.yaml.join('\n'),
  });
  await world.warm;
  door = slackDoor(h);
}, 180_000);

afterAll(async () => {
  await h?.stop();
  await world?.stop();
});

verbMatrix('slack', matrixCells(() => ({ door, world })), { kinds: POST_KINDS });
