import { startFakeLlm } from '../test/fakes/llm/fake-llm.js';
import { removeServerRoot, startOpencodeServer } from '../test/helpers/opencode-server.js';
import { ALICE, WORK, startHarness } from '../test/slack/harness.js';
import { warmUp } from '../test/slack/warm-up.js';
import { round } from './machine.js';

export interface CardLatencyFigure {
  samples: number;
  /** From `todo.updated` on the server's event stream to the twin accepting the card that shows the new list. */
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** From the same todo change to the card's first post (the edit can only follow it). */
  firstPostP50Ms: number;
  /** How many of those were edits (chat.update) rather than the card's first post. */
  edits: number;
  minEditIntervalMs: number;
}

const SAMPLES = 15;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Card latency as a user sees it: the real `opencode` (scripted LLM) writes a todo list; how long until Slack
 * (the twin) has accepted the run card that shows it. The bot runs with production settings (cards
 * every 2 s at most per card; Slack posts 1 s apart per channel). One run at a time, each on a new name.
 */
export async function benchCardLatency(): Promise<CardLatencyFigure> {
  const llm = await startFakeLlm();
  const server = await startOpencodeServer({ llmBaseUrl: llm.baseUrl });
  const stream = new AbortController();
  const todoAt = new Map<string, number>();
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
          const frame = JSON.parse(line.slice(6)) as { payload?: { type?: string; properties?: { sessionID?: string } } };
          const sessionId = frame.payload?.properties?.sessionID;
          if (frame.payload?.type === 'todo.updated' && sessionId && !todoAt.has(sessionId)) todoAt.set(sessionId, Date.now());
        }
      }
    })().catch(() => undefined);

    const h = await startHarness({ mode: 'http', servers: { lab: server.url } });
    const latencies: number[] = [];
    const postDelays: number[] = [];
    let edits = 0;
    try {
      for (let i = 0; i < SAMPLES; i++) {
        const name = `lat${i}`;
        let at = h.mark();
        await h.sb(ALICE, `new ${name} lab --agent build`);
        const created = await h.botMessage(at, { text: `🆕 *${name}*` });
        const sessionId = /ses_\w+/.exec(created.visibleText)?.[0];
        if (!sessionId) throw new Error(`no session id in ${created.visibleText}`);
        at = h.mark();
        await h.sb(ALICE, `send ${name} TODO HOLDAFTER:${name} measure the card`);
        const showing = new RegExp(`⚙️ \\*${name}\\* · working · \\d+s · todo 2/4`);
        const card = await h.slack.waitUntil(() => h.slack.messages({ channel: WORK, text: showing })[0], { timeoutMs: 60_000, description: `${name}'s card with its todo list` });
        const shownAt = Date.now();
        const changedAt = todoAt.get(sessionId);
        if (changedAt === undefined) throw new Error(`no todo.updated seen for ${sessionId}`);
        latencies.push(shownAt - changedAt);
        // Where the time goes: the card's first post waits its turn behind the echo (Slack posts 1 s apart per
        // channel), and its first edit waits the edit interval after that post.
        const posted = h.slack.apiCalls({ method: 'chat.postMessage', predicate: (c) => c.response['ts'] === card.ts })[0];
        if (posted) postDelays.push(posted.at - changedAt);
        if (card.edits.length > 0) edits++;
        llm.release(name);
        await h.botMessage(at, { text: new RegExp(`📋 \\*${name}\\* finished`), timeoutMs: 60_000 });
      }
    } finally {
      await h.stop();
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      samples: sorted.length,
      p50Ms: round(percentile(sorted, 50)),
      p95Ms: round(percentile(sorted, 95)),
      maxMs: round(sorted[sorted.length - 1]!),
      firstPostP50Ms: round(percentile([...postDelays].sort((a, b) => a - b), 50)),
      edits,
      minEditIntervalMs: 2_000,
    };
  } finally {
    stream.abort();
    await server.stop();
    await llm.close();
    removeServerRoot(server);
  }
}
