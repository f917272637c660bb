import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fast stand-in for many OpenCode servers, for measuring the monitor at scale (the real binary is used
 * where latency is the point). Every session is busy with four todos and a short history. It counts
 * requests in flight across all the servers it runs, which is what the "at most 32" target is about.
 */
export interface FakeFleet {
  urls: string[];
  sessionIds(serverIndex: number, count: number): string[];
  inFlight: { now: number; max: number; total: number };
  resetCounters(): void;
  close(): Promise<void>;
}

const TODOS = JSON.stringify([
  { content: 'Read the code', status: 'completed', priority: 'high' },
  { content: 'Write the fix', status: 'completed', priority: 'high' },
  { content: 'Run the tests', status: 'in_progress', priority: 'medium' },
  { content: 'Update the changelog', status: 'pending', priority: 'low' },
]);

function messages(sessionId: string): string {
  const now = Date.now();
  return JSON.stringify([
    { info: { id: 'msg_1', sessionID: sessionId, role: 'user', time: { created: now - 60_000 } }, parts: [{ id: 'prt_1', type: 'text', text: 'Fix the flaky test' }] },
    {
      info: { id: 'msg_2', sessionID: sessionId, role: 'assistant', parentID: 'msg_1', finish: 'tool-calls', time: { created: now - 50_000, completed: now - 49_000 } },
      parts: [{ id: 'prt_2', type: 'text', text: 'Looking at the test runner first.' }],
    },
    { info: { id: 'msg_3', sessionID: sessionId, role: 'assistant', parentID: 'msg_1', time: { created: now - 1_000 } }, parts: [] },
  ]);
}

function idsFor(serverIndex: number, count: number): string[] {
  return Array.from({ length: count }, (_, k) => `ses_bench${String(serverIndex).padStart(2, '0')}x${String(k).padStart(6, '0')}`);
}

export async function startFakeFleet(serverCount: number, sessionsPerServer: number, latencyMs = 1): Promise<FakeFleet> {
  const inFlight = { now: 0, max: 0, total: 0 };
  const servers: Server[] = [];
  const urls: string[] = [];
  for (let i = 0; i < serverCount; i++) {
    const statuses = JSON.stringify(Object.fromEntries(idsFor(i, sessionsPerServer).map((id) => [id, { type: 'busy' }])));
    const server = createServer((req, res) => {
      inFlight.now++;
      inFlight.total++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      const url = new URL(req.url ?? '/', 'http://x');
      const reply = (body: string) =>
        setTimeout(() => {
          inFlight.now--;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(body);
        }, latencyMs);
      const path = url.pathname;
      if (path === '/global/health') return reply('{"healthy":true,"version":"bench"}');
      if (path === '/session/status') return reply(statuses);
      if (path === '/permission' || path === '/question') return reply('[]');
      const match = /^\/session\/([^/]+)\/(todo|message)$/.exec(path);
      if (match) return reply(match[2] === 'todo' ? TODOS : messages(match[1]!));
      inFlight.now--;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"name":"NotFoundError","data":{"message":"no route"}}');
    });
    server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  return {
    urls,
    sessionIds: (serverIndex, count) => idsFor(serverIndex, Math.min(count, sessionsPerServer)),
    inFlight,
    resetCounters() {
      inFlight.max = inFlight.now;
      inFlight.total = 0;
    },
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}
