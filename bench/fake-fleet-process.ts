import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { startFakeFleet } from './fake-opencode.js';

/**
 * The fake fleet in its own process, so the monitor's wall time and RSS are the monitor's alone (in one
 * process the fake servers would share its event loop and its heap).
 */
export interface RemoteFleet {
  urls: string[];
  sessionIds(serverIndex: number, count: number): string[];
  stats(): Promise<{ max: number; total: number }>;
  reset(): Promise<void>;
  close(): Promise<void>;
}

type Message = { type: 'ready'; urls: string[] } | { type: 'stats'; max: number; total: number } | { type: 'reset' };

export async function startRemoteFleet(servers: number, sessionsPerServer: number): Promise<RemoteFleet> {
  const child: ChildProcess = fork(import.meta.filename, ['--serve', String(servers), String(sessionsPerServer)], {
    execArgv: ['--import', 'tsx'],
    cwd: resolve(import.meta.dirname, '..'),
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (type: Message['type']) =>
    new Promise<Message>((done) => {
      const onMessage = (message: Message) => {
        if (message.type !== type) return;
        child.off('message', onMessage);
        done(message);
      };
      child.on('message', onMessage);
    });
  const ready = (await next('ready')) as Extract<Message, { type: 'ready' }>;
  return {
    urls: ready.urls,
    sessionIds: (serverIndex, count) =>
      Array.from({ length: Math.min(count, sessionsPerServer) }, (_, k) => `ses_bench${String(serverIndex).padStart(2, '0')}x${String(k).padStart(6, '0')}`),
    async stats() {
      const reply = next('stats');
      child.send({ type: 'stats' });
      const { max, total } = (await reply) as Extract<Message, { type: 'stats' }>;
      return { max, total };
    },
    async reset() {
      const reply = next('reset');
      child.send({ type: 'reset' });
      await reply;
    },
    close: () =>
      new Promise<void>((done) => {
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

if (process.argv[2] === '--serve' && process.send) {
  const fleet = await startFakeFleet(Number(process.argv[3]), Number(process.argv[4]));
  process.on('message', (message: { type: string }) => {
    if (message.type === 'stats') process.send?.({ type: 'stats', max: fleet.inFlight.max, total: fleet.inFlight.total });
    if (message.type === 'reset') {
      fleet.resetCounters();
      process.send?.({ type: 'reset' });
    }
  });
  process.on('SIGTERM', () => void fleet.close().then(() => process.exit(0)));
  process.send({ type: 'ready', urls: fleet.urls });
}
