import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describeMachine } from './machine.js';
import { updateReadme } from './readme-table.js';
import { benchCards } from './cards.js';
import { benchCardLatency } from './card-latency.js';
import { benchChaos } from './chaos.js';
import { benchExecutorStart } from './executor-start.js';
import { benchIdleLatency } from './idle-latency.js';
import { benchMonitorTick } from './monitor-tick.js';
import { benchSlackAck, benchSlackSocketAck } from './slack-ack.js';
import { benchStartup } from './startup.js';
import { benchWeb } from './web.js';

/**
 * `npm run bench [section…]`: measures what users feel and prints a table; writes bench/results.json and the
 * README's table.
 * Not part of `npm test`: these are figures to compare, not pass/fail checks.
 */
const sections: Record<string, () => Promise<unknown>> = {
  'slack-ack': () => benchSlackAck(),
  'slack-socket-ack': () => benchSlackSocketAck(),
  'idle-latency': () => benchIdleLatency(),
  'monitor-tick': () => benchMonitorTick(),
  startup: () => benchStartup(),
  executors: () => benchExecutorStart(),
  cards: () => benchCards(),
  'card-latency': () => benchCardLatency(),
  chaos: () => benchChaos(),
  web: () => benchWeb(),
};

const wanted = process.argv.slice(2);
const file = resolve(import.meta.dirname, 'results.json');
// A run of some sections keeps the others' last figures.
const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
const results: Record<string, unknown> = { ...previous, machine: describeMachine(), at: new Date().toISOString() };
for (const [name, run] of Object.entries(sections)) {
  if (wanted.length && !wanted.includes(name)) continue;
  process.stderr.write(`bench: ${name}…\n`);
  const started = Date.now();
  results[name] = await run();
  process.stderr.write(`bench: ${name} done in ${Math.round((Date.now() - started) / 1000)} s\n`);
  console.log(`\n## ${name}`);
  console.table(results[name]);
}
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
updateReadme(resolve(import.meta.dirname, '..', 'README.md'), results);
console.log(`\nmachine: ${JSON.stringify(results.machine)}\nwritten to ${file} and the README`);
// Every section has finished and its figures are written. The chaos section kills processes with -9 and can
// leave a handle behind (seen once: the run printed its table, then waited); a benchmark must end on its own.
process.exit(0);
