import { ALICE, startHarness } from '../test/slack/harness.js';
import { percentile, round } from './machine.js';

export interface AckFigure {
  concurrent: number;
  commands: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Slack command ack latency through the real Bolt HTTP receiver (signed requests from the Slack twin, the
 * Switchboard Slack adapter, the real core): p50 / p99 with 1, 10 and 50 commands in flight. Slack's deadline
 * is 3 000 ms; the target is p99 < 50 ms at 50 concurrent.
 */
export async function benchSlackAck(levels: readonly number[] = [1, 10, 50], rounds = 10): Promise<AckFigure[]> {
  const harness = await startHarness({ mode: 'http', env: { SLACK_THREADS: 'false' } });
  const figures: AckFigure[] = [];
  try {
    // Warm up: Bolt's first request verifies the token and JIT-compiles the paths.
    for (let i = 0; i < 20; i++) await harness.sb(ALICE, 'help');
    for (const concurrent of levels) {
      const latencies: number[] = [];
      for (let round = 0; round < rounds; round++) {
        await Promise.all(
          Array.from({ length: concurrent }, async () => {
            const started = performance.now();
            const ack = await harness.sb(ALICE, 'help');
            if (ack.status !== 200) throw new Error(`ack status ${ack.status}`);
            latencies.push(performance.now() - started);
          }),
        );
      }
      figures.push({
        concurrent,
        commands: latencies.length,
        p50Ms: round(percentile(latencies, 50), 1),
        p99Ms: round(percentile(latencies, 99), 1),
        maxMs: round(Math.max(...latencies), 1),
      });
    }
  } finally {
    await harness.stop();
  }
  return figures;
}
