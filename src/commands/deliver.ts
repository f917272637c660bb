import { channelOf, type Origin } from '../core/origin.js';
import { firstLine } from '../core/format.js';
import type { NameRecord } from '../sessions/registry.js';
import type { Services } from './context.js';
import { onSession, opencodeName } from './targets.js';
import { dataUrl, type AttachedFile } from '../files/index.js';

/** One prompt on its way to a name, whoever sends it: `send` at once, or the queue when the name is free. */
export interface OutgoingPrompt {
  actor: string;
  text: string;
  /** Given with `--agent`: used for this prompt and remembered for the name. */
  agent?: string;
  /** Where the work was asked for: progress and the final output go there. */
  origin: Origin;
}

type RunServices = Pick<Services, 'registry' | 'monitor' | 'clock'>;

/** Stores the prompt (its id, the digest of its exact text, when it was sent) before or after it goes out. */
export function recordPrompt(services: RunServices, record: NameRecord, prompt: OutgoingPrompt): number {
  const agent = prompt.agent ?? record.agent;
  return services.registry.recordPrompt({ name: record.name, actor: prompt.actor, text: prompt.text, ...(agent ? { agent } : {}) });
}

/**
 * Starts following a run the server has accepted: the name's current task and channel, and the watch whose
 * baseline (`since`) tells the monitor which reply is this prompt's. Synchronous, so a caller can put it in
 * one SQLite transaction with its own bookkeeping.
 */
export function startRun(services: RunServices, record: NameRecord, prompt: OutgoingPrompt, promptId: number, sentAt: number): void {
  // The work now belongs to the channel it was started from: progress and the final output go there.
  services.registry.update(record.name, {
    currentTask: firstLine(prompt.text),
    lastPromptId: promptId,
    origin: channelOf(prompt.origin),
    ...(prompt.agent ? { agent: prompt.agent } : {}),
  });
  // Only OpenCode runs are watched here: a task's executor reports its own run.
  if (record.target.kind === 'opencode') services.monitor.watch({ name: record.name, promptId, sender: prompt.actor, since: sentAt });
}

/** Hands the prompt to the OpenCode server (which answers at once; the monitor follows the run). */
export async function postPrompt(
  services: Services,
  record: NameRecord,
  prompt: Pick<OutgoingPrompt, 'text' | 'agent'>,
  files: readonly AttachedFile[] = [],
): Promise<void> {
  const target = opencodeName({ services }, record, 'send');
  const agent = prompt.agent ?? record.agent;
  // The stream relays before the prompt goes, so even a run's first events arrive (not only by polling later).
  await services.monitor.prepare(record.name);
  await onSession(target, () =>
    target.client.promptAsync(target.target.sessionId, {
      text: prompt.text,
      ...(agent ? { agent } : {}),
      ...(record.model ? { model: record.model } : {}),
      ...(files.length ? { files: files.map((f) => ({ mime: f.mimeType, url: dataUrl(f), filename: f.name })) } : {}),
    }),
  );
}
