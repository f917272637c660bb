import { createParser } from 'eventsource-parser';
import type { Adapter, OutgoingMessage } from '../src/core/adapter.js';
import { startFakeLlm } from '../test/fakes/llm/fake-llm.js';
import { removeServerRoot, startOpencodeServer } from '../test/helpers/opencode-server.js';
import { benchApp } from './app-fixture.js';
import { percentile, round } from './machine.js';

export interface LatencyFigure {
  mode: string;
  runs: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

/** Timestamps of `session.idle` per session, read from the server's own stream, independently of the bot. */
function watchIdle(url: string): { idleAt: Map<string, number>; close(): void } {
  const idleAt = new Map<string, number>();
  const controller = new AbortController();
  void (async () => {
    const response = await fetch(`${url}/global/event`, { signal: controller.signal });
    const parser = createParser({
      onEvent(message) {
        const frame = JSON.parse(message.data) as { payload?: { type?: string; properties?: { sessionID?: string; status?: { type?: string } } } };
        const payload = frame.payload;
        const idle = payload?.type === 'session.idle' || (payload?.type === 'session.status' && payload.properties?.status?.type === 'idle');
        const id = payload?.properties?.sessionID;
        if (idle && id && !idleAt.has(id)) idleAt.set(id, performance.now());
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
  })().catch(() => undefined);
  return { idleAt, close: () => controller.abort() };
}

/**
 * Time from a session going idle on a real OpenCode server to the final output handed to the adapter,
 * over `runs` prompts: with the event stream, and with polling only. Beside them, the reference
 * procedure (a cron poll every 5 minutes) waits half its interval on average.
 */
export async function benchIdleLatency(runs = 20): Promise<LatencyFigure[]> {
  const llm = await startFakeLlm();
  const server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  const idle = watchIdle(server.url);
  const figures: LatencyFigure[] = [];
  try {
    for (const mode of ['event stream', 'polling only (10s interval)'] as const) {
      const streams = mode === 'event stream';
      const fixture = benchApp(`monitor:\n  interval: ${streams ? '5m' : '10s'}\n`, { streams });
      const delivered = new Map<string, number>();
      let wake: (() => void) | undefined;
      const adapter: Adapter = {
        name: 'bench',
        async start() {},
        async stop() {},
        async deliver(message: OutgoingMessage) {
          const first = message.reply.blocks[0];
          const match = first?.type === 'text' ? /📋 \*\*(\S+)\*\* (finished|failed)/.exec(first.text) : null;
          if (match?.[1]) {
            delivered.set(match[1], performance.now());
            wake?.();
          }
          return {};
        },
      };
      const { switchboard } = fixture.app;
      switchboard.register(adapter);
      await fixture.app.start();
      const origin = { adapter: 'bench', channel: 'c' };
      const actor = { id: 'console:bench' };
      const latencies: number[] = [];
      for (let i = 0; i < runs; i++) {
        const name = `lat${i}`;
        await switchboard.execute({ text: `new ${name} ${server.url} --agent build`, actor, origin });
        const sessionId = switchboard.services.registry.get(name)?.target;
        // SLOW streams the reply over ~4 s, past the monitor's early checks, so the end is found by the stream or a tick.
        await switchboard.execute({ text: `send ${name} SLOW run ${i}: ${'say hello '.repeat(12)}`, actor, origin });
        while (!delivered.has(name)) await new Promise<void>((resolve) => (wake = resolve));
        const id = sessionId?.kind === 'opencode' ? sessionId.sessionId : '';
        const wentIdle = idle.idleAt.get(id);
        if (wentIdle !== undefined) latencies.push(delivered.get(name)! - wentIdle);
      }
      figures.push({
        mode,
        runs: latencies.length,
        p50Ms: round(percentile(latencies, 50), 0),
        p95Ms: round(percentile(latencies, 95), 0),
        maxMs: round(Math.max(...latencies), 0),
      });
      await fixture.dispose();
    }
    figures.push({ mode: 'reference: cron every 5 min (expected)', runs: 0, p50Ms: 150_000, p95Ms: 285_000, maxMs: 300_000 });
  } finally {
    idle.close();
    await server.stop();
    await llm.close();
    removeServerRoot(server);
  }
  return figures;
}
