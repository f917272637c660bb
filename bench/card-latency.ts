import { startFakeLlm } from '../test/fakes/llm/fake-llm.js';
import { removeServerRoot, startOpencodeServer } from '../test/helpers/opencode-server.js';
import { ALICE, WORK, startHarness } from '../test/slack/harness.js';
import { warmUp } from '../test/slack/warm-up.js';
import { round } from './machine.js';

export interface CardLatencyFigure {
  samples: number;
  /**
   * A todo change in the middle of a run (the card was last edited a few seconds before): from `todo.updated`
   * on the server's event stream to the twin accepting the card edit that shows it.
   */
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** The same for the first todo list, which comes within a second of the prompt, before the card is posted. */
  firstListP50Ms: number;
  firstListP95Ms: number;
  /** From that first list to the card's first post (its first edit can only come an edit interval later). */
  firstPostP50Ms: number;
  minEditIntervalMs: number;
}

const SAMPLES = 15;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Card latency as a user sees it: the real `opencode` (scripted LLM) changes a run's todo list; how long until
 * Slack (the twin) has accepted the run card that shows it. The bot runs with production settings (cards
 * every 2 s at most per card; Slack posts 1 s apart per channel). One run at a time, each on a new name.
 */
export async function benchCardLatency(): Promise<CardLatencyFigure> {
  const llm = await startFakeLlm();
  const server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  const stream = new AbortController();
  /** When each session's todo list reached n completed items (n → ms), from the server's own event stream. */
  const todoAt = new Map<string, Map<number, number>>();
  try {
    await warmUp(server.url);
    // The moment each session's todo list changed on the server, from its own event stream.
    const events = await fetch(`${server.url}/global/event`, { signal: stream.signal });
    void (async () => {
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const chunk of events.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.startsWith('data: ')) continue;
          const frame = JSON.parse(line.slice(6)) as { payload?: { type?: string; properties?: { sessionID?: string; todos?: Array<{ status: string }> } } };
          const properties = frame.payload?.properties;
          if (frame.payload?.type !== 'todo.updated' || !properties?.sessionID) continue;
          const done = (properties.todos ?? []).filter((t) => t.status === 'completed').length;
          const seen = todoAt.get(properties.sessionID) ?? new Map<number, number>();
          if (!seen.has(done)) seen.set(done, Date.now());
          todoAt.set(properties.sessionID, seen);
        }
      }
    })().catch(() => undefined);

    const h = await startHarness({ mode: 'http', servers: { lab: server.url } });
    const latencies: number[] = [];
    const firstLists: number[] = [];
    const postDelays: number[] = [];
    const shownAfter = async (name: string, fraction: string) => {
      const showing = new RegExp(`⚙️ \\*${name}\\* · working · \\d+s · todo ${fraction}`);
      const card = await h.slack.waitUntil(() => h.slack.messages({ channel: WORK, text: showing })[0], { timeoutMs: 60_000, description: `${name}'s card at ${fraction}` });
      return { card, at: Date.now() };
    };
    try {
      for (let i = 0; i < SAMPLES; i++) {
        const name = `lat${i}`;
        let at = h.mark();
        await h.sb(ALICE, `new ${name} lab --agent build`);
        const created = await h.botMessage(at, { text: `🆕 *${name}*` });
        const sessionId = /ses_\w+/.exec(created.visibleText)?.[0];
        if (!sessionId) throw new Error(`no session id in ${created.visibleText}`);
        at = h.mark();
        await h.sb(ALICE, `send ${name} TODOTWICE:${name}-mid HOLDAFTER:${name} measure the card`);
        const first = await shownAfter(name, '2/4');
        const firstAt = todoAt.get(sessionId)?.get(2);
        if (firstAt === undefined) throw new Error(`no todo.updated seen for ${sessionId}`);
        firstLists.push(first.at - firstAt);
        // Where the time goes: the card's first post waits its turn behind the echo (Slack posts 1 s apart per
        // channel), and its first edit waits the edit interval after that post.
        const posted = h.slack.apiCalls({ method: 'chat.postMessage', predicate: (c) => c.response['ts'] === first.card.ts })[0];
        if (posted) postDelays.push(posted.at - firstAt);
        // Mid-run: the agent changes its list a few seconds after the card last changed.
        await new Promise((resolve) => setTimeout(resolve, 3_000));
        llm.release(`${name}-mid`);
        const next = await shownAfter(name, '3/4');
        const nextAt = todoAt.get(sessionId)?.get(3);
        if (nextAt === undefined) throw new Error(`no second todo.updated seen for ${sessionId}`);
        latencies.push(next.at - nextAt);
        llm.release(name);
        await h.botMessage(at, { text: new RegExp(`📋 \\*${name}\\* finished`), timeoutMs: 60_000 });
      }
    } finally {
      await h.stop();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const firsts = [...firstLists].sort((a, b) => a - b);
    return {
      samples: sorted.length,
      p50Ms: round(percentile(sorted, 50)),
      p95Ms: round(percentile(sorted, 95)),
      maxMs: round(sorted[sorted.length - 1]!),
      firstListP50Ms: round(percentile(firsts, 50)),
      firstListP95Ms: round(percentile(firsts, 95)),
      firstPostP50Ms: round(percentile([...postDelays].sort((a, b) => a - b), 50)),
      minEditIntervalMs: 2_000,
    };
  } finally {
    stream.abort();
    await server.stop();
    await llm.close();
    removeServerRoot(server);
  }
}
